"""Batch helpers (mita/core/bulk.py): how a batch of ids is looked up."""

from django.db.models import Q

from mita.core.bulk import id_span


def test_close_ids_are_looked_up_by_their_range_scattered_ones_by_the_list_and_none_by_nothing():
    assert id_span("connection_id", [12, 10, 15]) == Q(connection_id__gte=10, connection_id__lte=15)
    assert id_span("connection_id", [1, 500]) == Q(connection_id__in=[1, 500])  # a range would read 498 others
    assert id_span("pk", []) == Q(pk__in=[])
