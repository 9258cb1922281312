"""Late-payment penalties: the rules' writes, what a run would levy (the preview) and levying it (set-based, once per
bill and rule, posted through the ledger). docs/billing-corrections.md says how an amount is worked out."""

import dataclasses
import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, ExpressionWrapper, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.billing.errors import BillingError
from mita.billing.models import Bill, Penalty, PenaltyRule
from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict
from mita.core.money import quantize
from mita.ledger.models import Charge
from mita.ledger.selectors import holders_balances
from mita.ledger.services_bulk import ChargeSpec, charges_post_many

ZERO = Decimal(0)
HEAD = "penalties"
CHUNK = 2000  # bills per transaction when levying
RULE_FIELDS = [
    "name",
    "kind",
    "rate",
    "amount",
    "base",
    "days_after_due",
    "minimum",
    "maximum",
    "applies_from",
    "active",
]


# Rules ----------------------------------------------------------------------------------------------------------------
def _rule_check(values: dict[str, Any]) -> None:
    problems: dict[str, list[str]] = {}
    if not str(values.get("name") or "").strip():
        problems["name"] = [_("Give the rule a name.")]
    if values.get("kind") not in PenaltyRule.Kind.values:
        problems["kind"] = [_("percent or flat")]
    if values.get("base") not in PenaltyRule.Base.values:
        problems["base"] = [_("bill or balance")]
    if values.get("kind") == PenaltyRule.Kind.PERCENT and not (ZERO < (values.get("rate") or ZERO) <= 100):
        problems["rate"] = [_("A percentage above 0 and at most 100.")]
    if values.get("kind") == PenaltyRule.Kind.FLAT and not (values.get("amount") or ZERO) > 0:
        problems["amount"] = [_("An amount above 0.")]
    days = values.get("days_after_due")
    if not isinstance(days, int) or not 1 <= days <= 3650:
        problems["days_after_due"] = [_("A number of days from 1 to 3650.")]
    minimum, maximum = values.get("minimum"), values.get("maximum")
    for field in ("minimum", "maximum"):
        if values.get(field) is not None and values[field] < 0:
            problems[field] = [_("Zero or more.")]
    if minimum is not None and maximum is not None and maximum < minimum:
        problems["maximum"] = [_("At least the minimum.")]
    if problems:
        raise BillingError(_("The penalty rule is not valid; see the fields."), code="rule_invalid", fields=problems)


def _money(value: Any, field: str, *, optional: bool = False) -> Decimal | None:
    if value in (None, "") and optional:
        return None
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except ArithmeticError:
        raise BillingError(
            _("The penalty rule is not valid; see the fields."),
            code="rule_invalid",
            fields={field: [_("A number, such as 5 or 2.5.")]},
        ) from None
    if not amount.is_finite():
        raise BillingError(
            _("The penalty rule is not valid; see the fields."),
            code="rule_invalid",
            fields={field: [_("A number, such as 5 or 2.5.")]},
        )
    return amount


@transaction.atomic
def penalty_rule_save(
    *, operator: Any, acting_user: Any, rule: PenaltyRule | None = None, **values: Any
) -> PenaltyRule:
    """Create a rule (rule None) or change one; checked as a whole, audited with before and after. A change applies
    to penalties levied from then on; those already levied stay as they were."""
    if rule is not None and rule.operator_id != operator.pk:
        raise BillingError(_("No such penalty rule."), code="rule_unknown", status=404)
    current = {field: getattr(rule, field) for field in RULE_FIELDS} if rule is not None else {}
    merged = {**current, **{key: value for key, value in values.items() if key in RULE_FIELDS}}
    merged.setdefault("kind", PenaltyRule.Kind.PERCENT)
    merged.setdefault("base", PenaltyRule.Base.BILL)
    merged.setdefault("active", True)
    merged.setdefault("days_after_due", 30)
    merged.setdefault("applies_from", timezone.localdate())
    merged["rate"] = _money(merged.get("rate"), "rate") or ZERO
    merged["amount"] = _money(merged.get("amount"), "amount") or ZERO
    merged["minimum"] = _money(merged.get("minimum"), "minimum", optional=True)
    merged["maximum"] = _money(merged.get("maximum"), "maximum", optional=True)
    merged["name"] = str(merged.get("name") or "").strip()
    _rule_check(merged)
    before = snapshot(rule, RULE_FIELDS) if rule is not None else None
    if rule is None:
        rule = PenaltyRule(operator=operator, created_by=acting_user if getattr(acting_user, "pk", None) else None)
    for field, value in merged.items():
        setattr(rule, field, value)
    rule.save()
    audit_record(
        actor=acting_user,
        action="billing.penalty_rule_saved",
        target=rule,
        operator=operator,
        before=before,
        after=snapshot(rule, RULE_FIELDS),
    )
    return rule


