"""Receipt numbers: gapless per operator, given just after the payment commits, in batches.

A payment commits with its receipt waiting for a number; then one short transaction claims the operator's receipt
sequence and numbers every receipt still waiting, in the order they were taken. Concurrent payments thus never
queue on the sequence row while their own (longer) transaction commits: one claim numbers them all, and a
payment whose receipt another claim numbered only reads it. Numbers are given inside the claim's transaction, so a
failure gives them back: no gaps, no duplicates (and the database's unique constraints say so too). A receipt left
waiting by a crash between the two transactions is numbered by the next payment or by the minute task.
"""

import time
from typing import Any

from django.db import connection, transaction

from mita.core.prepared import prepared_cursor
from mita.core.sequences import sequence_advance, sequence_claim
from mita.payments.models import Receipt
from mita.registry.models import Operator

RECEIPT_SEQUENCE = "receipt"
CLAIM_PAUSE_SECONDS = 0.002
CLAIM_PATIENCE_SECONDS = 5.0


def receipt_number_format(operator: Any, number: int) -> str:
    return f"{operator.prefix}-R-{number:06d}"


def _number_waiting(*, operator: Any, wait: bool) -> dict[int, tuple[int, str]] | None:
    """Number the operator's waiting receipts, returning {receipt id: (number, text)}; None when another claim holds
    the sequence. On PostgreSQL one call of mita_receipts_number (migration payments 0011), which is its own
    transaction when called outside one; elsewhere inside a transaction."""
    if connection.vendor == "postgresql":
        return _number_by_function(operator=operator, wait=wait)
    sequence = sequence_claim(operator_id=operator.pk, name=RECEIPT_SEQUENCE, wait=wait)
    if sequence is None:
        return None
    waiting = list(
        Receipt.objects.filter(operator=operator, sequence_number__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not waiting:
        return {}
    first = sequence_advance(sequence, len(waiting))
    given = {pk: (first + offset, receipt_number_format(operator, first + offset)) for offset, pk in enumerate(waiting)}
    for pk, (number, text) in given.items():  # usually one or a few: plain updates are cheaper than one CASE
        Receipt.objects.filter(pk=pk).update(sequence_number=number, number=text)
    return given


_NUMBER_BY_FUNCTION_SQL = "SELECT receipt_id, given, given_text FROM mita_receipts_number(%s, %s, %s)"


def _number_by_function(*, operator: Any, wait: bool) -> dict[int, tuple[int, str]] | None:
    with prepared_cursor() as cursor:
        cursor.execute(_NUMBER_BY_FUNCTION_SQL, [operator.pk, operator.prefix, wait])
        rows = cursor.fetchall()
    if len(rows) == 1 and rows[0][0] is None:  # not claimed: held by another claim, or no sequence yet
        if rows[0][2] == "locked":
            return None
        with transaction.atomic():  # the operator's first receipt: sequence_claim makes (and locks) the sequence,
            if sequence_claim(operator_id=operator.pk, name=RECEIPT_SEQUENCE, wait=wait) is None:
                return None
            return _number_by_function(operator=operator, wait=wait)  # which the function then finds, ours
    return {int(pk): (int(number), str(text)) for pk, number, text in rows}


def _number_waiting_now(*, operator: Any, wait: bool) -> dict[int, tuple[int, str]] | None:
    """_number_waiting outside any transaction: on PostgreSQL one statement, its own transaction."""
    if connection.vendor == "postgresql":
        return _number_waiting(operator=operator, wait=wait)
    with transaction.atomic():
        return _number_waiting(operator=operator, wait=wait)


def receipts_number(*, operator: Any) -> int:
    """Number every receipt of the operator still waiting (the minute task; any caller); returns how many."""
    with transaction.atomic():
        return len(_number_waiting(operator=operator, wait=True) or {})


def receipt_number_give(receipt: Receipt) -> Receipt:
    """See the receipt numbered (by this call or a concurrent one) and return it with its number."""
    operator = receipt.operator
    given: dict[int, tuple[int, str]] | None = None
    if transaction.get_connection().in_atomic_block:
        # Inside a caller's transaction the receipt is not visible to other claims: number it here, waiting.
        given = _number_waiting(operator=operator, wait=True)
    else:
        deadline = time.monotonic() + CLAIM_PATIENCE_SECONDS
        while True:
            patient = time.monotonic() < deadline
            given = _number_waiting_now(operator=operator, wait=not patient)
            if given is not None:
                break  # ours was numbered by this claim or an earlier one
            time.sleep(CLAIM_PAUSE_SECONDS)
            if (found := _number_of(receipt.pk)) is not None:
                given = {receipt.pk: found}
                break  # numbered by the claim that held the sequence
    if not (given and receipt.pk in given) and (found := _number_of(receipt.pk)) is not None:
        given = {receipt.pk: found}  # numbered by an earlier claim
    if given and receipt.pk in given:
        receipt.sequence_number, receipt.number = given[receipt.pk]
    else:
        receipt.refresh_from_db(fields=["sequence_number", "number"])
    return receipt


_NUMBER_OF_SQL = f"SELECT sequence_number, number FROM {Receipt._meta.db_table} WHERE id = %s"  # noqa: S608


def _number_of(receipt_id: int) -> tuple[int, str] | None:
    """A receipt's number if it has one (a short statement written once: under load most payments ask it, their
    receipt numbered by another payment's claim)."""
    with prepared_cursor() as cursor:
        cursor.execute(_NUMBER_OF_SQL, [receipt_id])
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row is not None and row[0] is not None else None


def receipts_number_all() -> int:
    """Number the waiting receipts of every operator that has some; returns how many."""
    waiting = Receipt.objects.filter(sequence_number__isnull=True).order_by().values_list("operator_id", flat=True)
    numbered = 0
    for operator in Operator.objects.filter(pk__in=set(waiting)):
        numbered += receipts_number(operator=operator)
    return numbered
