"""Reads of cashier sessions: a till's takings, the tills, slips and hand-overs a user may see (404 across operators
and, for a cashier or collector, across colleagues), a collector's cash in hand, and the day-end report."""

import dataclasses
import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from mita.accounts.roles import Role, Scope
from mita.accounts.selectors import users_in_workspace
from mita.core.access import Access
from mita.ledger.selectors import operator_account_balance
from mita.payments.models import Channel, Payment
from mita.payments.models_cashier import BankingSlip, CashHandover, TillSession

ZERO = Decimal("0")
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
SUPERVISOR_ROLES = (Role.TREASURER, Role.OPERATOR_ADMIN)
# A collector has no business with the tills: a till page is the cashiers' and their supervisors'.
TILL_PAGE_ROLES = (Role.CASHIER, Role.TREASURER, Role.OPERATOR_ADMIN)
HANDOVER_PAGE_ROLES = (Role.REVENUE_COLLECTOR, Role.TREASURER, Role.OPERATOR_ADMIN)
DAY_END_ROLES = (Role.CASHIER, Role.REVENUE_COLLECTOR, Role.TREASURER, Role.OPERATOR_ADMIN)
# Payments whose cash was not kept: voided at the counter, or reversed by a provider.
NOT_KEPT = (Payment.Status.VOIDED, Payment.Status.REVERSED)


def _zero() -> Value:
    return Value(ZERO, output_field=MONEY)


def _operator_of(access: Access) -> Any:
    if access.operator is None:
        raise Http404
    return access.operator


def is_cash_supervisor(access: Access) -> bool:
    """Treasurers and the operator's admin see every till, slip and hand-over of the operator."""
    return access.has_role(*SUPERVISOR_ROLES)


# Tills ------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Takings:
    count: int  # payments taken into the till
    taken: Decimal  # all of them, voided or not: the cash that came in
    voided_count: int
    voided: Decimal  # handed back when voided

    @property
    def kept(self) -> Decimal:
        return self.taken - self.voided


def till_takings(*, till: TillSession) -> Takings:
    """The cash payments of a till, live (a closed till keeps its figures frozen on its row)."""
    totals = Payment.objects.filter(till=till).aggregate(
        count=Count("pk"),
        taken=Coalesce(Sum("amount"), _zero()),
        voided_count=Count("pk", filter=Q(status__in=NOT_KEPT)),
        voided=Coalesce(Sum("amount", filter=Q(status__in=NOT_KEPT)), _zero()),
    )
    return Takings(**totals)


def till_banked(*, till: TillSession) -> Decimal:
    return BankingSlip.objects.filter(till=till).aggregate(total=Coalesce(Sum("amount"), _zero()))["total"]


def bankable_of_till(*, till: TillSession) -> Decimal:
    """What of a closed till's cash is left to bank: counted, less the float kept as change, less slips recorded."""
    if till.is_open or till.counted is None:
        return ZERO
    return max(till.counted - till.float_amount - till_banked(till=till), ZERO)


