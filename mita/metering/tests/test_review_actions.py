"""The review queue's decisions: accept, correct, estimate, reject; what they do to the register's state."""

import datetime
from decimal import Decimal

import pytest

from mita.core.errors import DomainError
from mita.core.models import AuditEntry
from mita.metering.models import MeterState, Reading
from mita.metering.readings import ReadingInput, cycle_consumption, readings_record
from mita.metering.review import reading_accept, reading_correct, reading_estimate, reading_reject
from mita.metering.tests.world_review import active_metered, thirty_a_month
from mita.metering.tests.world_review import read as record

pytestmark = pytest.mark.django_db
D = Decimal


def state_of(installation):
    return MeterState.objects.get(connection_id=installation.connection_id, register="main")


def test_accepting_a_high_reading_counts_it_and_moves_the_meter_on(operator_a, staff_a):
    # given a connection using 30 a month, read at 1290 (200 in April: high)
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    high = record(operator_a, installation, 1290, datetime.date(2026, 4, 30))
    assert (high.status, high.anomaly, high.consumption) == ("review", "high", D(200))
    # when the billing officer accepts it (the customer had a leak)
    reading_accept(reading=high, note="Leak confirmed by the customer", acting_user=staff_a)
    # then April counts 200 and the next reading starts from 1290
    high.refresh_from_db()
    assert (high.status, high.reviewed_by, high.review_note) == ("accepted", staff_a, "Leak confirmed by the customer")
    assert cycle_consumption(operator=operator_a, connection_ids=[installation.connection_id], cycle="2026-04") == {
        installation.connection_id: D(200)
    }
    assert state_of(installation).last_index == D(1290)
    assert AuditEntry.objects.filter(action="reading.accepted", target_id=str(high.pk)).exists()


