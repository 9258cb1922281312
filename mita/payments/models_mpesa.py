"""M-Pesa (Daraja): each operator's paybill and callback settings, and each STK push until Safaricom says how it ended."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class MpesaChannelConfig(models.Model):
    """An operator's paybill, how Mita reaches Daraja for it, and how Safaricom's callbacks prove where they belong:
    a secret in the callback URLs (looked up by its digest) and optionally the only addresses they come from."""

    operator = models.OneToOneField("registry.Operator", on_delete=models.PROTECT, related_name="+")
    shortcode = models.CharField(_("paybill number"), max_length=12)
    passkey = models.CharField(
        _("Lipa Na M-Pesa Online passkey"), max_length=128, blank=True, help_text=_("Needed for STK push only.")
    )
    consumer_key = models.CharField(
        _("Daraja consumer key"), max_length=128, blank=True, help_text=_("Empty: the installation's key.")
    )
    consumer_secret = models.CharField(_("Daraja consumer secret"), max_length=128, blank=True)
    callback_secret = models.CharField(_("callback secret"), max_length=64)
    callback_secret_digest = models.CharField(max_length=64, unique=True)
    allowed_ips = models.JSONField(
        _("allowed source addresses"),
        default=list,
        blank=True,
        help_text=_("Addresses or networks (e.g. 196.201.214.0/24) Safaricom calls from; empty lets any address in."),
    )
    reject_unknown_references = models.BooleanField(
        _("refuse unknown account numbers"),
        default=False,
        help_text=_(
            "At validation, refuse a payment whose account number matches no customer account, "
            "instead of taking it into suspense."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        verbose_name = _("M-Pesa channel settings")
        verbose_name_plural = _("M-Pesa channel settings")

    def __str__(self) -> str:
        return f"M-Pesa paybill {self.shortcode} for operator {self.operator_id}"


# What an STK push's failure code means for the cashier and the customer (Daraja's ResultDesc is kept beside it).
STK_FAILURE_REASONS = {
    1: _("The customer's M-Pesa balance is too low for this amount."),
    1001: _("The customer has another M-Pesa payment in progress: try again in a minute."),
    1019: _("The prompt expired before the customer answered."),
    1025: _("M-Pesa could not send the prompt: try again."),
    1032: _("The customer cancelled the prompt on their phone."),
    1037: _("The customer's phone could not be reached, or the customer did not answer in time."),
    2001: _("The customer entered a wrong M-Pesa PIN."),
    9999: _("M-Pesa could not send the prompt: try again."),
}


class StkRequest(models.Model):
    """One STK push (Lipa Na M-Pesa Online prompt): made before it is sent, completed by Safaricom's callback or, when
    that never comes, by the poller's STK Push Query."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the payer")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed or cancelled")
        EXPIRED = "expired", _("Expired unanswered")

    class Via(models.TextChoices):
        CALLBACK = "callback", _("Safaricom's callback")
        QUERY = "query", _("STK push query")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    account_reference = models.CharField(
        _("account reference"), max_length=64, help_text=_("The customer account; the callback does not carry it.")
    )
    amount = models.DecimalField(_("amount asked"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    phone = models.CharField(_("phone prompted"), max_length=20)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    checkout_request_id = models.CharField(_("checkout request id"), max_length=100, blank=True)
    merchant_request_id = models.CharField(_("merchant request id"), max_length=100, blank=True)
    result_code = models.IntegerField(_("result code"), null=True, blank=True)
    result_desc = models.CharField(_("result"), max_length=255, blank=True)
    receipt_number = models.CharField(_("M-Pesa receipt number"), max_length=64, blank=True, db_index=True)
    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=120,
        blank=True,
        help_text=_("Made by the form or the API client: the same key again is the same push, not a second prompt."),
    )
    completed_via = models.CharField(_("completed by"), max_length=16, choices=Via.choices, blank=True)
    checked_at = models.DateTimeField(_("last queried"), null=True, blank=True)
    checks = models.PositiveIntegerField(_("times queried"), default=0)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    payment = models.OneToOneField(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="stk_request"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="stk_request_amount_positive"),
            models.UniqueConstraint(
                fields=["operator", "checkout_request_id"],
                condition=~models.Q(checkout_request_id=""),
                name="stk_request_checkout_unique",
            ),
            models.UniqueConstraint(
                fields=["operator", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="stk_request_key_unique",
            ),
        ]
        indexes = [models.Index(fields=["operator", "status"]), models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"STK push {self.amount} {self.currency} for {self.account_reference} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.PENDING

    @property
    def reason(self) -> str:
        """Why the push did not end as a payment, in words for the cashier ("" while pending or when paid)."""
        if self.status == self.Status.EXPIRED:
            return str(
                _(
                    "M-Pesa gave no answer in time, so Mita stopped waiting. If the customer was charged all the same, "
                    "the payment is still recorded when Safaricom reports it."
                )
            )
        if self.status != self.Status.FAILED:
            return ""
        if self.result_code is not None and self.result_code in STK_FAILURE_REASONS:
            return str(STK_FAILURE_REASONS[self.result_code])
        return self.result_desc or str(_("M-Pesa did not say why."))
