"""core.bulk.instance_create: one INSERT built once per model, each value prepared as save() prepares it. A value of
the field's own plain type (an int for an integer field, a str for a text field) goes as it is; any other goes
through the field, as save() would send it."""

import pytest

from mita.core.bulk import instance_create
from mita.core.models import Sequence

pytestmark = pytest.mark.django_db


def test_values_of_the_fields_own_types_are_written_as_they_are(operator_a):
    sequence = instance_create(Sequence(operator=operator_a, name="receipts", last_value=41))
    assert Sequence.objects.values_list("operator_id", "name", "last_value").get(pk=sequence.pk) == (
        operator_a.pk,
        "receipts",
        41,
    )


def test_a_value_of_another_type_is_prepared_by_its_field_as_save_would(operator_a):
    # True for an integer: PostgreSQL refuses a boolean in a bigint column, so it must go as int(True), as save() does.
    sequence = instance_create(Sequence(operator_id=str(operator_a.pk), name=12, last_value=True))
    assert Sequence.objects.values_list("operator_id", "name", "last_value").get(pk=sequence.pk) == (
        operator_a.pk,
        "12",
        1,
    )
