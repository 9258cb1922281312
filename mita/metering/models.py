"""Meter models, meters, stores and their movements, calibrations, installations, route assignments and readings.

A meter is an asset of the operator with a life of its own (store, lab, connection, scrap); a connection has at most
one meter installed at a time, and an installation says from which index the meter counts for that connection.
Readings are facts: a reading's indexes are never edited; a correction is a new reading that supersedes it.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class MeterModel(models.Model):
    """A make and model of meter: what its dials and registers are, and how often it must be calibrated."""

    class Utility(models.TextChoices):
        WATER = "water", _("Water")
        ELECTRICITY = "electricity", _("Electricity")

    class Kind(models.TextChoices):
        MECHANICAL = "mechanical", _("Mechanical")
        SMART = "smart", _("Smart")
        PREPAID = "prepaid", _("Prepaid")
        LOAD_LIMITER = "load_limiter", _("Load limiter")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=40)
    brand = models.CharField(_("brand"), max_length=80)
    name = models.CharField(_("model name"), max_length=120)
    utility = models.CharField(_("utility"), max_length=16, choices=Utility.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MECHANICAL)
    size = models.CharField(_("size or diameter"), max_length=40, blank=True, help_text=_("15 mm, DN20, 10-60 A, ..."))
    dial_digits = models.PositiveSmallIntegerField(
        _("dial digits"),
        default=5,
        help_text=_("Whole-number digits on the dial: the index wraps to 0 after 10^digits."),
    )
    reversible = models.BooleanField(_("reversible"), default=False, help_text=_("Can run backwards."))
    calibration_interval_months = models.PositiveSmallIntegerField(
        _("calibration interval (months)"), null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "code"]
        constraints = [
            models.UniqueConstraint(Upper("code"), "operator", name="meter_model_unique_code_any_case"),
            models.CheckConstraint(
                condition=models.Q(dial_digits__gte=1, dial_digits__lte=12), name="meter_model_dial_digits_1_12"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.name}"


class Register(models.Model):
    """One register of a meter model (water: volume; electricity: active, reactive, demand), with its multiplier."""

    meter_model = models.ForeignKey(MeterModel, on_delete=models.CASCADE, related_name="registers")
    code = models.CharField(_("register"), max_length=20, default="main")
    unit = models.CharField(_("unit"), max_length=10, default="m3")
    multiplier = models.DecimalField(_("multiplier"), max_digits=12, decimal_places=4, default=Decimal("1"))
    position = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["meter_model", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["meter_model", "code"], name="register_unique_code"),
            models.CheckConstraint(
                condition=models.Q(multiplier__gt=Decimal("0")), name="register_multiplier_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.unit} x{self.multiplier})"


class Store(models.Model):
    """Where meters wait: the central store, a branch store, the calibration lab."""

    class Kind(models.TextChoices):
        CENTRAL = "central", _("Central store")
        BRANCH = "branch", _("Branch store")
        LAB = "lab", _("Laboratory")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BRANCH)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "code"]
        constraints = [models.UniqueConstraint(Upper("code"), "operator", name="meter_store_unique_code_any_case")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Meter(models.Model):
    """One physical meter, by its manufacturer's serial number (unique per brand). Where it is: a store (in store,
    in the lab, faulty) or a connection (installed: its open Installation says which); scrapped meters are nowhere."""

    class Status(models.TextChoices):
        IN_STORE = "in_store", _("In store")
        INSTALLED = "installed", _("Installed")
        IN_LAB = "in_lab", _("In the lab")
        FAULTY = "faulty", _("Faulty")
        SCRAPPED = "scrapped", _("Scrapped")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    meter_model = models.ForeignKey(MeterModel, on_delete=models.PROTECT, related_name="meters")
    brand = models.CharField(_("brand"), max_length=80)  # the model's, kept here for the unique serial per brand
    serial = models.CharField(_("serial number"), max_length=60)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.IN_STORE)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="meters")
    received_on = models.DateField(_("received on"), null=True, blank=True)
    last_calibrated_on = models.DateField(_("last calibrated on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "brand", "serial"]
        constraints = [
            models.UniqueConstraint(Upper("brand"), Upper("serial"), "operator", name="meter_unique_serial_per_brand"),
            # In a store unless installed or scrapped.
            models.CheckConstraint(
                condition=models.Q(status__in=["installed", "scrapped"], store__isnull=True)
                | (~models.Q(status__in=["installed", "scrapped"]) & models.Q(store__isnull=False)),
                name="meter_store_matches_status",
            ),
        ]
        indexes = [models.Index(Upper("serial"), "operator", name="meter_serial_any_case")]

    def __str__(self) -> str:
        return f"{self.brand} {self.serial}"


class Movement(models.Model):
    """A document moving meters: received from a supplier, sent between stores, to and from the lab, rejected,
    scrapped. Who, when, from where, to where, and its meters (MovementLine)."""

    class Kind(models.TextChoices):
        RECEIVE = "receive", _("Received from supplier")
        TRANSFER = "transfer", _("Sent to another store")
        TO_LAB = "to_lab", _("Sent to the lab")
        FROM_LAB = "from_lab", _("Returned from the lab")
        REJECT = "reject", _("Rejected")
        SCRAP = "scrap", _("Scrapped")
        INSTALL = "install", _("Installed")
        REMOVE = "remove", _("Removed from a connection")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    from_store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    moved_on = models.DateField(_("date"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-moved_on", "-pk"]
        indexes = [models.Index(fields=["operator", "moved_on"], name="meter_movement_date")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.moved_on}"


class MovementLine(models.Model):
    movement = models.ForeignKey(Movement, on_delete=models.CASCADE, related_name="lines")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="movement_lines")

    class Meta:
        ordering = ["movement", "pk"]
        constraints = [models.UniqueConstraint(fields=["movement", "meter"], name="movement_line_unique_meter")]

    def __str__(self) -> str:
        return f"{self.movement_id}: {self.meter_id}"


class Calibration(models.Model):
    """A calibration or verification of a meter, with its result."""

    class Result(models.TextChoices):
        PASSED = "passed", _("Passed")
        ADJUSTED = "adjusted", _("Adjusted and passed")
        FAILED = "failed", _("Failed")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="calibrations")
    calibrated_on = models.DateField(_("calibrated on"))
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    error_percent = models.DecimalField(_("error (%)"), max_digits=7, decimal_places=3, null=True, blank=True)
    certificate = models.CharField(_("certificate"), max_length=80, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-calibrated_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.calibrated_on} {self.result}"


class Installation(models.Model):
    """A meter on a connection, from its initial index until it is removed with its final index."""

    class RemovalReason(models.TextChoices):
        REPLACED = "replaced", _("Replaced")
        FAULTY = "faulty", _("Faulty")
        CALIBRATION = "calibration", _("Due for calibration")
        DISCONNECTION = "disconnection", _("Disconnection")
        TERMINATION = "termination", _("Termination")
        TAMPERED = "tampered", _("Tampered with")
        OTHER = "other", _("Other")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    meter = models.ForeignKey(Meter, on_delete=models.PROTECT, related_name="installations")
    connection = models.ForeignKey("customers.Connection", on_delete=models.PROTECT, related_name="+")
    installed_on = models.DateField(_("installed on"))
    initial_index = models.DecimalField(_("initial index"), max_digits=16, decimal_places=3)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    final_index = models.DecimalField(_("final index"), max_digits=16, decimal_places=3, null=True, blank=True)
    removal_reason = models.CharField(_("reason"), max_length=16, choices=RemovalReason.choices, blank=True)
    installed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "connection", "-installed_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meter"], condition=models.Q(removed_on__isnull=True), name="installation_one_open_per_meter"
            ),
            models.UniqueConstraint(
                fields=["connection"],
                condition=models.Q(removed_on__isnull=True),
                name="installation_one_open_per_connection",
            ),
            models.CheckConstraint(
                condition=models.Q(removed_on__isnull=True, final_index__isnull=True)
                | models.Q(
                    removed_on__isnull=False, final_index__isnull=False, removed_on__gte=models.F("installed_on")
                ),
                name="installation_removal_complete",
            ),
            models.CheckConstraint(condition=models.Q(initial_index__gte=0), name="installation_initial_not_negative"),
        ]
        indexes = [models.Index(fields=["operator", "connection"], name="installation_connection")]

    def __str__(self) -> str:
        return f"{self.meter_id} on {self.connection_id} from {self.installed_on}"


class RouteAssignment(models.Model):
    """Who reads a route in a cycle (cycle = the billing month "2026-10")."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    route = models.ForeignKey("customers.Route", on_delete=models.PROTECT, related_name="+")
    cycle = models.CharField(_("cycle"), max_length=7)
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("meter reader")
    )
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-cycle", "route"]
        constraints = [models.UniqueConstraint(fields=["route", "cycle"], name="route_assignment_unique_cycle")]
        indexes = [models.Index(fields=["operator", "reader", "cycle"], name="route_assignment_reader")]

    def __str__(self) -> str:
        return f"{self.route_id} {self.cycle}"


