"""A bill's lines move from rows of their own (BillLine) onto the bill (`Bill.lines`, JSON text; see mita/billing/lines.py).

The lines are copied over in batches of bills before the table is dropped; going back copies them out again."""

import json
from decimal import Decimal

from django.db import migrations, models

BATCH = 2000


def _text(value):
    return format(value, "f")


def lines_onto_bills(apps, schema_editor):
    Bill = apps.get_model("billing", "Bill")
    BillLine = apps.get_model("billing", "BillLine")
    alias = schema_editor.connection.alias
    bill_ids = list(
        BillLine.objects.using(alias).order_by("bill_id").values_list("bill_id", flat=True).distinct()
    )
    for start in range(0, len(bill_ids), BATCH):
        chunk = bill_ids[start : start + BATCH]
        stored = {pk: [] for pk in chunk}
        for bill_id, label, quantity, rate, amount, head, vat, kind in (
            BillLine.objects.using(alias)
            .filter(bill_id__in=chunk)
            .order_by("bill_id", "position")
            .values_list("bill_id", "label", "quantity", "rate", "amount", "head", "vat", "kind")
        ):
            stored[bill_id].append(
                {
                    "label": label,
                    "quantity": _text(quantity),
                    "rate": _text(rate),
                    "amount": _text(amount),
                    "head": head,
                    "vat": _text(vat),
                    "kind": kind,
                }
            )
        bills = list(Bill.objects.using(alias).filter(pk__in=chunk).only("pk"))
        for bill in bills:
            bill.lines_kept = json.dumps(stored[bill.pk], separators=(",", ":"), ensure_ascii=False)
        Bill.objects.using(alias).bulk_update(bills, ["lines_kept"], batch_size=500)


def lines_off_bills(apps, schema_editor):
    Bill = apps.get_model("billing", "Bill")
    BillLine = apps.get_model("billing", "BillLine")
    alias = schema_editor.connection.alias
    rows = []
    for pk, text in Bill.objects.using(alias).exclude(lines_kept="[]").values_list("pk", "lines_kept").iterator():
        rows.extend(
            BillLine(
                bill_id=pk,
                position=position,
                label=item["label"],
                quantity=Decimal(item["quantity"]),
                rate=Decimal(item["rate"]),
                amount=Decimal(item["amount"]),
                head=item["head"],
                vat=Decimal(item["vat"]),
                kind=item["kind"],
            )
            for position, item in enumerate(json.loads(text or "[]"), start=1)
        )
        if len(rows) >= BATCH:
            BillLine.objects.using(alias).bulk_create(rows)
            rows = []
    BillLine.objects.using(alias).bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_unit_numbers_reserved"),
    ]

    operations = [
        # Named lines_kept until BillLine (whose reverse accessor is "lines") is gone
        migrations.AddField(
            model_name="bill",
            name="lines_kept",
            field=models.TextField(blank=True, default="[]", verbose_name="lines"),
        ),
        migrations.RunPython(lines_onto_bills, lines_off_bills, elidable=False),
        migrations.DeleteModel(name="BillLine"),
        migrations.RenameField(model_name="bill", old_name="lines_kept", new_name="lines"),
    ]
