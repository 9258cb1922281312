"""The STK Push Query: asking Daraja how an STK push ended, when a cashier asks and when its callback never came.

Safaricom sends an STK push's result to the CallBackURL once. If it is lost, the push would wait forever; so the
poller (payments.tasks, every minute) queries the pushes pending for longer than MITA_MPESA_STK_POLL_AFTER_SECONDS,
and acts on Daraja's answer alone:

  still being processed   nothing; queried again later. After MITA_MPESA_STK_EXPIRE_AFTER_SECONDS: expired
  ResultCode 0            paid: one payment keyed mpesa:stk:<CheckoutRequestID> (the query carries no receipt
                          number), for the amount asked (the customer approves that exact amount)
  any other ResultCode    failed, with Daraja's code and description (1032 cancelled, 1037 no answer, ...)
  no answer, an error     noted in last_error; queried again later, expired when too old

Whoever reports a push paid first, the callback or the query, makes its payment (payments.mpesa.stk_paid, under the
push's row lock); the other only adds what it knows. docs/mpesa.md has the protocol and the reasons.
"""

import dataclasses
import datetime
import logging

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import NotFound
from mita.integrations.mpesa.client import MpesaError
from mita.payments.models_mpesa import MpesaChannelConfig, StkRequest
from mita.payments.mpesa import mpesa_client, mpesa_setting, stk_failed, stk_paid

logger = logging.getLogger(__name__)

# The poller stops its run after this many pushes in a row could not be queried (Daraja down or refusing us).
POLL_GIVE_UP_AFTER_ERRORS = 3
# Errors that say Daraja cannot be used at all right now, rather than that one push cannot be queried.
OUTAGE_KINDS = frozenset({"unreachable", "refused", "invalid_response"})


def _seconds(name: str) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(mpesa_setting(name)))


def _note(stk: StkRequest, *, now: datetime.datetime, error: str = "") -> StkRequest:
    """Remember that the push was queried (and what went wrong); expire it if it has waited too long."""
    StkRequest.objects.filter(pk=stk.pk, status=StkRequest.Status.PENDING).update(
        checked_at=now, checks=F("checks") + 1, last_error=error[:255]
    )
    if now - stk.created_at > _seconds("MITA_MPESA_STK_EXPIRE_AFTER_SECONDS"):
        return _expire(stk, error=error)
    stk.refresh_from_db()
    return stk


def _expire(stk: StkRequest, *, error: str) -> StkRequest:
    with transaction.atomic():
        locked = StkRequest.objects.select_for_update().get(pk=stk.pk)
        if locked.status != StkRequest.Status.PENDING:
            return locked
        locked.status = StkRequest.Status.EXPIRED
        locked.completed_at = timezone.now()
        locked.save(update_fields=["status", "completed_at"])
        audit_record(
            actor=None,
            action="mpesa.stk_expired",
            target=locked,
            after={"checks": locked.checks, "last_error": error or None},
        )
    return locked


def stk_check(*, stk_id: int, now: datetime.datetime | None = None) -> StkRequest:
    """Ask Daraja now how a pending push stands and act on the answer; a final push is returned as it is.

    Safe to call while the callback arrives and while other pollers run: the payment is made once (stk_paid)."""
    return _check(stk_id=stk_id, now=now or timezone.now())[0]


def _check(*, stk_id: int, now: datetime.datetime) -> tuple[StkRequest, str]:
    """stk_check, and the kind of error that kept Daraja from answering ("" if it answered)."""
    stk = StkRequest.objects.select_related("operator").filter(pk=stk_id).first()
    if stk is None:
        raise NotFound(_("No such M-Pesa prompt."), code="stk_unknown")
    if stk.status != StkRequest.Status.PENDING:
        return stk, ""
    if not stk.checkout_request_id:
        # Daraja never acknowledged it (the process stopped between saving it and hearing back): nothing to query.
        # Left alone while the send may still be under way.
        grace = _seconds("MITA_MPESA_STK_POLL_AFTER_SECONDS") + _seconds("MITA_MPESA_TIMEOUT_SECONDS")
        if now - stk.created_at <= grace:
            return stk, ""
        failed = stk_failed(
            stk_id=stk.pk,
            result_code=None,
            result_desc=_("Daraja never acknowledged the prompt."),
            via=StkRequest.Via.QUERY,
        )
        return failed, ""
    config = MpesaChannelConfig.objects.filter(operator_id=stk.operator_id).first()
    if config is None or not config.passkey:
        error = _("M-Pesa is no longer set up for this operator: the push cannot be queried.")
        return _note(stk, now=now, error=error), "not_configured"
    try:
        answer = mpesa_client(config=config).stk_query(
            shortcode=config.shortcode, passkey=config.passkey, checkout_request_id=stk.checkout_request_id
        )
    except MpesaError as error:
        logger.info("could not query M-Pesa STK push %s: %s", stk.pk, error)
        return _note(stk, now=now, error=str(error) or error.kind), error.kind
    if answer.pending:
        return _note(stk, now=now), ""
    if answer.paid:
        paid = stk_paid(
            stk_id=stk.pk,
            amount=stk.amount,
            key=f"mpesa:stk:{stk.checkout_request_id}",
            receipt="",
            phone=stk.phone,
            value_date=timezone.localdate(),
            memo={"mpesa_stk_query": answer.raw},
            result_code=0,
            result_desc=answer.result_desc,
            via=StkRequest.Via.QUERY,
        )
        return paid, ""
    assert answer.result_code is not None
    failed = stk_failed(
        stk_id=stk.pk, result_code=answer.result_code, result_desc=answer.result_desc, via=StkRequest.Via.QUERY
    )
    return failed, ""


@dataclasses.dataclass
class StkPollResult:
    checked: int = 0
    paid: int = 0
    failed: int = 0
    expired: int = 0
    pending: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def stk_poll(*, now: datetime.datetime | None = None) -> StkPollResult:
    """Query the pushes pending longer than the callback needs, least recently queried first: Safaricom sends each
    result once, so this is what completes (or gives up) a push whose callback was lost."""
    now = now or timezone.now()
    quiet = _seconds("MITA_MPESA_STK_POLL_AFTER_SECONDS")
    due = (
        StkRequest.objects.filter(status=StkRequest.Status.PENDING, created_at__lte=now - quiet)
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lte=now - quiet))
        .order_by(F("checked_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[: int(mpesa_setting("MITA_MPESA_STK_POLL_BATCH"))]
    )
    result = StkPollResult()
    outages_in_a_row = 0
    for stk_id in list(due):
        if outages_in_a_row >= POLL_GIVE_UP_AFTER_ERRORS:
            # Daraja is down or refuses us: the rest would each wait for the timeout; the next run tries again.
            logger.warning("M-Pesa STK poll stopped after %s errors in a row", outages_in_a_row)
            break
        result.checked += 1
        try:
            stk, kind = _check(stk_id=stk_id, now=now)
        except Exception:  # one push's trouble must not stop the others; it is logged and queried next time
            logger.exception("could not query M-Pesa STK push %s", stk_id)
            result.errors += 1
            outages_in_a_row += 1
            continue
        result.errors += bool(kind)
        outages_in_a_row = outages_in_a_row + 1 if kind in OUTAGE_KINDS else 0
        setattr(result, stk.status, getattr(result, stk.status) + 1)
    if result.checked:
        logger.info("M-Pesa STK poll: %s", result.as_dict())
    return result
