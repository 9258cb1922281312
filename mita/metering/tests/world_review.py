"""The review tests' small world: active metered connections and a year of readings at a steady rate."""

import datetime
from decimal import Decimal
from typing import Any

from mita.customers.lifecycle import connection_status_change
from mita.metering.models import Installation, Reading
from mita.metering.readings import ReadingInput, readings_record
from mita.metering.tests.world import metered_connection

D = Decimal


def active_metered(operator: Any, **options: Any) -> Installation:
    """A metered connection (world.metered_connection) that supplies water: active."""
    installation = metered_connection(operator, **options)
    connection_status_change(connection=installation.connection, status="active", reason="Connected", acting_user=None)
    installation.connection.refresh_from_db()
    return installation


def read(
    operator: Any, installation: Installation, index: Any, day: datetime.date, cycle: str = "", **options: Any
) -> Reading:
    row = ReadingInput(
        connection_id=installation.connection_id,
        current_index=None if index is None else D(index),
        read_on=day,
        cycle=cycle,
        **options,
    )
    result = readings_record(operator=operator, rows=[row], source=Reading.Source.MANUAL)[0]
    assert result.reading is not None, result.message
    return result.reading


def thirty_a_month(operator: Any, installation: Installation, start: int = 1000) -> None:
    """Read 30 days apart from 1 January 2026, 30 units each time: an average of 1 a day, last read on 1 April."""
    read(operator, installation, start + 30, datetime.date(2026, 1, 31), "2026-01")
    read(operator, installation, start + 60, datetime.date(2026, 3, 2), "2026-02")
    read(operator, installation, start + 90, datetime.date(2026, 4, 1), "2026-03")
