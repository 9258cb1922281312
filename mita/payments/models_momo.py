"""MTN MoMo: each operator's callback settings, and each request-to-pay sent until MTN says how it ended."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class MomoChannelConfig(models.Model):
    """How MTN reaches an operator's callback: a secret in the URL, and optionally the only addresses it calls from."""

    operator = models.OneToOneField("registry.Operator", on_delete=models.PROTECT, related_name="+")
    callback_secret = models.CharField(_("callback secret"), max_length=128)
    allowed_ips = models.JSONField(
        _("allowed source addresses"),
        default=list,
        blank=True,
        help_text=_("Addresses or networks (e.g. 196.12.0.0/16) MTN calls back from; empty lets any address in."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        verbose_name = _("MoMo channel settings")
        verbose_name_plural = _("MoMo channel settings")

    def __str__(self) -> str:
        return f"MoMo for operator {self.operator_id}"


class MomoRequest(models.Model):
    """One request-to-pay: made before it is sent, confirmed with MTN's status (never a callback's word) until final."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the payer")
        SUCCESSFUL = "successful", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired unanswered")
        REVIEW = "review", _("Paid, but needs review")

    FINAL = (Status.SUCCESSFUL, Status.FAILED, Status.EXPIRED, Status.REVIEW)

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    reference_id = models.UUIDField(_("reference id"), unique=True, help_text=_("The X-Reference-Id sent to MTN."))
    external_id = models.CharField(
        _("account reference"), max_length=64, help_text=_("The customer account, sent as externalId.")
    )
    amount = models.DecimalField(_("amount asked"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    payer_phone = models.CharField(_("payer's phone"), max_length=20)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    reason_code = models.CharField(_("reason"), max_length=64, blank=True)
    reason_message = models.CharField(_("reason given"), max_length=255, blank=True)
    financial_transaction_id = models.CharField(_("MTN transaction id"), max_length=64, blank=True, db_index=True)
    confirmed_amount = models.DecimalField(
        _("amount paid"), max_digits=16, decimal_places=2, null=True, blank=True, help_text=_("As MTN confirmed it.")
    )
    payment = models.OneToOneField(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="momo_request"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    checked_at = models.DateTimeField(_("last checked with MTN"), null=True, blank=True)
    checks = models.PositiveIntegerField(_("times checked"), default=0)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="momo_request_amount_positive")]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["operator", "external_id"]),
        ]

    def __str__(self) -> str:
        return f"MoMo {self.amount} {self.currency} for {self.external_id} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL
