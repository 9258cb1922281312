"""Servicing listening to payments: a fee charge cleared by a payment advances its request once the payment commits."""

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from mita.payments.models import Allocation
from mita.payments.signals import charges_settled
from mita.payments.termination import RECONNECTION_HEAD
from mita.servicing.models import RequestFee
from mita.servicing.services import FEE_HEADS

# The heads of the fees requests wait for (new connection, reconnection).
SERVICING_FEE_HEADS = frozenset(FEE_HEADS.values()) | {RECONNECTION_HEAD}


@receiver(charges_settled, sender=Allocation, dispatch_uid="servicing.fees_settled")
def fees_settled(*, operator: Any, charge_ids: list[int], heads: set[str], **_kwargs: Any) -> None:
    if not heads & SERVICING_FEE_HEADS:  # most payments clear bills: no question to the database for them
        return
    request_ids = sorted(
        set(RequestFee.objects.filter(operator=operator, charge_id__in=charge_ids).values_list("request_id", flat=True))
    )
    if not request_ids:
        return
    from mita.servicing.tasks import requests_advance

    # After the payment commits, in a task of its own: a problem in a workflow never fails a payment, and the
    # periodic sweep (tasks.py) catches anything this misses.
    transaction.on_commit(lambda: requests_advance.enqueue(request_ids), robust=True)
