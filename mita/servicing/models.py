"""Service requests and their work orders, with the history, comments and attachments of each request; the
operator's terms and conditions (by version) and fee schedule.

A request's type (mita/servicing/types/) says its states and transitions; the rows here are the same for all types.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class TermsVersion(models.Model):
    """One version of the operator's terms and conditions of supply; the one in force is the latest effective."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    version = models.CharField(_("version"), max_length=20)
    text = models.TextField(_("text"))
    effective_from = models.DateField(_("effective from"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-effective_from", "-pk"]
        constraints = [models.UniqueConstraint(fields=["operator", "version"], name="terms_unique_version")]

    def __str__(self) -> str:
        return f"{self.version} ({self.effective_from})"


class ServiceFee(models.Model):
    """The operator's fee schedule: what a kind of service costs, per utility and (optionally) property type.

    The most specific line wins: one for the property type over one for every property type.
    """

    class Kind(models.TextChoices):
        CONNECTION = "connection", _("Connection fee")
        RECONNECTION = "reconnection", _("Reconnection fee")
        METER_TRANSFER = "meter_transfer", _("Meter transfer fee")
        OWNERSHIP_CHANGE = "ownership_change", _("Ownership change fee")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    utility = models.CharField(_("utility"), max_length=16)
    property_type = models.CharField(_("property type"), max_length=16, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "kind", "utility", "property_type"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=Decimal("0")), name="service_fee_not_negative"),
            models.UniqueConstraint(
                fields=["operator", "kind", "utility", "property_type"],
                condition=models.Q(active=True),
                name="service_fee_one_active_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.utility} {self.property_type or '*'} {self.amount}"


class ServiceRequest(models.Model):
    class Channel(models.TextChoices):
        OFFICE = "office", _("At the office")
        AGENT = "agent", _("Through an agent")
        PORTAL = "portal", _("On the portal")
        PHONE = "phone", _("By phone")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    sequence_number = models.PositiveIntegerField()
    number = models.CharField(_("request number"), max_length=32)
    type = models.CharField(_("type"), max_length=32)
    state = models.CharField(_("state"), max_length=32)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    connection = models.ForeignKey(
        "customers.Connection", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    summary = models.CharField(_("summary"), max_length=200)
    details = models.TextField(_("details"), blank=True)
    data = models.JSONField(_("type-specific data"), default=dict, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    terms = models.ForeignKey(TermsVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    terms_accepted_at = models.DateTimeField(_("terms accepted"), null=True, blank=True)
    # The public page of the quote (/q/<token>/): unguessable, made when the material fee is charged.
    quote_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-sequence_number"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "sequence_number"], name="service_request_unique_sequence"),
            models.UniqueConstraint(fields=["operator", "number"], name="service_request_unique_number"),
        ]
        indexes = [
            models.Index(fields=["operator", "type", "state"], name="service_request_type_state"),
            models.Index(fields=["operator", "assignee", "state"], name="service_request_assignee"),
        ]

    def __str__(self) -> str:
        return self.number


class RequestEvent(models.Model):
    """One step of a request's history (append-only): created, a transition, an assignment."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="events")
    transition = models.CharField(_("transition"), max_length=40)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["request", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.from_state or '-'} → {self.to_state}"


class RequestComment(models.Model):
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="comments")
    text = models.TextField(_("comment"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["request", "at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


def attachment_upload_path(attachment: "RequestAttachment", filename: str) -> str:
    # The stored name never comes from the uploader: no path tricks, no clashes.
    return f"servicing/{attachment.operator_id}/{attachment.stored_name}"


class RequestAttachment(models.Model):
    class Kind(models.TextChoices):
        SIGNED_FORM = "signed_form", _("Signed application form")
        PHOTO = "photo", _("Photo")
        OTHER = "other", _("Other document")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(upload_to=attachment_upload_path)
    stored_name = models.CharField(max_length=80)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["request", "at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class RequestFee(models.Model):
    """A fee a request charged to the connection's account, with its itemised breakdown frozen when charged."""

    class Kind(models.TextChoices):
        CONNECTION = "connection", _("Connection fee")
        MATERIAL = "material", _("Material fee")
        RECONNECTION = "reconnection", _("Reconnection fee")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="fees")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    charge = models.OneToOneField("ledger.Charge", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    items = models.JSONField(_("items"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["request", "pk"]
        constraints = [models.UniqueConstraint(fields=["request", "kind"], name="request_fee_once_per_kind")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind} {self.amount}"


class WorkOrder(models.Model):
    class Kind(models.TextChoices):
        SURVEY = "survey", _("Survey")
        INSTALLATION = "installation", _("Installation")
        REPAIR = "repair", _("Repair")
        DISCONNECTION = "disconnection", _("Disconnection")
        RECONNECTION = "reconnection", _("Reconnection")
        FINAL_READING = "final_reading", _("Final reading")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    sequence_number = models.PositiveIntegerField()
    number = models.CharField(_("work order number"), max_length=32)
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, related_name="work_orders")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-sequence_number"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "sequence_number"], name="work_order_unique_sequence"),
            models.UniqueConstraint(
                fields=["request", "kind"],
                condition=models.Q(state__in=["open", "in_progress"]),
                name="work_order_one_open_per_kind",
            ),
        ]
        indexes = [models.Index(fields=["operator", "assignee", "state"], name="work_order_assignee")]

    def __str__(self) -> str:
        return self.number
