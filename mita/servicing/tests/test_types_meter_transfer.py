"""Meter transfer through the engine: an operator admin approves, exactly the arrears move, the amount is on the
request; refusals and roles."""

from decimal import Decimal

import pytest

from mita.core.errors import DomainError
from mita.ledger.selectors import holder_balance, ledger_verify
from mita.servicing.services import ServicingError, TransitionNotAllowed, request_transition
from mita.servicing.types import facts_of
from mita.servicing.types.meter_transfer import meter_transfer_open

from .wire_world import WireWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    return WireWorld(operator_a)


def ask(world, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "operator": world.operator,
        "customer": world.jeanne,
        "connection": world.tap,
        "to_connection": world.shop,
        "channel": "office",
        "acting_user": world.care,
    }
    return meter_transfer_open(**{**values, **overrides})


def test_meter_transfer_moves_exactly_the_arrears_and_shows_the_amount(world):
    world.bill(world.tap.number, "3000", "bill:1")
    world.bill(world.tap.number, "1250", "bill:2")
    world.pay(world.tap.number, "1000")
    world.bill(world.shop.number, "700", "bill:3")
    request = ask(world)
    assert ("Arrears that would move now", Decimal("3250")) in [(str(k), v) for k, v in facts_of(request)]

    request = request_transition(request=request, transition="approve", acting_user=world.admin)

    assert request.state == "done"
    assert Decimal(request.data["arrears_moved"]) == Decimal("3250")
    assert holder_balance(operator=world.operator, holder=world.tap.number) == 0
    assert holder_balance(operator=world.operator, holder=world.shop.number) == Decimal("3950")
    world.tap.refresh_from_db()
    assert world.tap.status == "terminated"
    assert ("Arrears moved", Decimal("3250")) in [(str(k), v) for k, v in facts_of(request)]
    event = request.events.get(transition="arrears_moved")
    assert Decimal(event.data["amount"]) == Decimal("3250")
    assert ledger_verify(operator=world.operator) == []


def test_only_an_operator_admin_approves(world):
    request = ask(world)
    for user in (world.care, world.technician, world.billing):
        with pytest.raises(TransitionNotAllowed):
            request_transition(request=request, transition="approve", acting_user=user)
    request = request_transition(request=request, transition="reject", acting_user=world.care, note="wrong meter")
    assert request.state == "rejected"
    world.tap.refresh_from_db()
    assert world.tap.status == "active"


def test_refusals_save_nothing(world, operator_b):
    with pytest.raises(ServicingError) as error:
        ask(world, to_connection=world.tap)
    assert error.value.code == "same_connection"
    with pytest.raises(ServicingError) as error:
        ask(world, to_connection=None)
    assert error.value.code == "to_connection_required"
    # a target that became disconnected is refused at approval: the request stays received, nothing moved
    from mita.customers.lifecycle import connection_status_change

    world.bill(world.tap.number, "500")
    request = ask(world)
    connection_status_change(connection=world.shop, status="disconnected", reason="x", acting_user=None)
    with pytest.raises(DomainError) as error:
        request_transition(request=request, transition="approve", acting_user=world.admin)
    assert error.value.code == "target_disconnected"
    request.refresh_from_db()
    assert request.state == "received" and "arrears_moved" not in request.data
    assert holder_balance(operator=world.operator, holder=world.tap.number) == Decimal("500")
