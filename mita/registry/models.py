"""The regulator, the boundary hierarchy, and operators (the tenants)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
