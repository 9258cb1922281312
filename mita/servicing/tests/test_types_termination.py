"""Termination through the engine: the final reading work order, then the final bill, the deposit applied and the
refund of the remainder by someone who may request refunds; the account ends at zero once the refund is paid."""

from decimal import Decimal

import pytest

from mita.core.errors import DomainError
from mita.ledger.selectors import holder_balance, holder_credit, ledger_verify, trial_balance
from mita.payments.models import Refund
from mita.payments.refunds import refund_approve, refund_pay_out
from mita.servicing.models import ServiceRequest, WorkOrder
from mita.servicing.services import ServicingError, TransitionNotAllowed, request_transition
from mita.servicing.types.termination import termination_open

from .wire_world import WireWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    world = WireWorld(operator_a)
    world.deposit(world.tap.number, "5000")
    world.bill(world.tap.number, "2000")
    world.pay(world.tap.number, "1200")
    return world


def ask(world):  # type: ignore[no-untyped-def]
    return termination_open(
        operator=world.operator, customer=world.jeanne, connection=world.tap, channel="office", acting_user=world.care
    )


def read(world, request, **result):  # type: ignore[no-untyped-def]
    request_transition(request=request, transition="assign_reading", acting_user=world.care, assignee=world.technician)
    values = {"final_index": "1234", "final_amount": "1500", "note": "meter removed"}
    return world.complete(request, WorkOrder.Kind.FINAL_READING, {**values, **result})


def test_termination_leaves_a_zero_balance_after_deposit_and_refund(world):
    holder = world.tap.number
    request = ask(world)
    read(world, request)
    request.refresh_from_db()
    assert request.state == "settlement"
    world.tap.refresh_from_db()
    assert world.tap.status == "active"  # nothing posted before the settlement

    request = request_transition(request=request, transition="settle", acting_user=world.cashier)

    assert request.state == "terminated"
    # owed 800 + the final bill 1,500 + 18% VAT = 1,770: the 5,000 deposit pays 2,570, 2,430 is refunded
    assert Decimal(request.data["final_bill"]) == Decimal("1770")
    assert Decimal(request.data["deposit_applied"]) == Decimal("2570")
    assert Decimal(request.data["refund_amount"]) == Decimal("2430")
    assert Decimal(request.data["still_owed"]) == 0
    world.tap.refresh_from_db()
    assert world.tap.status == "terminated"
    refund = Refund.objects.get(number=request.data["refund_number"])
    refund_approve(refund=refund, acting_user=world.treasurer)
    refund_pay_out(refund=refund, payout_reference="CASH-1", acting_user=world.treasurer)
    assert holder_balance(operator=world.operator, holder=holder) == 0
    assert holder_balance(operator=world.operator, holder=holder, purpose="deposits") == 0
    assert holder_credit(operator=world.operator, holder=holder) == 0
    assert ledger_verify(operator=world.operator) == [] and trial_balance(operator=world.operator) == 0


def test_the_final_reading_is_checked_and_a_bad_one_saves_nothing(world):
    request = ask(world)
    with pytest.raises(ServicingError) as error:
        read(world, request, final_index="", final_amount="12.345")
    assert set(error.value.fields) == {"final_index", "final_amount"}
    assert world.work_order(request, WorkOrder.Kind.FINAL_READING).state == "open"
    request.refresh_from_db()
    assert request.state == "final_reading"


def test_only_someone_who_may_request_refunds_settles(world):
    request = ask(world)
    read(world, request)
    for user in (world.technician, world.billing):
        with pytest.raises(TransitionNotAllowed):
            request_transition(request=request, transition="settle", acting_user=user)
    world.tap.refresh_from_db()
    assert world.tap.status == "active"


def test_one_open_termination_per_connection_and_none_for_a_terminated_one(world):
    request = ask(world)
    with pytest.raises(ServicingError) as error:
        ask(world)
    assert error.value.code == "request_open"
    request_transition(request=request, transition="reject", acting_user=world.care, note="changed her mind")
    second = ask(world)
    read(world, second)
    request = ServiceRequest.objects.get(pk=second.pk)
    request_transition(request=request, transition="settle", acting_user=world.admin)
    with pytest.raises(DomainError) as error:
        ask(world)
    assert error.value.code == "connection_status"
