"""The money of the service requests: a package change's deposit, the reconnection fee, the termination's final bill
with its deposit and refund; and how an arrears move clears charges (the ledger's hook, ledger.hooks).

The servicing engine runs these when a request's transition runs; customers.lifecycle has the status and ownership
side. docs/servicing-operations.md says what each posts and why.
"""

import dataclasses
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict, DomainError
from mita.core.money import quantize
from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection
from mita.ledger.hooks import ChargeBook, charge_book_register
from mita.ledger.models import Charge
from mita.ledger.selectors import charge_outstanding, holder_balance, holder_credit
from mita.ledger.services import DEPOSIT_HEAD, charge_post, holder_lock
from mita.payments.corrections import charge_cancel_posting
from mita.payments.deposits import DepositApplication, DepositChange, deposit_adjust, deposit_apply_to_final_bill
from mita.payments.models import Allocation, Refund
from mita.payments.refunds import refund_request
from mita.payments.services import open_charges

RECONNECTION_HEAD = "reconnection_fees"


class ServicingMoneyError(DomainError):
    """A service request's money cannot be posted as asked: the message says what to fix."""


# The ledger's hook: clearing charges for an arrears move --------------------------------------------------------


def _open_charges(*, operator: Any, holder: str) -> list[Charge]:
    return open_charges(operator=operator, holder=holder)


def _settle_for_move(*, operator: Any, holder: str, reference: str, acting_user: Any) -> list[tuple[Charge, Decimal]]:
    """Clear the account's open charges for an arrears move (the ledger posts the move itself).

    An unpaid security deposit is no arrears: it secured the old account and secures nothing now, so it is cancelled
    (what was paid on it becomes the old account's credit, or stays paid where a charge-back kept a deposit given
    back already: corrections.charge_cancel_posting), as on termination. Every other open charge (bills, fees,
    a charge-back's shortfall) is cleared by an allocation without payment and not from credit: that marks it moved.
    """
    holder_lock(operator=operator, holder=holder)
    for charge in open_charges(operator=operator, holder=holder):
        if charge.head == DEPOSIT_HEAD:
            charge_cancel_posting(
                charge=charge,
                reason=_("Arrears moved (%(reference)s): a deposit never paid is not moved") % {"reference": reference},
                acting_user=acting_user,
                approved_by=acting_user,
                unpaid_part_if_given_back=True,
            )
    settled = []
    for charge in open_charges(operator=operator, holder=holder):
        amount = charge.open_amount  # type: ignore[attr-defined]
        Allocation.objects.create(operator=operator, payment=None, charge=charge, amount=amount, from_credit=False)
        settled.append((charge, amount))
    return settled


charge_book_register(ChargeBook(open_charges=_open_charges, settle_for_move=_settle_for_move))


# Package change ----------------------------------------------------------------------------------------------------


def package_change_money(*, connection: Connection, new_package: str, acting_user: Any, key: str = "") -> DepositChange:
    """The deposit side of a package change: bring the account's deposit to the schedule's amount for the new package
    (payments.deposits.deposit_adjust): a higher deposit is a top-up charge, a lower one is released to the
    customer's credit (it pays open charges first; the rest is refundable).

    The package must be in the deposit schedule (a package with no deposit has a line of 0). With `key` (the service
    request's), the change is posted once however often it is run.
    """
    new_package = (new_package or "").strip()
    if not new_package:
        raise ServicingMoneyError(
            _("Name the new package."), code="package_required", fields={"new_package": [_("Required.")]}
        )
    if connection.status == Connection.Status.TERMINATED:
        raise ServicingMoneyError(
            _("Connection %(number)s is terminated.") % {"number": connection.number}, code="connection_terminated"
        )
    stamp = key.strip() or f"{timezone.now():%Y%m%d%H%M%S%f}"
    reference = f"package-change:{connection.number}:{stamp}"[:100]
    return deposit_adjust(
        operator=connection.operator,
        holder=connection.number,
        reference=reference,
        acting_user=acting_user,
        key=new_package,
        idempotency_key=reference if key.strip() else None,
    )


# Reconnection ------------------------------------------------------------------------------------------------------


