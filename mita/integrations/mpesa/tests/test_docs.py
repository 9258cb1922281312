"""The payload samples in docs/mpesa.md are what the code reads and writes."""

import json
import re
from pathlib import Path

from mita.integrations.mpesa.fake import SANDBOX_PASSKEY, FakeDaraja, _stk_problem
from mita.integrations.mpesa.protocol import loads, parse_c2b, parse_stk_callback, password

DOC = Path(__file__).resolve().parents[4] / "docs" / "mpesa.md"


def samples() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_every_json_sample_parses_and_the_callbacks_read():
    kinds = set()
    for sample in samples():
        body = loads(sample.encode())
        if "TransID" in body:
            assert parse_c2b(body).trans_id == "RKTQDM7W6S"
            kinds.add("c2b")
        elif "Body" in body:
            result = parse_stk_callback(body)
            kinds.add("stk paid" if result.paid else "stk failed")
    assert kinds == {"c2b", "stk paid", "stk failed"}


def test_the_stk_push_sample_is_one_daraja_would_take():
    [push] = [json.loads(s) for s in samples() if '"CustomerPayBillOnline"' in s]
    assert push["Password"] == password("174379", SANDBOX_PASSKEY, push["Timestamp"])
    push["CallBackURL"] = "https://mita.example.org/payments/daraja/5f0c/stk/result/"
    with FakeDaraja() as fake:  # it knows the sandbox shortcode's passkey
        assert _stk_problem(fake, push) == ""


def test_the_stk_query_samples_are_what_the_client_sends_and_reads():
    from mita.integrations.mpesa.fake import _stk_query_problem
    from mita.integrations.mpesa.protocol import parse_stk_query

    bodies = [json.loads(s) for s in samples()]
    [request] = [
        body for body in bodies if set(body) == {"BusinessShortCode", "Password", "Timestamp", "CheckoutRequestID"}
    ]
    assert request["Password"] == password("174379", SANDBOX_PASSKEY, request["Timestamp"])
    with FakeDaraja() as fake:  # it knows the sandbox shortcode's passkey
        assert _stk_query_problem(fake, request) == ""
    answers = [
        parse_stk_query(body) for body in bodies if {"ResponseCode", "ResultCode"} <= set(body) or "errorCode" in body
    ]
    outcomes = {(answer.pending, answer.result_code) for answer in answers}
    assert outcomes == {(False, 0), (False, 1032), (True, None)}
    assert all(answer.checkout_request_id == request["CheckoutRequestID"] for answer in answers)