class MeteringSettings(models.Model):
    """The operator's thresholds for anomalies and its reading window (docs/metering.md)."""

    operator = models.OneToOneField("registry.Operator", on_delete=models.PROTECT, related_name="+")
    high_factor = models.DecimalField(
        _("high when above x average"), max_digits=6, decimal_places=2, default=Decimal("3")
    )
    low_factor = models.DecimalField(
        _("low when below x average"), max_digits=6, decimal_places=2, default=Decimal("0.3")
    )
    min_units = models.DecimalField(
        _("ignore differences below (units)"), max_digits=10, decimal_places=3, default=Decimal("5")
    )
    history_readings = models.PositiveSmallIntegerField(_("readings in the average"), default=6)
    rollover_share = models.DecimalField(
        _("largest plausible rollover (share of the dial)"), max_digits=4, decimal_places=3, default=Decimal("0.1")
    )
    window_days_before = models.PositiveSmallIntegerField(_("read up to days before the cycle"), default=5)
    window_days_after = models.PositiveSmallIntegerField(_("read up to days after the cycle"), default=10)
    zero_is_anomaly = models.BooleanField(_("zero consumption is an anomaly"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"metering settings of {self.operator_id}"


class Reading(models.Model):
    """One reading of one register of the meter installed on a connection.

    consumption = (current - previous) x the register's multiplier, through the wrap on a plausible rollover;
    readings the checks find implausible wait in the review queue (status REVIEW, `anomaly` says why) and count for
    nothing until staff accept, correct or estimate them. A reading's indexes are never changed: a correction is a new
    reading and the old one is SUPERSEDED.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", _("Read by a meter reader")
        CUSTOMER = "customer", _("Told by the customer")
        IMPORT = "import", _("File import")
        SMART = "smart", _("Smart meter")
        FIELD = "field", _("Field app")
        ESTIMATED = "estimated", _("Estimated")
        REMOVAL = "removal", _("Final index at removal")
        ADJUSTMENT = "adjustment", _("Index adjustment")

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REVIEW = "review", _("Waiting for review")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Superseded")

    class Anomaly(models.TextChoices):
        NONE = "", _("None")
        BACKWARDS = "backwards", _("Index below the previous one")
        REVERSED = "reversed", _("Reversible meter ran backwards")
        ZERO = "zero", _("Zero consumption")
        HIGH = "high", _("Higher than usual")
        LOW = "low", _("Lower than usual")
        OUT_OF_CYCLE = "out_of_cycle", _("Read outside the cycle")
        CONFLICT = "conflict", _("Different from a reading already taken")
        READER_CODE = "reader_code", _("Not read (reader's code)")

    class ReaderCode(models.TextChoices):
        NONE = "", _("None")
        NO_ACCESS = "no_access", _("No access")
        DOG = "dog", _("Dog")
        METER_BROKEN = "meter_broken", _("Meter broken")
        METER_BURIED = "meter_buried", _("Meter buried or covered")
        DIAL_UNREADABLE = "dial_unreadable", _("Dial unreadable")
        LOCKED = "locked", _("Premises locked")
        TAMPERED = "tampered", _("Signs of tampering")
        LEAK = "leak", _("Leak seen")
        OTHER = "other", _("Other")

    # operator, connection and installation lead the indexes below: no index of their own (each costs every reading
    # imported)
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    connection = models.ForeignKey("customers.Connection", on_delete=models.PROTECT, related_name="+", db_index=False)
    installation = models.ForeignKey(Installation, on_delete=models.PROTECT, related_name="readings", db_index=False)
    register = models.CharField(_("register"), max_length=20, default="main")
    cycle = models.CharField(_("cycle"), max_length=7)
    read_on = models.DateField(_("read on"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    previous_index = models.DecimalField(_("previous index"), max_digits=16, decimal_places=3)
    current_index = models.DecimalField(_("current index"), max_digits=16, decimal_places=3, null=True, blank=True)
    consumption = models.DecimalField(_("consumption"), max_digits=16, decimal_places=3, null=True, blank=True)
    multiplier = models.DecimalField(_("multiplier"), max_digits=12, decimal_places=4, default=Decimal("1"))
    rollover = models.BooleanField(_("rollover"), default=False)
    true_up = models.BooleanField(_("true-up of estimates"), default=False)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    anomaly = models.CharField(_("anomaly"), max_length=16, choices=Anomaly.choices, blank=True)
    reader_code = models.CharField(_("reader's code"), max_length=16, choices=ReaderCode.choices, blank=True)
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reader"),
        db_index=False,  # reading_reader_date: only readings that have one
    )
    photo = models.FileField(_("photo"), upload_to="readings/%Y/%m/", blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Idempotency: a UUID made by the field app, a file row's key, "smart:<meter>:<timestamp>", ...; body_digest tells
    # a replay (same body) from a reuse of the key for something else.
    key = models.CharField(max_length=120, blank=True)
    body_digest = models.CharField(max_length=64, blank=True)
    # Mostly empty (a correction, a review): indexed only where set (reading_supersedes, reading_reviewed_by), so
    # that an imported reading writes no index entry for them.
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    # Not indexed: nothing looks readings up by who recorded them (decision 0007), and every imported reading would
    # write an entry for it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "connection", "-read_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "key"], condition=~models.Q(key=""), name="reading_unique_key"),
            models.CheckConstraint(
                condition=~models.Q(status="accepted") | models.Q(consumption__isnull=False),
                name="reading_accepted_has_consumption",
            ),
        ]
        indexes = [
            models.Index(fields=["installation", "register", "read_on"], name="reading_installation_date"),
            # A connection is one operator's: its readings need no operator in the index, which then also serves
            # the connection's foreign key (docs/decisions/0007).
            models.Index(fields=["connection", "cycle"], name="reading_connection_cycle"),
            models.Index(
                fields=["operator", "status"], condition=models.Q(status="review"), name="reading_review_queue"
            ),
            # A reader's readings by date, and the reader's foreign key; only readings that have one.
            models.Index(
                fields=["reader", "read_on"], condition=models.Q(reader__isnull=False), name="reading_reader_date"
            ),
            models.Index(
                fields=["supersedes"], condition=models.Q(supersedes__isnull=False), name="reading_supersedes"
            ),
            models.Index(
                fields=["reviewed_by"], condition=models.Q(reviewed_by__isnull=False), name="reading_reviewed_by"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.read_on} {self.current_index}"


class MeterState(models.Model):
    """Where a connection's register stands: the meter installed, the last index counted, and the recent history its
    average daily consumption comes from. Kept by the reading and installation services in the same transaction as
    the readings (a cache: `mita metering verify` could rebuild it from the readings), so that checking 100,000 readings
    reads one row per connection instead of its whole history."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    # meter_state_unique leads with the connection: no index of its own (each index costs every state update)
    connection = models.ForeignKey("customers.Connection", on_delete=models.PROTECT, related_name="+", db_index=False)
    register = models.CharField(max_length=20, default="main")
    installation = models.ForeignKey(Installation, null=True, on_delete=models.PROTECT, related_name="+")
    last_index = models.DecimalField(max_digits=16, decimal_places=3)
    last_read_on = models.DateField()
    last_cycle = models.CharField(max_length=7, blank=True)
    last_estimated = models.BooleanField(default=False)
    last_actual_index = models.DecimalField(max_digits=16, decimal_places=3)
    # The last readings' [days, consumption] (strings), newest last: the connection's own average across meter swaps.
    history = models.JSONField(default=list)

    objects = OperatorManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "register"], name="meter_state_unique")]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.register} at {self.last_index}"


from mita.metering.models_imports import *  # noqa: E402, F403
from mita.metering.models_meters import *  # noqa: E402, F403
from mita.metering.models_review import *  # noqa: E402, F403
