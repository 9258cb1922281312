"""Customers (people and organisations), their status history, connections (service points) and who held them."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


def gps_constraints(prefix: str) -> list[models.CheckConstraint]:
    """A place's latitude and longitude, when given, are on the globe (the database refuses anything else)."""
    return [
        models.CheckConstraint(
            condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
            name=f"{prefix}_latitude_valid",
        ),
        models.CheckConstraint(
            condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
            name=f"{prefix}_longitude_valid",
        ),
    ]


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
    bank_name = models.CharField(_("bank"), max_length=120, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)
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
            # The search runs on SearchTerm (below); these serve the plain list and exact lookups.
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


class Route(models.Model):
    """A meter-reading route: the connections a reader walks, in their reading sequence. The metering issue assigns
    routes to readers per cycle."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=120)
    supply_system = models.ForeignKey(
        "registry.SupplySystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("supply system"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "code"]
        constraints = [models.UniqueConstraint(Upper("code"), "operator", name="route_unique_code_any_case")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MeterChamber(models.Model):
    """One place (a pit, a cabinet, a wall board) holding the meters of several connections."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=32)
    description = models.CharField(_("description"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "code"]
        constraints = [
            models.UniqueConstraint(Upper("code"), "operator", name="chamber_unique_code_any_case"),
            *gps_constraints("chamber"),
        ]

    def __str__(self) -> str:
        return self.code


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

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        BIMONTHLY = "bimonthly", _("Every two months")
        QUARTERLY = "quarterly", _("Quarterly")
        HALF_YEARLY = "half_yearly", _("Half-yearly")
        YEARLY = "yearly", _("Yearly")

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
    route = models.ForeignKey(
        Route,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="connections",
        verbose_name=_("route"),
    )
    reading_sequence = models.PositiveIntegerField(_("reading sequence"), null=True, blank=True)
    chamber = models.ForeignKey(
        MeterChamber,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="connections",
        verbose_name=_("meter chamber"),
    )
    billing_cycle = models.CharField(
        _("billing cycle"), max_length=16, choices=BillingCycle.choices, default=BillingCycle.MONTHLY
    )
    # The land parcel, as the land registry reported it when its UPI was looked up (docs/customers.md).
    parcel_upi = models.CharField(_("land parcel UPI"), max_length=24, blank=True)
    parcel_village = models.CharField(_("parcel village"), max_length=120, blank=True)
    parcel_cell = models.CharField(_("parcel cell"), max_length=120, blank=True)
    parcel_sector = models.CharField(_("parcel sector"), max_length=120, blank=True)
    parcel_district = models.CharField(_("parcel district"), max_length=120, blank=True)
    parcel_area_m2 = models.DecimalField(_("parcel area (m²)"), max_digits=12, decimal_places=2, null=True, blank=True)
    parcel_land_use = models.CharField(_("parcel land use"), max_length=60, blank=True)
    parcel_owner_name = models.CharField(_("parcel owner (land registry)"), max_length=300, blank=True)
    parcel_looked_up_at = models.DateTimeField(_("parcel looked up at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The package (tariff plan) by its code; the tariffs issue makes it a reference (docs/servicing-operations.md).
    package = models.CharField(_("package"), max_length=40, blank=True)
    # A package change that takes effect from the next billing period (customers.lifecycle.pending_packages_apply).
    pending_package = models.CharField(_("next package"), max_length=40, blank=True)
    pending_package_from = models.DateField(_("next package from"), null=True, blank=True)
    # Bulk demand of a connection without a meter, in the tariff's unit per the tariff's period: what the bill run
    # prices it at instead of the tariff's "assessed_usage" (docs/tariffs.md); empty = the tariff's.
    assessed_usage = models.DecimalField(
        _("assessed usage"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Units (m3 or kWh) a period, for a connection without a meter; empty: the tariff's."),
    )

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "number"]
        constraints = [
            # Unique whatever the case: the ledger and the payment channels match account numbers case-blind.
            models.UniqueConstraint(Upper("number"), "operator", name="connection_unique_number_any_case"),
            *gps_constraints("connection"),
            # A reader walks a route in one order: among live connections, a place in it is taken once.
            models.UniqueConstraint(
                fields=["route", "reading_sequence"],
                condition=~models.Q(status="terminated"),
                name="connection_unique_reading_sequence",
            ),
            models.CheckConstraint(
                condition=models.Q(reading_sequence__isnull=True) | models.Q(reading_sequence__gte=1),
                name="connection_reading_sequence_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(assessed_usage__isnull=True) | models.Q(assessed_usage__gte=0),
                name="connection_assessed_usage_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["operator", "customer"], name="connection_customer"),
            models.Index(
                fields=["operator", "pending_package_from"],
                condition=models.Q(pending_package_from__isnull=False),
                name="connection_pending_package",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ConnectionStatusChange(models.Model):
    """One change of a connection's status, with its reason (append-only: the database refuses edits)."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=Connection.Status.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=Connection.Status.choices)
    reason = models.CharField(_("reason"), max_length=300)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["connection", "-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


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


class ServiceNote(models.Model):
    """A note in the customer's file (a visit, a call, a promise to pay), optionally about one connection.

    Append-only: the database refuses edits and deletions; a wrong note is corrected by a later one.
    """

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="service_notes")
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_notes",
        verbose_name=_("connection"),
    )
    text = models.TextField(_("note"), max_length=2000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["customer", "-created_at", "-pk"]
        indexes = [models.Index(fields=["operator", "customer", "-created_at"], name="servicenote_customer_recent")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.text[:40]}"


class ContactChange(models.Model):
    """A change of a customer's phones or e-mail, waiting for the code sent to their current phone (or applied by an
    operator admin without one, with a reason)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the code")
        APPLIED = "applied", _("Applied with the code")
        APPLIED_WITHOUT_CODE = "applied_without_code", _("Applied without a code")
        SUPERSEDED = "superseded", _("Replaced by a newer change")
        FAILED = "failed", _("Too many wrong codes")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contact_changes")
    changes = models.JSONField(_("changes"), default=dict)  # {"phone": "+250...", "email": "..."}: the new values
    previous = models.JSONField(_("previous values"), default=dict)
    sent_to = models.CharField(_("code sent to"), max_length=20, blank=True)
    code_hash = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["customer", "-created_at", "-pk"]
        indexes = [models.Index(fields=["customer", "status"], name="contactchange_customer_status")]

    def __str__(self) -> str:
        return f"contact change {self.pk} of {self.customer_id} ({self.status})"


class SearchTerm(models.Model):
    """One searchable word of a customer or of one of their connections: the word index of the search.

    `term` is normalised (upper case, no accents, letters and digits only) so a prefix of it is one range of a
    B-tree index on both databases; services write these rows with every change of the words they come from
    (docs/customers.md, "Search"). On PostgreSQL the name and address words also have a trigram index.
    """

    class Kind(models.TextChoices):
        CUSTOMER_NUMBER = "number", _("Customer number")
        CONNECTION_NUMBER = "connection", _("Connection number")
        NAME = "name", _("Name")
        PHONE = "phone", _("Phone")
        ID_NUMBER = "id", _("ID number")
        ADDRESS = "address", _("Address")
        BANK_ACCOUNT = "bank", _("Bank account")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(Connection, null=True, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    term = models.CharField(max_length=64)

    objects = OperatorManager()

    class Meta:
        indexes = [
            # A prefix of a word is one range of this index. On PostgreSQL `LIKE 'ABC%'` can use a B-tree only
            # with the pattern operator class (whatever the database's collation); SQLite ignores opclasses.
            models.Index(fields=["operator", "term"], opclasses=["", "varchar_pattern_ops"], name="searchterm_prefix")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.term}"


from mita.customers.models_imports import ImportBatch, ImportRow  # noqa: E402  (the bulk import's models)
from mita.customers.models_indigent import IndigentRegistration  # noqa: E402  (the indigent register)

__all__ = [
    "Connection",
    "ConnectionHolding",
    "ConnectionStatusChange",
    "ContactChange",
    "Customer",
    "CustomerStatusChange",
    "ImportBatch",
    "ImportRow",
    "IndigentRegistration",
    "MeterChamber",
    "Route",
    "SearchTerm",
    "ServiceNote",
]
