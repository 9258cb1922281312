"""Payments, their allocation to charges, and receipts."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class Channel(models.TextChoices):
    CASH_OFFICE = "cash_office", _("Cash at the office")
    CASH_FIELD = "cash_field", _("Cash in the field")
    BANK = "bank", _("Bank deposit")
    MOMO = "momo", _("MTN MoMo")
    MPESA = "mpesa", _("M-Pesa")
    ONLINE = "online", _("Online payment")


class Payment(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        IN_SUSPENSE = "in_suspense", _("In suspense (account not found)")
        VOIDED = "voided", _("Voided")
        REVERSED = "reversed", _("Reversed by the provider")

    # Indexes are what queries use, each written on every payment: the operator's leads two of Meta's, and the
    # holder and provider reference are matched exactly, never by prefix (no LIKE index).
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    account_reference = models.CharField(_("account reference"), max_length=64, help_text=_("As the payer gave it."))
    holder = models.CharField(_("customer account"), max_length=64, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120)
    provider_reference = models.CharField(_("provider reference"), max_length=100, blank=True)
    payer_phone = models.CharField(_("payer's phone"), max_length=20, blank=True)
    payer_name = models.CharField(_("payer's name"), max_length=150, blank=True)
    value_date = models.DateField(_("value date"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.JSONField(default=dict, blank=True)
    # Cash taken at the office while the cashier's till was open (payments.cashier.till_for_payment).
    till = models.ForeignKey(
        "payments.TillSession", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )

    objects = OperatorManager()

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "idempotency_key"], name="payment_key_unique_per_operator"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["operator", "status"]),
            models.Index(fields=["holder"], name="payment_holder"),
            models.Index(fields=["provider_reference"], name="payment_provider_reference"),
        ]

    def __str__(self) -> str:
        try:  # as get_channel_display(), without hashing every channel's label on each call (every payment's audit)
            channel = str(Channel(self.channel).label)
        except ValueError:
            channel = self.channel
        return f"{self.amount} {self.currency} ({channel}) for {self.holder or self.account_reference}"

    @property
    def ledger_reference(self) -> str:
        return f"payment:{self.pk}"


class Allocation(models.Model):
    """The part of a payment (or of a customer's credit) that cleared one charge."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    charge = models.ForeignKey("ledger.Charge", on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    from_credit = models.BooleanField(default=False)
    voided = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} to charge {self.charge_id}"


class Receipt(models.Model):
    """The receipt of a payment, numbered without gaps per operator: <PREFIX>-R-000001.

    The number is given just after the payment commits (payments.numbering); until then both are NULL, which the
    unique constraints let many receipts share.
    """

    # The operator leads both unique constraints: no index of its own.
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt")
    sequence_number = models.PositiveBigIntegerField(null=True, blank=True)
    # NULL until the payment has committed and the number is given (NULLs do not collide in the unique constraints).
    number = models.CharField(_("receipt number"), max_length=30, null=True, blank=True)
    issued_at = models.DateTimeField(auto_now_add=True)
    prints = models.PositiveIntegerField(_("times printed"), default=0)

    objects = OperatorManager()

    class Meta:
        ordering = ["-sequence_number"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "sequence_number"], name="receipt_sequence_unique"),
            models.UniqueConstraint(fields=["operator", "number"], name="receipt_number_unique"),
        ]

    def __str__(self) -> str:
        return self.number or gettext("(being numbered)")


from mita.payments.models_cashier import BankingSlip, CashHandover, TillSession  # noqa: E402,F401
from mita.payments.models_deposits import ChargeCancellation, DepositRate, HolderDeposit, Refund  # noqa: E402,F401
from mita.payments.models_momo import MomoChannelConfig, MomoRequest  # noqa: E402,F401
from mita.payments.models_mpesa import MpesaChannelConfig, StkRequest  # noqa: E402,F401
from mita.payments.models_online import OnlineChannelConfig, OnlineCheckout, PaymentLink  # noqa: E402,F401
from mita.payments.models_settings import PaymentSettings  # noqa: E402,F401
