"""API for cashier sessions: tills (open, read, close with a count), banking slips, the day-end report, and
collectors' hand-overs (idempotent by key; confirmed or disputed by a treasurer). Amounts travel as strings."""

import datetime
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.core.money import quantize
from mita.payments.cashier import (
    BANKING_ROLES,
    TILL_ROLES,
    banking_slip_record,
    handover_confirm,
    handover_dispute,
    handover_record,
    till_close,
    till_open,
)
from mita.payments.denominations import denominations_of
from mita.payments.models_cashier import BankingSlip, CashHandover, TillSession
from mita.payments.selectors_cashier import (
    DAY_END_ROLES,
    HANDOVER_PAGE_ROLES,
    TILL_PAGE_ROLES,
    bankable_of_till,
    banking_slips_visible_to,
    collectors_cash,
    day_end_report,
    handover_get_for_access,
    handovers_visible_to,
    is_cash_supervisor,
    till_expected,
    till_get_for_access,
    till_open_of,
    tills_visible_to,
    treasurers_of,
)

router = Router(tags=["cashier sessions"])

AMOUNT = re.compile(r"^\d{1,14}(\.\d{1,2})?$")
MAX_REPORT_DAYS = 62


def _require(request: HttpRequest, *roles: str) -> Any:
    access = request.access  # type: ignore[attr-defined]
    if not access.has_role(*roles):
        raise PermissionDenied
    if access.operator is None:
        raise Http404
    return access


