"""`mita metering verify` rebuilds each connection's meter state from its readings and names what differs."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from mita.metering.installations import meter_replace
from mita.metering.models import MeterState
from mita.metering.readings import ReadingInput, readings_record
from mita.metering.state_check import states_check
from mita.metering.tests.world import meter_model_of, meter_of, metered_connection, store_of

D = Decimal


def _read(operator, installation, index, day):
    row = ReadingInput(connection_id=installation.connection_id, current_index=D(index), read_on=day)
    return readings_record(operator=operator, rows=[row], source="manual")[0]


def test_states_kept_by_readings_and_swaps_verify_clean(operator_a):
    installation = metered_connection(operator_a, initial_index=D(10))
    _read(operator_a, installation, 25, datetime.date(2026, 1, 28))
    meter_replace(
        connection=installation.connection,
        new_meter=meter_of(operator_a, meter_model_of(operator_a, code="N"), "9"),
        replaced_on=datetime.date(2026, 2, 3),
        final_index=D(27),
        initial_index=D(0),
        reason="faulty",
        to_store=store_of(operator_a),
        acting_user=None,
    )
    untouched = metered_connection(operator_a, number="AAL-0002", serial="30002", initial_index=D(7))
    assert list(states_check(operator=operator_a)) == []
    assert MeterState.objects.get(connection_id=untouched.connection_id).last_index == D(7)


def test_a_wrong_state_is_named_and_repaired(operator_a, capsys):
    installation = metered_connection(operator_a)
    _read(operator_a, installation, 12, datetime.date(2026, 1, 28))
    MeterState.objects.filter(connection_id=installation.connection_id).update(last_index=D(99))
    with pytest.raises(SystemExit) as failed:
        call_command("metering", "verify")
    assert failed.value.code == 1
    assert "last_index is 99.000, readings say 12.000" in capsys.readouterr().out
    call_command("metering", "verify", "--repair")
    assert MeterState.objects.get(connection_id=installation.connection_id).last_index == D(12)
    call_command("metering", "verify")
    assert "every state matches" in capsys.readouterr().out
