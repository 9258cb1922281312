"""Cashier sessions: opening a till with a float, the cash payments it holds, closing it with a count by
denomination (a variance explained and posted to cash over and short), banking slips, and collectors' hand-overs.

Ledger movements (docs/cashier-sessions.md):
- a till's variance:   short: cash_over_short <- clearing:cash_office; over: clearing:cash_office <- cash_over_short
- a banking slip:      clearing:bank (debit) <- clearing:cash_office (credit)
- a hand-over:         clearing:cash_office (debit) <- clearing:cash_field (credit), when the treasurer confirms
"""

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from mita.accounts.roles import Role, Scope
from mita.accounts.selectors import memberships_in_workspace
from mita.core.audit import audit_record
from mita.core.errors import Conflict, DomainError, PermissionDenied
from mita.core.money import quantize
from mita.core.prepared import Read
from mita.ledger.models import Balance, Transfer
from mita.ledger.services import account_get, transfer_post
from mita.payments.denominations import count_normalise, count_total
from mita.payments.models_cashier import BankingSlip, CashHandover, TillSession
from mita.payments.selectors_cashier import bankable_of_till, collector_cash, office_cash, till_takings

# Who keeps a till: the cashier, and the operator's admin where they also sit at the counter.
TILL_ROLES = (Role.CASHIER, Role.OPERATOR_ADMIN)
# Who oversees the tills and receives the collectors' cash.
CASH_SUPERVISOR_ROLES = (Role.TREASURER, Role.OPERATOR_ADMIN)
COLLECTOR_ROLES = (Role.REVENUE_COLLECTOR,)
# A cashier banks the cash of their own closed tills; a supervisor any office cash.
BANKING_ROLES = (Role.CASHIER, Role.TREASURER, Role.OPERATOR_ADMIN)

CASH_OFFICE = "cash_office"
OFFICE_CASH = "clearing:cash_office"
FIELD_CASH = "clearing:cash_field"
BANK = "clearing:bank"
OVER_SHORT = "cash_over_short"


class CashierError(DomainError):
    pass


def _money(amount: Decimal, currency: str) -> str:
    return f"{formats.number_format(quantize(amount, currency), force_grouping=True)} {currency}"


def roles_of(*, operator: Any, user: Any) -> frozenset[str]:
    """The roles a user actively holds at the operator."""
    if not getattr(user, "pk", None):
        return frozenset()
    memberships = memberships_in_workspace(user=user, scope=Scope.OPERATOR, organisation_id=operator.pk)
    return frozenset(memberships.filter(is_active=True).values_list("role", flat=True))


def _require(operator: Any, user: Any, roles: tuple[str, ...], message: str) -> frozenset[str]:
    held = roles_of(operator=operator, user=user)
    if not held & set(roles):
        raise PermissionDenied(message, code="role_required")
    return held


def _amount(amount: Any, currency: str, *, field: str, allow_zero: bool = False) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        message = _("Write an amount of 0 or more.") if allow_zero else _("Write an amount of more than 0.")
        raise CashierError(message, code="amount_invalid", fields={field: [message]})
    if quantize(amount, currency) != amount:
        message = _("%(currency)s amounts have no smaller units than this: write %(rounded)s.") % {
            "currency": currency,
            "rounded": quantize(amount, currency),
        }
        raise CashierError(message, code="amount_invalid", fields={field: [message]})
    return amount


def _lock_accounts(operator: Any, *codes: str) -> None:
    """Queue on the balances of the cash accounts (in primary-key order, like every ledger write) so that two
    hand-overs or two slips never both spend the same cash."""
    accounts = sorted((account_get(operator=operator, code=code) for code in codes), key=lambda account: account.pk)
    for account in accounts:
        Balance.objects.select_for_update().filter(account=account).first()


# Tills ------------------------------------------------------------------------------------------------------