# Working a penalty out (pure) -------------------------------------------------------------------------------------------
def penalty_amount(*, rule: PenaltyRule, base_amount: Decimal, currency: str) -> Decimal:
    """The rule's penalty on a base: the percentage of it (rounded to the currency) or the flat amount, then held
    between the minimum and the maximum."""
    if rule.kind == PenaltyRule.Kind.FLAT:
        amount = rule.amount
    else:
        amount = quantize(base_amount * rule.rate / Decimal(100), currency)
    if rule.minimum is not None and amount < rule.minimum:
        amount = rule.minimum
    if rule.maximum is not None and amount > rule.maximum:
        amount = rule.maximum
    return quantize(amount, currency)


@dataclasses.dataclass(frozen=True)
class PenaltyDue:
    """What a run would levy on one bill by one rule."""

    bill_id: int
    number: str
    account: str
    due_on: datetime.date
    days_late: int
    unpaid: Decimal
    base_amount: Decimal
    amount: Decimal
    rule_id: int
    rule_name: str

    @property
    def key(self) -> str:
        return f"penalty:{self.bill_id}:{self.rule_id}"

    @property
    def reference(self) -> str:
        return f"penalty:{self.number}:{self.rule_id}"


_AMOUNT: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)


def with_unpaid(bills: Any) -> Any:
    """Bills annotated with `unpaid`: what is still owed on their ledger charges (reference = the bill's), cancelled
    charges left out, in the database (two correlated sums on the charges' reference index). A zero bill has no
    charges and owes 0."""
    charges = Charge.objects.filter(
        operator_id=OuterRef("operator_id"), reference=OuterRef("ledger_reference"), cancellation__isnull=True
    ).order_by()
    charged = charges.values("reference").annotate(sum=Sum("total")).values("sum")
    paid = (
        charges.filter(allocations__voided=False)
        .values("reference")
        .annotate(sum=Sum("allocations__amount"))
        .values("sum")
    )
    zero = Value(ZERO, output_field=_AMOUNT)
    return bills.annotate(
        unpaid=ExpressionWrapper(
            Coalesce(Subquery(charged, output_field=_AMOUNT), zero)
            - Coalesce(Subquery(paid, output_field=_AMOUNT), zero),
            output_field=_AMOUNT,
        )
    )


def _candidates(operator: Any, rule: PenaltyRule, on: datetime.date, after: int = 0) -> Any:
    """The rule's late bills not yet penalised by it, as (id, number, account, due_on, unpaid) from id `after` on:
    issued, due on or after the rule's first day, at least `days_after_due` days past due on `on`, something unpaid."""
    latest_due = on - datetime.timedelta(days=rule.days_after_due)
    bills = (
        Bill.objects.filter(
            operator=operator,
            status=Bill.Status.ISSUED,
            due_on__lte=latest_due,
            due_on__gte=rule.applies_from,
            pk__gt=after,
        )
        .exclude(number="")
        .exclude(penalties__rule=rule)
    )
    return (
        with_unpaid(bills)
        .filter(unpaid__gt=0)
        .order_by("pk")
        .values_list("pk", "number", "account", "due_on", "unpaid")
    )


def _due_of_chunk(operator: Any, rule: PenaltyRule, on: datetime.date, bills: list[Any]) -> list[PenaltyDue]:
    """The penalties of a chunk of late bills (id, number, account, due_on, unpaid); on the balance, the accounts'
    balances read in one query."""
    balances: dict[str, tuple[Decimal, Decimal]] = {}
    if rule.base == PenaltyRule.Base.BALANCE and bills:
        balances = holders_balances(operator=operator, holders=sorted({bill[2] for bill in bills}))
    found = []
    for bill_id, number, account, due_on, unpaid in bills:
        base_amount = unpaid
        if rule.base == PenaltyRule.Base.BALANCE:
            base_amount = max(balances.get(account, (ZERO, ZERO))[0], ZERO)
        amount = penalty_amount(rule=rule, base_amount=base_amount, currency=operator.currency)
        if amount <= 0:
            continue
        found.append(
            PenaltyDue(
                bill_id=bill_id,
                number=number,
                account=account,
                due_on=due_on,
                days_late=(on - due_on).days,
                unpaid=unpaid,
                base_amount=base_amount,
                amount=amount,
                rule_id=rule.pk,
                rule_name=rule.name,
            )
        )
    return found


