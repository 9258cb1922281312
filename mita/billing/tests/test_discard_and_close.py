"""Discarding a preview (drafts, lines and exceptions deleted, the cycle billable again) and closing a cycle (only
once its runs are issued; no run after), through the services, the pages and the API; roles and another operator."""

from decimal import Decimal

import pytest

from mita.billing.errors import BillingError
from mita.billing.models import Bill, BillException, BillingCycle, BillRun, BillRunUnit
from mita.billing.run import run_until_done
from mita.billing.services import billrun_approve, billrun_create, billrun_discard, cycle_close
from mita.billing.tests.world_billing import billing_world
from mita.core.models import AuditEntry

JSON = "application/json"
pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):
    return billing_world(operator_a)  # with the connections a run lists as exceptions


def _previewed(operator, world):
    run = billrun_create(operator=operator, cycle=world["cycle"], acting_user=None, background=False)
    return run_until_done(run, unit_size=4)


def _issued(run):
    return run_until_done(billrun_approve(run=run, acting_user=None, background=False))


def test_discarding_a_preview_deletes_its_drafts_and_lets_a_new_run_bill_the_cycle(operator_a, admin_a, world):
    # given a previewed run with 9 drafts and its exceptions
    run = _previewed(operator_a, world)
    assert run.bills == 9 and BillException.objects.filter(run=run).exists()
    total, exceptions = run.total, run.exceptions
    # when an operator admin discards it
    run = billrun_discard(run=run, acting_user=admin_a, reason="wrong readings on R2")
    # then its drafts (with their lines), its exceptions and units are gone, and the run says what it held
    assert run.status == BillRun.Status.DISCARDED and run.discarded_by == admin_a and run.discarded_at
    assert not Bill.objects.filter(run=run).exists()
    assert not BillException.objects.filter(run=run).exists() and not BillRunUnit.objects.filter(run=run).exists()
    assert (run.bills, run.total) == (0, Decimal(0)) and "9" in run.message
    entry = AuditEntry.objects.get(action="billing.run_discarded")
    assert {**entry.detail, "total": Decimal(entry.detail["total"])} == {
        "bills": 9,
        "total": total,
        "exceptions": exceptions,
        "reason": "wrong readings on R2",
    }
    # and a new run of the cycle bills the same connections again
    again = _previewed(operator_a, world)
    assert again.bills == 9 and again.total == total
    # a discarded run can be neither approved nor discarded again
    with pytest.raises(BillingError) as refused:
        billrun_approve(run=run, acting_user=admin_a, background=False)
    assert refused.value.code == "not_in_preview"
    with pytest.raises(BillingError):
        billrun_discard(run=run, acting_user=admin_a)


def test_an_issued_run_cannot_be_discarded(operator_a, admin_a, world):
    run = _issued(_previewed(operator_a, world))
    with pytest.raises(BillingError) as refused:
        billrun_discard(run=run, acting_user=admin_a)
    assert refused.value.code == "not_in_preview" and refused.value.status == 409
    assert Bill.objects.filter(run=run, status=Bill.Status.ISSUED).count() == 9


def test_the_run_page_and_the_api_discard_for_an_admin_only(client_for, operator_a, admin_a, staff_a, world):
    run = _previewed(operator_a, world)
    officer = client_for(staff_a)
    assert b"run-discard" not in officer.get(f"/billing/runs/{run.pk}/").content
    assert officer.post(f"/billing/runs/{run.pk}/discard/").status_code == 403
    assert officer.post(f"/api/v1/bill-runs/{run.pk}/discard", {}, content_type=JSON).status_code == 403
    admin = client_for(admin_a)
    page = admin.get(f"/billing/runs/{run.pk}/")
    assert b"run-discard" in page.content
    assert admin.post(f"/billing/runs/{run.pk}/discard/", {"reason": "test"}).status_code == 302
    page = admin.get(f"/billing/runs/{run.pk}/")
    assert b"run-discarded" in page.content and b"run-approve" not in page.content
    assert BillRun.objects.get(pk=run.pk).status == BillRun.Status.DISCARDED
    # the API, on a second preview
    second = _previewed(operator_a, world)
    body = admin.post(f"/api/v1/bill-runs/{second.pk}/discard", {"reason": "again"}, content_type=JSON)
    assert body.status_code == 200 and body.json()["status"] == "discarded" and body.json()["discarded_at"]
    twice = admin.post(f"/api/v1/bill-runs/{second.pk}/discard", {}, content_type=JSON)  # {}: no reason
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "not_in_preview"