def till_for_payment(*, operator: Any, channel: str, received_by: Any) -> Read | None:
    """The read of the open till a cash payment at the office belongs to (its id, or None): the receiving user's,
    locked until the payment commits so that a close waits for it (or the payment sees the till closed and stays
    outside it). None where no till applies. Run it with core.prepared.reads_together.

    One short statement written once, not built by the ORM on every payment (the payment needs only the id)."""
    if channel != CASH_OFFICE or not getattr(received_by, "pk", None):
        return None
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return Read(
        _TILL_FOR_PAYMENT_SQL + lock,
        [operator.pk, received_by.pk, TillSession.Status.OPEN.value],
        answer=lambda rows: int(rows[0][0]) if rows else None,
    )


# As TillSession.objects.select_for_update().filter(operator, cashier, status=open).first() would read it.
_TILL_FOR_PAYMENT_SQL = (
    f"SELECT id FROM {TillSession._meta.db_table} WHERE operator_id = %s AND cashier_id = %s AND status = %s "  # noqa: S608
    "ORDER BY opened_at DESC, id DESC LIMIT 1"
)


def till_check_voidable(*, payment: Any) -> None:
    """A payment counted in a closed till cannot be voided: its cash was counted and the till is final."""
    if payment.till_id is None:
        return
    till = TillSession.objects.select_for_update().get(pk=payment.till_id)
    if not till.is_open:
        raise Conflict(
            _(
                "This payment was counted when till %(till)s closed, so it cannot be voided any more. "
                "Ask an administrator for a correction."
            )
            % {"till": till.pk},
            code="till_closed",
        )


def till_open(*, operator: Any, cashier: Any, float_amount: Decimal, idempotency_key: str = "") -> TillSession:
    """Open the cashier's till with a float (the change they start with). One open till per cashier.

    The same key again returns the first till; with another float it is a 409.
    """
    _require(operator, cashier, TILL_ROLES, _("Only a cashier (or the operator's admin) keeps a till."))
    float_amount = _amount(float_amount, operator.currency, field="float_amount", allow_zero=True)
    key = idempotency_key.strip()

    def replay(first: TillSession) -> TillSession:
        if first.cashier_id != cashier.pk or first.float_amount != float_amount:
            raise Conflict(
                _("The key %(key)s was already used to open another till. Send a new key for a new till.")
                % {"key": key},
                code="idempotency_key_reused",
            )
        return first

    def already_open() -> TillSession | None:
        return TillSession.objects.filter(operator=operator, cashier=cashier, status=TillSession.Status.OPEN).first()

    if key and (first := TillSession.objects.filter(operator=operator, idempotency_key=key).first()):
        return replay(first)
    if existing := already_open():
        raise _already_open_error(existing)
    try:
        with transaction.atomic():
            till = TillSession.objects.create(
                operator=operator,
                cashier=cashier,
                business_date=timezone.localdate(),
                currency=operator.currency,
                float_amount=float_amount,
                idempotency_key=key,
            )
            audit_record(actor=cashier, action="till.opened", target=till, after={"float": float_amount})
    except IntegrityError:  # the same key, or another till of the cashier, committed at the same moment
        if key and (first := TillSession.objects.filter(operator=operator, idempotency_key=key).first()):
            return replay(first)
        if existing := already_open():
            raise _already_open_error(existing) from None
        raise
    return till


def _already_open_error(till: TillSession) -> CashierError:
    return CashierError(
        _("You already have till %(till)s open since %(opened)s. Close it before opening another.")
        % {"till": till.pk, "opened": formats.date_format(timezone.localtime(till.opened_at), "Y-m-d H:i")},
        code="till_already_open",
        status=409,
    )


