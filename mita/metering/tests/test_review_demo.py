"""The demo step "metering.review" on a small world like the demo's year of readings."""

import datetime
import random
from decimal import Decimal

import pytest

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, demo_steps
from mita.core.models import AuditEntry
from mita.metering.models import IndexAdjustment, Reading
from mita.metering.reg_review import review_demo
from mita.metering.tests.world_review import active_metered, read, thirty_a_month

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_demo_step_estimates_decides_a_few_leaves_some_and_adjusts_one(operator_a, staff_a, admin_a):
    # given six connections with an April reading waiting for review and one not read (a dog)
    installations = [
        active_metered(operator_a, number=f"AAL-000{n}", serial=str(n), initial_index=D(1000)) for n in range(1, 8)
    ]
    for installation in installations:
        thirty_a_month(operator_a, installation)
    april = datetime.date(2026, 4, 30)
    backwards = read(operator_a, installations[0], 900, april, "2026-04")
    high = read(operator_a, installations[1], 1400, april, "2026-04")
    for installation in installations[2:6]:
        read(operator_a, installation, 1500, april, "2026-04")
    dog = read(operator_a, installations[6], None, datetime.date(2026, 4, 25), "2026-04", reader_code="dog")
    ctx = DemoContext(
        accounts=10,
        password="x",
        rng=random.Random(1),
        objects={
            "operator:amazi": operator_a,
            "users": {f"{Role.BILLING_OFFICER}@{operator_a}": staff_a, f"{Role.OPERATOR_ADMIN}@{operator_a}": admin_a},
        },
        log=lambda line: None,
    )
    # when the step runs
    assert "metering.review" in [step.name for step in demo_steps()]
    review_demo(ctx)
    # then the dog is estimated, the two oldest are decided, four stay in the queue, one index is adjusted
    assert Reading.objects.get(supersedes=dog).source == "estimated"
    assert Reading.objects.get(supersedes=backwards).current_index == D(1102)
    accepted = AuditEntry.objects.get(action="reading.accepted", target_id=str(high.pk))
    assert accepted.actor == staff_a
    assert Reading.objects.filter(operator=operator_a, status="review").count() == 4
    assert IndexAdjustment.objects.filter(operator=operator_a).count() == 1
    # and running it again adjusts nothing more
    review_demo(ctx)
    assert IndexAdjustment.objects.filter(operator=operator_a).count() == 1
