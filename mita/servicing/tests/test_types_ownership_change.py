"""Ownership change through the engine: approved by customer care; refused while the account owes anything unless
the approver acknowledges the new owner takes the arrears on."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from mita.core.errors import DomainError
from mita.customers.models import ConnectionHolding
from mita.servicing.services import ServicingError, TransitionNotAllowed, request_transition
from mita.servicing.types.ownership_change import ownership_change_open

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
        "to_customer": world.eric,
        "channel": "office",
        "acting_user": world.care,
    }
    return ownership_change_open(**{**values, **overrides})


def test_a_connection_without_arrears_passes_to_the_new_owner(world):
    request = ask(world)
    assert request.data["on_date"] == timezone.localdate().isoformat()
    request = request_transition(request=request, transition="approve", acting_user=world.care)
    assert request.state == "done" and Decimal(request.data["arrears_taken_on"]) == 0
    world.tap.refresh_from_db()
    assert world.tap.customer == world.eric and world.tap.number == "AAL-0001"
    holdings = ConnectionHolding.objects.filter(connection=world.tap).order_by("pk")
    assert [(holding.customer, holding.ends_on) for holding in holdings][-1] == (world.eric, None)


def test_arrears_refuse_the_approval_unless_acknowledged(world):
    world.bill(world.tap.number, "2500")
    request = ask(world)
    with pytest.raises(DomainError) as error:
        request_transition(request=request, transition="approve", acting_user=world.care)
    assert error.value.code == "arrears_outstanding" and "2500" in str(error.value.message)
    request.refresh_from_db()
    world.tap.refresh_from_db()
    assert request.state == "received" and world.tap.customer == world.jeanne

    request = request_transition(
        request=request, transition="approve", acting_user=world.care, arrears_acknowledged=True
    )
    world.tap.refresh_from_db()
    assert Decimal(request.data["arrears_taken_on"]) == Decimal("2500")
    assert world.tap.customer == world.eric


def test_refusals_and_roles(world):
    with pytest.raises(ServicingError) as error:
        ask(world, to_customer=world.jeanne)
    assert "to_customer_number" in error.value.fields
    with pytest.raises(ServicingError) as error:
        ask(world, on_date=timezone.localdate() + datetime.timedelta(days=3))
    assert "on_date" in error.value.fields
    request = ask(world)
    for user in (world.technician, world.billing, world.cashier):
        with pytest.raises(TransitionNotAllowed):
            request_transition(request=request, transition="approve", acting_user=user)
