"""Receiving the same batch at the same moment: one movement and one set of meters, whatever the timing."""

import datetime
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import close_old_connections, connection

from mita.core.errors import Conflict
from mita.metering import services_movements
from mita.metering.models import Meter, Movement, MovementKey
from mita.metering.serials import serial_range
from mita.metering.services_movements import meters_receive
from mita.metering.tests.world import meter_model_of, store_of


def in_threads(work: Callable[[int], Any], count: int) -> list[Any]:
    """Run work(i) in `count` threads started together; each uses its own database connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # collected and checked by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()
    return results


@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_eight_times_at_once_with_its_key_is_received_once(operator_a):
    store, model = store_of(operator_a), meter_model_of(operator_a)
    serials = serial_range("WM-030001", "WM-030050")

    def receive(_index: int) -> int:
        return meters_receive(
            operator=operator_a,
            store=store,
            meter_model=model,
            serials=serials,
            received_on=datetime.date(2026, 1, 15),
            supplier="Itron Africa",
            key="delivery-1",
            acting_user=None,
        ).movement.pk

    results = in_threads(receive, count=8)
    assert all(isinstance(result, int) for result in results), results
    movement = Movement.objects.get(kind="receive")
    assert set(results) == {movement.pk}
    assert (Meter.objects.count(), movement.lines.count(), MovementKey.objects.count()) == (50, 50, 1)


@pytest.mark.django_db(transaction=True)
def test_the_same_serials_received_at_once_without_a_key_make_one_batch_and_clashes(operator_a):
    store, model = store_of(operator_a), meter_model_of(operator_a)

    def receive(index: int) -> int:
        return meters_receive(
            operator=operator_a,
            store=store,
            meter_model=model,
            serials=serial_range("WM-030001", "WM-030050"),
            received_on=datetime.date(2026, 1, 15),
            supplier=f"Supplier {index}",
            acting_user=None,
        ).movement.pk

    results = in_threads(receive, count=6)
    made = [result for result in results if isinstance(result, int)]
    assert len(made) == 1, results
    assert all(
        isinstance(result, Conflict) and result.code == "serials_taken" for result in results if result not in made
    )
    assert (Meter.objects.count(), Movement.objects.count()) == (50, 1)


@pytest.mark.django_db(transaction=True)
def test_a_batch_whose_key_was_committed_just_after_the_first_look_is_a_replay(operator_a, monkeypatch):
    store, model = store_of(operator_a), meter_model_of(operator_a)
    options = {
        "operator": operator_a,
        "store": store,
        "meter_model": model,
        "serials": serial_range("WM-030001", "WM-030005"),
        "received_on": datetime.date(2026, 1, 15),
        "supplier": "Itron Africa",
        "key": "delivery-1",
        "acting_user": None,
    }
    first = meters_receive(**options).movement
    # the same request, which looked for its key a moment before the first one committed
    replay = services_movements._replay
    looks: list[str] = []

    def late(operator, key, digest):
        looks.append(key)
        return None if len(looks) == 1 else replay(operator, key, digest)

    monkeypatch.setattr(services_movements, "_replay", late)
    again = meters_receive(**options)
    assert (again.movement.pk, again.replayed) == (first.pk, True)  # not "these serials are already registered"
    assert len(looks) == 2
    assert (Meter.objects.count(), Movement.objects.count()) == (5, 1)
