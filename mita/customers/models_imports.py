"""Bulk imports of customers and connections: a batch (one uploaded file) and its rows, previewed, then imported."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class ImportBatch(models.Model):
    """One uploaded file: what its preview found, then what its import did (counts are of the latest pass)."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file"), max_length=255)
    file_format = models.CharField(_("format"), max_length=8)
    columns = models.JSONField(_("columns"), default=list)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEWED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_new = models.PositiveIntegerField(_("new"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_conflict = models.PositiveIntegerField(_("would update (conflicts)"), default=0)
    rows_error = models.PositiveIntegerField(_("errors"), default=0)
    rows_imported = models.PositiveIntegerField(_("imported"), default=0)
    customers_created = models.PositiveIntegerField(_("customers created"), default=0)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "-created_at", "-pk"]
        indexes = [models.Index(fields=["operator", "-created_at"], name="importbatch_operator_recent")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.rows_total})"

    @property
    def is_busy(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}


class ImportRow(models.Model):
    """One line of the file (numbered as a spreadsheet shows it: the header is row 1), as read and as judged."""

    class Outcome(models.TextChoices):
        NEW = "new", _("New")
        UNCHANGED = "unchanged", _("Unchanged")
        CONFLICT = "conflict", _("Would update (conflict)")
        ERROR = "error", _("Error")
        IMPORTED = "imported", _("Imported")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(_("row"))
    values = models.JSONField(_("values"), default=dict)
    connection_number = models.CharField(_("connection number"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    # [{"column": "phone", "message": "..."}]: what to fix, in the language of whoever previewed or ran it.
    errors = models.JSONField(_("errors"), default=list)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connection = models.ForeignKey(
        "customers.Connection", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = OperatorManager()

    class Meta:
        ordering = ["batch", "number"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="importrow_unique_number")]
        indexes = [models.Index(fields=["batch", "outcome"], name="importrow_batch_outcome")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.number}"
