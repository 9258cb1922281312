"""The household view: a connection's financial year as month cards (paid, unpaid, not billed) with totals and
actions; page and API; another operator's connection is a 404."""

import datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from mita.accounts.roles import Role
from mita.billing.cycles import cycles_generate
from mita.billing.household import financial_year_of, financial_year_start_month, household
from mita.billing.models import BillingCycle
from mita.billing.tests.world_documents import issued_world, pay
from mita.customers.models import Connection
from mita.ledger.selectors import holder_balance
from mita.payments.models import Payment
from mita.testing.factories import member

D = Decimal
pytestmark = pytest.mark.django_db
JANUARY_2027 = datetime.date(2027, 1, 20)


@pytest.fixture
def world(operator_a):
    world = issued_world(operator_a)
    # R1-03 paid its October bill and its arrears in November; R2-01 paid part of its bill
    r103 = world["bills"]["AAL-R1-03"]
    world["payment"] = pay(
        operator_a, "AAL-R1-03", r103.total + r103.arrears, "r103-november", on=datetime.date(2026, 11, 10)
    )
    pay(operator_a, "AAL-R2-01", D(1000), "r201-part", on=datetime.date(2026, 11, 12))
    # the connections were made in August 2026
    Connection.objects.filter(operator=operator_a).update(
        created_at=datetime.datetime(2026, 8, 15, tzinfo=datetime.UTC)
    )
    return world


def _connection(world, number):
    return Connection.objects.select_related("operator", "customer").get(number=number)


def test_the_financial_year_starts_in_july_in_rwanda_april_in_india_or_as_configured(operator_a):
    assert financial_year_start_month(operator_a) == 7
    assert financial_year_of(datetime.date(2026, 6, 30), 7) == 2025
    assert financial_year_of(datetime.date(2026, 7, 1), 7) == 2026
    operator_a.country_code = "IN"
    assert financial_year_start_month(operator_a) == 4
    with override_settings(MITA_FINANCIAL_YEAR_START_MONTHS={"IN": 1}):
        assert financial_year_start_month(operator_a) == 1


def test_a_paid_month_an_unbilled_month_and_the_years_totals(world):
    bill = world["bills"]["AAL-R1-03"]
    view = household(connection=_connection(world, "AAL-R1-03"), year=2026, today=JANUARY_2027)
    assert (view.label, view.start, view.end) == ("2026-27", datetime.date(2026, 7, 1), datetime.date(2027, 6, 30))
    statuses = {card.month: card.status for card in view.cards}
    assert list(statuses) == [f"2026-{m:02d}" for m in range(7, 13)] + [f"2027-{m:02d}" for m in range(1, 7)]
    # made in August: July is before it; August, September, November and December were not billed (their cycles'
    # bills were due to be issued before 20 January); January 2027 onwards is not due yet
    assert statuses["2026-07"] == "before"
    assert statuses["2026-10"] == "paid"
    assert [statuses[m] for m in ("2026-08", "2026-09", "2026-11", "2026-12")] == ["unbilled"] * 4
    assert {statuses[f"2027-{m:02d}"] for m in range(1, 7)} == {"not_due"}
    october = next(card for card in view.cards if card.month == "2026-10")
    assert october.bill_id == bill.pk and october.bill_number == bill.number and october.open_amount == 0
    assert october.receipt_payment_id == world["payment"].pk
    assert october.receipt_number == Payment.objects.get(pk=world["payment"].pk).receipt.number
    assert (view.months_billed, view.months_paid, view.months_unbilled, view.months_unpaid) == (1, 1, 4, 0)
    assert view.consumed == D(37) and view.billed == bill.total
    assert view.paid == bill.total + bill.arrears
    assert view.net_due == D(0) == holder_balance(operator=bill.operator, holder="AAL-R1-03")


def test_a_part_paid_bill_is_an_unpaid_month_with_what_is_still_owed(world):
    bill = world["bills"]["AAL-R2-01"]
    view = household(connection=_connection(world, "AAL-R2-01"), year=2026, today=JANUARY_2027)
    october = next(card for card in view.cards if card.month == "2026-10")
    assert october.status == "unpaid" and october.open_amount == bill.total - D(1000)
    assert (view.months_billed, view.months_paid, view.months_unpaid) == (1, 0, 1)
    assert view.open_on_year == bill.total - D(1000) and view.paid == D(1000)
    assert view.net_due == holder_balance(operator=bill.operator, holder="AAL-R2-01")


