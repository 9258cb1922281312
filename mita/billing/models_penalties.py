"""Late-payment penalties: the operator's penalty rules, and each penalty levied on a late bill (once per bill and
rule; docs/billing-corrections.md)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager

__all__ = ["Penalty", "PenaltyRule"]

MONEY = {"max_digits": 16, "decimal_places": 2}


class PenaltyRule(models.Model):
    """A percentage or a flat amount, on the bill's unpaid part or the account's outstanding balance, levied once on a
    bill still unpaid `days_after_due` days after its due date; optional minimum and maximum."""

    class Kind(models.TextChoices):
        PERCENT = "percent", _("A percentage")
        FLAT = "flat", _("A flat amount")

    class Base(models.TextChoices):
        BILL = "bill", _("The bill's unpaid part")
        BALANCE = "balance", _("The account's outstanding balance")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.PERCENT)
    rate = models.DecimalField(_("rate (%)"), max_digits=7, decimal_places=4, default=Decimal(0))
    amount = models.DecimalField(_("flat amount"), default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    base = models.CharField(_("on"), max_length=8, choices=Base.choices, default=Base.BILL)
    days_after_due = models.PositiveIntegerField(_("days past due"), default=30)
    minimum = models.DecimalField(_("minimum"), null=True, blank=True, **MONEY)  # type: ignore[arg-type]
    maximum = models.DecimalField(_("maximum"), null=True, blank=True, **MONEY)  # type: ignore[arg-type]
    # Bills due before this day are never penalised by the rule (a new rule does not reach into old debts).
    applies_from = models.DateField(_("for bills due from"), default=timezone.localdate)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "days_after_due", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(days_after_due__gte=1), name="penalty_rule_days_positive"),
            models.CheckConstraint(
                condition=models.Q(kind="flat", amount__gt=0) | models.Q(kind="percent", rate__gt=0),
                name="penalty_rule_has_amount",
            ),
            models.CheckConstraint(
                condition=models.Q(minimum__isnull=True)
                | models.Q(maximum__isnull=True)
                | models.Q(maximum__gte=models.F("minimum")),
                name="penalty_rule_max_over_min",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Penalty(models.Model):
    """A penalty levied on a late bill by a rule: the charge posted (head "penalties"), the amounts it was worked
    out from. Unique per (bill, rule): a rerun levies nothing new."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    bill = models.ForeignKey("billing.Bill", on_delete=models.PROTECT, related_name="penalties")
    rule = models.ForeignKey(PenaltyRule, on_delete=models.PROTECT, related_name="penalties")
    key = models.CharField(max_length=60)  # "penalty:<bill>:<rule>": unique, so a rerun levies nothing new
    on = models.DateField(_("levied on"))
    days_late = models.PositiveIntegerField(_("days late"))
    unpaid = models.DecimalField(_("unpaid part of the bill"), **MONEY)  # type: ignore[arg-type]
    base_amount = models.DecimalField(_("base"), **MONEY)  # type: ignore[arg-type]
    amount = models.DecimalField(_("penalty"), **MONEY)  # type: ignore[arg-type]
    reference = models.CharField(max_length=100)  # the ledger charge's reference
    charge = models.ForeignKey("ledger.Charge", null=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = OperatorManager()

    class Meta:
        ordering = ["-on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "rule"], name="penalty_once_per_bill_and_rule"),
            models.UniqueConstraint(fields=["operator", "key"], name="penalty_unique_key"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="penalty_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.key