def till_close(*, till: TillSession, counts: Mapping[str, Any], explanation: str, acting_user: Any) -> TillSession:
    """Close a till with the cash counted in it, by denomination. Expected = float + cash taken - voided; a
    variance needs an explanation and is posted between office cash and cash over and short.

    Closing again with the same count returns the closed till; with another count it is a 409. Two closes at the
    same moment close it once: the till's row lock queues them.
    """
    with transaction.atomic():
        till = TillSession.objects.select_for_update(of=("self",)).select_related("operator").get(pk=till.pk)
        operator = till.operator
        if acting_user.pk != till.cashier_id:
            _require(
                operator,
                acting_user,
                CASH_SUPERVISOR_ROLES,
                _("Only the till's cashier, a treasurer or the operator's admin may close it."),
            )
        pieces = count_normalise(currency=till.currency, counts=counts)
        counted = count_total(currency=till.currency, pieces=pieces)
        explanation = explanation.strip()
        if not till.is_open:
            if till.counts == pieces and till.variance_explanation == explanation:
                return till  # the same close sent again
            raise Conflict(
                _("Till %(till)s is already closed (by %(who)s at %(when)s); a closed till cannot change.")
                % {
                    "till": till.pk,
                    "who": getattr(till.closed_by, "name", "") or "—",
                    "when": formats.date_format(timezone.localtime(till.closed_at), "Y-m-d H:i"),
                },
                code="till_closed",
            )
        takings = till_takings(till=till)
        expected = quantize(till.float_amount + takings.taken - takings.voided, till.currency)
        variance = quantize(counted - expected, till.currency)
        if variance and not explanation:
            numbers = {
                "counted": _money(counted, till.currency),
                "expected": _money(expected, till.currency),
                "variance": _money(abs(variance), till.currency),
            }
            message = (
                _("You counted %(counted)s but the till should hold %(expected)s: %(variance)s short.")
                if variance < 0
                else _("You counted %(counted)s but the till should hold %(expected)s: %(variance)s over.")
            ) % numbers
            raise CashierError(
                message + " " + _("Explain the variance to close the till."),
                code="explanation_required",
                fields={"explanation": [_("Say why the count differs from what the till should hold.")]},
            )
        till.status = TillSession.Status.CLOSED
        till.closed_at = timezone.now()
        till.closed_by = acting_user
        till.counts = pieces
        till.cash_taken = takings.taken
        till.voided = takings.voided
        till.expected = expected
        till.counted = counted
        till.variance = variance
        till.variance_explanation = explanation
        till.save()
        if variance:
            office, over_short = (
                account_get(operator=operator, code=OFFICE_CASH),
                account_get(operator=operator, code=OVER_SHORT),
            )
            transfer_post(
                operator=operator,
                debit=office if variance > 0 else over_short,
                credit=over_short if variance > 0 else office,
                amount=abs(variance),
                kind=Transfer.Kind.TRANSFER,
                reference=till.ledger_reference,
                value_date=till.business_date,
                acting_user=acting_user,
                memo={"till": till.pk, "variance": str(variance), "explanation": explanation},
            )
        audit_record(
            actor=acting_user,
            action="till.closed",
            target=till,
            after={
                "float": till.float_amount,
                "cash_taken": takings.taken,
                "voided": takings.voided,
                "expected": expected,
                "counted": counted,
                "variance": variance,
                "explanation": explanation,
                "counts": {key: count for key, count in pieces.items() if count},
            },
        )
    return till


# Banking -----------------------------------------------------------------------------------------------------


