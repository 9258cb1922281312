"""Package change through the engine: the deposit difference shown before approval, the deposit topped up or
released, the package set now or from the next billing period."""

from decimal import Decimal

import pytest
from django.utils import timezone

from mita.customers.lifecycle import next_period_start
from mita.ledger.models import Charge
from mita.ledger.selectors import holder_balance, holder_credit
from mita.servicing.services import ServicingError, TransitionNotAllowed, request_transition
from mita.servicing.types import facts_of
from mita.servicing.types.package_change import package_change_open

from .wire_world import WireWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    world = WireWorld(operator_a)
    world.deposit(world.tap.number, "5000")
    return world


def ask(world, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "operator": world.operator,
        "customer": world.jeanne,
        "connection": world.tap,
        "package": "LARGE",
        "channel": "office",
        "acting_user": world.care,
    }
    return package_change_open(**{**values, **overrides})


def facts(request):  # type: ignore[no-untyped-def]
    return {str(label): value for label, value in facts_of(request)}


def test_a_dearer_package_now_shows_and_charges_the_deposit_top_up(world):
    request = ask(world)
    shown = facts(request)
    assert shown["Deposit now"] == Decimal("5000")
    assert shown["Deposit of the new package"] == Decimal("8000")
    assert shown["Deposit difference (+ to pay, − to release)"] == Decimal("3000")

    request = request_transition(request=request, transition="approve", acting_user=world.billing)

    assert request.state == "done"
    world.tap.refresh_from_db()
    assert world.tap.package == "LARGE"
    top_up = Charge.objects.get(holder=world.tap.number, head="deposit", reference__startswith="package-change:")
    assert top_up.total == Decimal("3000")
    assert facts(request)["Deposit top-up charged"] == Decimal("3000")
    # approving twice is refused by the engine; the money posts once
    with pytest.raises(TransitionNotAllowed):
        request_transition(request=request, transition="approve", acting_user=world.billing)


def test_a_cheaper_package_from_the_next_period_releases_the_deposit_to_credit(world):
    request = ask(world, package="SMALL", effective="next_period")
    assert facts(request)["Deposit difference (+ to pay, − to release)"] == Decimal("-3000")
    request = request_transition(request=request, transition="approve", acting_user=world.admin)
    world.tap.refresh_from_db()
    assert (world.tap.package, world.tap.pending_package) == ("", "SMALL")
    assert world.tap.pending_package_from == next_period_start(timezone.localdate())
    assert holder_credit(operator=world.operator, holder=world.tap.number) == Decimal("3000")
    assert holder_balance(operator=world.operator, holder=world.tap.number, purpose="deposits") == Decimal("2000")
    assert request.data["effective_from"] == next_period_start(timezone.localdate()).isoformat()


def test_refusals_and_roles(world):
    with pytest.raises(ServicingError) as error:
        ask(world, package="HUGE")
    assert "deposit schedule" in str(error.value.fields["package"][0])
    with pytest.raises(ServicingError) as error:
        ask(world, effective="someday")
    assert "effective" in error.value.fields
    request = ask(world)
    for user in (world.care, world.technician, world.cashier):
        with pytest.raises(TransitionNotAllowed):
            request_transition(request=request, transition="approve", acting_user=user)
