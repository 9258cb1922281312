"""Corrections pages and API: penalty rules, the penalty run, cancel and rebill on the bill page, the bills flagged by
index adjustments; bad input says what to fix; roles; another operator's user gets 404."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from mita.billing.models import Bill, BillCancellation, Penalty, PenaltyRule
from mita.billing.penalties import penalty_rule_save
from mita.billing.tasks_corrections import penalties_daily
from mita.billing.tests.world_corrections import issued_world
from mita.core.schedule import periodic_tasks
from mita.ledger.selectors import holder_balance
from mita.metering.adjustments import index_adjust
from mita.metering.models import Reading

D = Decimal
JSON = "application/json"
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):
    return issued_world(operator_a)


def _flat_rule(operator, amount="300", days=10):
    return penalty_rule_save(
        operator=operator,
        acting_user=None,
        name="Late fee",
        kind="flat",
        amount=amount,
        days_after_due=days,
        applies_from=datetime.date(2026, 1, 1),
    )


RULE_FORM = {
    "name": "Five percent",
    "kind": "percent",
    "rate": "5",
    "amount": "",
    "base": "bill",
    "days_after_due": "10",
    "minimum": "",
    "maximum": "",
    "applies_from": "2026-01-01",
    "active": "on",
}


def test_an_admin_adds_and_changes_a_rule_on_the_page(client_for, admin_a, operator_a):
    client = client_for(admin_a)
    assert client.post("/billing/penalties/rules/", RULE_FORM).status_code == 302
    rule = PenaltyRule.objects.get(operator=operator_a)
    assert rule.rate == D(5) and rule.kind == "percent" and rule.days_after_due == 10
    page = client.get("/billing/penalties/rules/")
    assert page.status_code == 200 and b"Five percent" in page.content
    changed = client.post(f"/billing/penalties/rules/{rule.pk}/", {**RULE_FORM, "rate": "7.5", "maximum": "1000"})
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert rule.rate == D("7.5") and rule.maximum == D(1000)


def test_a_bad_rule_on_the_page_says_which_field_to_fix(client_for, admin_a):
    client = client_for(admin_a)
    bad = client.post("/billing/penalties/rules/", {**RULE_FORM, "rate": "0"})
    assert bad.status_code == 400 and b"A percentage above 0" in bad.content
    bad = client.post("/billing/penalties/rules/", {**RULE_FORM, "days_after_due": "0"})
    assert bad.status_code == 400 and b"days_after_due" in bad.content
    assert not PenaltyRule.objects.exists()


def test_a_billing_officer_reads_the_rules_but_cannot_change_them(client_for, staff_a, operator_a):
    rule = _flat_rule(operator_a)
    client = client_for(staff_a)
    assert client.get("/billing/penalties/rules/").status_code == 200
    assert client.post("/billing/penalties/rules/", RULE_FORM).status_code == 403
    assert client.post(f"/billing/penalties/rules/{rule.pk}/", RULE_FORM).status_code == 403


def test_the_penalty_run_page_previews_then_levies_once(client_for, staff_a, operator_a, world):
    tap = world["tap_bill"]
    _flat_rule(operator_a)
    on = (tap.due_on + datetime.timedelta(days=10)).isoformat()
    client = client_for(staff_a)
    page = client.get(f"/billing/penalties/?on={on}")
    assert page.status_code == 200 and f"due-{tap.number}".encode() in page.content
    assert b"penalty-apply" in page.content and not Penalty.objects.exists()
    assert client.post("/billing/penalties/", {"on": on}).status_code == 302
    assert Penalty.objects.count() == len(world["bills"])
    assert holder_balance(operator=operator_a, holder=tap.account) == D(2300)
    client.post("/billing/penalties/", {"on": on})  # a second click levies nothing new
    assert Penalty.objects.count() == len(world["bills"])
    after = client.get(f"/billing/penalties/?on={on}")
    assert b"Nothing to levy." in after.content and tap.number.encode() in after.content
    assert client.get("/billing/penalties/?on=not-a-day").status_code == 400


def test_cancel_and_rebill_from_the_bill_page(client_for, admin_a, staff_a, operator_a, world):
    tap = world["tap_bill"]
    admin = client_for(admin_a)
    page = admin.get(f"/billing/bills/{tap.pk}/")
    assert page.status_code == 200 and b"bill-cancel" in page.content
    # a billing officer sees no cancel button and may not cancel
    staff = client_for(staff_a)
    assert b"bill-cancel" not in staff.get(f"/billing/bills/{tap.pk}/").content
    assert staff.post(f"/billing/bills/{tap.pk}/cancel/", {"reason": "x"}).status_code == 403
    # no reason: nothing happens
    admin.post(f"/billing/bills/{tap.pk}/cancel/", {"reason": ""})
    tap.refresh_from_db()
    assert tap.status == Bill.Status.ISSUED
    assert admin.post(f"/billing/bills/{tap.pk}/cancel/", {"reason": "Tap closed"}).status_code == 302
    tap.refresh_from_db()
    assert tap.status == Bill.Status.CANCELLED
    cancelled_page = staff.get(f"/billing/bills/{tap.pk}/")
    assert b"Tap closed" in cancelled_page.content and b"bill-rebill" in cancelled_page.content
    response = staff.post(f"/billing/bills/{tap.pk}/rebill/")
    new = BillCancellation.objects.get(bill=tap).rebill
    assert response.status_code == 302 and response.url == f"/billing/bills/{new.pk}/"
    new_page = staff.get(f"/billing/bills/{new.pk}/")
    assert b"bill-replaces" in new_page.content and tap.number.encode() in new_page.content
    assert holder_balance(operator=operator_a, holder=tap.account) == new.total == D(2000)


def test_the_flagged_list_cancels_and_rebills_an_adjusted_bill(client_for, admin_a, operator_a, world):
    number = f"{operator_a.prefix}-R1-02"
    old = world["bills"][number]
    reading = Reading.objects.get(connection__number=number, status="accepted", cycle="2026-10")
    index_adjust(reading=reading, current_index="105", reason="Misread", acting_user=None)
    client = client_for(admin_a)
    page = client.get("/billing/rebills/")
    assert page.status_code == 200 and f"rebill-{old.number}".encode() in page.content
    assert b"Misread" in page.content
    assert client.post(f"/billing/rebills/{old.pk}/").status_code == 302
    old.refresh_from_db()
    assert old.status == Bill.Status.CANCELLED and "Misread" in old.cancellation.reason
    assert old.cancellation.rebill.consumption == D(5)
    assert b"No bill waits for a rebill." in client.get("/billing/rebills/").content


def test_the_api_manages_rules_and_levies_penalties(client_for, admin_a, operator_a, world):
    client = client_for(admin_a)
    created = client.post(
        "/api/v1/penalty-rules",
        {"name": "2% of the balance", "kind": "percent", "rate": "2", "base": "balance", "days_after_due": 10,
         "applies_from": "2026-01-01"},
        content_type=JSON,
    )  # fmt: skip
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    bad = client.post("/api/v1/penalty-rules", {"name": "x", "kind": "flat", "amount": "-1"}, content_type=JSON)
    assert bad.status_code == 400 and "amount" in bad.json()["error"]["fields"]
    patched = client.patch(f"/api/v1/penalty-rules/{rule_id}", {"rate": "4"}, content_type=JSON)
    assert patched.status_code == 200 and D(patched.json()["rate"]) == D(4)
    tap = world["tap_bill"]
    on = (tap.due_on + datetime.timedelta(days=10)).isoformat()
    preview = client.get(f"/api/v1/penalties/preview?on={on}").json()
    row = next(row for row in preview if row["number"] == tap.number)
    assert D(row["base_amount"]) == D(2000) and D(row["amount"]) == D(80)
    applied = client.post("/api/v1/penalties/apply", {"on": on}, content_type=JSON).json()
    assert applied["levied"] == len(world["bills"])
    again = client.post("/api/v1/penalties/apply", {"on": on}, content_type=JSON).json()
    assert again["levied"] == 0 and D(again["total"]) == 0
    levied = client.get(f"/api/v1/penalties?bill_id={tap.pk}").json()
    assert [D(p["amount"]) for p in levied] == [D(80)]


def test_the_api_cancels_and_rebills(client_for, admin_a, staff_a, operator_a, world):
    tap = world["tap_bill"]
    blank = client_for(admin_a).post(f"/api/v1/bills/{tap.pk}/cancel", {"reason": " "}, content_type=JSON)
    assert blank.status_code == 400 and blank.json()["error"]["code"] == "reason_required"
    assert (
        client_for(staff_a).post(f"/api/v1/bills/{tap.pk}/cancel", {"reason": "x"}, content_type=JSON).status_code
        == 403
    )
    cancelled = client_for(admin_a).post(f"/api/v1/bills/{tap.pk}/cancel", {"reason": "Tap closed"}, content_type=JSON)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Tap closed"
    rebilled = client_for(staff_a).post(f"/api/v1/bills/{tap.pk}/rebill")
    assert rebilled.status_code == 201 and rebilled.json()["replaces_id"] == tap.pk
    assert D(rebilled.json()["total"]) == D(2000) and rebilled.json()["number"] != tap.number
    # sent again (a client retrying): the first results, nothing new; another reason is a conflict
    again = client_for(staff_a).post(f"/api/v1/bills/{tap.pk}/rebill")
    assert again.status_code == 200 and again.json()["id"] == rebilled.json()["id"]
    replay = client_for(admin_a).post(f"/api/v1/bills/{tap.pk}/cancel", {"reason": "Tap closed"}, content_type=JSON)
    assert replay.status_code == 200 and replay.json()["replaced_by_id"] == rebilled.json()["id"]
    other = client_for(admin_a).post(f"/api/v1/bills/{tap.pk}/cancel", {"reason": "Other"}, content_type=JSON)
    assert other.status_code == 409 and other.json()["error"]["code"] == "already_cancelled"
    assert Bill.objects.filter(connection=tap.connection, cycle=tap.cycle).count() == 2
    assert client_for(admin_a).get("/api/v1/bills-to-rebill").json() == []


def test_another_operator_gets_404_for_rules_bills_and_rebills(client_for, admin_b, operator_a, world):
    tap = world["tap_bill"]
    rule = _flat_rule(operator_a)
    client = client_for(admin_b)
    for url in (f"/billing/penalties/rules/{rule.pk}/", f"/api/v1/penalty-rules/{rule.pk}"):
        assert client.get(url).status_code == 404, url
    for url in (
        f"/billing/bills/{tap.pk}/cancel/",
        f"/billing/bills/{tap.pk}/rebill/",
        f"/billing/rebills/{tap.pk}/",
        f"/api/v1/bills/{tap.pk}/rebill",
    ):
        assert client.post(url, {"reason": "x"}).status_code == 404, url
    assert client.post(f"/api/v1/bills/{tap.pk}/cancel", {"reason": "x"}, content_type=JSON).status_code == 404
    assert client.patch(f"/api/v1/penalty-rules/{rule.pk}", {"rate": "1"}, content_type=JSON).status_code == 404
    on = (tap.due_on + datetime.timedelta(days=30)).isoformat()
    assert client.get(f"/api/v1/penalties/preview?on={on}").json() == []
    assert client.post("/api/v1/penalties/apply", {"on": on}, content_type=JSON).json()["levied"] == 0
    assert tap.number.encode() not in client.get(f"/billing/penalties/?on={on}").content
    assert client.get("/api/v1/penalty-rules").json() == []
    tap.refresh_from_db()
    assert tap.status == Bill.Status.ISSUED and not Penalty.objects.exists()


def test_the_regulator_has_no_penalty_pages(client_for, regulator_viewer, operator_a):
    client = client_for(regulator_viewer)
    assert client.get("/billing/penalties/").status_code == 404
    assert client.get("/api/v1/penalty-rules").status_code == 404


def test_the_daily_task_levies_todays_penalties_once(operator_a, world):
    tap = world["tap_bill"]
    today = timezone.localdate()
    assert tap.due_on < today  # October's bills are due in November
    _flat_rule(operator_a, days=1)
    assert "billing.penalties_daily" in {periodic.name for periodic in periodic_tasks()}
    assert penalties_daily.call() == len(world["bills"])
    assert penalties_daily.call() == 0
    assert Penalty.objects.get(bill=tap).on == today
