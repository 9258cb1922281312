"""Online payments: each operator's gateway settings, payment links sent to customers, and each hosted checkout
until the gateway says how it ended."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class OnlineChannelConfig(models.Model):
    """How an operator takes payments online: its gateway account, how the gateway's webhooks prove where they
    belong (a secret in the URL and the verif-hash header), and what a customer may change on a payment link."""

    operator = models.OneToOneField("registry.Operator", on_delete=models.PROTECT, related_name="+")
    enabled = models.BooleanField(_("enabled"), default=True)
    secret_key = models.CharField(
        _("gateway secret key"), max_length=128, blank=True, help_text=_("Empty: the installation's key.")
    )
    secret_hash = models.CharField(
        _("webhook secret hash"),
        max_length=128,
        help_text=_("Set the same value as the secret hash in the gateway's dashboard; it comes as verif-hash."),
    )
    callback_secret = models.CharField(_("webhook URL secret"), max_length=64)
    allowed_ips = models.JSONField(
        _("allowed source addresses"),
        default=list,
        blank=True,
        help_text=_("Addresses or networks the gateway sends webhooks from; empty lets any address in."),
    )
    allow_amount_change = models.BooleanField(
        _("customers may change the amount"),
        default=True,
        help_text=_("Otherwise a customer pays exactly the link's amount, or what the account owes."),
    )
    min_amount = models.DecimalField(_("smallest payment"), max_digits=16, decimal_places=2, default=1)
    max_amount = models.DecimalField(
        _("largest payment"), max_digits=16, decimal_places=2, null=True, blank=True, help_text=_("Empty: no limit.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        verbose_name = _("online payment settings")
        verbose_name_plural = _("online payment settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(min_amount__gt=0), name="online_min_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(max_amount__isnull=True) | models.Q(max_amount__gte=models.F("min_amount")),
                name="online_max_amount_not_below_min",
            ),
        ]

    def __str__(self) -> str:
        return f"Online payments for operator {self.operator_id}"


class PaymentLink(models.Model):
    """A link a customer pays a customer account with, e.g. sent by SMS with a bill: /pay/<token>/.

    The token is unguessable and is the only key; the amount is fixed, or (empty) what the account owes when the
    customer pays."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    holder = models.CharField(_("customer account"), max_length=64)
    token = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Empty: what the account owes when the customer pays."),
    )
    phone = models.CharField(_("sent to"), max_length=20, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made"), auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0), name="payment_link_amount_positive"
            )
        ]
        indexes = [models.Index(fields=["operator", "holder", "expires_at"])]

    def __str__(self) -> str:
        return f"Payment link for {self.holder}"


class OnlineCheckout(models.Model):
    """One hosted checkout: made before the customer is sent to the gateway, confirmed only by the gateway's
    verification (never a webhook's or the redirect's word)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the customer")
        SUCCESSFUL = "successful", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled by the customer")
        EXPIRED = "expired", _("Expired unpaid")
        REVIEW = "review", _("Paid, but needs review")
        RESOLVED = "resolved", _("Reviewed: settled outside Mita")

    # A paid checkout is settled; the others are final for the poller only: a payment the gateway verifies later
    # (the customer tried again on the same page) is still taken.
    SETTLED = (Status.SUCCESSFUL, Status.REVIEW, Status.RESOLVED)

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(PaymentLink, on_delete=models.PROTECT, related_name="checkouts")
    holder = models.CharField(_("customer account"), max_length=64)
    tx_ref = models.CharField(_("reference"), max_length=64, unique=True, help_text=_("Sent to the gateway as tx_ref."))
    amount = models.DecimalField(_("amount asked"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    payer_phone = models.CharField(_("payer's phone"), max_length=20)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    checkout_url = models.URLField(_("checkout page"), max_length=500, blank=True)
    gateway_checkout_id = models.CharField(_("gateway checkout id"), max_length=100, blank=True)
    transaction_id = models.CharField(_("gateway transaction id"), max_length=64, blank=True, db_index=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    confirmed_amount = models.DecimalField(
        _("amount paid"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("As the gateway verified it."),
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    payment = models.OneToOneField(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="online_checkout"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    checked_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    checks = models.PositiveIntegerField(_("times verified"), default=0)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    # A checkout in review is resolved by a treasurer: recorded as a payment, or settled outside Mita with a note.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    resolution_note = models.CharField(_("review note"), max_length=500, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="online_checkout_amount_positive")]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["operator", "holder"]),
        ]

    def __str__(self) -> str:
        return f"Online {self.amount} {self.currency} for {self.holder} ({self.get_status_display()})"

    @property
    def is_settled(self) -> bool:
        return self.status in self.SETTLED
