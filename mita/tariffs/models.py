"""Tariffs as versioned data: a tariff and where it applies, its dated versions (the pricing definitions), and the
mini-grid packages whose prices are the versions of a tariff of their own (docs/tariff-versions.md)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class Tariff(models.Model):
    """A named tariff of an operator and the connections it applies to; its prices are in its versions.

    Applicability: a criterion left empty matches every connection; a tariff applies to a connection when every
    criterion it sets matches. The most specific applicable tariff wins (selectors.tariff_for): named connections,
    then supply systems, then connection types, then property types, then the utility's default (no criterion).
    """

    class Utility(models.TextChoices):
        WATER = "water", _("Water")
        ELECTRICITY = "electricity", _("Electricity")

    class Kind(models.TextChoices):
        STANDARD = "standard", _("Tariff")
        PACKAGE = "package", _("Package")  # applies only to the connections on that package (Connection.package)

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    utility = models.CharField(_("utility"), max_length=16, choices=Utility.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.STANDARD)
    property_types = models.JSONField(_("property types"), default=list, blank=True)
    connection_types = models.JSONField(_("connection types"), default=list, blank=True)
    supply_systems = models.ManyToManyField(
        "registry.SupplySystem", verbose_name=_("supply systems"), related_name="+", blank=True
    )
    connections = models.ManyToManyField(
        "customers.Connection", verbose_name=_("named connections"), related_name="+", blank=True
    )
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Decides between two equally specific tariffs: the higher wins.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "code"]
        constraints = [
            models.UniqueConstraint(Upper("code"), "operator", name="tariff_unique_code_any_case"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TariffVersion(models.Model):
    """A tariff's prices from a date: a pricing definition (mita.tariffs.pricing), a draft until published.

    A published version is never changed: a change of prices is a new version from a later (or the same, as a
    draft replacing nothing) date. Among published versions a tariff has at most one per effective date.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    tariff = models.ForeignKey(Tariff, on_delete=models.PROTECT, related_name="versions")
    effective_from = models.DateField(_("effective from"))
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # A client's key for saving this draft: a retry with the same key returns it instead of a second draft.
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["tariff", "-effective_from", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tariff", "effective_from"],
                condition=models.Q(status="published"),
                name="tariff_version_one_published_per_day",
            ),
            models.UniqueConstraint(
                fields=["tariff", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="tariff_version_unique_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | models.Q(published_at__isnull=False),
                name="tariff_version_published_has_time",
            ),
        ]
        indexes = [models.Index(fields=["tariff", "status", "effective_from"], name="tariff_version_in_force")]

    def __str__(self) -> str:
        return f"{self.tariff.code} {self.effective_from.isoformat()}"


class Package(models.Model):
    """A mini-grid package: a load limit, hours of supply, a flat fee or a price per kWh, prepaid or postpaid.

    Its parts make its code (pricing.package_id) and never change; its price is in the versions of its own tariff
    (kind "package"), so a price change is a new version like any tariff's.
    """

    class Charging(models.TextChoices):
        FLAT = "flat", _("Flat fee per period")
        PER_KWH = "per_kwh", _("Price per kWh")

    class Payment(models.TextChoices):
        PREPAID = "prepaid", _("Prepaid")
        POSTPAID = "postpaid", _("Postpaid")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    tariff = models.OneToOneField(Tariff, on_delete=models.PROTECT, related_name="package")
    code = models.CharField(_("package code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    load_limit_w = models.PositiveIntegerField(_("load limit (W)"))
    hours_per_day = models.PositiveSmallIntegerField(_("hours of supply per day"))
    charging = models.CharField(_("charging"), max_length=16, choices=Charging.choices)
    payment = models.CharField(_("payment"), max_length=16, choices=Payment.choices)
    deposit_amount = models.DecimalField(_("deposit"), max_digits=16, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(_("offered"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "load_limit_w", "code"]
        constraints = [
            models.UniqueConstraint(Upper("code"), "operator", name="package_unique_code_any_case"),
            models.CheckConstraint(condition=models.Q(load_limit_w__gte=1), name="package_load_limit_positive"),
            models.CheckConstraint(
                condition=models.Q(hours_per_day__gte=1, hours_per_day__lte=24), name="package_hours_in_a_day"
            ),
            models.CheckConstraint(
                condition=models.Q(deposit_amount__isnull=True) | models.Q(deposit_amount__gte=Decimal("0")),
                name="package_deposit_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