def test_the_year_before_has_no_bills_and_a_quarterly_bill_shows_on_its_three_months(operator_a, world):
    view = household(connection=_connection(world, "AAL-R3-01"), year=2025, today=JANUARY_2027)
    assert view.months_billed == 0 and view.consumed == 0
    assert {card.status for card in view.cards} == {"before"}
    # billed quarterly from now on: November and December point at the Q4 cycle, not billed yet
    Connection.objects.filter(number="AAL-R3-01").update(billing_cycle="quarterly")
    cycles_generate(operator=operator_a, year=2026, frequency="quarterly")
    view = household(connection=_connection(world, "AAL-R3-01"), year=2026, today=JANUARY_2027)
    codes = {card.month: card.cycle_code for card in view.cards}
    assert codes["2026-10"] == "2026-10"  # billed monthly in October, before the change
    assert codes["2026-11"] == codes["2026-12"] == "2026-Q4"
    assert {card.status for card in view.cards if card.cycle_code == "2026-Q4"} == {"unbilled"}


def test_the_page_shows_the_cards_and_their_actions_by_role(client_for, admin_a, world):
    connection = _connection(world, "AAL-R2-01")
    page = client_for(admin_a).get(f"/billing/connections/{connection.pk}/household/?year=2026")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="month-2026-10" data-status="unpaid"' in body
    assert 'data-testid="month-2026-09" data-status="unbilled"' in body
    # collect payment on the account; the bill's PDF; generate September's bill: a run of its cycle for the route
    assert "/payments/accounts/AAL-R2-01/" in body
    assert f"/billing/bills/{world['bills']['AAL-R2-01'].pk}/pdf/?layout=a4" in body
    september = BillingCycle.objects.get(operator=connection.operator, code="2026-09")
    assert f"/billing/runs/new/?cycle={september.pk}&amp;scope_kind=route&amp;scope_id={connection.route_id}" in body
    paid = client_for(admin_a).get(f"/billing/connections/{_connection(world, 'AAL-R1-03').pk}/household/?year=2026")
    assert f"/payments/{world['payment'].pk}/receipt.pdf?layout=a4" in paid.content.decode()


def test_a_committee_viewer_sees_the_cards_and_the_bills_but_no_actions(client_for, operator_a, world):
    viewer = member(Role.COMMITTEE_VIEWER, operator_a, name="Vera Committee")
    connection = _connection(world, "AAL-R1-03")
    page = client_for(viewer).get(f"/billing/connections/{connection.pk}/household/?year=2026")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-status="paid"' in body and "action-bill-pdf" in body
    assert "action-generate" not in body and "action-collect" not in body and "action-receipt-pdf" not in body


def test_the_api_gives_the_year_and_says_what_to_fix(client_for, staff_a, world):
    client = client_for(staff_a)
    connection = _connection(world, "AAL-R1-03")
    body = client.get(f"/api/v1/connections/{connection.pk}/household?year=2026").json()
    assert body["label"] == "2026-27" and len(body["months"]) == 12
    october = next(month for month in body["months"] if month["month"] == "2026-10")
    assert october["status"] == "paid" and october["bill_number"] == world["bills"]["AAL-R1-03"].number
    assert october["receipt_pdf"].endswith("receipt.pdf?layout=a4") and october["bill_pdf"].endswith("?layout=a4")
    assert D(body["consumed"]) == D(37) and body["months_paid"] == 1
    bad = client.get(f"/api/v1/connections/{connection.pk}/household?year=twenty")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "year_invalid"
    page = client.get(f"/billing/connections/{connection.pk}/household/?year=1850")
    assert page.status_code == 400 and b"four digits" in page.content


def test_another_operator_gets_404_for_a_household(client_for, admin_b, world):
    connection = _connection(world, "AAL-R1-03")
    client = client_for(admin_b)
    assert client.get(f"/billing/connections/{connection.pk}/household/").status_code == 404
    assert client.get(f"/api/v1/connections/{connection.pk}/household").status_code == 404
    assert client.get(f"/api/v1/connections/{connection.pk}/household?year=bad").status_code == 404


def test_a_draft_leaves_its_month_unbilled_with_a_link_to_the_draft(client_for, admin_a, operator_a):
    world = issued_world(operator_a, approve=False)
    draft = world["bills"]["AAL-R1-02"]
    connection = _connection(world, "AAL-R1-02")
    view = household(connection=connection, year=2026, today=JANUARY_2027)
    october = next(card for card in view.cards if card.month == "2026-10")
    assert october.status == "unbilled" and october.draft_bill_id == draft.pk and october.bill_id is None
    assert view.months_billed == 0 and view.consumed == 0
    body = client_for(admin_a).get(f"/billing/connections/{connection.pk}/household/?year=2026").content.decode()
    assert f"/billing/bills/{draft.pk}/pdf/?layout=a4" in body and "action-draft-pdf" in body