def test_a_reading_below_the_previous_index_cannot_be_accepted(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    backwards = record(operator_a, installation, 900, datetime.date(2026, 1, 31))
    assert backwards.anomaly == "backwards"
    with pytest.raises(DomainError) as refused:
        reading_accept(reading=backwards, note="ok", acting_user=staff_a)
    assert refused.value.code == "accept_backwards" and "Correct it" in str(refused.value.message)
    backwards.refresh_from_db()
    assert backwards.status == "review" and state_of(installation).last_index == D(1000)


def test_a_reading_older_than_one_counted_is_refused_and_the_state_stays(operator_a, staff_a):
    # given a high reading of January left in the queue, and February read and counted since
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    high = record(operator_a, installation, 1290, datetime.date(2026, 4, 30))
    readings_record(
        operator=operator_a,
        rows=[
            ReadingInput(
                connection_id=installation.connection_id, current_index=D(1100), read_on=datetime.date(2026, 4, 20)
            )
        ],
        source="manual",
    )
    assert state_of(installation).last_index == D(1100)
    # when the old high reading is accepted
    with pytest.raises(DomainError) as refused:
        reading_accept(reading=high, note="fine", acting_user=staff_a)
    # then it is refused: counting it would count its consumption twice
    assert refused.value.code == "register_moved" and refused.value.status == 409
    with pytest.raises(DomainError) as older:
        reading_correct(
            reading=high, current_index="1095", read_on=datetime.date(2026, 4, 10), note="typo", acting_user=staff_a
        )
    assert older.value.code == "later_reading_counted" and "correct that one" in str(older.value.message)
    assert state_of(installation).last_index == D(1100)


def test_a_correction_supersedes_the_reading_and_is_not_sent_back_for_the_same_anomaly(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    high = record(operator_a, installation, 1290, datetime.date(2026, 4, 30))
    # when the reviewer corrects 1290 to 1190 (still high: 100 against 30 a month)
    corrected = reading_correct(reading=high, current_index="1190", note="Misread 2 for 1", acting_user=staff_a)
    # then the correction counts 100, the first reading is superseded
    high.refresh_from_db()
    assert high.status == "superseded" and corrected.supersedes_id == high.pk
    assert (corrected.status, corrected.anomaly, corrected.consumption) == ("accepted", "", D(100))
    assert (corrected.previous_index, corrected.source, corrected.reader_id) == (D(1090), high.source, high.reader_id)
    assert state_of(installation).last_index == D(1190)


def test_a_correction_with_another_anomaly_goes_back_to_the_queue(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    high = record(operator_a, installation, 1290, datetime.date(2026, 4, 30))
    corrected = reading_correct(reading=high, current_index="1090", note="Wrong meter", acting_user=staff_a)
    assert (corrected.status, corrected.anomaly) == ("review", "zero")
    assert state_of(installation).last_index == D(1090)


def test_a_correction_below_the_previous_index_is_refused(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    backwards = record(operator_a, installation, 900, datetime.date(2026, 1, 31))
    with pytest.raises(DomainError) as refused:
        reading_correct(reading=backwards, current_index="990", note="typo", acting_user=staff_a)
    assert refused.value.code == "index_backwards" and refused.value.fields == {"current_index": ["At least 1000.000."]}
    corrected = reading_correct(reading=backwards, current_index="1009", note="typo: 1009", acting_user=staff_a)
    assert (corrected.status, corrected.consumption) == ("accepted", D(9))


def test_a_meter_not_read_is_estimated_from_the_connections_average(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    thirty_a_month(operator_a, installation)
    not_read = record(operator_a, installation, None, datetime.date(2026, 5, 1), reader_code="dog", cycle="2026-04")
    assert (not_read.status, not_read.anomaly) == ("review", "reader_code")
    with pytest.raises(DomainError) as refused:
        reading_accept(reading=not_read, note="ok", acting_user=staff_a)
    assert refused.value.code == "not_read"
    # when the reviewer estimates it: 30 days x 1 a day
    estimated = reading_estimate(reading=not_read, note="Dog again", acting_user=staff_a)
    assert (estimated.source, estimated.status, estimated.consumption, estimated.current_index) == (
        "estimated",
        "accepted",
        D(30),
        D(1120),
    )
    assert (estimated.supersedes_id, estimated.reader_code, estimated.cycle) == (not_read.pk, "dog", "2026-04")
    state = state_of(installation)
    assert (state.last_index, state.last_estimated, state.last_actual_index) == (D(1120), True, D(1090))


def test_a_rejected_reading_counts_for_nothing(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    backwards = record(operator_a, installation, 900, datetime.date(2026, 1, 31))
    reading_reject(reading=backwards, note="Another meter's index", acting_user=staff_a)
    backwards.refresh_from_db()
    assert backwards.status == "rejected" and state_of(installation).last_index == D(1000)


def test_the_same_decision_sent_again_returns_the_first_and_another_is_a_409(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    backwards = record(operator_a, installation, 900, datetime.date(2026, 1, 31))
    first = reading_correct(reading=backwards, current_index="1009", note="typo", acting_user=staff_a)
    again = reading_correct(reading=backwards, current_index="1009", note="typo", acting_user=staff_a)
    assert again.pk == first.pk and Reading.objects.filter(supersedes=backwards).count() == 1
    with pytest.raises(DomainError) as refused:
        reading_reject(reading=backwards, note="no", acting_user=staff_a)
    assert (refused.value.code, refused.value.status) == ("already_reviewed", 409)


def test_every_decision_needs_a_note(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    backwards = record(operator_a, installation, 900, datetime.date(2026, 1, 31))
    with pytest.raises(DomainError) as refused:
        reading_reject(reading=backwards, note="  ", acting_user=staff_a)
    assert refused.value.code == "note_required" and "note" in refused.value.fields


def test_a_second_reading_of_a_cycle_accepted_counts_from_the_first(operator_a, staff_a):
    installation = active_metered(operator_a, initial_index=D(1000))
    record(operator_a, installation, 1012, datetime.date(2026, 1, 20))
    second = record(operator_a, installation, 1015, datetime.date(2026, 1, 28))
    assert (second.anomaly, second.consumption) == ("conflict", None)
    reading_accept(reading=second, note="Read again at the customer's request", acting_user=staff_a)
    second.refresh_from_db()
    assert (second.status, second.consumption) == ("accepted", D(3))
    assert cycle_consumption(operator=operator_a, connection_ids=[installation.connection_id], cycle="2026-01") == {
        installation.connection_id: D(15)
    }
