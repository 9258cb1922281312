"""Gapless numbers: call sequence_next inside the transaction of the document that takes the number."""

from django.db import IntegrityError, transaction
from django.db.models import F

from mita.core.models import Sequence


def sequence_next(*, operator_id: int, name: str) -> int:
    """The next number of the operator's sequence. Concurrent callers queue on the row lock, so numbers are
    never skipped or repeated; a rolled-back transaction releases its number to the next caller."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside the transaction of the document it numbers")
    with transaction.get_connection().cursor() as cursor:
        # One round trip (UPDATE ... RETURNING: PostgreSQL, and SQLite since 3.35).
        cursor.execute(
            f"UPDATE {Sequence._meta.db_table} SET last_value = last_value + 1 "  # noqa: S608 (our table name)
            "WHERE operator_id = %s AND name = %s RETURNING last_value",
            [operator_id, name],
        )
        row = cursor.fetchone()
    if row is not None:
        return int(row[0])
    try:
        with transaction.atomic():
            Sequence.objects.create(operator_id=operator_id, name=name, last_value=1)
            return 1
    except IntegrityError:  # created by a concurrent first caller
        Sequence.objects.filter(operator_id=operator_id, name=name).update(last_value=F("last_value") + 1)
    return Sequence.objects.get(operator_id=operator_id, name=name).last_value


def sequence_claim(*, operator_id: int, name: str, wait: bool = True) -> Sequence | None:
    """Lock the operator's sequence row until the end of the transaction, for numbering a batch of documents.

    With wait=False, a row another transaction holds is skipped: None (PostgreSQL's SKIP LOCKED; SQLite has one
    writer at a time and always answers the row). Advance it with sequence_advance before the transaction ends.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_claim must run inside the transaction that numbers the documents")
    rows = Sequence.objects.filter(operator_id=operator_id, name=name)
    claimed = rows.select_for_update(skip_locked=not wait).first()
    if claimed is not None or (not wait and rows.exists()):
        return claimed
    try:
        with transaction.atomic():
            Sequence.objects.create(operator_id=operator_id, name=name, last_value=0)
    except IntegrityError:  # created by a concurrent first caller
        pass
    return rows.select_for_update().get()


def sequence_advance(sequence: Sequence, count: int) -> int:
    """Give `count` numbers from a claimed sequence; returns the first of them."""
    first = sequence.last_value + 1
    sequence.last_value += count
    Sequence.objects.filter(pk=sequence.pk).update(last_value=sequence.last_value)
    return first
