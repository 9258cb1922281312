"""Billing pages and API: the calendar, a run from preview to publish, bills; bad input; another operator's 404."""

from decimal import Decimal

import pytest

from mita.billing.models import Bill, BillingCycle, BillRun
from mita.billing.run import compute_unit, plan, run_until_done
from mita.billing.services import billrun_approve, billrun_create
from mita.billing.tests.world_billing import billing_world
from mita.core.jobs import job_fail, job_start
from mita.notifications.models import OutboxMessage

JSON = "application/json"
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):
    return billing_world(operator_a, with_exceptions=False)


def _previewed(operator, world):
    run = billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False)
    return run_until_done(run)


def test_the_calendar_page_makes_a_year_of_quarters_once(client_for, staff_a, operator_a):
    client = client_for(staff_a)
    form = {"year": 2027, "frequency": "quarterly", "due_days": 20, "window_before": 3, "window_after": 7}
    assert client.post("/billing/cycles/", form).status_code == 302
    assert client.post("/billing/cycles/", form).status_code == 302  # idempotent
    cycles = BillingCycle.objects.filter(operator=operator_a, start__year=2027).order_by("start")
    assert [cycle.code for cycle in cycles] == ["2027-Q1", "2027-Q2", "2027-Q3", "2027-Q4"]
    q4 = cycles.last()
    assert str(q4.end) == "2027-12-31" and str(q4.read_to) == "2028-01-07" and str(q4.due_on) == "2028-01-28"
    assert q4.months == ["2027-10", "2027-11", "2027-12"]
    page = client.get("/billing/cycles/?year=2027")
    assert page.status_code == 200 and b"2027-Q3" in page.content
    bad = client.post("/billing/cycles/", {**form, "due_days": -1})
    assert bad.status_code == 400 and b"due_days" in bad.content