def tills_visible_to(
    *,
    access: Access,
    status: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[TillSession]:
    """The operator's tills for a supervisor, the user's own otherwise; each with its live takings and banked sum
    (`live_count`, `live_taken`, `live_voided`, `banked`)."""
    tills = TillSession.objects.filter(operator=_operator_of(access)).select_related("cashier", "closed_by")
    if not is_cash_supervisor(access):
        tills = tills.filter(cashier=access.user)
    if status:
        tills = tills.filter(status=status)
    if date_from:
        tills = tills.filter(business_date__gte=date_from)
    if date_to:
        tills = tills.filter(business_date__lte=date_to)
    banked = (
        BankingSlip.objects.filter(till=OuterRef("pk"))
        .order_by()
        .values("till")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return tills.annotate(
        live_count=Count("payments"),
        live_taken=Coalesce(Sum("payments__amount"), _zero()),
        live_voided=Coalesce(Sum("payments__amount", filter=Q(payments__status__in=NOT_KEPT)), _zero()),
        banked=Coalesce(Subquery(banked, output_field=MONEY), _zero()),
    )


def till_get_for_access(*, access: Access, till_id: int) -> TillSession:
    """One till the user may see, or 404: another operator's, or (for a cashier) a colleague's, does not exist."""
    till = tills_visible_to(access=access).filter(pk=till_id).first()
    if till is None:
        raise Http404
    return till


def till_open_of(*, operator: Any, user: Any) -> TillSession | None:
    return TillSession.objects.filter(operator=operator, cashier=user, status=TillSession.Status.OPEN).first()


def till_expected(till: TillSession) -> Decimal:
    """What the till should hold: frozen at the close, live while open (needs the tills_visible_to annotations
    for an open till)."""
    if till.expected is not None:
        return till.expected
    return till.float_amount + till.live_taken - till.live_voided  # type: ignore[attr-defined]


def payments_of_till(*, till: TillSession) -> QuerySet[Payment]:
    return Payment.objects.filter(till=till).select_related("receipt").order_by("received_at", "pk")


def banking_slips_visible_to(*, access: Access) -> QuerySet[BankingSlip]:
    """A supervisor sees every slip of the operator; a cashier the slips of their own tills."""
    slips = BankingSlip.objects.filter(operator=_operator_of(access)).select_related("till", "recorded_by")
    if not is_cash_supervisor(access):
        slips = slips.filter(till__cashier=access.user)
    return slips


def office_cash(*, operator: Any) -> Decimal:
    """Cash at the office by the ledger: taken at the tills and handed over by collectors, not yet banked."""
    return operator_account_balance(operator=operator, code="clearing:cash_office")


# Collectors -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CollectorCash:
    collector_id: int
    name: str
    taken: Decimal  # field cash kept (voided and reversed payments left out)
    confirmed: Decimal  # handed over and confirmed by a treasurer
    pending: Decimal  # handed over, waiting for the treasurer

    @property
    def in_hand(self) -> Decimal:
        return self.taken - self.confirmed

    @property
    def available(self) -> Decimal:
        """What the collector may still hand over."""
        return self.in_hand - self.pending


def collectors_cash(*, operator: Any, collector_ids: list[int] | None = None) -> list[CollectorCash]:
    """Every collector's cash in hand (or the named ones'), in two grouped queries whatever their number."""
    payments = Payment.objects.filter(operator=operator, channel=Channel.CASH_FIELD, received_by__isnull=False).exclude(
        status__in=NOT_KEPT
    )
    handovers = CashHandover.objects.filter(operator=operator)
    if collector_ids is not None:
        payments = payments.filter(received_by_id__in=collector_ids)
        handovers = handovers.filter(collector_id__in=collector_ids)
    taken = dict(
        payments.order_by()
        .values("received_by_id")
        .annotate(total=Sum("amount"))
        .values_list("received_by_id", "total")
    )
    decided: dict[tuple[int, str], Decimal] = {
        (row["collector_id"], row["status"]): row["total"]
        for row in handovers.order_by().values("collector_id", "status").annotate(total=Sum("amount"))
    }
    ids = set(taken) | {collector_id for collector_id, _status in decided} | set(collector_ids or [])
    # Named even if they no longer work here: their cash is still to be accounted for.
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "name"))
    rows = [
        CollectorCash(
            collector_id=collector_id,
            name=names.get(collector_id, ""),
            taken=taken.get(collector_id) or ZERO,
            confirmed=decided.get((collector_id, CashHandover.Status.CONFIRMED)) or ZERO,
            pending=decided.get((collector_id, CashHandover.Status.PENDING)) or ZERO,
        )
        for collector_id in ids
    ]
    return sorted(rows, key=lambda row: (row.name, row.collector_id))


def collector_cash(*, operator: Any, collector: Any) -> CollectorCash:
    return collectors_cash(operator=operator, collector_ids=[collector.pk])[0]


