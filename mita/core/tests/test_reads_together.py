"""Reads joined into one round trip (mita/core/prepared.py, reads_together): on PostgreSQL, inside a transaction,
several fixed statements go to the server in one pipeline, after any writes waiting in a writes_joined block, and
each gives its answer; elsewhere they run one by one with the same answers. And core.bulk's id_read, which takes an
id that instance_create then inserts with."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from mita.core.audit import audit_record
from mita.core.bulk import id_read, instance_create
from mita.core.models import AuditEntry
from mita.core.prepared import Read, reads_together, writes_joined
from mita.testing.round_trips import round_trips_counted

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="pipelines are PostgreSQL's")

COUNT_SQL = "SELECT count(*) FROM core_auditentry WHERE action = %s"
ACTIONS_SQL = "SELECT action FROM core_auditentry WHERE action LIKE %s ORDER BY id"


def _count(action: str) -> Read:
    return Read(COUNT_SQL, [action], answer=lambda rows: rows[0][0])


def test_each_read_gives_its_answer_in_order_and_none_for_none():
    audit_record(actor=None, action="test.reads.one")
    audit_record(actor=None, action="test.reads.two")
    with transaction.atomic():
        answers = reads_together(
            _count("test.reads.one"),
            None,
            Read(ACTIONS_SQL, ["test.reads.%"]),
            _count("test.reads.none"),
        )
    assert answers == [1, None, [("test.reads.one",), ("test.reads.two",)], 0]


@on_postgresql
def test_on_postgresql_the_reads_make_one_round_trip():
    with transaction.atomic():
        reads_together(_count("test.reads.warm"), _count("test.reads.warm"))  # the connection's first: prepared
        with round_trips_counted() as counted:
            reads_together(*[_count(f"test.reads.{number}") for number in range(4)])
        assert len(counted) == 1
        with round_trips_counted() as counted:  # one by one, for comparison
            for number in range(4):
                reads_together(_count(f"test.reads.{number}"))
        assert len(counted) == 4


@on_postgresql
def test_writes_waiting_go_first_in_the_same_round_trip_and_the_reads_see_them():
    with transaction.atomic(), writes_joined():
        entry = audit_record(actor=None, action="test.reads.written")
        assert entry.pk is None  # waiting
        with round_trips_counted() as counted:
            (seen,) = reads_together(_count("test.reads.written"))
        assert len(counted) == 1
        assert seen == 1
        assert entry.pk is not None  # its answer was read too


@on_postgresql
def test_a_failing_read_raises_djangos_error_and_fails_the_transaction():
    before = AuditEntry.objects.count()
    with pytest.raises(DatabaseError), transaction.atomic():
        audit_record(actor=None, action="test.reads.lost")
        reads_together(_count("test.reads.x"), Read("SELECT 1 / 0", []))
    assert AuditEntry.objects.count() == before


def test_while_queries_are_logged_each_read_is_a_statement_of_its_own():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        answers = reads_together(_count("test.reads.a"), _count("test.reads.b"))
    assert answers == [0, 0]
    assert sum("core_auditentry" in query["sql"] for query in queries.captured_queries) == 2


def test_an_id_taken_beforehand_is_the_one_the_row_is_inserted_with():
    with transaction.atomic():
        read = id_read(AuditEntry)
        if connection.vendor != "postgresql":
            assert read is None  # there the INSERT takes its own
            return
        (taken,) = reads_together(read)
        entry = instance_create(AuditEntry(pk=taken, action="test.reads.id", target_type="", target_id=""))
    assert entry.pk == taken
    assert AuditEntry.objects.get(pk=taken).action == "test.reads.id"
    (following,) = reads_together(id_read(AuditEntry))
    assert following > taken  # the sequence moved past it: no one else gets it


@on_postgresql
def test_an_id_taken_beforehand_goes_with_the_joined_writes():
    with transaction.atomic():
        (taken,) = reads_together(id_read(AuditEntry))
        with writes_joined():
            entry = instance_create(AuditEntry(pk=taken, action="test.reads.joined", target_type="", target_id=""))
            other = audit_record(actor=None, action="test.reads.other")
            assert other.pk is None  # waiting: so is the first, whose id is known already
            assert entry.pk == taken
        assert AuditEntry.objects.filter(pk=taken, action="test.reads.joined").exists()
        assert other.pk is not None
