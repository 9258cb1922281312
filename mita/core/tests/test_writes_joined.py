"""Writes joined into one round trip (mita/core/prepared.py, writes_joined): on PostgreSQL the single-row inserts of
a block wait and go to the server together as it ends, or just before any other statement; a failure among them
fails the transaction; inside a savepoint, or anywhere else than PostgreSQL, nothing waits."""

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from mita.core.audit import audit_record
from mita.core.bulk import instance_create
from mita.core.models import AuditEntry
from mita.core.prepared import writes_joined

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="pipelines are PostgreSQL's")


def _entries_in_the_table() -> int:
    """The audit rows this transaction has written, read around Django's cursor (which would send the waiting first)."""
    return connection.connection.execute("SELECT count(*) FROM core_auditentry").fetchone()[0]


@pytest.fixture
def pipelines(monkeypatch):
    """How many pipelines psycopg opens (one per round trip of joined writes)."""
    opened = []
    pipeline = psycopg.Connection.pipeline

    def counted(self):  # type: ignore[no-untyped-def]
        opened.append(1)
        return pipeline(self)

    monkeypatch.setattr(psycopg.Connection, "pipeline", counted)
    return opened


@on_postgresql
def test_the_writes_of_a_block_wait_and_go_together_as_it_ends(pipelines):
    before = _entries_in_the_table()
    with writes_joined():
        entries = [audit_record(actor=None, action=f"test.joined.{number}") for number in range(3)]
        assert [entry.pk for entry in entries] == [None, None, None]  # not sent yet
        assert _entries_in_the_table() == before
    assert len(pipelines) == 1  # one round trip for the three
    assert _entries_in_the_table() == before + 3
    ids = [entry.pk for entry in entries]
    assert all(isinstance(pk, int) for pk in ids) and ids == sorted(ids)  # sent in the order they were made
    assert list(AuditEntry.objects.filter(pk__in=ids).order_by("pk").values_list("action", flat=True)) == [
        "test.joined.0",
        "test.joined.1",
        "test.joined.2",
    ]


@on_postgresql
def test_any_other_statement_in_the_block_goes_after_the_writes_waiting_before_it():
    with writes_joined():
        first = audit_record(actor=None, action="test.joined.first")
        assert AuditEntry.objects.filter(action="test.joined.first").count() == 1  # the query sent the write first
        assert first.pk is not None
        second = audit_record(actor=None, action="test.joined.second")
        assert second.pk is None
    assert second.pk > first.pk


@on_postgresql
def test_a_write_that_fails_fails_the_block_with_djangos_error_and_nothing_is_kept():
    before = AuditEntry.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic(), writes_joined():
        audit_record(actor=None, action="test.joined.kept")
        instance_create(AuditEntry(action=None, target_type="", target_id="", target_repr=""))  # NOT NULL
    assert AuditEntry.objects.count() == before  # the transaction (here its savepoint) rolled back whole


@on_postgresql
def test_inside_a_savepoint_opened_in_the_block_writes_go_at_once():
    with writes_joined():
        with transaction.atomic():  # a savepoint: an error in it must be raised where it is caught
            inside = audit_record(actor=None, action="test.joined.inside")
            assert inside.pk is not None
        after = audit_record(actor=None, action="test.joined.after")
        assert after.pk is None
    assert after.pk is not None


@on_postgresql
def test_an_exception_leaving_writes_unsent_rolls_the_transaction_back_whoever_catches_it():
    before = AuditEntry.objects.count()
    with transaction.atomic():
        try:
            with writes_joined():
                audit_record(actor=None, action="test.joined.lost")
                raise ValueError("something else went wrong")
        except ValueError:
            pass
        with pytest.raises(TransactionManagementError):  # the transaction may not go on without the write
            AuditEntry.objects.count()
    assert AuditEntry.objects.count() == before  # and it rolled back: nothing half done


@pytest.mark.skipif(connection.vendor == "postgresql", reason="elsewhere than PostgreSQL")
def test_elsewhere_than_postgresql_nothing_waits():
    with transaction.atomic(), writes_joined():
        entry = audit_record(actor=None, action="test.joined.at_once")
        assert entry.pk is not None


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_nothing_waits():
    with writes_joined():  # autocommit: each write is its own transaction, so none may wait
        entry = audit_record(actor=None, action="test.joined.at_once")
        assert entry.pk is not None
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@on_postgresql
def test_while_queries_are_logged_nothing_waits():
    with CaptureQueriesContext(connection) as queries, writes_joined():
        entry = audit_record(actor=None, action="test.joined.logged")
        assert entry.pk is not None
    assert any("core_auditentry" in query["sql"] for query in queries.captured_queries)
