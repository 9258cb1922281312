"""Corrections of issued bills: a bill cancelled (why, by whom, what became credit) and the bill that replaced it.
Penalty rules and penalties live in models_penalties (imported here so that models.py needs one line)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.billing.models_penalties import Penalty, PenaltyRule
from mita.core.tenancy import OperatorManager

__all__ = ["BillCancellation", "Penalty", "PenaltyRule"]


class BillCancellation(models.Model):
    """An issued bill cancelled: its charges (and the penalties levied on it) reversed, what had been paid towards
    them moved to the customer's credit; `rebill` is the corrected bill that replaced it, once issued."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    bill = models.OneToOneField("billing.Bill", on_delete=models.PROTECT, related_name="cancellation")
    reason = models.CharField(_("reason"), max_length=500)
    moved_to_credit = models.DecimalField(_("moved to credit"), max_digits=16, decimal_places=2, default=Decimal(0))
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(auto_now_add=True)
    rebill = models.OneToOneField(
        "billing.Bill", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    rebilled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rebilled_at = models.DateTimeField(null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-cancelled_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.bill_id} cancelled"