def banking_slip_record(
    *,
    operator: Any,
    bank_name: str,
    slip_number: str,
    amount: Decimal,
    deposited_on: datetime.date,
    idempotency_key: str,
    acting_user: Any,
    till: TillSession | None = None,
    business_date: datetime.date | None = None,
) -> BankingSlip:
    """Record the bank's slip for cash taken to the bank: office cash moves to the bank clearing account.

    A slip for a closed till banks at most what was counted in it less its float (which stays as change); no slip
    banks more cash than the office holds by the ledger. The same key again returns the first slip.
    """
    roles = _require(
        operator, acting_user, BANKING_ROLES, _("Only a cashier, a treasurer or the operator's admin banks cash.")
    )
    supervisor = bool(roles & set(CASH_SUPERVISOR_ROLES))
    bank_name, slip_number, key = bank_name.strip(), slip_number.strip(), idempotency_key.strip()
    problems: dict[str, list[str]] = {}
    if not bank_name:
        problems["bank_name"] = [_("Name the bank.")]
    if not slip_number:
        problems["slip_number"] = [_("Write the number on the bank's slip.")]
    if not key:
        problems["idempotency_key"] = [_("Required.")]
    if deposited_on > timezone.localdate():
        problems["deposited_on"] = [_("A deposit cannot be dated in the future.")]
    if problems:
        raise CashierError(_("Some details of the slip are missing or wrong."), code="slip_invalid", fields=problems)
    amount = _amount(amount, operator.currency, field="amount")
    if till is not None and till.operator_id != operator.pk:
        raise CashierError(_("No such till."), code="till_unknown", fields={"till": [_("No such till.")]}, status=404)
    if not supervisor and (till is None or till.cashier_id != acting_user.pk):
        message = _("A cashier banks the cash of their own closed till: choose it.")
        raise PermissionDenied(message, code="own_till_only", fields={"till": [message]})
    body = (bank_name.lower(), slip_number, amount, deposited_on, getattr(till, "pk", None))

    def replay(first: BankingSlip) -> BankingSlip:
        if (first.bank_name.lower(), first.slip_number, first.amount, first.deposited_on, first.till_id) != body:
            raise Conflict(
                _("The key %(key)s was already used for another slip. Send a new key for a new slip.") % {"key": key},
                code="idempotency_key_reused",
            )
        return first

    if first := BankingSlip.objects.filter(operator=operator, idempotency_key=key).first():
        return replay(first)
    try:
        with transaction.atomic():
            if till is not None:
                till = TillSession.objects.select_for_update().get(pk=till.pk)
                if till.is_open:
                    message = _("Close till %(till)s before banking its cash.") % {"till": till.pk}
                    raise CashierError(message, code="till_open", fields={"till": [message]})
            _lock_accounts(operator, OFFICE_CASH)
            # A retry that waited for the lock finds its first try committed.
            if first := BankingSlip.objects.filter(operator=operator, idempotency_key=key).first():
                return replay(first)
            if BankingSlip.objects.filter(
                operator=operator, bank_name__iexact=bank_name, slip_number=slip_number
            ).exists():
                message = _("Slip %(number)s of %(bank)s is already recorded.") % {
                    "number": slip_number,
                    "bank": bank_name,
                }
                raise CashierError(message, code="slip_duplicate", fields={"slip_number": [message]}, status=409)
            if till is not None and amount > (bankable := bankable_of_till(till=till)):
                message = _(
                    "Till %(till)s has %(bankable)s left to bank (counted, less the float that stays as change, "
                    "less slips already recorded)."
                ) % {"till": till.pk, "bankable": _money(bankable, operator.currency)}
                raise CashierError(message, code="more_than_the_till", fields={"amount": [message]})
            if amount > (office := office_cash(operator=operator)):
                message = _("The office holds %(cash)s in cash by the ledger; a slip cannot bank more.") % {
                    "cash": _money(office, operator.currency)
                }
                raise CashierError(message, code="more_than_office_cash", fields={"amount": [message]})
            slip = BankingSlip.objects.create(
                operator=operator,
                till=till,
                bank_name=bank_name,
                slip_number=slip_number,
                amount=amount,
                currency=operator.currency,
                deposited_on=deposited_on,
                business_date=business_date or (till.business_date if till is not None else deposited_on),
                idempotency_key=key,
                recorded_by=acting_user,
            )
            transfer_post(
                operator=operator,
                debit=account_get(operator=operator, code=BANK),
                credit=account_get(operator=operator, code=OFFICE_CASH),
                amount=amount,
                kind=Transfer.Kind.TRANSFER,
                reference=slip.ledger_reference,
                value_date=deposited_on,
                acting_user=acting_user,
                memo={"bank": bank_name, "slip": slip_number, "till": getattr(till, "pk", None)},
            )
            audit_record(
                actor=acting_user,
                action="banking_slip.recorded",
                target=slip,
                after={
                    "bank": bank_name,
                    "slip": slip_number,
                    "amount": amount,
                    "deposited_on": deposited_on,
                    "till": getattr(till, "pk", None),
                },
            )
    except IntegrityError:  # the same key (or slip) committed at the same moment
        if first := BankingSlip.objects.filter(operator=operator, idempotency_key=key).first():
            return replay(first)
        raise
    return slip


