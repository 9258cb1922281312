"""Files of readings imported from handhelds or contractors: one ReadingImport per uploaded file, and the rows of it
that need someone's attention (errors, refusals, readings waiting for review). Rows that simply went in are counted,
not stored: a file of 100,000 readings keeps a report of the few hundred that matter (docs/metering-imports.md)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class ReadingImport(models.Model):
    """One uploaded file of readings: its checks (the preview), then what recording it did."""

    class Status(models.TextChoices):
        CHECKED = "checked", _("Checked, waiting for confirmation")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Recording")
        DONE = "done", _("Recorded")
        FAILED = "failed", _("Failed")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file"), max_length=255)
    file_format = models.CharField(_("format"), max_length=8)
    # sha256 of the file's bytes: the same file uploaded again is recognised (and only replays).
    digest = models.CharField(max_length=64)
    # The file itself, kept in the database so that any worker can read it back when the import is confirmed.
    content = models.BinaryField()
    # What the check found, by column (compressed JSON, reading_checked.Checked.kept), so that recording the file does
    # not read and look it up again; emptied once the file is recorded.
    checked = models.BinaryField(default=b"", editable=False)
    columns = models.JSONField(_("columns"), default=list)
    ignored_columns = models.JSONField(_("ignored columns"), default=list)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CHECKED)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_valid = models.PositiveIntegerField(_("rows to record"), default=0)
    rows_error = models.PositiveIntegerField(_("rows with errors"), default=0)
    rows_blank = models.PositiveIntegerField(_("rows left empty (not read)"), default=0)
    rows_created = models.PositiveIntegerField(_("readings recorded"), default=0)
    rows_replayed = models.PositiveIntegerField(_("already recorded (replays)"), default=0)
    rows_refused = models.PositiveIntegerField(_("refused"), default=0)
    rows_review = models.PositiveIntegerField(_("waiting for review"), default=0)
    # {"high": 12, "zero": 3, ...}: the readings recorded that wait for review, by anomaly.
    review_by_anomaly = models.JSONField(default=dict)
    # {"key_reused": 4, "no_meter": 1, ...}: the rows refused, by code.
    refused_by_code = models.JSONField(default=dict)
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
        indexes = [
            models.Index(fields=["operator", "-created_at"], name="readingimport_recent"),
            models.Index(fields=["operator", "digest"], name="readingimport_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.rows_total})"

    @property
    def is_busy(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}


class ReadingImportRow(models.Model):
    """A row of the file that needs attention, numbered as a spreadsheet shows it (the header is row 1)."""

    class Outcome(models.TextChoices):
        ERROR = "error", _("Error in the file")
        REFUSED = "refused", _("Refused")
        CONFLICT = "conflict", _("Conflict: recorded before with another index")
        REVIEW = "review", _("Recorded, waiting for review")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    reading_import = models.ForeignKey(ReadingImport, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField(_("row"))
    connection_number = models.CharField(_("connection number"), max_length=64, blank=True)
    meter_serial = models.CharField(_("meter serial"), max_length=60, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    code = models.CharField(_("code"), max_length=32, blank=True)  # a refusal's code or a reading's anomaly
    # [{"column": "index", "message": "..."}]: what is wrong and how to fix it.
    errors = models.JSONField(_("errors"), default=list)
    reading = models.ForeignKey("metering.Reading", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = OperatorManager()

    class Meta:
        ordering = ["reading_import", "number"]
        constraints = [
            models.UniqueConstraint(fields=["reading_import", "number"], name="readingimportrow_unique_number")
        ]
        indexes = [models.Index(fields=["reading_import", "outcome"], name="readingimportrow_outcome")]

    def __str__(self) -> str:
        return f"{self.reading_import_id}:{self.number}"
