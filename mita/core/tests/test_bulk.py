"""Batch helpers (mita/core/bulk.py): how a batch of ids is looked up, and how its dates and times are written."""

import datetime

import pytest
from django.db.models import Q

from mita.core import bulk
from mita.core.bulk import id_span
from mita.core.models import AuditEntry


def test_close_ids_are_looked_up_by_their_range_scattered_ones_by_the_list_and_none_by_nothing():
    assert id_span("connection_id", [12, 10, 15]) == Q(connection_id__gte=10, connection_id__lte=15)
    assert id_span("connection_id", [1, 500]) == Q(connection_id__in=[1, 500])  # a range would read 498 others
    assert id_span("pk", []) == Q(pk__in=[])


@pytest.mark.django_db
@pytest.mark.parametrize("kept", [bulk.FORMATTED_AT_MOST, 1])
def test_times_are_written_as_the_instants_they_are_whatever_their_zone_and_however_many(monkeypatch, kept):
    # Dates and times go to the database as ISO text, each distinct value formatted once (up to FORMATTED_AT_MOST):
    # equal instants in two zones are one value; a value beyond the kept ones is formatted all the same.
    monkeypatch.setattr(bulk, "FORMATTED_AT_MOST", kept)
    utc = datetime.datetime(2026, 12, 4, 12, 30, 15, 123456, tzinfo=datetime.UTC)
    kigali = utc.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    new_york = datetime.datetime(2026, 12, 4, 7, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))
    make = bulk.maker(AuditEntry, action="test.times")
    entries = [make(at=utc), make(at=kigali), make(at=new_york), make(at=utc)]
    bulk.instances_insert(entries)
    stored = dict(AuditEntry.objects.filter(action="test.times").values_list("pk", "at"))
    assert [stored[entry.pk] for entry in entries] == [utc, utc, new_york, utc]
    assert stored[entries[2].pk] == datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC)
