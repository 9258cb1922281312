"""The payload samples in docs/online-payments.md are what the code reads and the fake takes."""

import re
from decimal import Decimal
from pathlib import Path

from mita.integrations.gateway.client import loads, parse_transaction, parse_webhook
from mita.integrations.gateway.fake import _checkout_problem

DOC = Path(__file__).resolve().parents[4] / "docs" / "online-payments.md"


def samples() -> list[dict]:
    return [loads(sample) for sample in re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)]


def test_every_json_sample_parses_and_each_kind_reads():
    kinds = set()
    for body in samples():
        if body.get("event") == "charge.completed":
            event = parse_webhook(body)
            assert (event.transaction_id, event.amount) == ("4975363", Decimal("1500"))
            kinds.add("webhook")
        elif body.get("message") == "Transaction fetched successfully":
            transaction = parse_transaction(body["data"])
            assert transaction.is_successful and transaction.amount == Decimal("1500")
            assert transaction.reference == "AAL-6f1c3a528d4e4b7a9c210e5d2f4b8a17"
            kinds.add("verify")
        elif "tx_ref" in body:
            assert _checkout_problem(body) == ""
            kinds.add("checkout")
        elif body.get("message") == "Hosted Link":
            kinds.add("link")
        elif body.get("status") == "error":
            kinds.add("error")
    assert kinds == {"webhook", "verify", "checkout", "link", "error"}