def penalties_preview(*, operator: Any, on: datetime.date, limit: int = 1000) -> list[PenaltyDue]:
    """What penalties_apply(on) would levy now, rule by rule (at most `limit` rows)."""
    found: list[PenaltyDue] = []
    for rule in PenaltyRule.objects.filter(operator=operator, active=True).order_by("days_after_due", "pk"):
        after = 0
        while len(found) < limit:
            chunk = list(_candidates(operator, rule, on, after)[:CHUNK])
            if not chunk:
                break
            found.extend(_due_of_chunk(operator, rule, on, chunk))
            after = chunk[-1][0]
    return found[:limit]


@dataclasses.dataclass(frozen=True)
class PenaltyRunResult:
    on: datetime.date
    levied: int
    total: Decimal
    by_rule: dict[int, tuple[int, Decimal]]


def _apply_chunk(
    operator: Any, rule: PenaltyRule, on: datetime.date, acting_user: Any, after: int
) -> tuple[list[Penalty], int] | None:
    """Levy the rule's next chunk of late bills (ids above `after`) in one transaction: (penalties, last id read), or
    None when none is left. The rule's row is locked, so two runs of one rule queue and the second finds the bills
    already penalised."""
    with transaction.atomic():
        rule = PenaltyRule.objects.select_for_update().get(pk=rule.pk)
        if not rule.active:
            return None
        chunk = list(_candidates(operator, rule, on, after)[:CHUNK])
        if not chunk:
            return None
        due = _due_of_chunk(operator, rule, on, chunk)
        user = acting_user if getattr(acting_user, "pk", None) else None
        now = timezone.now()
        charges = charges_post_many(
            operator=operator,
            charges=[
                ChargeSpec(holder=row.account, head=HEAD, net=row.amount, vat=ZERO, reference=row.reference)
                for row in due
            ],
            due_date=on,
            value_date=on,
            acting_user=acting_user,
        )
        try:
            with transaction.atomic():
                penalties = Penalty.objects.bulk_create(
                    [
                        Penalty(
                            operator=operator,
                            bill_id=row.bill_id,
                            rule=rule,
                            key=row.key,
                            on=on,
                            days_late=row.days_late,
                            unpaid=row.unpaid,
                            base_amount=row.base_amount,
                            amount=row.amount,
                            reference=row.reference,
                            charge=charge,
                            created_by=user,
                            created_at=now,
                        )
                        for row, charge in zip(due, charges, strict=True)
                    ]
                )
        except IntegrityError:  # never expected under the rule's lock: refuse rather than levy twice
            raise Conflict(
                _("These penalties were levied by another run at the same moment."), code="penalty_twice"
            ) from None
        if penalties:
            audit_record(
                actor=acting_user,
                action="billing.penalties_levied",
                target=rule,
                operator=operator,
                detail={
                    "on": on,
                    "rule": rule.pk,
                    "count": len(penalties),
                    "total": sum((p.amount for p in penalties), ZERO),
                    "bills": [p.bill_id for p in penalties][:500],
                },
            )
        return penalties, chunk[-1][0]


def penalties_apply(*, operator: Any, on: datetime.date | None = None, acting_user: Any) -> PenaltyRunResult:
    """Levy every active rule's penalties due on `on` (default today): once per bill and rule, so a rerun levies
    nothing new. One transaction per chunk of bills; charges posted through the ledger (head "penalties", no VAT)."""
    on = on or timezone.localdate()
    by_rule: dict[int, tuple[int, Decimal]] = {}
    for rule in PenaltyRule.objects.filter(operator=operator, active=True).order_by("days_after_due", "pk"):
        count, total, after = 0, ZERO, 0
        while (done := _apply_chunk(operator, rule, on, acting_user, after)) is not None:
            penalties, after = done
            count += len(penalties)
            total += sum((p.amount for p in penalties), ZERO)
        by_rule[rule.pk] = (count, total)
    return PenaltyRunResult(
        on=on,
        levied=sum(count for count, _total in by_rule.values()),
        total=sum((total for _count, total in by_rule.values()), ZERO),
        by_rule=by_rule,
    )