def handovers_visible_to(*, access: Access, status: str = "") -> QuerySet[CashHandover]:
    """A supervisor sees every hand-over of the operator; a collector their own."""
    handovers = CashHandover.objects.filter(operator=_operator_of(access)).select_related(
        "collector", "treasurer", "decided_by"
    )
    if not is_cash_supervisor(access):
        handovers = handovers.filter(collector=access.user)
    if status:
        handovers = handovers.filter(status=status)
    return handovers


def handover_get_for_access(*, access: Access, handover_id: int) -> CashHandover:
    handover = handovers_visible_to(access=access).filter(pk=handover_id).first()
    if handover is None:
        raise Http404
    return handover


def treasurers_of(*, operator: Any, excluding: Any) -> QuerySet[Any]:
    """Who a collector may hand cash to: the operator's treasurers and admins, other than the collector."""
    return (
        users_in_workspace(scope=Scope.OPERATOR, organisation_id=operator.pk)
        .filter(
            is_active=True,
            memberships__operator_id=operator.pk,
            memberships__role__in=SUPERVISOR_ROLES,
            memberships__is_active=True,
        )
        .exclude(pk=excluding.pk)
        .distinct()
        .order_by("name", "pk")
    )


# The day-end report -----------------------------------------------------------------------------------------


@dataclasses.dataclass
class ChannelLine:
    channel: str
    label: str
    count: int = 0
    amount: Decimal = ZERO


@dataclasses.dataclass
class TillLine:
    till_id: int
    status: str
    float_amount: Decimal
    expected: Decimal
    counted: Decimal | None
    variance: Decimal | None
    explanation: str
    banked: Decimal


@dataclasses.dataclass
class PersonDay:
    """One person's day: what they took by channel, their voids, their tills, what they banked or handed over."""

    day: datetime.date
    user_id: int
    name: str
    channels: dict[str, ChannelLine] = dataclasses.field(default_factory=dict)
    voids_count: int = 0
    voids_amount: Decimal = ZERO
    outside_till_count: int = 0  # cash at the office taken with no till open
    outside_till_amount: Decimal = ZERO
    tills: list[TillLine] = dataclasses.field(default_factory=list)
    handed_over: Decimal = ZERO  # confirmed
    handover_pending: Decimal = ZERO
    handover_disputed: Decimal = ZERO

    @property
    def payments_count(self) -> int:
        return sum(line.count for line in self.channels.values())

    @property
    def payments_amount(self) -> Decimal:
        return sum((line.amount for line in self.channels.values()), ZERO)

    @property
    def channel_lines(self) -> list[ChannelLine]:
        return [self.channels[channel] for channel in Channel.values if channel in self.channels]

    @property
    def float_amount(self) -> Decimal:
        return sum((till.float_amount for till in self.tills), ZERO)

    @property
    def expected(self) -> Decimal:
        return sum((till.expected for till in self.tills), ZERO)

    @property
    def counted(self) -> Decimal | None:
        """The sum of the closed tills' counts; None while no till of the day is closed."""
        closed = [till.counted for till in self.tills if till.counted is not None]
        return sum(closed, ZERO) if closed else None

    @property
    def variance(self) -> Decimal | None:
        closed = [till.variance for till in self.tills if till.variance is not None]
        return sum(closed, ZERO) if closed else None

    @property
    def banked(self) -> Decimal:
        return sum((till.banked for till in self.tills), ZERO)

    @property
    def open_tills(self) -> int:
        return sum(1 for till in self.tills if till.status == TillSession.Status.OPEN)


@dataclasses.dataclass
class DayEnd:
    day: datetime.date
    people: list[PersonDay]
    banked: Decimal  # every slip for the day's takings, with or without a till

    @property
    def payments_count(self) -> int:
        return sum(person.payments_count for person in self.people)

    @property
    def payments_amount(self) -> Decimal:
        return sum((person.payments_amount for person in self.people), ZERO)

    @property
    def voids_amount(self) -> Decimal:
        return sum((person.voids_amount for person in self.people), ZERO)

    @property
    def variance(self) -> Decimal:
        return sum((person.variance or ZERO for person in self.people), ZERO)