def _amount(text: str, currency: str, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A decimal string in the currency's minor units: money never travels as a float, nor is it rounded."""
    text = text.strip()
    if not AMOUNT.match(text) or (Decimal(text) <= 0 and not allow_zero):
        message = _('Write the amount as a positive decimal in a string, e.g. "5000" or "5000.50".')
        raise DomainError(message, code="amount_invalid", fields={field: [message]})
    amount = Decimal(text)
    if quantize(amount, currency) != amount:
        message = _("%(currency)s amounts have no smaller units than this: write %(rounded)s.") % {
            "currency": currency,
            "rounded": quantize(amount, currency),
        }
        raise DomainError(message, code="amount_invalid", fields={field: [message]})
    return amount


# Schemas ------------------------------------------------------------------------------------------------------


class DenominationOut(Schema):
    key: str
    value: Decimal
    form: str


class TillOpenIn(Schema):
    float_amount: str  # e.g. "5000"
    idempotency_key: str = ""


class TillCloseIn(Schema):
    counts: dict[str, int]  # {"5000": 3, "1000": 4, "100": 7}; denominations not named count 0
    explanation: str = ""


class SlipOut(Schema):
    id: int
    till_id: int | None
    bank_name: str
    slip_number: str
    amount: Decimal
    currency: str
    deposited_on: datetime.date
    business_date: datetime.date
    recorded_by_id: int | None
    recorded_at: datetime.datetime


class TillOut(Schema):
    id: int
    cashier_id: int
    cashier_name: str
    status: str
    business_date: datetime.date
    currency: str
    float_amount: Decimal
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None
    closed_by_id: int | None
    payments_count: int
    cash_taken: Decimal
    voided: Decimal
    expected: Decimal
    counts: dict[str, int]
    counted: Decimal | None
    variance: Decimal | None
    variance_explanation: str
    banked: Decimal
    bankable: Decimal

    @staticmethod
    def resolve_cashier_name(till: TillSession) -> str:
        return str(till.cashier.name)

    @staticmethod
    def resolve_payments_count(till: TillSession) -> int:
        return int(till.live_count)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_cash_taken(till: TillSession) -> Decimal:
        return till.cash_taken if till.cash_taken is not None else till.live_taken  # type: ignore[attr-defined]

    @staticmethod
    def resolve_voided(till: TillSession) -> Decimal:
        return till.voided if till.voided is not None else till.live_voided  # type: ignore[attr-defined]

    @staticmethod
    def resolve_expected(till: TillSession) -> Decimal:
        return till_expected(till)

    @staticmethod
    def resolve_counts(till: TillSession) -> dict[str, int]:
        return {key: count for key, count in (till.counts or {}).items() if count}

    @staticmethod
    def resolve_bankable(till: TillSession) -> Decimal:
        return bankable_of_till(till=till)


class SlipIn(Schema):
    bank_name: str
    slip_number: str
    amount: str
    deposited_on: datetime.date
    idempotency_key: str
    till_id: int | None = None


class HandoverIn(Schema):
    amount: str
    treasurer_id: int
    idempotency_key: str
    counts: dict[str, int] = {}
    note: str = ""


class DisputeIn(Schema):
    reason: str


class HandoverOut(Schema):
    id: int
    collector_id: int
    collector_name: str
    treasurer_id: int
    treasurer_name: str
    amount: Decimal
    currency: str
    counts: dict[str, int]
    note: str
    status: str
    business_date: datetime.date
    recorded_at: datetime.datetime
    decided_by_id: int | None
    decided_at: datetime.datetime | None
    dispute_reason: str

    @staticmethod
    def resolve_collector_name(handover: CashHandover) -> str:
        return str(handover.collector.name)

    @staticmethod
    def resolve_treasurer_name(handover: CashHandover) -> str:
        return str(handover.treasurer.name)


class CollectorCashOut(Schema):
    collector_id: int
    name: str
    taken: Decimal
    confirmed: Decimal
    pending: Decimal
    in_hand: Decimal
    available: Decimal


class TreasurerOut(Schema):
    id: int
    name: str


class ChannelLineOut(Schema):
    channel: str
    count: int
    amount: Decimal


class TillLineOut(Schema):
    till_id: int
    status: str
    float_amount: Decimal
    expected: Decimal
    counted: Decimal | None
    variance: Decimal | None
    explanation: str
    banked: Decimal


class PersonDayOut(Schema):
    user_id: int
    name: str
    channels: list[ChannelLineOut]
    payments_count: int
    payments_amount: Decimal
    voids_count: int
    voids_amount: Decimal
    outside_till_count: int
    outside_till_amount: Decimal
    tills: list[TillLineOut]
    float_amount: Decimal
    expected: Decimal
    counted: Decimal | None
    variance: Decimal | None
    banked: Decimal
    handed_over: Decimal
    handover_pending: Decimal
    handover_disputed: Decimal

    @staticmethod
    def resolve_channels(person: Any) -> list[Any]:
        return list(person.channel_lines)


class DayEndOut(Schema):
    day: datetime.date
    banked: Decimal
    payments_count: int
    payments_amount: Decimal
    people: list[PersonDayOut]


# Tills ----------------------------------------------------------------------------------------------------------


@router.get("/cash/denominations", response=list[DenominationOut], summary="The notes and coins a till is counted in")
def denominations(request: HttpRequest) -> list[Any]:
    access = _require(request, *TILL_PAGE_ROLES, *HANDOVER_PAGE_ROLES)
    return [
        {"key": denomination.key, "value": denomination.value, "form": denomination.form}
        for denomination in denominations_of(access.operator.currency)
    ]


@router.get("/tills", response=list[TillOut], summary="Tills, newest first (a cashier sees their own)")
@paginate(LimitOffsetPagination)
def till_list(
    request: HttpRequest,
    status: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[TillSession]:
    access = _require(request, *TILL_PAGE_ROLES)
    return tills_visible_to(access=access, status=status, date_from=date_from, date_to=date_to).order_by(
        "-opened_at", "-pk"
    )


@router.post(
    "/tills",
    response={200: TillOut, 201: TillOut},
    summary="Open your till with a float (201; the same idempotency key again: 200 with the first till)",
)
def till_open_endpoint(request: HttpRequest, payload: TillOpenIn) -> Status[TillSession]:
    """One open till per cashier: another open till is a 409 `till_already_open`."""
    access = _require(request, *TILL_ROLES)
    key = payload.idempotency_key.strip()
    replay = bool(key) and TillSession.objects.filter(operator=access.operator, idempotency_key=key).exists()
    till = till_open(
        operator=access.operator,
        cashier=request.user,
        float_amount=_amount(payload.float_amount, access.operator.currency, field="float_amount", allow_zero=True),
        idempotency_key=key,
    )
    return Status(200 if replay else 201, till_get_for_access(access=access, till_id=till.pk))


@router.get("/tills/current", response=TillOut, summary="Your open till (404 when none is open)")
def till_current(request: HttpRequest) -> TillSession:
    access = _require(request, *TILL_ROLES)
    till = till_open_of(operator=access.operator, user=request.user)
    if till is None:
        raise Http404
    return till_get_for_access(access=access, till_id=till.pk)


@router.get("/tills/{till_id}", response=TillOut, summary="One till with its figures")
def till_get(request: HttpRequest, till_id: int) -> TillSession:
    access = _require(request, *TILL_PAGE_ROLES)
    return till_get_for_access(access=access, till_id=till_id)


@router.post("/tills/{till_id}/close", response=TillOut, summary="Close a till with the cash counted in it")
def till_close_endpoint(request: HttpRequest, till_id: int, payload: TillCloseIn) -> TillSession:
    """A variance needs an `explanation` (400 `explanation_required`). Closing again with the same count answers
    the closed till; with another count it is a 409 `till_closed`."""
    access = _require(request, *TILL_PAGE_ROLES)
    till = till_get_for_access(access=access, till_id=till_id)
    till_close(till=till, counts=payload.counts, explanation=payload.explanation, acting_user=request.user)
    return till_get_for_access(access=access, till_id=till_id)


# Banking ----------------------------------------------------------------------------------------------------


@router.get("/banking-slips", response=list[SlipOut], summary="Banking slips, newest first")
@paginate(LimitOffsetPagination)
def slip_list(request: HttpRequest) -> QuerySet[BankingSlip]:
    access = _require(request, *BANKING_ROLES)
    return banking_slips_visible_to(access=access).order_by("-deposited_on", "-pk")


@router.post(
    "/banking-slips",
    response={200: SlipOut, 201: SlipOut},
    summary="Record a banking slip (201; the same idempotency key again: 200 with the first slip)",
)
def slip_create(request: HttpRequest, payload: SlipIn) -> Status[BankingSlip]:
    access = _require(request, *BANKING_ROLES)
    till = till_get_for_access(access=access, till_id=payload.till_id) if payload.till_id is not None else None
    key = payload.idempotency_key.strip()
    replay = bool(key) and BankingSlip.objects.filter(operator=access.operator, idempotency_key=key).exists()
    slip = banking_slip_record(
        operator=access.operator,
        till=till,
        bank_name=payload.bank_name,
        slip_number=payload.slip_number,
        amount=_amount(payload.amount, access.operator.currency),
        deposited_on=payload.deposited_on,
        idempotency_key=key,
        acting_user=request.user,
    )
    return Status(200 if replay else 201, slip)


# The day-end report -----------------------------------------------------------------------------------------


@router.get("/cash/day-end", response=list[DayEndOut], summary="The day-end report per day and person")
def day_end(
    request: HttpRequest, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> list[Any]:
    """Payments by channel, voids, float, expected, counted, variance, banked and hand-overs; a supervisor sees
    everyone, anyone else themselves. At most 62 days at once (400 otherwise)."""
    access = _require(request, *DAY_END_ROLES)
    date_to = date_to or timezone.localdate()
    date_from = date_from or date_to
    if date_from > date_to or (date_to - date_from).days >= MAX_REPORT_DAYS:
        message = _("Ask for 1 to %(days)s days, date_from not after date_to.") % {"days": MAX_REPORT_DAYS}
        raise DomainError(message, code="range_invalid", fields={"date_from": [message]})
    return day_end_report(access=access, date_from=date_from, date_to=date_to)


# Hand-overs -------------------------------------------------------------------------------------------------


@router.get("/handovers", response=list[HandoverOut], summary="Hand-overs, newest first (a collector sees their own)")
@paginate(LimitOffsetPagination)
def handover_list(request: HttpRequest, status: str = "") -> QuerySet[CashHandover]:
    access = _require(request, *HANDOVER_PAGE_ROLES)
    return handovers_visible_to(access=access, status=status).order_by("-recorded_at", "-pk")


@router.post(
    "/handovers",
    response={200: HandoverOut, 201: HandoverOut},
    summary="Hand field cash to a treasurer (201; the same idempotency key again: 200 with the first hand-over)",
)
def handover_create(request: HttpRequest, payload: HandoverIn) -> Status[CashHandover]:
    """The field app makes the key before the first try. The same key with another body is a 409."""
    access = _require(request, Role.REVENUE_COLLECTOR)
    treasurer = treasurers_of(operator=access.operator, excluding=request.user).filter(pk=payload.treasurer_id).first()
    if treasurer is None:
        message = _("Choose a treasurer or admin of this operator (not yourself).")
        raise DomainError(message, code="treasurer_invalid", fields={"treasurer_id": [message]})
    key = payload.idempotency_key.strip()
    replay = bool(key) and CashHandover.objects.filter(operator=access.operator, idempotency_key=key).exists()
    handover = handover_record(
        operator=access.operator,
        collector=request.user,
        treasurer=treasurer,
        amount=_amount(payload.amount, access.operator.currency),
        counts=payload.counts,
        note=payload.note,
        idempotency_key=key,
    )
    return Status(200 if replay else 201, handover_get_for_access(access=access, handover_id=handover.pk))


@router.get("/handovers/cash-in-hand", response=list[CollectorCashOut], summary="Collectors' cash in hand")
def cash_in_hand(request: HttpRequest) -> list[Any]:
    """A collector: their own row. A treasurer or admin: every collector with field cash."""
    access = _require(request, *HANDOVER_PAGE_ROLES)
    if is_cash_supervisor(access):
        return collectors_cash(operator=access.operator)
    return collectors_cash(operator=access.operator, collector_ids=[access.user.pk])


@router.get("/handovers/treasurers", response=list[TreasurerOut], summary="Who a collector may hand cash to")
def treasurer_list(request: HttpRequest) -> QuerySet[Any]:
    access = _require(request, Role.REVENUE_COLLECTOR)
    return treasurers_of(operator=access.operator, excluding=request.user)


@router.get("/handovers/{handover_id}", response=HandoverOut, summary="One hand-over")
def handover_get(request: HttpRequest, handover_id: int) -> CashHandover:
    access = _require(request, *HANDOVER_PAGE_ROLES)
    return handover_get_for_access(access=access, handover_id=handover_id)


@router.post("/handovers/{handover_id}/confirm", response=HandoverOut, summary="Confirm the cash was received")
def handover_confirm_endpoint(request: HttpRequest, handover_id: int) -> CashHandover:
    """A treasurer or admin other than the collector (403 `own_handover`); confirming again answers the same."""
    access = _require(request, Role.TREASURER, Role.OPERATOR_ADMIN)
    handover = handover_get_for_access(access=access, handover_id=handover_id)
    handover_confirm(handover=handover, acting_user=request.user)
    return handover_get_for_access(access=access, handover_id=handover_id)


@router.post("/handovers/{handover_id}/dispute", response=HandoverOut, summary="Dispute a hand-over, with a reason")
def handover_dispute_endpoint(request: HttpRequest, handover_id: int, payload: DisputeIn) -> CashHandover:
    access = _require(request, Role.TREASURER, Role.OPERATOR_ADMIN)
    handover = handover_get_for_access(access=access, handover_id=handover_id)
    handover_dispute(handover=handover, reason=payload.reason, acting_user=request.user)
    return handover_get_for_access(access=access, handover_id=handover_id)
