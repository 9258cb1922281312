"""The operator's materials catalogue: what a connection or a repair uses, with its unit and unit price.

The stock issue adds stores and movements on top of these items; a work order's survey quotes from them.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class Material(models.Model):
    """One catalogue item: code, name, unit (metre, piece, ...), properties (diameter, ...), unit price."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("item code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("How it is counted: m, piece, kg, ..."))
    properties = models.JSONField(_("properties"), default=dict, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=16, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "code"]
        constraints = [
            models.UniqueConstraint(Upper("code"), "operator", name="material_unique_code_any_case"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=Decimal("0")), name="material_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
