"""What a run bills for the indigent register (the tariff's larger free allowance for a household on it on the
cycle's last day) and for connections without a meter (their assessed usage: the connection's own, else the
tariff's, else nothing)."""

import datetime
from decimal import Decimal

import pytest

from mita.billing.cycles import cycles_generate
from mita.billing.models import Bill, BillingCycle
from mita.billing.run import run_until_done
from mita.billing.services import billrun_create
from mita.billing.tests.world_billing import OCTOBER, connection_in, licensed, meter_on, read, tariff_with
from mita.customers.indigent import indigent_end, indigent_register
from mita.tariffs import pricing

D = Decimal
pytestmark = pytest.mark.django_db

# A lifeline tariff: the first 4 m3 free, 10 m3 for a household on the indigent register.
LIFELINE = {
    "currency": "RWF",
    "utility": "water",
    "unit": "m3",
    "period": "month",
    "components": [
        {
            "type": "blocks",
            "id": "water",
            "label": "Water",
            "method": "incremental",
            "free": 4,
            "indigent_free": 10,
            "bands": [{"upto": 20, "rate": 100}, {"upto": None, "rate": 200}],
        },
        {"type": "fixed", "id": "service", "label": "Service charge", "amount": 500},
    ],
}
# Kiosks without a meter: billed 6 m3 a month at the water rate, with the same lifeline.
KIOSK = {**LIFELINE, "assessed_usage": "6"}


def _october(operator):
    licensed(operator)
    cycles_generate(operator=operator, year=2026, frequency=BillingCycle.Frequency.MONTHLY)
    return BillingCycle.objects.get(operator=operator, code=OCTOBER)


def _preview(operator, cycle):
    run = billrun_create(operator=operator, cycle=cycle, acting_user=None, background=False)
    return run_until_done(run, unit_size=2)


def _by_hand(definition, quantity, cycle, *, indigent=False, property_type="residential"):
    usage = pricing.Usage(
        quantity=quantity,
        property_type=property_type,
        indigent=indigent,
        period_start=cycle.start,
        period_end=cycle.end,
    )
    return pricing.quote_period([(datetime.date(2026, 1, 1), definition)], usage)


def test_an_indigent_household_gets_the_larger_free_allowance_and_its_neighbour_does_not(operator_a, admin_a):
    # given two neighbours on the lifeline tariff who both used 12 m3 in October, one on the indigent register
    cycle = _october(operator_a)
    tariff_with(operator_a, "LIFE", LIFELINE, property_types=["residential"])
    poor = connection_in(operator_a, "AAL-IND-01")
    neighbour = connection_in(operator_a, "AAL-IND-02")
    # and a third, whose registration ended the day before the cycle's last day
    former = connection_in(operator_a, "AAL-IND-03")
    for connection in (poor, neighbour, former):
        meter_on(connection, f"S{connection.number[-2:]}")
    read(operator_a, [(c, D(112)) for c in (poor, neighbour, former)], on=datetime.date(2026, 10, 30))
    indigent_register(
        operator=operator_a, customer=poor.customer, reference="SR-1", valid_from=cycle.end, acting_user=admin_a
    )
    ended = indigent_register(
        operator=operator_a,
        customer=former.customer,
        reference="SR-2",
        valid_from=datetime.date(2026, 1, 1),
        acting_user=admin_a,
    )
    indigent_end(registration=ended, acting_user=admin_a, valid_to=cycle.end - datetime.timedelta(days=1))
    # when October is billed
    run = _preview(operator_a, cycle)
    bills = {bill.account: bill for bill in Bill.objects.filter(run=run)}
    # then the household on the register pays for 2 m3 and its neighbours for 8
    assert bills["AAL-IND-01"].total == D(2 * 100 + 500) == _by_hand(LIFELINE, D(12), cycle, indigent=True).total
    assert bills["AAL-IND-02"].total == D(8 * 100 + 500) == _by_hand(LIFELINE, D(12), cycle).total
    assert bills["AAL-IND-03"].total == bills["AAL-IND-02"].total
    free = [line for line in bills["AAL-IND-01"].line_items if line.kind == "free"]
    assert [line.quantity for line in free] == [D(10)]
    assert run.total == D(700 + 1300 + 1300)


def test_a_connection_without_a_meter_is_billed_its_own_assessed_usage_else_the_tariffs(operator_a, admin_a):
    # given three kiosks without a meter on a tariff assessing 6 m3 a month: one assessed 15 m3 on its own, one 0,
    # one on the indigent register
    cycle = _october(operator_a)
    tariff_with(operator_a, "KIOSK", KIOSK, property_types=["commercial"])
    tariff_with(
        operator_a, "TAP", {**LIFELINE, "components": LIFELINE["components"][1:]}, property_types=["public_tap"]
    )
    plain = connection_in(operator_a, "AAL-K-01", property_type="commercial", metered=False)
    own = connection_in(operator_a, "AAL-K-02", property_type="commercial", metered=False, assessed_usage=D(15))
    nothing = connection_in(operator_a, "AAL-K-03", property_type="commercial", metered=False, assessed_usage=D(0))
    poor = connection_in(operator_a, "AAL-K-04", property_type="commercial", metered=False)
    # and a public tap whose tariff assesses nothing: priced at 0 as before
    tap = connection_in(operator_a, "AAL-TAP-01", property_type="public_tap", metered=False)
    indigent_register(
        operator=operator_a,
        customer=poor.customer,
        reference="SR-9",
        valid_from=datetime.date(2026, 1, 1),
        acting_user=admin_a,
    )
    # when October is billed
    run = _preview(operator_a, cycle)
    bills = {bill.account: bill for bill in Bill.objects.filter(run=run)}
    # then each is billed for its assessed quantity, priced as the engine does by hand
    expected = {
        plain.number: (D(6), False, D(2 * 100 + 500)),  # 6 - 4 free
        own.number: (D(15), False, D(11 * 100 + 500)),
        nothing.number: (D(0), False, D(500)),
        poor.number: (D(6), True, D(500)),  # 6 within the 10 free
    }
    for number, (quantity, indigent, total) in expected.items():
        bill = bills[number]
        assert not bill.metered and bill.consumption == quantity, number
        assert bill.total == total == _by_hand(KIOSK, quantity, cycle, indigent=indigent).total, number
    assert bills[tap.number].consumption == 0 and bills[tap.number].total == D(500)
    assert run.exceptions == 0  # no "zero consumption" warning for a connection without a meter


def test_a_quarter_bills_three_months_of_a_monthly_assessed_usage(operator_a):
    licensed(operator_a)
    cycles_generate(operator=operator_a, year=2026, frequency=BillingCycle.Frequency.QUARTERLY)
    quarter = BillingCycle.objects.get(operator=operator_a, code="2026-Q4")
    tariff_with(operator_a, "KIOSK", KIOSK, property_types=["commercial"])
    kiosk = connection_in(operator_a, "AAL-Q-01", property_type="commercial", metered=False, billing_cycle="quarterly")
    run = _preview(operator_a, quarter)
    bill = Bill.objects.get(run=run, connection=kiosk)
    # 18 m3 over three months, 12 of them free (4 a month), and three service charges
    assert bill.consumption == D(18) and bill.total == D(6 * 100 + 3 * 500)
