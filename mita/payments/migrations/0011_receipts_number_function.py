"""PostgreSQL: a function that claims an operator's receipt sequence and numbers its waiting receipts in one call.

Called outside any transaction it is one round trip (its own transaction) where the claim used to take four (BEGIN,
the claim, the numbering, COMMIT). Inside, each statement of a VOLATILE plpgsql function takes a fresh snapshot
(READ COMMITTED), so the numbering, run once the sequence is locked, sees every receipt an earlier claim numbered,
as the two statements did. SQLite numbers in Python as before (payments/numbering.py).
"""

from django.db import migrations

_FUNCTION = """
CREATE OR REPLACE FUNCTION mita_receipts_number(p_operator bigint, p_prefix text, p_wait boolean)
RETURNS TABLE (receipt_id bigint, given bigint, given_text text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_sequence bigint;
    v_last bigint;
BEGIN
    IF p_wait THEN
        SELECT s.id, s.last_value INTO v_sequence, v_last FROM core_sequence AS s
        WHERE s.operator_id = p_operator AND s.name = 'receipt' FOR UPDATE;
    ELSE
        SELECT s.id, s.last_value INTO v_sequence, v_last FROM core_sequence AS s
        WHERE s.operator_id = p_operator AND s.name = 'receipt' FOR UPDATE SKIP LOCKED;
    END IF;
    IF v_sequence IS NULL THEN
        -- Not claimed: another claim holds the sequence ('locked') or it is not made yet ('missing').
        RETURN QUERY SELECT NULL::bigint, NULL::bigint,
            CASE WHEN EXISTS (SELECT 1 FROM core_sequence AS s WHERE s.operator_id = p_operator AND s.name = 'receipt')
                THEN 'locked'::text ELSE 'missing'::text END;
        RETURN;
    END IF;
    RETURN QUERY
    WITH waiting AS (
        SELECT r.id, row_number() OVER (ORDER BY r.id) AS position
        FROM payments_receipt AS r WHERE r.operator_id = p_operator AND r.sequence_number IS NULL
    ), numbered AS (
        UPDATE payments_receipt AS r
        SET sequence_number = v_last + w.position,
            number = p_prefix || '-R-' || CASE WHEN v_last + w.position < 1000000
                THEN lpad((v_last + w.position)::text, 6, '0') ELSE (v_last + w.position)::text END
        FROM waiting AS w WHERE r.id = w.id
        RETURNING r.id, r.sequence_number, r.number
    ), advanced AS (
        UPDATE core_sequence AS s SET last_value = s.last_value + (SELECT count(*) FROM waiting) WHERE s.id = v_sequence
    )
    SELECT n.id, n.sequence_number::bigint, n.number::text FROM numbered AS n;
END
$$;
"""


def function_create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_FUNCTION)


def function_drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS mita_receipts_number(bigint, text, boolean);")


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0010_online_review"),
        ("core", "0003_sequences"),
    ]

    operations = [migrations.RunPython(function_create, function_drop)]