def test_a_run_goes_from_the_new_run_form_to_published_through_the_pages(client_for, staff_a, operator_a, world):
    client = client_for(staff_a)
    response = client.post("/billing/runs/new/", {"cycle": world["cycle"].pk, "scope_kind": "operator"})
    assert response.status_code == 302
    run = BillRun.objects.get(operator=operator_a)
    run_until_done(run)  # the background step (its task runs after commit, which a rolled-back test never reaches)
    page = client.get(f"/billing/runs/{run.pk}/")
    assert page.status_code == 200 and b"Preview" in page.content and b"run-approve" in page.content
    partial = client.get(f"/billing/runs/{run.pk}/", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and b"<h1>" not in partial.content and b"run-progress" in partial.content
    assert client.post(f"/billing/runs/{run.pk}/approve/").status_code == 302
    run = run_until_done(run)
    assert run.status == BillRun.Status.ISSUED and run.approved_by == staff_a
    assert client.post(f"/billing/runs/{run.pk}/publish/").status_code == 302
    run = run_until_done(run)
    assert run.status == BillRun.Status.PUBLISHED
    bills = Bill.objects.filter(run=run)
    assert all(bill.published_at for bill in bills)
    sms = OutboxMessage.objects.filter(operator=operator_a, template="billing.bill_issued_no_link")
    assert sms.count() == bills.count() == 9
    one = bills.order_by("number").first()
    assert any(one.number in message.body for message in sms)
    # the bills table and a bill
    listing = client.get("/billing/bills/?cycle=2026-10")
    assert listing.status_code == 200 and one.number.encode() in listing.content
    assert operator_a.name.encode() in listing.content
    detail = client.get(f"/billing/bills/{one.pk}/")
    assert (
        detail.status_code == 200 and b"Service charge" in detail.content and str(one.total).encode() in detail.content
    )


def test_a_run_needing_a_scope_says_so_next_to_the_field(client_for, staff_a, world):
    response = client_for(staff_a).post("/billing/runs/new/", {"cycle": world["cycle"].pk, "scope_kind": "route"})
    assert response.status_code == 400 and b"Give the route" in response.content
    assert not BillRun.objects.exists()


def test_the_api_creates_reads_approves_and_lists_bills(client_for, staff_a, operator_a, world):
    client = client_for(staff_a)
    created = client.post("/api/v1/bill-runs", {"cycle_id": world["cycle"].pk}, content_type=JSON)
    assert created.status_code == 201, created.content
    run = BillRun.objects.get(pk=created.json()["id"])
    run_until_done(run)
    body = client.get(f"/api/v1/bill-runs/{run.pk}").json()
    assert body["status"] == "preview" and body["bills"] == 9 and body["units_total"] >= 1
    assert client.post(f"/api/v1/bill-runs/{run.pk}/approve").json()["status"] == "issuing"
    again = client.post(f"/api/v1/bill-runs/{run.pk}/approve")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_in_preview"
    run_until_done(run)
    bills = client.get(f"/api/v1/bills?bill_run_id={run.pk}").json()
    assert len(bills) == 9 and all(bill["number"] for bill in bills)
    one = client.get(f"/api/v1/bills/{bills[0]['id']}").json()
    assert one["lines"] and sum(Decimal(line["amount"]) for line in one["lines"]) == Decimal(one["total"])
    assert client.get("/api/v1/billing-cycles?year=2026").json()[9]["code"] == "2026-10"


def test_the_api_says_what_to_fix(client_for, staff_a, world):
    client = client_for(staff_a)
    bad = client.post("/api/v1/bill-runs", {"cycle_id": world["cycle"].pk, "scope_kind": "planet"}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "scope_invalid"
    bad = client.post("/api/v1/billing-cycles", {"year": 1900}, content_type=JSON)
    assert bad.status_code == 400 and "year" in bad.json()["error"]["fields"]


def test_another_operator_gets_404_for_cycles_runs_and_bills(client_for, admin_b, operator_a, world):
    run = run_until_done(billrun_approve(run=_previewed(operator_a, world), acting_user=None, background=False))
    bill = Bill.objects.filter(run=run).first()
    client = client_for(admin_b)
    for url in (
        f"/billing/runs/{run.pk}/",
        f"/billing/bills/{bill.pk}/",
        f"/api/v1/bill-runs/{run.pk}",
        f"/api/v1/bills/{bill.pk}",
        f"/api/v1/billing-cycles/{world['cycle'].pk}",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/billing/runs/{run.pk}/publish/").status_code == 404
    assert client.post(f"/api/v1/bill-runs/{run.pk}/publish").status_code == 404
    assert client.post("/api/v1/bill-runs", {"cycle_id": world["cycle"].pk}, content_type=JSON).status_code == 404
    assert client.get("/api/v1/bills").json() == [] and client.get("/api/v1/bill-runs").json() == []
    assert bill.account.encode() not in client.get("/billing/bills/").content


def test_the_regulator_reads_bills_of_every_operator_but_cannot_approve(
    client_for, regulator_viewer, operator_a, world
):
    run = _previewed(operator_a, world)
    client = client_for(regulator_viewer)
    assert client.get(f"/billing/runs/{run.pk}/").status_code == 200
    assert client.post(f"/billing/runs/{run.pk}/approve/").status_code == 403
    assert client.post(f"/api/v1/bill-runs/{run.pk}/approve").status_code == 403


def test_a_run_whose_step_failed_is_resumed_from_its_page_and_finishes(client_for, staff_a, operator_a, world):
    # a run whose worker computed one unit and then died
    run = billrun_create(operator=operator_a, cycle=world["cycle"], acting_user=None, background=False)
    plan(run, unit_size=4)
    job_start(job_id=run.job_id, total=run.units.count())
    first = run.units.order_by("position").first()
    compute_unit(BillRun.objects.select_related("operator", "cycle").get(pk=run.pk), first.pk)
    job_fail(job_id=run.job_id, message="worker died")
    client = client_for(staff_a)
    page = client.get(f"/billing/runs/{run.pk}/")
    assert b"run-resume" in page.content and f'hx-get="/billing/runs/{run.pk}/"'.encode() not in page.content
    assert client.post(f"/billing/runs/{run.pk}/resume/").status_code == 302
    run = run_until_done(run)
    assert run.status == BillRun.Status.PREVIEW and run.bills == 9
    assert client.post(f"/billing/runs/{run.pk}/resume/").status_code == 302  # refused with a message: nothing to do
    assert BillRun.objects.get(pk=run.pk).status == BillRun.Status.PREVIEW