def reconnection_reference(connection: Connection, key: str) -> str:
    return f"reconnection:{connection.number}:{key.strip()}"[:100]


@transaction.atomic
def reconnection_fee_charge(
    *, connection: Connection, amount: Decimal, acting_user: Any, key: str, vat_rule: str = "standard"
) -> Charge:
    """Charge a disconnected connection's account the operator's reconnection fee (head reconnection_fees).

    `amount` is the fee before VAT, from the operator's servicing fee schedule; VAT follows `vat_rule` like any
    charge. `key` is the reconnection request's: the same key charges once (reference reconnection:<number>:<key>).
    Credit the account holds pays it at once. reconnect_if_paid() then makes the connection active.
    """
    if not (key or "").strip():
        raise ServicingMoneyError(
            _("Give the reconnection request's key."), code="key_required", fields={"key": [_("Required.")]}
        )
    operator = connection.operator
    if not isinstance(amount, Decimal) or amount <= 0:
        raise ServicingMoneyError(
            _("The reconnection fee is an amount more than zero."),
            code="amount_invalid",
            fields={"amount": [_("More than zero.")]},
        )
    if quantize(amount, operator.currency) != amount:
        message = _("%(currency)s amounts have no smaller units than this: write %(rounded)s.") % {
            "currency": operator.currency,
            "rounded": quantize(amount, operator.currency),
        }
        raise ServicingMoneyError(message, code="amount_invalid", fields={"amount": [message]})
    reference = reconnection_reference(connection, key)
    first = Charge.objects.filter(operator=operator, holder=connection.number, reference=reference).first()
    if first is None and connection.status != Connection.Status.DISCONNECTED:
        raise ServicingMoneyError(
            _("Connection %(number)s is %(status)s: a reconnection fee is charged to a disconnected connection.")
            % {"number": connection.number, "status": connection.get_status_display().lower()},
            code="not_disconnected",
        )
    charge = charge_post(
        operator=operator,
        holder=connection.number,
        head=RECONNECTION_HEAD,
        amount=amount,
        vat_rule=vat_rule,
        reference=reference,
        due_date=timezone.localdate(),
        acting_user=acting_user,
        idempotency_key=reference,
    )
    if first is None:
        audit_record(
            actor=acting_user,
            action="connection.reconnection_fee_charged",
            target=connection,
            detail={"charge": charge.pk, "amount": amount, "total": charge.total, "reference": reference},
        )
    return charge


@transaction.atomic
def reconnect_if_paid(*, connection: Connection, key: str, acting_user: Any) -> Connection:
    """Make a disconnected connection active again once its reconnection fee (of that request key) is paid."""
    operator = connection.operator
    reference = reconnection_reference(connection, key)
    holder_lock(operator=operator, holder=connection.number)
    if not Charge.objects.filter(operator=operator, holder=connection.number, reference=reference).exists():
        raise ServicingMoneyError(
            _("No reconnection fee was charged for this request: charge it first."), code="fee_not_charged"
        )
    owed = charge_outstanding(operator=operator, holder=connection.number, reference=reference)
    if owed > 0:
        raise Conflict(
            _("The reconnection fee is not paid yet: %(owed)s %(currency)s is still owed.")
            % {"owed": owed, "currency": operator.currency},
            code="fee_unpaid",
        )
    return connection_status_change(
        connection=connection,
        status=Connection.Status.ACTIVE,
        reason=_("Reconnection fee paid (%(reference)s)") % {"reference": reference},
        acting_user=acting_user,
    )


# Termination -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TerminationSettlement:
    connection: Connection
    final_charge: Charge | None  # the final bill (None when the final amount is zero)
    deposit: DepositApplication  # the deposit applied to it
    refund: Refund | None  # the refund of what was left in credit (None when nothing was)
    still_owed: Decimal  # what the account still owes after the deposit (left for collection)


def final_bill_reference(connection: Connection) -> str:
    return f"final-bill:{connection.number}"


