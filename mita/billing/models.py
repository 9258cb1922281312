"""Billing: the operator's calendar of billing cycles, bill runs and their units, bills with their lines, and the
exceptions a run lists instead of billing (docs/billing.md)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mita.billing.lines import BillLine, lines_read
from mita.core.tenancy import OperatorManager

MONEY = {"max_digits": 16, "decimal_places": 2}


class BillingCycle(models.Model):
    """One period of the operator's billing calendar: the days it bills, when its meters are read, when its bills are
    issued and due. Codes: "2026-10" (monthly), "2026-B5" (bimonthly, 5th pair of months), "2026-Q4", "2026-H2",
    "2026-Y"."""

    class Frequency(models.TextChoices):  # the values of customers.Connection.BillingCycle
        MONTHLY = "monthly", _("Monthly")
        BIMONTHLY = "bimonthly", _("Every two months")
        QUARTERLY = "quarterly", _("Quarterly")
        HALF_YEARLY = "half_yearly", _("Half-yearly")
        YEARLY = "yearly", _("Yearly")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=10)
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency.choices)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    read_from = models.DateField(_("read from"))
    read_to = models.DateField(_("read until"))
    bill_on = models.DateField(_("bills issued on"))
    due_on = models.DateField(_("bills due on"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "start", "frequency"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "code"], name="billing_cycle_unique_code"),
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="billing_cycle_ends_after"),
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("bill_on")), name="billing_cycle_due_after_issue"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def months(self) -> list[str]:
        """The reading cycles ("YYYY-MM") this billing cycle adds up."""
        months = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class BillRun(models.Model):
    """Billing one cycle for a scope (the operator, a cluster, a supply system or a route), in units."""

    class Scope(models.TextChoices):
        OPERATOR = "operator", _("Whole operator")
        CLUSTER = "cluster", _("Cluster")
        SUPPLY_SYSTEM = "supply_system", _("Supply system")
        ROUTE = "route", _("Route")

    class Status(models.TextChoices):
        COMPUTING = "computing", _("Computing the preview")
        PREVIEW = "preview", _("Preview: waiting for approval")
        ISSUING = "issuing", _("Approved: issuing")
        ISSUED = "issued", _("Issued")
        PUBLISHING = "publishing", _("Publishing")
        PUBLISHED = "published", _("Published")
        FAILED = "failed", _("Failed")
        DISCARDED = "discarded", _("Discarded")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    cycle = models.ForeignKey(BillingCycle, on_delete=models.PROTECT, related_name="runs")
    scope_kind = models.CharField(_("scope"), max_length=16, choices=Scope.choices, default=Scope.OPERATOR)
    scope_id = models.BigIntegerField(null=True, blank=True)
    scope_label = models.CharField(_("scope"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.COMPUTING)
    units_total = models.PositiveIntegerField(default=0)
    connections = models.PositiveIntegerField(_("connections"), default=0)
    bills = models.PositiveIntegerField(_("bills"), default=0)
    exceptions = models.PositiveIntegerField(_("exceptions"), default=0)
    total = models.DecimalField(_("total billed"), default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    discarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    discarded_at = models.DateTimeField(null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["operator", "cycle"], name="billrun_cycle")]

    def __str__(self) -> str:
        return f"{self.cycle.code} {self.scope_label or self.get_scope_kind_display()}"


class BillRunUnit(models.Model):
    """A slice of a run done in one transaction per step: a route, or a block of connections."""

    class Stage(models.TextChoices):
        PLANNED = "planned", _("Planned")
        COMPUTED = "computed", _("Computed")
        ISSUED = "issued", _("Issued")
        PUBLISHED = "published", _("Published")

    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="units")
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=40)  # "route:12", "block:3"
    connection_ids = models.JSONField(default=list)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.PLANNED)
    bills = models.PositiveIntegerField(default=0)
    exceptions = models.PositiveIntegerField(default=0)
    total = models.DecimalField(default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    # The bill numbers the unit's drafts take when issued (first, and how many), reserved in a short transaction of
    # their own before the unit's: see run.issue_unit.
    number_first = models.PositiveBigIntegerField(null=True, blank=True)
    number_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="billrun_unit_unique_position")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.key}"


class Bill(models.Model):
    """A connection's bill for a cycle: a draft until its run is approved, then numbered, posted and issued."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        CANCELLED = "cancelled", _("Cancelled")

    # operator, connection and run lead the indexes below (bill_cycle, bill_connection, bill_run_unit): no index
    # of their own (each index costs every bill a run inserts, and again when the run issues it). Nor have cycle and
    # unit: every query by them names the operator (bill_cycle) or the run (bill_run_unit) too
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    connection = models.ForeignKey("customers.Connection", on_delete=models.PROTECT, related_name="+", db_index=False)
    account = models.CharField(_("account"), max_length=64)  # the connection's number: the ledger's holder
    cycle = models.ForeignKey(BillingCycle, on_delete=models.PROTECT, related_name="bills", db_index=False)
    run = models.ForeignKey(BillRun, on_delete=models.PROTECT, related_name="bill_set", db_index=False)
    unit = models.ForeignKey(BillRunUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(_("bill number"), max_length=40, blank=True)
    metered = models.BooleanField(default=True)
    consumption = models.DecimalField(_("consumption"), max_digits=16, decimal_places=3, default=Decimal(0))
    previous_index = models.DecimalField(_("previous index"), max_digits=16, decimal_places=3, null=True, blank=True)
    current_index = models.DecimalField(_("current index"), max_digits=16, decimal_places=3, null=True, blank=True)
    # Nothing looks bills up by tariff version (versions are never deleted): no index to write with each bill
    tariff_version = models.ForeignKey(
        "tariffs.TariffVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    currency = models.CharField(max_length=3)
    net = models.DecimalField(_("net"), **MONEY)  # type: ignore[arg-type]
    vat = models.DecimalField(_("VAT"), **MONEY)  # type: ignore[arg-type]
    round_off = models.DecimalField(_("round-off"), default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    total = models.DecimalField(_("total"), **MONEY)  # type: ignore[arg-type]
    arrears = models.DecimalField(_("arrears at issue"), default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    credit = models.DecimalField(_("credit at issue"), default=Decimal(0), **MONEY)  # type: ignore[arg-type]
    due_on = models.DateField(_("due on"))
    ledger_reference = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # The pricing engine's lines, kept with the bill as JSON text (billing.lines: why, the format, why not jsonb)
    lines = models.TextField(_("lines"), default="[]", blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-cycle__start", "account"]
        constraints = [
            # Idempotency in the database: a connection is billed once per cycle (a cancelled bill frees it).
            models.UniqueConstraint(
                fields=["connection", "cycle"],
                condition=~models.Q(status="cancelled"),
                name="bill_one_per_connection_and_cycle",
            ),
            models.UniqueConstraint(
                fields=["operator", "number"], condition=~models.Q(number=""), name="bill_unique_number"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="issued") | ~models.Q(number=""), name="bill_issued_has_number"
            ),
        ]
        indexes = [
            models.Index(fields=["run", "unit", "status"], name="bill_run_unit"),
            models.Index(fields=["operator", "cycle", "status"], name="bill_cycle"),
            models.Index(fields=["connection", "status"], name="bill_connection"),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.account} {self.cycle_id}"

    @property
    def line_items(self) -> list[BillLine]:
        return lines_read(self.lines)


class BillException(models.Model):
    """A connection a run did not bill, or billed with a warning, and why."""

    class Kind(models.TextChoices):
        MISSING_READING = "missing_reading", _("No accepted reading in the cycle")
        REVIEW_PENDING = "review_pending", _("A reading waits for review")
        NO_TARIFF = "no_tariff", _("No tariff applies")
        TARIFF_ERROR = "tariff_error", _("The tariff cannot price it")
        ZERO = "zero", _("Zero consumption")
        NEGATIVE = "negative", _("Negative consumption or total")
        VERY_HIGH = "very_high", _("Much higher than usual")
        CLUSTER_EXPIRED = "cluster_expired", _("The cluster's assignment has expired")
        OPERATOR_MAY_NOT_BILL = "operator_may_not_bill", _("The operator may not bill")

    # Kinds that still give a bill (a warning in the preview); the others mean the connection is not billed.
    WARNINGS = frozenset({Kind.ZERO, Kind.VERY_HIGH})

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    run = models.ForeignKey(BillRun, on_delete=models.CASCADE, related_name="exception_set")
    connection = models.ForeignKey(
        "customers.Connection", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["run", "kind", "connection"]
        indexes = [models.Index(fields=["run", "kind"], name="bill_exception_run_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.connection_id}"


from mita.billing.models_corrections import *  # noqa: E402, F403