# Collectors' hand-overs --------------------------------------------------------------------------------------


def handover_record(
    *,
    operator: Any,
    collector: Any,
    treasurer: Any,
    amount: Decimal,
    idempotency_key: str,
    counts: Mapping[str, Any] | None = None,
    note: str = "",
) -> CashHandover:
    """A collector records handing field cash to a treasurer; it stays in their hand until the treasurer confirms.

    At most the cash in hand not already waiting for confirmation. The field app sends a key made before the first
    try: the same key again returns the first hand-over, with another body it is a 409.
    """
    _require(operator, collector, COLLECTOR_ROLES, _("Only a revenue collector hands over field cash."))
    amount = _amount(amount, operator.currency, field="amount")
    key = idempotency_key.strip()
    if not key:
        raise CashierError(
            _("Every hand-over needs an idempotency key."),
            code="idempotency_key_required",
            fields={"idempotency_key": [_("Required.")]},
        )
    pieces: dict[str, int] = {}
    if counts:
        pieces = {k: v for k, v in count_normalise(currency=operator.currency, counts=counts).items() if v}
        if (total := count_total(currency=operator.currency, pieces=pieces)) != amount:
            message = _("The notes and coins add up to %(total)s, not %(amount)s.") % {
                "total": _money(total, operator.currency),
                "amount": _money(amount, operator.currency),
            }
            raise CashierError(message, code="count_mismatch", fields={"counts": [message]})
    if getattr(treasurer, "pk", None) is None or treasurer.pk == collector.pk:
        message = _("Choose the treasurer you hand the cash to (not yourself).")
        raise CashierError(message, code="treasurer_invalid", fields={"treasurer": [message]})
    if not roles_of(operator=operator, user=treasurer) & set(CASH_SUPERVISOR_ROLES):
        message = _("%(name)s is not a treasurer or admin of this operator.") % {"name": treasurer.name}
        raise CashierError(message, code="treasurer_invalid", fields={"treasurer": [message]})

    def replay(first: CashHandover) -> CashHandover:
        if (first.collector_id, first.treasurer_id, first.amount, first.counts) != (
            collector.pk,
            treasurer.pk,
            amount,
            pieces,
        ):
            raise Conflict(
                _("The key %(key)s was already used for another hand-over. Send a new key for a new one.")
                % {"key": key},
                code="idempotency_key_reused",
            )
        return first

    if first := CashHandover.objects.filter(operator=operator, idempotency_key=key).first():
        return replay(first)
    try:
        with transaction.atomic():
            _lock_accounts(operator, FIELD_CASH)
            # A retry that waited for the lock finds its first try committed.
            if first := CashHandover.objects.filter(operator=operator, idempotency_key=key).first():
                return replay(first)
            cash = collector_cash(operator=operator, collector=collector)
            if amount > cash.available:
                message = _(
                    "You hold %(in_hand)s of field cash, %(pending)s of it already waiting for confirmation: "
                    "hand over at most %(available)s."
                ) % {
                    "in_hand": _money(cash.in_hand, operator.currency),
                    "pending": _money(cash.pending, operator.currency),
                    "available": _money(max(cash.available, Decimal("0")), operator.currency),
                }
                raise CashierError(message, code="more_than_in_hand", fields={"amount": [message]})
            handover = CashHandover.objects.create(
                operator=operator,
                collector=collector,
                treasurer=treasurer,
                amount=amount,
                currency=operator.currency,
                counts=pieces,
                note=note.strip()[:300],
                business_date=timezone.localdate(),
                idempotency_key=key,
            )
            audit_record(
                actor=collector,
                action="handover.recorded",
                target=handover,
                after={"amount": amount, "treasurer": treasurer.pk, "counts": pieces, "key": key},
            )
    except IntegrityError:  # the field app's retry raced its first try
        if first := CashHandover.objects.filter(operator=operator, idempotency_key=key).first():
            return replay(first)
        raise
    return handover