def test_a_cycle_closes_only_once_its_runs_are_issued_and_then_takes_no_run(operator_a, admin_a, world):
    cycle = world["cycle"]
    run = _previewed(operator_a, world)
    # a run in preview keeps the cycle open, and the error names it
    with pytest.raises(BillingError) as refused:
        cycle_close(cycle=cycle, acting_user=admin_a)
    assert refused.value.code == "runs_unfinished" and f"#{run.pk}" in str(refused.value.message)
    # once it is issued, the cycle closes
    _issued(run)
    closed = cycle_close(cycle=cycle, acting_user=admin_a)
    assert closed.status == BillingCycle.Status.CLOSED and closed.closed_by == admin_a and closed.closed_at
    assert AuditEntry.objects.get(action="billing.cycle_closed").detail == {"code": cycle.code, "bills": 9}
    # and takes no new run, nor a second close
    with pytest.raises(BillingError) as no_run:
        billrun_create(operator=operator_a, cycle=cycle, acting_user=admin_a, background=False)
    assert no_run.value.code == "cycle_closed"
    with pytest.raises(BillingError) as twice:
        cycle_close(cycle=cycle, acting_user=admin_a)
    assert twice.value.code == "cycle_closed"


def test_a_discarded_run_does_not_keep_its_cycle_open(operator_a, admin_a, world):
    billrun_discard(run=_previewed(operator_a, world), acting_user=admin_a)
    assert cycle_close(cycle=world["cycle"], acting_user=admin_a).status == BillingCycle.Status.CLOSED


def test_the_calendar_page_and_the_api_close_a_cycle_for_an_admin_only(client_for, operator_a, admin_a, staff_a, world):
    cycle = world["cycle"]
    september = BillingCycle.objects.get(operator=operator_a, code="2026-09")
    officer = client_for(staff_a)
    assert b"cycle-close-2026-10" not in officer.get("/billing/cycles/?year=2026").content
    assert officer.post(f"/billing/cycles/{cycle.pk}/close/").status_code == 403
    assert officer.post(f"/api/v1/billing-cycles/{cycle.pk}/close").status_code == 403
    admin = client_for(admin_a)
    run = _previewed(operator_a, world)
    assert b"cycle-close-2026-10" in admin.get("/billing/cycles/?year=2026").content
    # refused with the reason while the run is in preview
    refused = admin.post(f"/billing/cycles/{cycle.pk}/close/", follow=True)
    assert refused.status_code == 200 and b"not issued" in refused.content
    assert BillingCycle.objects.get(pk=cycle.pk).status == BillingCycle.Status.OPEN
    body = admin.post(f"/api/v1/billing-cycles/{cycle.pk}/close")
    assert body.status_code == 409 and body.json()["error"]["code"] == "runs_unfinished"
    _issued(run)
    assert admin.post(f"/billing/cycles/{cycle.pk}/close/").status_code == 302
    assert BillingCycle.objects.get(pk=cycle.pk).status == BillingCycle.Status.CLOSED
    assert b"cycle-close-2026-10" not in admin.get("/billing/cycles/?year=2026").content
    # a cycle without runs closes through the API; the new run form no longer offers it
    body = admin.post(f"/api/v1/billing-cycles/{september.pk}/close")
    assert body.status_code == 200 and body.json()["status"] == "closed" and body.json()["closed_at"]
    refused_run = admin.post("/api/v1/bill-runs", {"cycle_id": cycle.pk}, content_type=JSON)
    assert refused_run.status_code == 400 and refused_run.json()["error"]["code"] == "cycle_closed"


def test_another_operator_gets_404_when_discarding_or_closing(client_for, operator_a, admin_b, world):
    run = _previewed(operator_a, world)
    cycle = world["cycle"]
    client = client_for(admin_b)
    assert client.post(f"/billing/runs/{run.pk}/discard/").status_code == 404
    assert client.post(f"/api/v1/bill-runs/{run.pk}/discard", {}, content_type=JSON).status_code == 404
    assert client.post(f"/billing/cycles/{cycle.pk}/close/").status_code == 404
    assert client.post(f"/api/v1/billing-cycles/{cycle.pk}/close").status_code == 404
    assert BillRun.objects.get(pk=run.pk).status == BillRun.Status.PREVIEW
    assert BillingCycle.objects.get(pk=cycle.pk).status == BillingCycle.Status.OPEN
