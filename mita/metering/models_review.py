"""Index adjustments: an operator admin's change of a counted index, with its reason and the cycles it touches."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager

__all__ = ["IndexAdjustment"]


class IndexAdjustment(models.Model):
    """An admin changed the index of a counted reading: the reading adjusted is SUPERSEDED by a reading of source
    ADJUSTMENT, and the next counted reading of the same meter, if any, is re-based on the new index (superseded by
    another ADJUSTMENT reading with the same current index). Billing listens to `metering.signals.index_adjusted`
    and looks for `rebill_needed` rows: bills of those cycles may have been issued on the old index."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    connection = models.ForeignKey("customers.Connection", on_delete=models.PROTECT, related_name="+")
    register = models.CharField(_("register"), max_length=20, default="main")
    reading = models.ForeignKey(
        "metering.Reading", on_delete=models.PROTECT, related_name="+", verbose_name=_("reading adjusted")
    )
    adjustment_reading = models.ForeignKey(
        "metering.Reading", on_delete=models.PROTECT, related_name="+", verbose_name=_("adjusted reading")
    )
    # The next counted reading of the same meter, re-based on the new index (None when the adjusted one was the last).
    rebased_reading = models.ForeignKey(
        "metering.Reading", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    index_before = models.DecimalField(_("index before"), max_digits=16, decimal_places=3)
    index_after = models.DecimalField(_("index after"), max_digits=16, decimal_places=3)
    consumption_before = models.DecimalField(_("consumption before"), max_digits=16, decimal_places=3)
    consumption_after = models.DecimalField(_("consumption after"), max_digits=16, decimal_places=3)
    reason = models.CharField(_("reason"), max_length=500)
    cycles = models.JSONField(_("cycles affected"), default=list)
    rebill_needed = models.BooleanField(_("rebill needed"), default=False)
    rebilled_at = models.DateTimeField(_("rebilled at"), null=True, blank=True)  # set by billing once handled
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("adjusted by")
    )
    adjusted_at = models.DateTimeField(_("adjusted at"), auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-adjusted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["reading"], name="index_adjustment_once_per_reading"),
        ]
        indexes = [
            models.Index(
                fields=["operator", "adjusted_at"],
                condition=models.Q(rebill_needed=True, rebilled_at__isnull=True),
                name="index_adjustment_rebill",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.index_before} -> {self.index_after}"