def _decide_lock(handover: CashHandover, acting_user: Any) -> CashHandover:
    handover = (
        CashHandover.objects.select_for_update(of=("self",)).select_related("operator", "collector").get(pk=handover.pk)
    )
    if acting_user.pk == handover.collector_id:
        raise PermissionDenied(
            _("A collector cannot confirm or dispute their own hand-over: the treasurer who received the cash does."),
            code="own_handover",
        )
    _require(
        handover.operator,
        acting_user,
        CASH_SUPERVISOR_ROLES,
        _("Only a treasurer or the operator's admin confirms a hand-over."),
    )
    return handover


@transaction.atomic
def handover_confirm(*, handover: CashHandover, acting_user: Any) -> CashHandover:
    """The treasurer counted the cash: it moves from field cash to office cash and out of the collector's hand.
    Confirming again returns the confirmed hand-over."""
    handover = _decide_lock(handover, acting_user)
    if handover.status == CashHandover.Status.CONFIRMED:
        return handover
    if handover.status == CashHandover.Status.DISPUTED:
        raise Conflict(
            _("This hand-over was disputed; the collector records a new one for the cash handed over."),
            code="handover_disputed",
        )
    operator = handover.operator
    _lock_accounts(operator, OFFICE_CASH, FIELD_CASH)
    cash = collector_cash(operator=operator, collector=handover.collector)
    if handover.amount > cash.in_hand:
        raise Conflict(
            _("%(name)s holds only %(in_hand)s of field cash now (payments were voided since); dispute it.")
            % {"name": handover.collector.name, "in_hand": _money(cash.in_hand, operator.currency)},
            code="more_than_in_hand",
        )
    handover.status = CashHandover.Status.CONFIRMED
    handover.decided_by = acting_user
    handover.decided_at = timezone.now()
    handover.save(update_fields=["status", "decided_by", "decided_at"])
    transfer_post(
        operator=operator,
        debit=account_get(operator=operator, code=OFFICE_CASH),
        credit=account_get(operator=operator, code=FIELD_CASH),
        amount=handover.amount,
        kind=Transfer.Kind.TRANSFER,
        reference=handover.ledger_reference,
        value_date=timezone.localdate(),
        acting_user=acting_user,
        memo={"handover": handover.pk, "collector": handover.collector_id},
    )
    audit_record(
        actor=acting_user,
        action="handover.confirmed",
        target=handover,
        after={"amount": handover.amount, "collector": handover.collector_id},
    )
    return handover


@transaction.atomic
def handover_dispute(*, handover: CashHandover, reason: str, acting_user: Any) -> CashHandover:
    """The treasurer does not accept the hand-over (the cash differs, or none came): the cash stays in the
    collector's hand and nothing moves in the ledger."""
    handover = _decide_lock(handover, acting_user)
    if not reason.strip():
        raise CashierError(
            _("Say why the hand-over is disputed."),
            code="reason_required",
            fields={"reason": [_("A reason is required.")]},
        )
    if handover.status != CashHandover.Status.PENDING:
        raise Conflict(
            _("This hand-over is already %(status)s.") % {"status": handover.get_status_display().lower()},
            code="handover_decided",
        )
    handover.status = CashHandover.Status.DISPUTED
    handover.decided_by = acting_user
    handover.decided_at = timezone.now()
    handover.dispute_reason = reason.strip()
    handover.save(update_fields=["status", "decided_by", "decided_at", "dispute_reason"])
    audit_record(
        actor=acting_user,
        action="handover.disputed",
        target=handover,
        after={"amount": handover.amount, "reason": handover.dispute_reason},
    )
    return handover
