"""Each operator's payment rules: the order in which a payment clears charges, and how advance payments are held."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class PaymentSettings(models.Model):
    class Order(models.TextChoices):
        DUE_DATE_FIRST = "due_date", _("Oldest due date first; on the same date, by the order of heads")
        HEAD_FIRST = "head", _("By the order of heads; within a head, oldest due date first")

    operator = models.OneToOneField("registry.Operator", on_delete=models.PROTECT, related_name="+")
    allocation_order = models.CharField(
        _("order of allocation"), max_length=16, choices=Order.choices, default=Order.DUE_DATE_FIRST
    )
    head_order = models.JSONField(
        _("order of heads"),
        default=list,
        blank=True,
        help_text=_("Revenue heads a payment clears first; heads not listed come after, in the chart's order."),
    )
    advance_ex_vat = models.BooleanField(
        _("hold advance payments excluding VAT"),
        default=False,
        help_text=_(
            "A payment beyond what is owed is held as credit at the sales amount excluding VAT; the VAT part is "
            "held apart until the bill that consumes the advance is issued."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        verbose_name = _("payment settings")
        verbose_name_plural = _("payment settings")

    def __str__(self) -> str:
        return f"Payment settings of operator {self.operator_id}"
