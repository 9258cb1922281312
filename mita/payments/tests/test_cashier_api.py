"""The cashier-session API: tills opened and closed with a count, banking slips, the day-end report, and collectors'
hand-overs from the field app (idempotent by key), with roles and another operator's 404s."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from mita.accounts.roles import Role
from mita.payments.cashier import handover_record, till_close, till_open
from mita.payments.models_cashier import BankingSlip, CashHandover, TillSession
from mita.payments.tests.cashier_world import also, cash_account, charge, take
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
SHORT = {"5000": 1, "1000": 1, "500": 1, "100": 4}  # 6,900


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


@pytest.fixture
def collector_a(operator_a):
    return member(Role.REVENUE_COLLECTOR, operator_a, name="Colin Collector")


@pytest.fixture
def charged(operator_a):
    charge(operator_a, "100000")
    return operator_a


def payment_body(amount, channel="cash_office"):
    return {
        "account_reference": "AAL-0001",
        "amount": amount,
        "channel": channel,
        "idempotency_key": str(uuid.uuid4()),
    }


# Tills ----------------------------------------------------------------------------------------------------------


def test_a_cashier_opens_takes_cash_and_closes_a_till_through_the_api(charged, cashier_a, client_for):
    client = client_for(cashier_a)
    # when the cashier's app opens a till with 5,000 (and sends it again: the answer was lost)
    body = {"float_amount": "5000", "idempotency_key": "open-1"}
    opened = post(client, "/api/v1/tills", body)
    again = post(client, "/api/v1/tills", body)
    assert opened.status_code == 201, opened.content
    assert again.status_code == 200 and again.json()["id"] == opened.json()["id"]
    till_id = opened.json()["id"]
    assert client.get("/api/v1/tills/current").json()["id"] == till_id
    # and takes two cash payments
    for amount in ("1200", "800"):
        assert post(client, "/api/v1/payments", payment_body(amount)).status_code == 201
    till = client.get(f"/api/v1/tills/{till_id}").json()
    assert till["status"] == "open" and till["payments_count"] == 2
    assert Decimal(till["cash_taken"]) == Decimal("2000") and Decimal(till["expected"]) == Decimal("7000")
    # a count 100 short without an explanation is a 400 naming the field
    refused = post(client, f"/api/v1/tills/{till_id}/close", {"counts": SHORT})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "explanation_required"
    assert "explanation" in refused.json()["error"]["fields"]
    assert "100 RWF short" in refused.json()["error"]["message"]
    # with the explanation the till closes with its variance
    close = {"counts": SHORT, "explanation": "Wrong change to a customer"}
    closed = post(client, f"/api/v1/tills/{till_id}/close", close)
    assert closed.status_code == 200, closed.content
    closed_till = closed.json()
    assert closed_till["status"] == "closed"
    assert Decimal(closed_till["counted"]) == Decimal("6900") and Decimal(closed_till["variance"]) == Decimal("-100")
    assert closed_till["counts"] == {"5000": 1, "1000": 1, "500": 1, "100": 4}
    assert Decimal(closed_till["bankable"]) == Decimal("1900")
    # the same close again answers the closed till; another count is a 409
    assert post(client, f"/api/v1/tills/{till_id}/close", close).status_code == 200
    conflict = post(client, f"/api/v1/tills/{till_id}/close", {"counts": {"5000": 2}, "explanation": "x"})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "till_closed"
    assert client.get("/api/v1/tills/current").status_code == 404


def test_a_second_open_till_is_a_409_and_a_bad_float_a_400(operator_a, cashier_a, client_for):
    client = client_for(cashier_a)
    assert post(client, "/api/v1/tills", {"float_amount": "1000"}).status_code == 201
    second = post(client, "/api/v1/tills", {"float_amount": "1000"})
    assert second.status_code == 409 and second.json()["error"]["code"] == "till_already_open"
    for bad in ("-1", "10.5", "1e3", "ten"):
        response = post(client_for(member(Role.CASHIER, operator_a)), "/api/v1/tills", {"float_amount": bad})
        assert response.status_code == 400, bad
        assert "float_amount" in response.json()["error"]["fields"]
    assert TillSession.objects.count() == 1


def test_a_count_of_a_note_that_does_not_exist_is_a_400(operator_a, cashier_a, client_for):
    client = client_for(cashier_a)
    till_id = post(client, "/api/v1/tills", {"float_amount": "0"}).json()["id"]
    response = post(client, f"/api/v1/tills/{till_id}/close", {"counts": {"3000": 1}, "explanation": "x"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "count_invalid"
    assert "3000" in response.json()["error"]["fields"]["counts"][0]
    assert TillSession.objects.get().is_open


def test_a_cashier_sees_their_own_tills_and_a_supervisor_all(operator_a, cashier_a, treasurer_a, client_for):
    mine = till_open(operator=operator_a, cashier=cashier_a, float_amount=Decimal("0"))
    colleague = member(Role.CASHIER, operator_a)
    theirs = till_open(operator=operator_a, cashier=colleague, float_amount=Decimal("0"))
    client = client_for(cashier_a)
    assert [t["id"] for t in client.get("/api/v1/tills").json()["items"]] == [mine.pk]
    assert client.get(f"/api/v1/tills/{theirs.pk}").status_code == 404
    assert post(client, f"/api/v1/tills/{theirs.pk}/close", {"counts": {}}).status_code == 404
    supervisor = client_for(treasurer_a)
    assert {t["id"] for t in supervisor.get("/api/v1/tills").json()["items"]} == {mine.pk, theirs.pk}
    closed = post(supervisor, f"/api/v1/tills/{theirs.pk}/close", {"counts": {}})
    assert closed.status_code == 200 and closed.json()["closed_by_id"] == treasurer_a.pk


@pytest.mark.parametrize("role", [Role.REVENUE_COLLECTOR, Role.BILLING_OFFICER])
def test_a_collector_or_other_role_has_no_till_endpoints(operator_a, cashier_a, client_for, role):
    till = till_open(operator=operator_a, cashier=cashier_a, float_amount=Decimal("0"))
    client = client_for(member(role, operator_a))
    assert client.get("/api/v1/tills").status_code == 403
    assert client.get(f"/api/v1/tills/{till.pk}").status_code == 403
    assert post(client, "/api/v1/tills", {"float_amount": "0"}).status_code == 403
    assert post(client, f"/api/v1/tills/{till.pk}/close", {"counts": {}}).status_code == 403


def test_the_denominations_of_the_operators_currency(operator_a, cashier_a, client_for):
    denominations = client_for(cashier_a).get("/api/v1/cash/denominations").json()
    assert [d["key"] for d in denominations] == ["5000", "2000", "1000", "500", "100", "50", "20", "10", "5", "1"]
    assert denominations[0]["form"] == "note" and denominations[-1]["form"] == "coin"


# Banking -------------------------------------------------------------------------------------------------------


def test_a_banking_slip_is_201_then_200_on_replay_and_409_with_another_body(charged, cashier_a, client_for):
    till = till_open(operator=charged, cashier=cashier_a, float_amount=Decimal("5000"))
    take(charged, cashier_a, "2000")
    till_close(till=till, counts=SHORT, explanation="short", acting_user=cashier_a)
    client = client_for(cashier_a)
    body = {
        "till_id": till.pk,
        "bank_name": "Bank of Kigali",
        "slip_number": "BK-1",
        "amount": "1900",
        "deposited_on": timezone.localdate().isoformat(),
        "idempotency_key": "slip-1",
    }
    first = post(client, "/api/v1/banking-slips", body)
    assert first.status_code == 201, first.content
    assert post(client, "/api/v1/banking-slips", body).status_code == 200
    conflict = post(client, "/api/v1/banking-slips", body | {"amount": "1000"})
    assert conflict.status_code == 409
    assert BankingSlip.objects.count() == 1
    assert cash_account(charged, "clearing:bank") == Decimal("1900")
    assert [s["id"] for s in client.get("/api/v1/banking-slips").json()["items"]] == [first.json()["id"]]
    # a colleague's till does not exist for this cashier
    colleague_till = till_open(operator=charged, cashier=member(Role.CASHIER, charged), float_amount=Decimal("0"))
    response = post(client, "/api/v1/banking-slips", body | {"till_id": colleague_till.pk, "idempotency_key": "x"})
    assert response.status_code == 404


# The day-end report ----------------------------------------------------------------------------------------------


def test_the_day_end_report_per_person_a_cashier_sees_only_their_own(
    charged, cashier_a, collector_a, treasurer_a, client_for
):
    # given a cashier's till (float 5,000; 1,200 and 800 taken; counted 6,900) and a collector's 3,000 in the field
    till = till_open(operator=charged, cashier=cashier_a, float_amount=Decimal("5000"))
    take(charged, cashier_a, "1200")
    take(charged, cashier_a, "800")
    till_close(till=till, counts=SHORT, explanation="change", acting_user=cashier_a)
    take(charged, collector_a, "3000", channel="cash_field")
    handover_record(
        operator=charged, collector=collector_a, treasurer=treasurer_a, amount=Decimal("2500"), idempotency_key="h1"
    )
    today = timezone.localdate().isoformat()
    # the treasurer sees both people
    [day] = client_for(treasurer_a).get(f"/api/v1/cash/day-end?date_from={today}&date_to={today}").json()
    assert day["day"] == today and day["payments_count"] == 3
    people = {person["name"]: person for person in day["people"]}
    carla, colin = people["Carla Cashier"], people["Colin Collector"]
    assert [(c["channel"], c["count"], Decimal(c["amount"])) for c in carla["channels"]] == [
        ("cash_office", 2, Decimal("2000"))
    ]
    assert Decimal(carla["float_amount"]) == Decimal("5000") and Decimal(carla["expected"]) == Decimal("7000")
    assert Decimal(carla["counted"]) == Decimal("6900") and Decimal(carla["variance"]) == Decimal("-100")
    assert carla["tills"][0]["explanation"] == "change"
    assert [(c["channel"], c["count"]) for c in colin["channels"]] == [("cash_field", 1)]
    assert Decimal(colin["handover_pending"]) == Decimal("2500") and colin["tills"] == []
    # the cashier sees only herself
    [own] = client_for(cashier_a).get("/api/v1/cash/day-end").json()
    assert [person["name"] for person in own["people"]] == ["Carla Cashier"]
    # a range backwards is a 400
    assert (
        client_for(treasurer_a).get("/api/v1/cash/day-end?date_from=2026-02-01&date_to=2026-01-01").status_code == 400
    )


# Hand-overs -------------------------------------------------------------------------------------------------------


def test_a_collector_hands_over_from_the_field_app_and_the_treasurer_confirms(
    charged, collector_a, treasurer_a, client_for
):
    take(charged, collector_a, "5000", channel="cash_field")
    field_app = client_for(collector_a)
    assert [t["id"] for t in field_app.get("/api/v1/handovers/treasurers").json()] == [treasurer_a.pk]
    body = {
        "amount": "3000",
        "treasurer_id": treasurer_a.pk,
        "idempotency_key": str(uuid.uuid4()),
        "counts": {"2000": 1, "1000": 1},
    }
    first = post(field_app, "/api/v1/handovers", body)
    assert first.status_code == 201, first.content
    assert post(field_app, "/api/v1/handovers", body).status_code == 200
    assert post(field_app, "/api/v1/handovers", body | {"amount": "2000", "counts": {}}).status_code == 409
    handover_id = first.json()["id"]
    [mine] = field_app.get("/api/v1/handovers/cash-in-hand").json()
    assert Decimal(mine["in_hand"]) == Decimal("5000") and Decimal(mine["available"]) == Decimal("2000")
    # the collector cannot confirm it
    assert post(field_app, f"/api/v1/handovers/{handover_id}/confirm").status_code == 403
    # the treasurer confirms
    confirmed = post(client_for(treasurer_a), f"/api/v1/handovers/{handover_id}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    [mine] = field_app.get("/api/v1/handovers/cash-in-hand").json()
    assert Decimal(mine["in_hand"]) == Decimal("2000")
    assert cash_account(charged, "clearing:cash_office") == Decimal("3000")


def test_a_hand_over_over_the_cash_in_hand_or_to_a_non_treasurer_is_a_400(
    charged, collector_a, treasurer_a, cashier_a, client_for
):
    take(charged, collector_a, "1000", channel="cash_field")
    client = client_for(collector_a)
    body = {"amount": "1500", "treasurer_id": treasurer_a.pk, "idempotency_key": "k1"}
    too_much = post(client, "/api/v1/handovers", body)
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "more_than_in_hand"
    to_cashier = post(client, "/api/v1/handovers", body | {"amount": "500", "treasurer_id": cashier_a.pk})
    assert to_cashier.status_code == 400 and "treasurer_id" in to_cashier.json()["error"]["fields"]
    assert not CashHandover.objects.exists()


def test_who_may_confirm_or_dispute_a_hand_over(charged, collector_a, treasurer_a, cashier_a, client_for):
    take(charged, collector_a, "3000", channel="cash_field")
    two_hats = also(member(Role.TREASURER, charged), Role.REVENUE_COLLECTOR, charged)
    take(charged, two_hats, "1000", channel="cash_field")
    own = handover_record(
        operator=charged, collector=two_hats, treasurer=treasurer_a, amount=Decimal("1000"), idempotency_key="own"
    )
    # a collector who is also a treasurer still cannot confirm their own
    refused = post(client_for(two_hats), f"/api/v1/handovers/{own.pk}/confirm")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "own_handover"
    # a cashier has no hand-over endpoints at all
    handover = handover_record(
        operator=charged, collector=collector_a, treasurer=treasurer_a, amount=Decimal("3000"), idempotency_key="c1"
    )
    cashier = client_for(cashier_a)
    assert post(cashier, f"/api/v1/handovers/{handover.pk}/confirm").status_code == 403
    assert cashier.get("/api/v1/handovers").status_code == 403
    # a dispute needs a reason, then keeps the cash in the collector's hand
    treasurer = client_for(treasurer_a)
    empty = post(treasurer, f"/api/v1/handovers/{handover.pk}/dispute", {"reason": " "})
    assert empty.status_code == 400 and "reason" in empty.json()["error"]["fields"]
    disputed = post(treasurer, f"/api/v1/handovers/{handover.pk}/dispute", {"reason": "2,500 in the bag"})
    assert disputed.status_code == 200 and disputed.json()["status"] == "disputed"
    assert post(treasurer, f"/api/v1/handovers/{handover.pk}/confirm").status_code == 409
    # a collector sees only their own hand-overs
    assert [h["id"] for h in client_for(collector_a).get("/api/v1/handovers").json()["items"]] == [handover.pk]
    assert client_for(collector_a).get(f"/api/v1/handovers/{own.pk}").status_code == 404


# Another operator --------------------------------------------------------------------------------------------------


def test_another_operators_admin_gets_404_for_our_tills_slips_and_hand_overs(
    charged, cashier_a, collector_a, treasurer_a, admin_b, client_for
):
    till = till_open(operator=charged, cashier=cashier_a, float_amount=Decimal("0"))
    take(charged, cashier_a, "1000")
    take(charged, collector_a, "1000", channel="cash_field")
    handover = handover_record(
        operator=charged, collector=collector_a, treasurer=treasurer_a, amount=Decimal("1000"), idempotency_key="h"
    )
    outsider = client_for(admin_b)
    assert outsider.get(f"/api/v1/tills/{till.pk}").status_code == 404
    assert post(outsider, f"/api/v1/tills/{till.pk}/close", {"counts": {"1000": 1}}).status_code == 404
    assert outsider.get(f"/api/v1/handovers/{handover.pk}").status_code == 404
    assert post(outsider, f"/api/v1/handovers/{handover.pk}/confirm").status_code == 404
    assert post(outsider, f"/api/v1/handovers/{handover.pk}/dispute", {"reason": "x"}).status_code == 404
    slip = {
        "till_id": till.pk,
        "bank_name": "BK",
        "slip_number": "1",
        "amount": "100",
        "deposited_on": timezone.localdate().isoformat(),
        "idempotency_key": "b",
    }
    assert post(outsider, "/api/v1/banking-slips", slip).status_code == 404
    assert outsider.get("/api/v1/tills").json()["items"] == []
    assert outsider.get("/api/v1/handovers").json()["items"] == []
    assert outsider.get("/api/v1/handovers/cash-in-hand").json() == []
    assert outsider.get("/api/v1/cash/day-end").json() == []
    till.refresh_from_db()
    handover.refresh_from_db()
    assert till.is_open and handover.status == CashHandover.Status.PENDING
