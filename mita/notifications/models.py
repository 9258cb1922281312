"""The outbox: every SMS and e-mail Mita sends, written with the action that causes it, kept forever."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorQuerySet


class MessageChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    KEPT = "kept", _("Kept in outbox (no gateway)")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    RETRYING = "retrying", _("Waiting to retry")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    Channel = MessageChannel
    Status = MessageStatus

    operator = models.ForeignKey(
        "registry.Operator",
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    template = models.CharField(_("template"), max_length=80)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    gateway = models.CharField(_("gateway"), max_length=32, blank=True)
    provider_message_id = models.CharField(_("provider id"), max_length=100, blank=True, db_index=True)
    # The provider's own word from its last delivery report, e.g. "Buffered", "Success", "Failed".
    provider_status = models.CharField(_("provider status"), max_length=32, blank=True)
    # Carries a one-time secret (a code, an invitation link): shown in the UI only while the outbox delivers it.
    sensitive = models.BooleanField(_("carries a secret"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    objects = OperatorQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["operator", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=MessageStatus.values), name="outbox_status_known"),
            models.CheckConstraint(condition=models.Q(channel__in=MessageChannel.values), name="outbox_channel_known"),
        ]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.to}: {self.template}"

    @property
    def body_readable(self) -> bool:
        """Whether people other than the recipient may read the body: not a secret's, unless the outbox is its
        only way to the recipient (no gateway configured, so someone reads it out)."""
        return not self.sensitive or self.status == self.Status.KEPT

    @property
    def can_be_sent_again(self) -> bool:
        return self.status == self.Status.FAILED