@transaction.atomic
def termination_settle(
    *,
    connection: Connection,
    final_amount: Decimal,
    final_reading_note: str,
    acting_user: Any,
    vat_rule: str = "standard",
    refund_method: str = Refund.Method.CASH,
    refund_network: str = "",
    refund_payee_phone: str = "",
    refund_bank_name: str = "",
    refund_bank_account: str = "",
) -> TerminationSettlement:
    """Close a connection's account: the final bill, the deposit applied to it, a refund of what is left, terminated.

    1. The final bill: until billing exists the billing officer computes it from the final reading and enters its
       amount before VAT (`final_amount`, zero when nothing was used since the last bill); it is charged to the
       utility's sales head (water_sales or electricity_sales), VAT by `vat_rule`, due today.
    2. The deposit held clears the open charges, unpaid deposit charges are cancelled (deposit_apply_to_final_bill).
    3. What the account then has in credit is asked back as a refund (refunds.refund_request, to the customer, by
       `refund_method`); its approval and payout follow the refund workflow. The acting user must be one who may
       request refunds (cashier, customer care, treasurer, operator admin).
    4. The connection is terminated (customers.lifecycle.connection_status_change), the contract history closed.
    What the deposit did not cover stays owed on the account, for collection. All or nothing: a refusal anywhere
    saves nothing.
    """
    note = (final_reading_note or "").strip()
    problems: dict[str, list[str]] = {}
    if not note:
        problems["final_reading_note"] = [_("The final reading the bill was computed from.")]
    operator = connection.operator
    if not isinstance(final_amount, Decimal) or final_amount < 0:
        problems["final_amount"] = [_("Zero or more.")]
    elif quantize(final_amount, operator.currency) != final_amount:
        problems["final_amount"] = [
            _("%(currency)s amounts have no smaller units than this: write %(rounded)s.")
            % {"currency": operator.currency, "rounded": quantize(final_amount, operator.currency)}
        ]
    if problems:
        raise ServicingMoneyError(
            _("The termination is not complete: see the fields."), code="termination_invalid", fields=problems
        )
    connection = Connection.objects.select_for_update().select_related("operator", "customer").get(pk=connection.pk)
    if connection.status == Connection.Status.TERMINATED:
        raise Conflict(
            _("Connection %(number)s is already terminated.") % {"number": connection.number},
            code="already_terminated",
        )
    holder = connection.number
    today = timezone.localdate()
    final_charge = None
    if final_amount > 0:
        final_charge = charge_post(
            operator=operator,
            holder=holder,
            head=f"{connection.utility}_sales",
            amount=final_amount,
            vat_rule=vat_rule,
            reference=final_bill_reference(connection),
            due_date=today,
            acting_user=acting_user,
            idempotency_key=final_bill_reference(connection),
        )
    deposit = deposit_apply_to_final_bill(operator=operator, holder=holder, acting_user=acting_user)
    refund = None
    left = holder_credit(operator=operator, holder=holder)
    if left > 0:
        customer = connection.customer
        refund = refund_request(
            operator=operator,
            holder=holder,
            amount=left,
            source=Refund.Source.CREDIT,
            reason=_("Termination of %(number)s: what is left after the final bill and the deposit")
            % {"number": holder},
            payee_name=customer.name,
            method=refund_method,
            acting_user=acting_user,
            idempotency_key=f"termination:{holder}",
            payee_phone=refund_payee_phone or customer.phone,
            network=refund_network,
            bank_name=refund_bank_name,
            bank_account=refund_bank_account,
        )
    connection = connection_status_change(
        connection=connection,
        status=Connection.Status.TERMINATED,
        reason=_("Terminated. Final reading: %(note)s") % {"note": note},
        acting_user=acting_user,
    )
    still_owed = holder_balance(operator=operator, holder=holder)
    audit_record(
        actor=acting_user,
        action="connection.termination_settled",
        target=connection,
        detail={
            "final_amount": final_amount,
            "final_charge": final_charge.pk if final_charge else None,
            "final_reading_note": note,
            "deposit_held": deposit.held,
            "deposit_applied": deposit.applied,
            "refund": refund.number if refund else None,
            "refund_amount": refund.amount if refund else Decimal("0"),
            "still_owed": still_owed,
        },
    )
    return TerminationSettlement(
        connection=connection, final_charge=final_charge, deposit=deposit, refund=refund, still_owed=still_owed
    )
