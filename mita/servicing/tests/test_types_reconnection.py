"""Reconnection through the engine: the schedule's fee charged (VAT as for any fee), paid (the payment's signal or
the sweep), the work order, the connection active; a part payment moves nothing; refusals."""

from decimal import Decimal

import pytest

from mita.customers.lifecycle import connection_status_change
from mita.ledger.models import Charge
from mita.ledger.selectors import holder_balance
from mita.servicing.models import RequestFee, ServiceFee, WorkOrder
from mita.servicing.services import ServicingError, TransitionNotAllowed, request_transition, service_fee_set
from mita.servicing.types.reconnection import reconnection_open

from .wire_world import WireWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    world = WireWorld(operator_a)
    world.tap = connection_status_change(connection=world.tap, status="disconnected", reason="unpaid", acting_user=None)
    return world


def ask(world):  # type: ignore[no-untyped-def]
    return reconnection_open(
        operator=world.operator, customer=world.jeanne, connection=world.tap, channel="office", acting_user=world.care
    )


def accept(world, request):  # type: ignore[no-untyped-def]
    return request_transition(request=request, transition="accept", acting_user=world.care, assignee=world.technician)


def test_the_fee_paid_opens_the_work_order_and_the_work_done_makes_the_connection_active(
    world, django_capture_on_commit_callbacks
):
    request = accept(world, ask(world))
    # the schedule's 5,000 before VAT, at Rwanda's 18%: 5,900 charged to the account, head reconnection_fees
    assert request.state == "fee_due"
    fee = RequestFee.objects.get(request=request)
    assert (fee.kind, fee.amount) == ("reconnection", Decimal("5900"))
    assert (fee.charge.head, fee.charge.total) == ("reconnection_fees", Decimal("5900"))
    assert holder_balance(operator=world.operator, holder=world.tap.number) == Decimal("5900")
    assert not WorkOrder.objects.filter(request=request).exists()

    # a part payment moves nothing
    with django_capture_on_commit_callbacks(execute=True):
        world.pay(world.tap.number, "5000")
    request.refresh_from_db()
    assert request.state == "fee_due"

    # the rest paid: the payment's task moves the request on and a reconnection work order opens
    with django_capture_on_commit_callbacks(execute=True):
        world.pay(world.tap.number, "900")
    request.refresh_from_db()
    assert request.state == "work"
    work_order = world.work_order(request, WorkOrder.Kind.RECONNECTION)
    assert work_order.assignee == world.technician
    world.tap.refresh_from_db()
    assert world.tap.status == "disconnected"

    world.complete(request, WorkOrder.Kind.RECONNECTION, {"note": "valve opened"})
    request.refresh_from_db()
    world.tap.refresh_from_db()
    assert (request.state, world.tap.status) == ("active", "active")
    assert holder_balance(operator=world.operator, holder=world.tap.number) == 0


def test_the_sweep_moves_on_a_request_whose_fee_was_paid_while_no_task_ran(world):
    from mita.servicing.tasks import requests_fees_sweep

    request = accept(world, ask(world))
    world.pay(world.tap.number, "5900")  # the on-commit task never ran
    request.refresh_from_db()
    assert request.state == "fee_due"
    assert requests_fees_sweep.call()["advanced"] == 1
    request.refresh_from_db()
    assert request.state == "work"


def test_credit_on_the_account_pays_the_fee_at_once(world):
    world.pay(world.tap.number, "10000")
    request = accept(world, ask(world))
    request.refresh_from_db()
    assert request.state == "work"
    assert [event.transition for event in request.events.order_by("pk")] == [
        "created",
        "accept",
        "fee_charged",
        "fee_paid",
        "work_order_opened",
    ]


def test_a_free_reconnection_charges_nothing_and_goes_to_the_work_order(world):
    service_fee_set(
        operator=world.operator,
        kind=ServiceFee.Kind.RECONNECTION,
        utility="water",
        amount=Decimal("0"),
        acting_user=world.admin,
    )
    request = accept(world, ask(world))
    request.refresh_from_db()
    assert request.state == "work" and not Charge.objects.filter(head="reconnection_fees").exists()
    world.complete(request, WorkOrder.Kind.RECONNECTION)
    world.tap.refresh_from_db()
    assert world.tap.status == "active"


def test_refusals(world):
    # an active connection is not reconnected
    with pytest.raises(ServicingError) as error:
        reconnection_open(
            operator=world.operator,
            customer=world.eric,
            connection=world.shop,
            channel="office",
            acting_user=world.care,
        )
    assert error.value.code == "connection_status"
    request = ask(world)
    # one open reconnection per connection
    with pytest.raises(ServicingError) as error:
        ask(world)
    assert error.value.code == "request_open"
    # the technician does not accept it, nor may a payment be faked by a user
    with pytest.raises(TransitionNotAllowed):
        request_transition(
            request=request, transition="accept", acting_user=world.technician, assignee=world.technician
        )
    with pytest.raises(TransitionNotAllowed):
        request_transition(request=request, transition="fee_paid", acting_user=world.admin)


def test_no_fee_in_the_schedule_refuses_the_acceptance_and_saves_nothing(operator_a):
    world = WireWorld(operator_a)
    world.tap = connection_status_change(connection=world.tap, status="disconnected", reason="x", acting_user=None)
    from mita.servicing.models import ServiceFee as Fee

    Fee.objects.filter(kind="reconnection").update(active=False)
    request = ask(world)
    with pytest.raises(ServicingError) as error:
        accept(world, request)
    assert error.value.code == "fee_schedule_missing"
    request.refresh_from_db()
    assert (request.state, request.assignee) == ("received", None)
