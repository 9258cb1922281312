"""Background work of servicing: moving requests on once their fees are paid (after each payment, and a sweep)."""

import datetime
import logging

from django_tasks import task

from mita.core.schedule import register_periodic

logger = logging.getLogger(__name__)


def _advance_all(request_ids: list[int]) -> int:
    from mita.servicing.models import ServiceRequest
    from mita.servicing.services import request_advance

    moved = 0
    for request in ServiceRequest.objects.filter(pk__in=request_ids).order_by("pk"):
        before = request.state
        try:
            after = request_advance(request=request).state
        except Exception:  # one request's trouble must not stop the others; it is logged and retried by the sweep
            logger.exception("servicing: could not advance request %s", request.pk)
            continue
        moved += after != before
    return moved


@task()
def requests_advance(request_ids: list[int]) -> dict[str, int]:
    """Advance these requests if their fee is now paid (enqueued when a payment clears a fee charge)."""
    return {"advanced": _advance_all(request_ids)}


@task()
def requests_fees_sweep() -> dict[str, int]:
    """Advance every request whose fee was paid but not yet acted on (a lost enqueue, a crash after a payment)."""
    from mita.servicing.selectors import requests_with_fees_due

    return {"advanced": _advance_all(list(requests_with_fees_due().values_list("pk", flat=True)))}


register_periodic("servicing.fees_sweep", datetime.timedelta(minutes=5), requests_fees_sweep)