def day_end_report(*, access: Access, date_from: datetime.date, date_to: datetime.date) -> list[DayEnd]:
    """Per day (newest first) and per person: payments by channel, voids, tills (float, expected, counted,
    variance, banked) and hand-overs. A supervisor sees everyone at the operator; anyone else only themselves.

    Payments count on their value date, tills on their business day, hand-overs on the day they were recorded.
    A fixed number of grouped queries, whatever the number of people or payments.
    """
    operator = _operator_of(access)
    own_only = not is_cash_supervisor(access)
    people: dict[tuple[datetime.date, int], PersonDay] = {}
    names: dict[int, str] = {}

    def person(day: datetime.date, user_id: int) -> PersonDay:
        key = (day, user_id)
        if key not in people:
            people[key] = PersonDay(day=day, user_id=user_id, name="")
        return people[key]

    payments = Payment.objects.filter(
        operator=operator, value_date__gte=date_from, value_date__lte=date_to, received_by__isnull=False
    )
    if own_only:
        payments = payments.filter(received_by=access.user)
    grouped = (
        payments.order_by()
        .values("value_date", "received_by_id", "received_by__name", "channel", "status", "till_id")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    labels = dict(Channel.choices)
    for row in grouped:
        names[row["received_by_id"]] = row["received_by__name"]
        taker = person(row["value_date"], row["received_by_id"])
        line = taker.channels.setdefault(row["channel"], ChannelLine(row["channel"], str(labels[row["channel"]])))
        line.count += row["count"]
        line.amount += row["amount"]
        if row["status"] in NOT_KEPT:
            taker.voids_count += row["count"]
            taker.voids_amount += row["amount"]
        if row["channel"] == Channel.CASH_OFFICE and row["till_id"] is None:
            taker.outside_till_count += row["count"]
            taker.outside_till_amount += row["amount"]

    tills = tills_visible_to(access=access, date_from=date_from, date_to=date_to).order_by("opened_at", "pk")
    for till in tills:
        names[till.cashier_id] = till.cashier.name
        person(till.business_date, till.cashier_id).tills.append(
            TillLine(
                till_id=till.pk,
                status=till.status,
                float_amount=till.float_amount,
                expected=till_expected(till),
                counted=till.counted,
                variance=till.variance,
                explanation=till.variance_explanation,
                banked=till.banked,  # type: ignore[attr-defined]
            )
        )

    handovers = handovers_visible_to(access=access).filter(business_date__gte=date_from, business_date__lte=date_to)
    for row in (
        handovers.order_by()
        .values("business_date", "collector_id", "collector__name", "status")
        .annotate(amount=Sum("amount"))
    ):
        names[row["collector_id"]] = row["collector__name"]
        collector = person(row["business_date"], row["collector_id"])
        if row["status"] == CashHandover.Status.CONFIRMED:
            collector.handed_over += row["amount"]
        elif row["status"] == CashHandover.Status.PENDING:
            collector.handover_pending += row["amount"]
        else:
            collector.handover_disputed += row["amount"]

    slips = banking_slips_visible_to(access=access).filter(business_date__gte=date_from, business_date__lte=date_to)
    banked_by_day = dict(
        slips.order_by().values("business_date").annotate(total=Sum("amount")).values_list("business_date", "total")
    )

    by_day: dict[datetime.date, list[PersonDay]] = defaultdict(list)
    for (day, user_id), row in people.items():
        row.name = names.get(user_id, "")
        by_day[day].append(row)
    days = set(by_day) | set(banked_by_day)
    return [
        DayEnd(
            day=day,
            people=sorted(by_day.get(day, []), key=lambda row: (row.name, row.user_id)),
            banked=banked_by_day.get(day) or ZERO,
        )
        for day in sorted(days, reverse=True)
    ]
