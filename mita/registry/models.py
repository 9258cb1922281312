"""The regulator, the boundary hierarchy, operators (the tenants), licences, clusters, supply systems, contracts."""

import datetime
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class Regulator(models.Model):
    """The one regulator of this deployment (in Rwanda, RURA)."""

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=30)
    country_code = models.CharField(_("country"), max_length=2)
    singleton = models.BooleanField(default=True, editable=False, unique=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(singleton=True), name="regulator_is_singleton")]

    def __str__(self) -> str:
        return self.short_name or self.name


class BoundaryType(models.Model):
    """A level of the administrative hierarchy: country > province/state > district > sector/block > ... > village."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    depth = models.PositiveSmallIntegerField(_("depth"))

    class Meta:
        ordering = ["depth", "code"]

    def __str__(self) -> str:
        return self.name


class BoundaryQuerySet(models.QuerySet["Boundary"]):
    def districts(self) -> "BoundaryQuerySet":
        return self.filter(type__code="district")


class Boundary(models.Model):
    type = models.ForeignKey(BoundaryType, on_delete=models.PROTECT, related_name="boundaries")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=40, unique=True)

    objects = BoundaryQuerySet.as_manager()

    class Meta:
        ordering = ["type__depth", "name"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="boundary_unique_name_under_parent")]
        verbose_name_plural = _("boundaries")

    def __str__(self) -> str:
        return self.name


class Operator(models.Model):
    """A utility operator: the tenant that owns customers, bills and money."""

    class Kind(models.TextChoices):
        PRIVATE_OPERATOR = "private_operator", _("Private operator")
        WATER_COMMITTEE = "water_committee", _("Village water committee")
        NATIONAL_UTILITY = "national_utility", _("National utility")
        MINI_GRID = "mini_grid", _("Mini-grid operator")

    class Utility(models.TextChoices):
        WATER = "water", _("Water")
        ELECTRICITY = "electricity", _("Electricity")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    utility = models.CharField(_("utility"), max_length=16, choices=Utility.choices)
    prefix = models.CharField(
        _("prefix"), max_length=8, unique=True, help_text=_("Starts the operator's customer, bill and receipt numbers.")
    )
    country_code = models.CharField(_("country"), max_length=2)
    currency = models.CharField(_("currency"), max_length=3)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    districts = models.ManyToManyField(
        Boundary,
        verbose_name=_("districts"),
        related_name="operators",
        blank=True,
        help_text=_("The operating area."),
    )
    logo = models.FileField(_("logo"), upload_to="logos/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OperatorPrefix(models.Model):
    """Every prefix ever issued: a prefix is never given to a second operator, even after the first is gone."""

    prefix = models.CharField(max_length=8, unique=True)
    operator = models.OneToOneField(Operator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    issued_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.prefix


class Licence(models.Model):
    """An operating licence as the licensing system (CLMS) knows it; refreshed daily."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        EXPIRED = "expired", _("Expired")
        REVOKED = "revoked", _("Revoked")
        SUSPENDED = "suspended", _("Suspended")

    number = models.CharField(_("licence number"), max_length=50, unique=True)
    operator = models.ForeignKey(
        Operator, null=True, blank=True, on_delete=models.PROTECT, related_name="licences", verbose_name=_("operator")
    )
    holder_name = models.CharField(_("holder"), max_length=200)
    tin = models.CharField(_("TIN"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    services = models.JSONField(_("licensed services"), default=list, blank=True)
    districts = models.ManyToManyField(Boundary, verbose_name=_("licensed districts"), related_name="+", blank=True)
    fetched_at = models.DateTimeField(_("last checked"))
    source = models.JSONField(_("as received"), default=dict, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__gte=models.F("issued_on")), name="licence_expires_after_issue"
            )
        ]

    def __str__(self) -> str:
        return self.number

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.status == self.Status.VALID and self.issued_on <= day <= self.expires_on


class LicenceEvent(models.Model):
    """A change of a licence's status or dates seen at a sync (append-only history)."""

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.licence} {self.old_status} → {self.new_status}"


class GracePeriod(models.Model):
    """The regulator lets the holder of a licence that is not valid operate and bill for a while.

    It is granted on the licence, so it can cover an operator before onboarding as well as after.
    """

    licence = models.ForeignKey(Licence, on_delete=models.PROTECT, related_name="grace_periods")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="grace_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.licence}: {self.starts_on} – {self.ends_on}"

    def covers(self, day: datetime.date) -> bool:
        return self.starts_on <= day <= self.ends_on


