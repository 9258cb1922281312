"""Index adjustment by an operator admin: the reading superseded, the next one re-based, the state, rebill flags."""

import datetime
from decimal import Decimal

import pytest

from mita.core.errors import DomainError
from mita.core.models import AuditEntry
from mita.metering.adjustments import index_adjust
from mita.metering.models import IndexAdjustment, MeterState, Reading
from mita.metering.readings import cycle_consumption
from mita.metering.selectors_review import adjustments_needing_rebill
from mita.metering.signals import index_adjusted
from mita.metering.tests.world_review import active_metered, read, thirty_a_month

pytestmark = pytest.mark.django_db
D = Decimal


def totals(operator, installation, cycles):
    connection_id = installation.connection_id
    return [
        cycle_consumption(operator=operator, connection_ids=[connection_id], cycle=cycle).get(connection_id, D(0))
        for cycle in cycles
    ]


def test_adjusting_the_last_reading_moves_the_meter_and_flags_the_past_cycle_for_rebill(
    operator_a, admin_a, django_capture_on_commit_callbacks
):
    # given March read at 1090 (30 used), the last reading counted
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    march = Reading.objects.get(connection_id=installation.connection_id, cycle="2026-03")
    heard = []
    index_adjusted.connect(
        lambda sender, adjustment, **kwargs: heard.append(adjustment.pk), weak=False, dispatch_uid="t"
    )
    # when the admin adjusts it to 1085 (the reader wrote 1090 for 1085)
    with django_capture_on_commit_callbacks(execute=True):
        adjustment = index_adjust(reading=march, current_index="1085", reason="Photo shows 1085", acting_user=admin_a)
    index_adjusted.disconnect(dispatch_uid="t")
    # then March counts 25, the meter stands at 1085, and billing is told March may need a rebill
    march.refresh_from_db()
    assert march.status == "superseded"
    assert (adjustment.adjustment_reading.source, adjustment.adjustment_reading.consumption) == ("adjustment", D(25))
    assert totals(operator_a, installation, ["2026-03"]) == [D(25)]
    state = MeterState.objects.get(connection_id=installation.connection_id)
    assert (state.last_index, state.last_actual_index) == (D(1085), D(1085))
    assert (state.history[-1][0], D(state.history[-1][1])) == (30, D(25))
    assert (adjustment.index_before, adjustment.index_after, adjustment.cycles) == (D(1090), D(1085), ["2026-03"])
    assert adjustment.rebill_needed and list(adjustments_needing_rebill(operator_a)) == [adjustment]
    assert heard == [adjustment.pk]
    assert AuditEntry.objects.filter(action="reading.index_adjusted", target_id=str(adjustment.pk)).exists()


def test_adjusting_an_earlier_reading_re_bases_the_next_and_keeps_the_total(operator_a, admin_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    february = Reading.objects.get(connection_id=installation.connection_id, cycle="2026-02")
    before = sum(totals(operator_a, installation, ["2026-02", "2026-03"]))
    adjustment = index_adjust(reading=february, current_index="1070", reason="Misread", acting_user=admin_a)
    # February now counts 40 and March 20: the meter's advance over the two is the same 60
    assert totals(operator_a, installation, ["2026-02", "2026-03"]) == [D(40), D(20)]
    assert before == D(60)
    assert adjustment.cycles == ["2026-02", "2026-03"] and adjustment.rebased_reading is not None
    assert (adjustment.rebased_reading.previous_index, adjustment.rebased_reading.current_index) == (D(1070), D(1090))
    state = MeterState.objects.get(connection_id=installation.connection_id)
    assert state.last_index == D(1090)


def test_an_adjustment_that_would_send_the_next_reading_backwards_is_refused(operator_a, admin_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    february = Reading.objects.get(connection_id=installation.connection_id, cycle="2026-02")
    with pytest.raises(DomainError) as refused:
        index_adjust(reading=february, current_index="1095", reason="Misread", acting_user=admin_a)
    assert refused.value.code == "next_backwards" and refused.value.fields == {"current_index": ["At most 1090.000."]}
    assert not IndexAdjustment.objects.exists()


def test_only_a_counted_reading_with_a_reason_is_adjusted_and_a_replay_returns_the_first(operator_a, admin_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    high = read(operator_a, installation, 1400, datetime.date(2026, 4, 30), "2026-04")
    with pytest.raises(DomainError) as waiting:
        index_adjust(reading=high, current_index="1120", reason="x", acting_user=admin_a)
    assert waiting.value.code == "not_counted"
    march = Reading.objects.get(connection_id=installation.connection_id, cycle="2026-03")
    with pytest.raises(DomainError) as no_reason:
        index_adjust(reading=march, current_index="1085", reason=" ", acting_user=admin_a)
    assert no_reason.value.code == "reason_required"
    first = index_adjust(reading=march, current_index="1085", reason="Photo", acting_user=admin_a)
    again = index_adjust(reading=march, current_index="1085", reason="Photo", acting_user=admin_a)
    assert again.pk == first.pk
    with pytest.raises(DomainError) as other:
        index_adjust(reading=march, current_index="1086", reason="Photo", acting_user=admin_a)
    assert (other.value.code, other.value.status) == ("already_adjusted", 409)
