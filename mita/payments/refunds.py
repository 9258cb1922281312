"""Refunds from a customer's credit or deposit: request (the amount is reserved at once), approval by a supervisor
other than the requester, rejection with a reason, payout record. Active and terminated accounts alike.

requested ──approve──▶ approved ──pay out──▶ paid
    │                      │
    └──────reject──────────┴──▶ rejected   (the reserved amount returns to credit or deposit)

Reserving moves the amount from credit:<holder> (or deposits:<holder>) to refunds_payable, so two requests can never
refund the same money and the credit cannot pay charges meanwhile; the payout moves it on to the clearing account of
the channel the money leaves by. Each transition locks the refund row: concurrent approvals or payouts happen once.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict, DomainError, PermissionDenied
from mita.core.money import quantize
from mita.core.sequences import sequence_next
from mita.ledger.models import Transfer
from mita.ledger.selectors import holder_balance, holder_known
from mita.ledger.services import account_get, holder_account, holder_lock, transfer_post, transfers_reverse
from mita.payments.models import Refund
from mita.payments.selectors import roles_at_operator
from mita.payments.services import SUPERVISOR_ROLES, credit_apply, credit_split

# Who may ask for a refund: the counter, customer care and the supervisors; only supervisors approve and pay out.
REFUND_REQUEST_ROLES = ("cashier", "customer_care", *SUPERVISOR_ROLES)

# The clearing account the money leaves by, per payout method (and network, for mobile money).
PAYOUT_ACCOUNTS: dict[tuple[str, str], str] = {
    (Refund.Method.CASH, ""): "clearing:cash_office",
    (Refund.Method.BANK, ""): "clearing:bank",
    (Refund.Method.MOBILE_MONEY, Refund.Network.MOMO): "clearing:momo",
    (Refund.Method.MOBILE_MONEY, Refund.Network.MPESA): "clearing:mpesa",
}


class RefundError(DomainError):
    pass


def _roles(operator: Any, user: Any) -> frozenset[str]:
    if not getattr(user, "pk", None):
        return frozenset()
    return roles_at_operator(operator=operator, user=user)


def _require_supervisor(refund: Refund, user: Any, doing: str) -> None:
    if not _roles(refund.operator, user) & set(SUPERVISOR_ROLES):
        raise PermissionDenied(
            _("Only a treasurer or an operator admin may %(doing)s a refund.") % {"doing": doing},
            code="supervisor_required",
        )


def _wrong_state(refund: Refund, action: str) -> Conflict:
    messages = {
        Refund.Status.REQUESTED: _("Refund %(number)s is waiting for approval: it cannot be %(action)s yet."),
        Refund.Status.APPROVED: _("Refund %(number)s is already approved."),
        Refund.Status.REJECTED: _("Refund %(number)s was rejected: it cannot be %(action)s."),
        Refund.Status.PAID: _("Refund %(number)s is already paid out: it cannot be %(action)s."),
    }
    return Conflict(
        messages[Refund.Status(refund.status)] % {"number": refund.number, "action": action},
        code=f"refund_{refund.status}",
    )


def _payout_details(
    *, method: str, network: str, payee_phone: str, bank_name: str, bank_account: str
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if method not in Refund.Method.values:
        problems["method"] = [_("Choose cash, bank transfer or mobile money.")]
    if method == Refund.Method.BANK:
        if not bank_name.strip():
            problems["bank_name"] = [_("Which bank the money goes to.")]
        if not bank_account.strip():
            problems["bank_account"] = [_("The payee's account number.")]
    if method == Refund.Method.MOBILE_MONEY:
        if network not in Refund.Network.values:
            problems["network"] = [_("Choose MTN MoMo or M-Pesa.")]
        if not payee_phone.strip():
            problems["payee_phone"] = [_("The phone number the money goes to.")]
    return problems


def _same_request(refund: Refund, body: dict[str, Any]) -> bool:
    return all(getattr(refund, name) == value for name, value in body.items())


def refund_request(
    *,
    operator: Any,
    holder: str,
    amount: Decimal,
    source: str,
    reason: str,
    payee_name: str,
    method: str,
    acting_user: Any,
    idempotency_key: str,
    payee_phone: str = "",
    network: str = "",
    bank_name: str = "",
    bank_account: str = "",
) -> Refund:
    """Ask to give a customer back money from their credit or deposit; the amount is reserved at once.

    The same key again returns the first request; the same key with another body is a 409.
    """
    if not _roles(operator, acting_user) & set(REFUND_REQUEST_ROLES):
        raise PermissionDenied(_("Your role does not request refunds."), code="role_refused")
    problems = _payout_details(
        method=method, network=network, payee_phone=payee_phone, bank_name=bank_name, bank_account=bank_account
    )
    if source not in Refund.Source.values:
        problems["source"] = [_("Refund from the credit or from the deposit.")]
    if not isinstance(amount, Decimal) or amount <= 0:
        problems["amount"] = [_("More than zero.")]
    elif quantize(amount, operator.currency) != amount:
        problems["amount"] = [
            _("%(currency)s amounts have no smaller units than this: write %(rounded)s.")
            % {"currency": operator.currency, "rounded": quantize(amount, operator.currency)}
        ]
    if not reason.strip():
        problems["reason"] = [_("A reason is required.")]
    if not payee_name.strip():
        problems["payee_name"] = [_("Who receives the money.")]
    if not idempotency_key.strip():
        problems["idempotency_key"] = [_("Required.")]
    if problems:
        raise RefundError(_("The refund request is not complete: see the fields."), code="invalid", fields=problems)
    known = holder_known(operator=operator, reference=holder)
    if known is None:
        raise RefundError(
            _("No customer account %(reference)s.") % {"reference": holder},
            code="account_unknown",
            fields={"holder": [_("No such customer account.")]},
        )
    key = idempotency_key.strip()
    body: dict[str, Any] = {
        "holder": known,
        "amount": amount,
        "source": source,
        "method": method,
        "payee_name": payee_name.strip(),
        "payee_phone": payee_phone.strip(),
        "network": network if method == Refund.Method.MOBILE_MONEY else "",
        "bank_name": bank_name.strip() if method == Refund.Method.BANK else "",
        "bank_account": bank_account.strip() if method == Refund.Method.BANK else "",
    }

    def replay(first: Refund) -> Refund:
        if not _same_request(first, body):
            raise Conflict(
                _("The key %(key)s was already used for another refund request (%(number)s). Use a new key.")
                % {"key": key, "number": first.number},
                code="idempotency_key_reused",
            )
        return first

    if first := Refund.objects.filter(operator=operator, idempotency_key=key).first():
        return replay(first)
    try:
        with transaction.atomic():
            return _reserve(operator=operator, body=body, reason=reason.strip(), key=key, acting_user=acting_user)
    except IntegrityError:
        first = Refund.objects.filter(operator=operator, idempotency_key=key).first()
        if first is None:
            raise
        return replay(first)


def _reserve(*, operator: Any, body: dict[str, Any], reason: str, key: str, acting_user: Any) -> Refund:
    holder, amount, source = body["holder"], body["amount"], body["source"]
    purpose = "credit" if source == Refund.Source.CREDIT else "deposits"
    holder_lock(operator=operator, holder=holder)  # before reading the balance: a concurrent request sees ours
    if source == Refund.Source.CREDIT:
        # The customer's credit includes the VAT held apart on advances (operators holding advances without VAT).
        credit = holder_balance(operator=operator, holder=holder, purpose="credit")
        held_vat = holder_balance(operator=operator, holder=holder, purpose="advance_vat")
        available = credit + held_vat
    else:
        available = holder_balance(operator=operator, holder=holder, purpose=purpose)
    if amount > available:
        what = _("credit") if source == Refund.Source.CREDIT else _("deposit")
        message = _("At most %(available)s %(currency)s of %(what)s is available to refund.") % {
            "available": quantize(available, operator.currency),
            "currency": operator.currency,
            "what": what,
        }
        raise RefundError(message, code="refund_exceeds_available", fields={"amount": [message]})
    if source == Refund.Source.DEPOSIT:
        owed = holder_balance(operator=operator, holder=holder)
        if owed > 0:
            raise RefundError(
                _(
                    "The account owes %(owed)s %(currency)s: apply the deposit to it (or lower the deposit, which "
                    "pays the charges first) before refunding the deposit."
                )
                % {"owed": owed, "currency": operator.currency},
                code="account_owes",
                fields={"source": [_("Settle the account first.")]},
            )
    number = sequence_next(operator_id=operator.pk, name="refund")
    refund = Refund.objects.create(
        operator=operator,
        sequence_number=number,
        number=f"{operator.prefix}-RF-{number:06d}",
        currency=operator.currency,
        reason=reason,
        status=Refund.Status.REQUESTED,
        idempotency_key=key,
        requested_by=acting_user,
        **body,
    )
    parts = (
        credit_split(operator=operator, credit=credit, held_vat=held_vat, amount=amount)
        if source == Refund.Source.CREDIT
        else [(purpose, amount)]
    )
    for part_purpose, part in parts:
        transfer_post(
            operator=operator,
            debit=holder_account(operator=operator, holder=holder, purpose=part_purpose),
            credit=account_get(operator=operator, code="refunds_payable"),
            amount=part,
            kind=Transfer.Kind.REFUND,
            reference=refund.ledger_reference,
            value_date=timezone.localdate(),
            acting_user=acting_user,
            memo={"reserved": True},
        )
    audit_record(
        actor=acting_user,
        action="refund.requested",
        target=refund,
        after={**body, "number": refund.number, "reason": reason},
    )
    return refund


def _locked(refund: Refund) -> Refund:
    return Refund.objects.select_for_update(of=("self",)).select_related("operator").get(pk=refund.pk)


@transaction.atomic
def refund_approve(*, refund: Refund, acting_user: Any) -> Refund:
    """A supervisor other than the requester approves the refund."""
    refund = _locked(refund)
    _require_supervisor(refund, acting_user, _("approve"))
    if refund.status != Refund.Status.REQUESTED:
        raise _wrong_state(refund, _("approved"))
    if refund.requested_by_id == acting_user.pk:
        raise PermissionDenied(
            _("You asked for this refund: another treasurer or operator admin must approve it."),
            code="approver_is_requester",
        )
    refund.status = Refund.Status.APPROVED
    refund.approved_by = acting_user
    refund.approved_at = timezone.now()
    refund.save(update_fields=["status", "approved_by", "approved_at"])
    audit_record(actor=acting_user, action="refund.approved", target=refund, after={"status": refund.status})
    return refund


@transaction.atomic
def refund_reject(*, refund: Refund, reason: str, acting_user: Any) -> Refund:
    """A supervisor turns the request down (before it is paid out); the reserved amount returns where it came from."""
    refund = _locked(refund)
    _require_supervisor(refund, acting_user, _("reject"))
    if not refund.is_pending:
        raise _wrong_state(refund, _("rejected"))
    if not reason.strip():
        raise RefundError(
            _("Say why the refund is rejected."),
            code="reason_required",
            fields={"reason": [_("A reason is required.")]},
        )
    holder_lock(operator=refund.operator, holder=refund.holder)
    transfers_reverse(
        operator=refund.operator,
        reference=refund.ledger_reference,
        reason=reason,
        acting_user=acting_user,
        value_date=timezone.localdate(),
    )
    refund.status = Refund.Status.REJECTED
    refund.rejected_by = acting_user
    refund.rejected_at = timezone.now()
    refund.rejection_reason = reason.strip()
    refund.save(update_fields=["status", "rejected_by", "rejected_at", "rejection_reason"])
    if refund.source == Refund.Source.CREDIT:  # credit back: it pays open charges as credit always does
        credit_apply(operator=refund.operator, holder=refund.holder, acting_user=acting_user)
    audit_record(
        actor=acting_user, action="refund.rejected", target=refund, after={"status": refund.status, "reason": reason}
    )
    return refund


@transaction.atomic
def refund_pay_out(
    *, refund: Refund, payout_reference: str, acting_user: Any, payout_date: datetime.date | None = None
) -> Refund:
    """Record that the approved refund was paid out: the money leaves by the payout channel's clearing account."""
    refund = _locked(refund)
    _require_supervisor(refund, acting_user, _("pay out"))
    if refund.status != Refund.Status.APPROVED:
        raise _wrong_state(refund, _("paid out"))
    payout_reference = payout_reference.strip()
    if not payout_reference and refund.method != Refund.Method.CASH:
        raise RefundError(
            _("Give the bank's or the mobile money transaction reference of the payout."),
            code="payout_reference_required",
            fields={"payout_reference": [_("Required for a bank or mobile money payout.")]},
        )
    payout_date = payout_date or timezone.localdate()
    if payout_date > timezone.localdate():
        raise RefundError(
            _("A payout cannot be dated in the future."),
            code="payout_date_future",
            fields={"payout_date": [_("Today or earlier.")]},
        )
    transfer_post(
        operator=refund.operator,
        debit=account_get(operator=refund.operator, code="refunds_payable"),
        credit=account_get(operator=refund.operator, code=PAYOUT_ACCOUNTS[(refund.method, refund.network)]),
        amount=refund.amount,
        kind=Transfer.Kind.REFUND,
        reference=refund.ledger_reference,
        value_date=payout_date,
        acting_user=acting_user,
        memo={"payout_reference": payout_reference},
    )
    refund.status = Refund.Status.PAID
    refund.paid_by = acting_user
    refund.paid_at = timezone.now()
    refund.payout_reference = payout_reference
    refund.payout_date = payout_date
    refund.save(update_fields=["status", "paid_by", "paid_at", "payout_reference", "payout_date"])
    audit_record(
        actor=acting_user,
        action="refund.paid",
        target=refund,
        after={"status": refund.status, "payout_reference": payout_reference, "payout_date": payout_date},
    )
    return refund