class Cluster(models.Model):
    """A group of supply systems the regulator lets to one operator at a time."""

    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=30, unique=True)
    districts = models.ManyToManyField(Boundary, verbose_name=_("districts"), related_name="clusters", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ClusterAssignment(models.Model):
    """A cluster assigned to an operator from a date until its expiry (or until it moves to another operator)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="assignments")
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="cluster_assignments")
    starts_on = models.DateField(_("from"))
    expires_on = models.DateField(_("expires on"))
    ended_on = models.DateField(
        _("ended on"), null=True, blank=True, help_text=_("Set when the cluster moved on early.")
    )
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["cluster", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__gte=models.F("starts_on")), name="assignment_expires_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True) | models.Q(ended_on__gte=models.F("starts_on")),
                name="assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cluster} → {self.operator} ({self.starts_on} – {self.last_day})"

    @property
    def last_day(self) -> "datetime.date":
        """The last day the operator holds the cluster: the day before it moved on, or the expiry date."""
        if self.ended_on is not None:
            return min(self.ended_on - datetime.timedelta(days=1), self.expires_on)
        return self.expires_on


class SupplySystem(models.Model):
    """A water supply system or a mini-grid plant, under a cluster."""

    class Kind(models.TextChoices):
        WATER = "water", _("Water supply system")
        MINI_GRID = "mini_grid", _("Mini-grid plant")

    class Technology(models.TextChoices):
        GRAVITY = "gravity", _("Gravity")
        ELECTRIC_PUMPING = "electric_pumping", _("Electric pumping")
        DIESEL = "diesel", _("Diesel pumping")
        SOLAR = "solar", _("Solar pumping")
        COMPLEX = "complex", _("Complex (several technologies)")

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="supply_systems")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=150)
    code = models.CharField(_("code"), max_length=30, unique=True)
    district = models.ForeignKey(Boundary, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # water supply systems
    technology = models.CharField(_("technology"), max_length=20, choices=Technology.choices, blank=True)
    capacity_m3_per_day = models.DecimalField(
        _("capacity (m³/day)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=120, blank=True, help_text=_("Spring, borehole, river, lake…"))
    # mini-grid plants
    capacity_kw = models.DecimalField(_("capacity (kW)"), max_digits=10, decimal_places=2, null=True, blank=True)
    generation_mix = models.JSONField(
        _("generation mix"),
        default=dict,
        blank=True,
        help_text=_('Share of each source in percent, e.g. {"solar": 90, "diesel": 10}.'),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="water") & ~models.Q(technology=""))
                | (models.Q(kind="mini_grid") & models.Q(capacity_kw__isnull=False)),
                name="supply_system_described_for_its_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Requirement(models.Model):
    """One item of the checklist an operator must meet in a district before starting operations (configurable)."""

    title = models.CharField(_("requirement"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.title


def contract_upload_path(contract: "Contract", filename: str) -> str:
    return f"contracts/{contract.operator_id}/{uuid.uuid4().hex}.pdf"


class Contract(models.Model):
    """A contract with an operator: held by a district, or submitted by the national utility for verification."""

    class Kind(models.TextChoices):
        DISTRICT = "district", _("District contract")
        NATIONAL_UTILITY = "national_utility", _("National utility contract")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PENDING = "pending", _("Waiting for verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="contracts", verbose_name=_("operator")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    district = models.ForeignKey(Boundary, null=True, blank=True, on_delete=models.PROTECT, related_name="contracts")
    title = models.CharField(_("title"), max_length=200)
    parties = models.TextField(_("parties"))
    signed_on = models.DateField(_("signed on"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    document = models.FileField(_("contract (PDF)"), upload_to=contract_upload_path)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    uploaded_by = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="contract_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="national_utility") | models.Q(district__isnull=False),
                name="district_contract_has_district",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RequirementCheck(models.Model):
    """A district officer's tick: this operator meets this requirement in this district."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="requirement_checks")
    district = models.ForeignKey(Boundary, on_delete=models.PROTECT, related_name="+")
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="checks")
    checked_by = models.ForeignKey("accounts.User", null=True, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = OperatorManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operator", "district", "requirement"], name="one_check_per_requirement")
        ]

    def __str__(self) -> str:
        return f"{self.operator} / {self.district}: {self.requirement}"
