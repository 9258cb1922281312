"""Customers (people and organisations), their status history, connections (service points) and who held them."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class Customer(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        ORGANISATION = "organisation", _("Organisation")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        BANNED = "banned", _("Banned")

    class IdType(models.TextChoices):
        NONE = "", _("None")
        NATIONAL_ID = "national_id", _("National ID")
        PASSPORT = "passport", _("Passport")
        COMPANY = "company", _("Company registration")
        OTHER = "other", _("Other")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    sequence_number = models.PositiveIntegerField()
    number = models.CharField(_("customer number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    relative_name = models.CharField(_("father's or spouse's name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, help_text=_("In E.164, e.g. +250788123456."))
    phone_2 = models.CharField(_("second phone"), max_length=20, blank=True)
    id_type = models.CharField(_("ID type"), max_length=16, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("ID number"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    district = models.ForeignKey(
        "registry.Boundary",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("district"),
    )
    village = models.CharField(_("village"), max_length=120, blank=True)
    street = models.CharField(_("street"), max_length=120, blank=True)
    house = models.CharField(_("house"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(_("status reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "sequence_number"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "sequence_number"], name="customer_unique_sequence"),
            models.UniqueConstraint(fields=["operator", "number"], name="customer_unique_number"),
        ]
        indexes = [
            # Prefix search (istartswith) on name and phone; trigram indexes come with search at scale.
            models.Index(Upper("name"), "operator", name="customer_name_upper"),
            models.Index(fields=["operator", "phone"], name="customer_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class CustomerStatusChange(models.Model):
    """One change of a customer's status, with its reason (append-only: the database refuses edits)."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=Customer.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Customer.Status.choices)
    reason = models.CharField(_("reason"), max_length=300)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["customer", "-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class Connection(models.Model):
    """A service point. Its number is the customer account in the ledger and is never changed once made."""

    class Utility(models.TextChoices):
        WATER = "water", _("Water")
        ELECTRICITY = "electricity", _("Electricity")

    class PropertyType(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        COMMERCIAL = "commercial", _("Commercial")
        INSTITUTIONAL = "institutional", _("Institutional")
        PUBLIC_TAP = "public_tap", _("Public tap")
        INDUSTRIAL = "industrial", _("Industrial")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        DISCONNECTED = "disconnected", _("Disconnected")
        TERMINATED = "terminated", _("Terminated")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("connection number"), max_length=64)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="connections", verbose_name=_("customer")
    )
    utility = models.CharField(_("utility"), max_length=16, choices=Utility.choices)
    property_type = models.CharField(_("property type"), max_length=16, choices=PropertyType.choices)
    connection_type = models.CharField(_("connection type"), max_length=40, blank=True)
    metered = models.BooleanField(_("metered"), default=True)
    supply_system = models.ForeignKey(
        "registry.SupplySystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("supply system"),
    )
    cluster = models.ForeignKey(
        "registry.Cluster", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("cluster")
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "number"]
        constraints = [
            # Unique whatever the case: the ledger and the payment channels match account numbers case-blind.
            models.UniqueConstraint(Upper("number"), "operator", name="connection_unique_number_any_case"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="connection_latitude_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="connection_longitude_valid",
            ),
        ]
        indexes = [models.Index(fields=["operator", "customer"], name="connection_customer")]

    def __str__(self) -> str:
        return self.number


class ConnectionHolding(models.Model):
    """Contract history: who held a connection from when to when (`ends_on` empty: holds it now)."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="holdings")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="holdings")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["connection", "-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="holding_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(ends_on__isnull=True),
                name="holding_one_current_per_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} held by {self.customer_id} from {self.starts_on}"


from mita.customers.models_imports import ImportBatch, ImportRow  # noqa: E402  (the bulk import's models)

__all__ = [
    "Connection",
    "ConnectionHolding",
    "Customer",
    "CustomerStatusChange",
    "ImportBatch",
    "ImportRow",
]
