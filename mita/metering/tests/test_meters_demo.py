"""The demo step of meters: stores, models and meters for every metered connection + 20%, transfers, lab trips,
calibrations (some meters overdue), one scrapped; and the meters in store the installations step takes."""

import random

import pytest

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, demo_steps
from mita.customers.tests.world import connection_of, customer_of
from mita.metering.demo_meters import build_meters, demo_meters_in_store
from mita.metering.models import Calibration, Meter, MeterModel, Movement, Register, Store
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


def test_the_demo_step_stocks_every_metered_connection_with_spares(operator_a, operator_b):
    # given operator A as the demo's Amazi with 30 metered connections and B as Izuba (electricity) with none
    customer = customer_of(operator_a)
    for number in range(30):
        connection_of(operator_a, customer, number=f"AAL-{number:04d}")
    connection_of(operator_a, customer, number="AAL-UNMETERED", metered=False)
    users = {}
    for operator in (operator_a, operator_b):
        for role in (Role.STOREKEEPER, Role.OPERATOR_ADMIN):
            users[f"{role}@{operator}"] = member(role, operator)
    ctx = DemoContext(
        accounts=30,
        password="x",
        rng=random.Random(1),
        objects={"operator:amazi": operator_a, "operator:izuba": operator_b, "users": users},
        log=lambda _message: None,
    )
    # when the step runs
    assert [step.run for step in demo_steps() if step.name == "metering.meters"] == [build_meters]
    build_meters(ctx)
    # then A's stores hold enough meters in store for its 30 metered connections and spares
    assert set(Store.objects.filter(operator=operator_a).values_list("kind", flat=True)) == {"central", "branch", "lab"}
    in_store = demo_meters_in_store(operator_a)
    assert len(in_store) >= 30 and all(meter.status == Meter.Status.IN_STORE for meter in in_store)
    assert Meter.objects.filter(operator=operator_a).count() >= 36
    assert {model.dial_digits for model in MeterModel.objects.filter(operator=operator_a)} >= {4, 5}
    assert MeterModel.objects.filter(operator=operator_a, kind="smart").exists()
    assert Movement.objects.filter(operator=operator_a, kind="transfer").exists()
    assert Meter.objects.filter(operator=operator_a, status=Meter.Status.SCRAPPED).count() == 1
    assert Calibration.objects.filter(operator=operator_a, result="failed").count() == 1
    assert Meter.objects.filter(operator=operator_a, store__kind="branch").exists()
    # and B's electricity models have a prepaid meter and a CT meter with a multiplier on two registers
    ct = MeterModel.objects.get(operator=operator_b, code="IZ-CT")
    assert list(Register.objects.filter(meter_model=ct).values_list("code", "multiplier")) == [
        ("active", 40),
        ("reactive", 40),
    ]
    assert ctx.objects["metering:amazi"]["stores"]["central"].code == "CEN"
