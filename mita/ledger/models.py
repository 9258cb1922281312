"""The double-entry ledger: each operator's chart of accounts, append-only transfers, cached balances, charges.

A transfer moves an amount from one account (debit) to another (credit) of the same operator and currency.
Nothing here is updated or deleted: a mistake is corrected by a reversing transfer.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from mita.core.tenancy import OperatorManager


class Account(models.Model):
    class Kind(models.TextChoices):
        ASSET = "asset", _("Asset")
        LIABILITY = "liability", _("Liability")
        REVENUE = "revenue", _("Revenue")
        EXPENSE = "expense", _("Expense")

    class Category(models.TextChoices):
        RECEIVABLE = "receivable", _("Customer receivable")
        REVENUE = "revenue", _("Revenue")
        VAT_PAYABLE = "vat_payable", _("VAT payable")
        CLEARING = "clearing", _("Payment channel clearing")
        DEPOSITS = "deposits", _("Customer deposits")
        CREDIT = "credit", _("Customer credit")
        SUSPENSE = "suspense", _("Suspense")
        WRITE_OFF = "write_off", _("Write-off expense")
        OPENING = "opening", _("Opening balances")

    # account_code_unique_per_operator leads with the operator: no index of its own (with one, PostgreSQL read every
    # account of the operator to find a unit's few thousand codes)
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    code = models.CharField(_("code"), max_length=80)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    # The customer account a receivable, deposit or credit account belongs to, as the caller names it
    # ("connection:123"); the ledger knows nothing of customers.
    holder = models.CharField(_("holder"), max_length=64, blank=True, db_index=True)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["operator", "code"]
        constraints = [models.UniqueConstraint(fields=["operator", "code"], name="account_code_unique_per_operator")]
        # A payer's account reference matches whatever its case.
        indexes = [models.Index("operator", Upper("holder"), name="account_holder_upper")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow with debits; liabilities and revenue with credits."""
        return self.kind in {self.Kind.ASSET, self.Kind.EXPENSE}


class Transfer(models.Model):
    """One movement of money. Append-only: the database refuses UPDATE and DELETE."""

    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        VAT = "vat", _("VAT on a charge")
        OPENING_BALANCE = "opening_balance", _("Opening balance")
        PAYMENT = "payment", _("Payment")
        ALLOCATION = "allocation", _("Allocation")
        DEPOSIT = "deposit", _("Deposit")
        REFUND = "refund", _("Refund")
        WRITE_OFF = "write_off", _("Write-off")
        TRANSFER = "transfer", _("Transfer between accounts")
        REVERSAL = "reversal", _("Reversal")

    # led by the (operator, value_date) index below: none of its own (each index costs every transfer posted)
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    debit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=100)
    value_date = models.DateField(_("value date"))
    created_at = models.DateTimeField(auto_now_add=True)
    # Nothing looks transfers up by who made them (a user is deactivated, never deleted): no index to write with each
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # A transfer is reversed once at most (transfer_reverses_once below, only where set: almost every transfer
    # reverses nothing, and a full unique index would take an entry for each)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by", db_index=False
    )
    memo = models.JSONField(default=dict, blank=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=~models.Q(debit=models.F("credit")), name="transfer_two_accounts"),
            models.UniqueConstraint(
                fields=["reverses"], condition=models.Q(reverses__isnull=False), name="transfer_reverses_once"
            ),
        ]
        # References are matched exactly, never by prefix: no LIKE index (each is written with every transfer).
        indexes = [
            models.Index(fields=["operator", "value_date"]),
            models.Index(fields=["reference"], name="transfer_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} {self.currency} {self.debit.code} → {self.credit.code}"


class Balance(models.Model):
    """An account's running totals, kept in the transaction of each transfer; `mita ledger verify` checks them."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="balance")
    debits = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    credits = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))

    def __str__(self) -> str:
        return f"{self.account}: {self.amount}"

    @property
    def amount(self) -> Decimal:
        """The balance on the account's normal side (what a customer owes on a receivable)."""
        return self.debits - self.credits if self.account.debit_normal else self.credits - self.debits


class BalanceShard(models.Model):
    """Part of an operator-wide account's running totals (a channel's clearing, revenue, VAT payable, suspense).

    Every payment of an operator moves money through the same few such accounts; with one totals row each, every
    payment would wait for the one before it to commit. Each transfer adds to one of SHARDS rows instead (each
    process's transfers take them in turn), so concurrent payments commit side by side. The account's totals are its
    Balance row plus its shards; customer accounts' own accounts (receivable, credit, deposits) keep a single row.
    """

    SHARDS = 16

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="shards")
    shard = models.PositiveSmallIntegerField()
    debits = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    credits = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "shard"], name="balance_shard_unique")]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.shard}: {self.debits} Dr {self.credits} Cr"


class IdempotencyRecord(models.Model):
    """A write that carried a key: the same key again returns the first result; another body is a conflict."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=120)
    fingerprint = models.CharField(max_length=64)
    reference = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operator", "key"], name="idempotency_key_unique_per_operator")]

    def __str__(self) -> str:
        return self.key


class Charge(models.Model):
    """Something a customer account owes: a head, net and VAT, a due date. Payments clear charges (oldest first)."""

    # Every query of charges names a holder, a reference or a primary key beside the operator: no index of its own
    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+", db_index=False)
    holder = models.CharField(_("customer account"), max_length=64)
    head = models.CharField(_("head"), max_length=40)
    net = models.DecimalField(_("net"), max_digits=16, decimal_places=2)
    vat = models.DecimalField(_("VAT"), max_digits=16, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    reference = models.CharField(_("reference"), max_length=100)
    due_date = models.DateField(_("due date"))
    value_date = models.DateField(_("value date"))
    is_opening_balance = models.BooleanField(_("opening balance"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorManager()

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total=models.F("net") + models.F("vat")), name="charge_total_is_net_plus_vat"
            ),
            models.CheckConstraint(
                condition=models.Q(net__gt=0) & models.Q(vat__gte=0), name="charge_amounts_positive"
            ),
        ]
        # Holders and references are matched exactly, never by prefix: no LIKE indexes.
        indexes = [
            models.Index(fields=["holder"], name="charge_holder"),
            models.Index(fields=["reference"], name="charge_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.head} {self.total} {self.currency}"
