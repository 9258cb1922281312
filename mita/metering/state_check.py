"""Rebuilding where each connection's registers stand from the readings themselves, to check the MeterState cache
(`mita metering verify`), as `mita ledger verify` checks balances against transfers."""

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db import transaction

from mita.metering.models import Installation, MeterState, Reading, Register

FIELDS = ("installation_id", "last_index", "last_read_on", "last_estimated", "last_actual_index")


@dataclasses.dataclass(frozen=True)
class Mismatch:
    connection_id: int
    register: str
    field: str
    cached: Any
    rebuilt: Any


def _has_register(installation: Installation, register: str) -> bool:
    codes = set(
        Register.objects.filter(meter_model_id=installation.meter.meter_model_id).values_list("code", flat=True)
    )
    return register in (codes or {"main"})


def _rebuilt(state: MeterState) -> dict[str, Any]:
    """What the state's index fields should hold: from the open installation's accepted readings (its initial index
    when it has none), or from the last accepted reading once the meter is removed."""
    installation = (
        Installation.objects.filter(connection_id=state.connection_id, removed_on__isnull=True)
        .select_related("meter")
        .first()
    )
    if installation is not None and not _has_register(installation, state.register):
        # The meter now installed has no such register (a swap to another model): the state waits, pointing nowhere.
        return {"installation_id": None}
    readings = Reading.objects.filter(
        connection_id=state.connection_id, register=state.register, status=Reading.Status.ACCEPTED
    ).order_by("-read_on", "-pk")
    if installation is not None:
        readings = readings.filter(installation=installation)
    last = readings.first()
    if last is None:
        if installation is None:
            return {}
        index: Decimal = installation.initial_index
        return {
            "installation_id": installation.pk,
            "last_index": index,
            "last_read_on": installation.installed_on,
            "last_estimated": False,
            "last_actual_index": index,
        }
    actual = readings.exclude(source=Reading.Source.ESTIMATED).first()
    if actual is not None:
        last_actual = actual.current_index
    elif installation is not None:
        last_actual = installation.initial_index
    else:
        last_actual = last.current_index
    return {
        "installation_id": installation.pk if installation is not None else None,
        "last_index": last.current_index,
        "last_read_on": last.read_on,
        "last_estimated": last.source == Reading.Source.ESTIMATED,
        "last_actual_index": last_actual,
    }


def states_check(*, operator: Any = None, repair: bool = False) -> Iterator[Mismatch]:
    """Every difference between a cached state and the readings (repaired when `repair`, in one transaction each)."""
    states = MeterState.objects.order_by("pk")
    if operator is not None:
        states = states.filter(operator=operator)
    for state in states.iterator(chunk_size=2000):
        rebuilt = _rebuilt(state)
        if not rebuilt:
            continue
        wrong = [name for name in FIELDS if name in rebuilt and getattr(state, name) != rebuilt[name]]
        for name in wrong:
            yield Mismatch(state.connection_id, state.register, name, getattr(state, name), rebuilt[name])
        if wrong and repair:
            with transaction.atomic():
                MeterState.objects.filter(pk=state.pk).update(**{name: rebuilt[name] for name in wrong})
