"""Gapless numbers: call sequence_next inside the transaction of the document that takes the number."""

from django.db import IntegrityError, transaction
from django.db.models import F

from mita.core.models import Sequence


def sequence_next(*, operator_id: int, name: str) -> int:
    """The next number of the operator's sequence. Concurrent callers queue on the row lock, so numbers are
    never skipped or repeated; a rolled-back transaction releases its number to the next caller."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sequence_next must run inside the transaction of the document it numbers")
    updated = Sequence.objects.filter(operator_id=operator_id, name=name).update(last_value=F("last_value") + 1)
    if not updated:
        try:
            with transaction.atomic():
                Sequence.objects.create(operator_id=operator_id, name=name, last_value=1)
                return 1
        except IntegrityError:  # created by a concurrent first caller
            Sequence.objects.filter(operator_id=operator_id, name=name).update(last_value=F("last_value") + 1)
    return Sequence.objects.get(operator_id=operator_id, name=name).last_value
