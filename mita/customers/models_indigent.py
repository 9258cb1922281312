"""The indigent register: households (customers) an operator's staff registered as indigent, from one day to another,
with the reference and evidence seen; the bill run gives them the tariff's indigent allowance (docs/customers.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class IndigentRegistration(models.Model):
    """One stay of a customer on the indigent register: valid from a day until another (open-ended when not given).

    A registration is never deleted: ending it sets its last day and who ended it, so the register says who was on
    it on any day (what a bill run of that day used)."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="indigent_registrations",
        verbose_name=_("customer"),
    )
    reference = models.CharField(
        _("reference"), max_length=120, help_text=_("The social register's number, or the letter's reference.")
    )
    evidence = models.CharField(_("evidence"), max_length=500, blank=True, help_text=_("What was seen, and by whom."))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=300, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-valid_from", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="indigent_ends_after_it_starts",
            )
        ]
        indexes = [
            models.Index(fields=["operator", "customer"], name="indigent_customer"),
            models.Index(fields=["operator", "valid_from"], name="indigent_valid_from"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.valid_from}..{self.valid_to or ''}"
