"""Models of metering: meters (mstores) — the key a movement was made with, so that a retried request is a replay."""

from django.db import models

from mita.core.tenancy import OperatorManager


class MovementKey(models.Model):
    """An idempotency key of a movement (a receipt of meters, a transfer, ...): the same key again returns the same
    movement; the same key with another body (digest) is refused."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=120)
    body_digest = models.CharField(max_length=64)
    movement = models.OneToOneField("metering.Movement", on_delete=models.PROTECT, related_name="idempotency_key")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operator", "key"], name="movement_key_unique")]

    def __str__(self) -> str:
        return self.key


__all__ = ["MovementKey"]
