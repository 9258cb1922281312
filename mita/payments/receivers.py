"""Payments listening to the ledger: a customer's credit clears a new charge as soon as it is posted."""

from typing import Any

from django.dispatch import receiver

from mita.ledger.models import Charge
from mita.ledger.selectors import holder_credit
from mita.ledger.signals import charge_posted
from mita.payments.services import credit_apply


@receiver(charge_posted, sender=Charge, dispatch_uid="payments.credit_on_charge")
def credit_on_charge(*, charge: Charge, acting_user: Any, **_kwargs: Any) -> None:
    if holder_credit(operator=charge.operator, holder=charge.holder) > 0:
        credit_apply(
            operator=charge.operator, holder=charge.holder, acting_user=acting_user, value_date=charge.value_date
        )
