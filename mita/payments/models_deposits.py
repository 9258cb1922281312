"""Security deposits (the operator's schedule, each customer account's deposit), refunds, and charge cancellations."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class DepositRate(models.Model):
    """One line of the operator's deposit schedule: the deposit for a connection type or a package."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(
        _("connection type or package code"),
        max_length=40,
        help_text=_("As the connection type or package is named elsewhere, e.g. domestic or PKG-50."),
    )
    label = models.CharField(_("label"), max_length=150)
    amount = models.DecimalField(_("deposit"), max_digits=16, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "key"], name="deposit_rate_key_unique_per_operator"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="deposit_rate_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.label}: {self.amount}"


class HolderDeposit(models.Model):
    """A customer account's deposit: which schedule line it follows, and when it was applied to the final bill.

    The amounts live in the ledger (deposits:<holder> holds what was paid; open deposit charges what is owed)."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    holder = models.CharField(_("customer account"), max_length=64)
    key = models.CharField(_("connection type or package code"), max_length=40, blank=True)
    applied_at = models.DateTimeField(_("applied to the final bill"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operator", "holder"], name="holder_deposit_unique_per_operator"),
        ]

    def __str__(self) -> str:
        return f"{self.holder} {self.key}"


class ChargeCancellation(models.Model):
    """A charge cancelled: its transfers reversed, what had been paid towards it moved to the customer's credit."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    charge = models.OneToOneField("ledger.Charge", on_delete=models.PROTECT, related_name="cancellation")
    reason = models.CharField(_("reason"), max_length=500)
    moved_to_credit = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"cancellation of charge {self.charge_id}"


class Refund(models.Model):
    """Money given back to a customer from their credit or deposit: requested, approved by another supervisor,
    paid out. The amount is reserved (moved to refunds_payable) when it is requested."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PAID = "paid", _("Paid out")

    class Source(models.TextChoices):
        CREDIT = "credit", _("Credit")
        DEPOSIT = "deposit", _("Deposit")

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        BANK = "bank", _("Bank transfer")
        MOBILE_MONEY = "mobile_money", _("Mobile money")

    class Network(models.TextChoices):
        MOMO = "momo", _("MTN MoMo")
        MPESA = "mpesa", _("M-Pesa")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    sequence_number = models.PositiveBigIntegerField()
    number = models.CharField(_("refund number"), max_length=30)
    holder = models.CharField(_("customer account"), max_length=64, db_index=True)
    source = models.CharField(_("refund from"), max_length=16, choices=Source.choices)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.CharField(_("reason"), max_length=500)
    payee_name = models.CharField(_("payee"), max_length=150)
    payee_phone = models.CharField(_("payee's phone"), max_length=20, blank=True)
    method = models.CharField(_("payout method"), max_length=16, choices=Method.choices)
    network = models.CharField(_("mobile network"), max_length=16, choices=Network.choices, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED)
    idempotency_key = models.CharField(max_length=120)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(_("rejected"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for the rejection"), max_length=500, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paid_at = models.DateTimeField(_("paid out"), null=True, blank=True)
    payout_reference = models.CharField(_("payout reference"), max_length=100, blank=True)
    payout_date = models.DateField(_("payout date"), null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "idempotency_key"], name="refund_key_unique_per_operator"),
            models.UniqueConstraint(fields=["operator", "sequence_number"], name="refund_sequence_unique"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
        ]
        indexes = [models.Index(fields=["operator", "status"])]

    def __str__(self) -> str:
        return f"{self.number} {self.amount} {self.currency} to {self.holder}"

    @property
    def ledger_reference(self) -> str:
        return f"refund:{self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.REQUESTED, self.Status.APPROVED)
