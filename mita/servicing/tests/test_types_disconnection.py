"""Disconnection through the engine: asked for by the customer (review, approval, work order, disconnected) or
started by the billing officer (straight to the work order); refusals and roles."""

import pytest

from mita.core.errors import DomainError
from mita.customers.models import ConnectionStatusChange
from mita.ledger.models import Charge
from mita.servicing.models import WorkOrder
from mita.servicing.services import ServicingError, TransitionNotAllowed, request_transition
from mita.servicing.types.disconnection import disconnection_open

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
        "channel": "office",
        "acting_user": world.care,
    }
    return disconnection_open(**{**values, **overrides})


def test_asked_for_by_the_customer_it_is_reviewed_approved_and_disconnected_by_the_work_order(world):
    request = ask(world)
    assert request.state == "received"
    request = request_transition(request=request, transition="review", acting_user=world.care)
    assert request.state == "review"
    request = request_transition(
        request=request, transition="approve", acting_user=world.billing, assignee=world.technician
    )
    assert (request.state, request.assignee) == ("approved", world.technician)
    world.tap.refresh_from_db()
    assert world.tap.status == "active"  # nothing happens to the connection before the technician's visit

    world.complete(request, WorkOrder.Kind.DISCONNECTION, {"note": "valve closed and sealed"})

    request.refresh_from_db()
    world.tap.refresh_from_db()
    assert (request.state, world.tap.status) == ("disconnected", "disconnected")
    change = ConnectionStatusChange.objects.filter(connection=world.tap).latest("pk")
    assert (change.from_status, change.to_status) == ("active", "disconnected")
    assert request.number in change.reason
    assert not Charge.objects.filter(holder=world.tap.number).exists()  # no money moves


def test_started_by_the_billing_officer_it_goes_straight_to_the_work_order(world):
    request = ask(world, acting_user=world.billing, reason="non_payment", assignee=world.technician)
    assert request.state == "approved"
    assert [event.transition for event in request.events.order_by("pk")] == ["created", "start", "work_order_opened"]
    world.complete(request, WorkOrder.Kind.DISCONNECTION)
    world.tap.refresh_from_db()
    assert world.tap.status == "disconnected"


def test_customer_care_cannot_start_one_for_the_operator_and_the_billing_officer_must_name_a_technician(world):
    with pytest.raises(ServicingError) as error:
        ask(world, reason="non_payment", assignee=world.technician)
    assert error.value.code == "forbidden"
    with pytest.raises(ServicingError) as error:
        ask(world, acting_user=world.billing, reason="non_payment")
    assert error.value.code == "assignee_required"
    with pytest.raises(ServicingError) as error:
        ask(world, acting_user=world.billing, reason="non_payment", assignee=world.cashier)
    assert "assignee" in error.value.fields


def test_only_an_active_connection_is_disconnected_and_customer_care_does_not_approve(world):
    request = ask(world)
    request_transition(request=request, transition="review", acting_user=world.care)
    with pytest.raises(TransitionNotAllowed) as error:
        request_transition(request=request, transition="approve", acting_user=world.care, assignee=world.technician)
    assert "reject" in str(error.value.message)
    with pytest.raises(DomainError) as error:
        request_transition(request=request, transition="reject", acting_user=world.care)
    assert error.value.code == "transition_data_missing"
    request = request_transition(request=request, transition="reject", acting_user=world.care, note="paid after all")
    assert request.state == "rejected"
    world.tap.refresh_from_db()
    assert world.tap.status == "active"


def test_a_disconnected_connection_cannot_be_disconnected_again(world):
    request = ask(world, acting_user=world.billing, reason="non_payment", assignee=world.technician)
    world.complete(request, WorkOrder.Kind.DISCONNECTION)
    world.tap.refresh_from_db()
    with pytest.raises(ServicingError) as error:
        ask(world)
    assert error.value.code == "connection_status"
    assert "only an active one" in str(error.value.message)
