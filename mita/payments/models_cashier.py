"""Cashier sessions: a cashier's till (float, cash taken, count at close), banking slips, and collectors' hand-overs."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class TillSession(models.Model):
    """A cashier's day at the office: opened with a float, the cash payments they take, closed with a count.

    A closed till is immutable: the database refuses UPDATE and DELETE of a closed row (migration 0004_cashier).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    business_date = models.DateField(_("business day"), help_text=_("The day the till was opened for."))
    currency = models.CharField(_("currency"), max_length=3)
    float_amount = models.DecimalField(_("float"), max_digits=16, decimal_places=2)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, blank=True)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Frozen at the close: what the till should hold, and what was counted in it.
    counts = models.JSONField(_("count by denomination"), default=dict, blank=True)
    cash_taken = models.DecimalField(_("cash taken"), max_digits=16, decimal_places=2, null=True, blank=True)
    voided = models.DecimalField(_("voided"), max_digits=16, decimal_places=2, null=True, blank=True)
    expected = models.DecimalField(_("expected"), max_digits=16, decimal_places=2, null=True, blank=True)
    counted = models.DecimalField(_("counted"), max_digits=16, decimal_places=2, null=True, blank=True)
    variance = models.DecimalField(_("variance"), max_digits=16, decimal_places=2, null=True, blank=True)
    variance_explanation = models.TextField(_("explanation of the variance"), blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "cashier"],
                condition=models.Q(status="open"),
                name="till_one_open_per_cashier",
            ),
            models.UniqueConstraint(
                fields=["operator", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="till_key_unique_per_operator",
            ),
            models.CheckConstraint(condition=models.Q(float_amount__gte=0), name="till_float_not_negative"),
            models.CheckConstraint(
                condition=models.Q(status="open")
                | models.Q(
                    closed_at__isnull=False,
                    expected__isnull=False,
                    counted__isnull=False,
                    variance__isnull=False,
                ),
                name="till_closed_has_its_count",
            ),
        ]
        indexes = [models.Index(fields=["operator", "business_date"])]

    def __str__(self) -> str:
        return f"Till {self.pk} of {self.cashier} on {self.business_date}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def ledger_reference(self) -> str:
        return f"till:{self.pk}"


class BankingSlip(models.Model):
    """Cash taken to the bank: the slip the bank stamped. Moves the amount from office cash to the bank clearing."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    till = models.ForeignKey(
        TillSession,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="banking_slips",
        help_text=_("The closed till whose cash this banks; empty for office cash in general."),
    )
    bank_name = models.CharField(_("bank"), max_length=100)
    slip_number = models.CharField(_("slip number"), max_length=60)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    deposited_on = models.DateField(_("deposited on"))
    business_date = models.DateField(_("takings of"), help_text=_("The day whose cash this banks."))
    idempotency_key = models.CharField(_("idempotency key"), max_length=120)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-deposited_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "idempotency_key"], name="banking_key_unique_per_operator"),
            models.UniqueConstraint(
                models.F("operator"), Lower("bank_name"), models.F("slip_number"), name="banking_slip_unique_per_bank"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="banking_amount_positive"),
        ]
        indexes = [models.Index(fields=["operator", "business_date"])]

    def __str__(self) -> str:
        return f"{self.bank_name} slip {self.slip_number}: {self.amount} {self.currency}"

    @property
    def ledger_reference(self) -> str:
        return f"banking:{self.pk}"


class CashHandover(models.Model):
    """A revenue collector hands field cash to a treasurer, who confirms the amount (or disputes it)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the treasurer")
        CONFIRMED = "confirmed", _("Confirmed")
        DISPUTED = "disputed", _("Disputed")

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    treasurer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who the cash was handed to."),
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    counts = models.JSONField(_("count by denomination"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    business_date = models.DateField(_("day"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=120)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("confirmed or disputed"), null=True, blank=True)
    dispute_reason = models.TextField(_("why it is disputed"), blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "idempotency_key"], name="handover_key_unique_per_operator"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="handover_amount_positive"),
            models.CheckConstraint(condition=~models.Q(collector=models.F("treasurer")), name="handover_two_people"),
        ]
        indexes = [models.Index(fields=["operator", "status"]), models.Index(fields=["operator", "business_date"])]

    def __str__(self) -> str:
        return f"Hand-over {self.pk}: {self.amount} {self.currency} from {self.collector}"

    @property
    def ledger_reference(self) -> str:
        return f"handover:{self.pk}"
