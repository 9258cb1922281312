"""The payments panels of the customer 360 page: debt across the customer's accounts, recent payments, miscellaneous
charges (page and API, idempotent by key), the billing-history chart, roles, and another operator's 404."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from mita.accounts.roles import Role
from mita.core.models import AuditEntry
from mita.customers.tests.world import connection_of, customer_of
from mita.ledger.models import Charge
from mita.ledger.selectors import holder_balance
from mita.ledger.services import charge_post
from mita.payments.panels import billing_history, customer_debt
from mita.payments.services import payment_receive
from mita.testing.factories import member

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _bill(operator, holder, amount, value_date, reference=None):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference or f"bill:{holder}:{value_date:%Y-%m}",
        due_date=value_date,
        value_date=value_date,
        acting_user=None,
    )


def _pay(operator, holder, amount, value_date=None):
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal(amount),
        account_reference=holder,
        idempotency_key=str(uuid.uuid4()),
        received_by=None,
        value_date=value_date,
    )


@pytest.fixture
def jeanne(operator_a):
    """Jeanne with a water and an electricity connection; water billed 5,000 and paid 2,000, electricity 1,500."""
    customer = customer_of(operator_a)
    connection_of(operator_a, customer, "AAL-0001")
    connection_of(operator_a, customer, "AAL-0002", utility="electricity")
    today = datetime.date.today()
    _bill(operator_a, "AAL-0001", "5000", today)
    _bill(operator_a, "AAL-0002", "1500", today)
    _pay(operator_a, "AAL-0001", "2000")
    return customer


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Cathy Cashier")


def _charge_form(connection, **fields):
    return {
        "connection": connection.pk,
        "head": "other",
        "amount": "1000",
        "vat_rule": "standard",
        "reason": "Meter accuracy test on request",
        "due_date": "2026-12-31",
        "key": str(uuid.uuid4()),
    } | fields


# Debt and payments ------------------------------------------------------------------------------------------


def test_the_debt_panel_shows_each_account_and_the_total(operator_a, jeanne, cashier_a, client_for):
    page = client_for(cashier_a).get(f"/customers/{jeanne.pk}/").content.decode()
    assert 'data-testid="debt-owed-AAL-0001">3,000 RWF<' in page
    assert 'data-testid="debt-owed-AAL-0002">1,500 RWF<' in page
    assert 'data-testid="debt-total">4,500 RWF<' in page
    # and the two unpaid charges are a headline count
    assert 'data-testid="count-unpaid_charges">2<' in page


def test_another_customers_accounts_are_not_in_the_debt_or_the_payments(operator_a, jeanne, cashier_a, client_for):
    eric = customer_of(operator_a, name="Eric Habimana", phone="+250722000999")
    connection_of(operator_a, eric, "AAL-0009")
    _bill(operator_a, "AAL-0009", "9000", datetime.date.today())
    _pay(operator_a, "AAL-0009", "777")
    overview = client_for(cashier_a).get(f"/api/v1/customers/{jeanne.pk}/overview").json()
    debt = overview["panels"]["payments.debt"]
    assert debt["owed"] == "4500" and [a["connection"] for a in debt["accounts"]] == ["AAL-0001", "AAL-0002"]
    assert [p["amount"] for p in overview["panels"]["payments.recent"]["payments"]] == ["2000"]
    assert overview["counts"] == {"unpaid_charges": 2, "open_requests": 0}  # open requests: servicing's count


def test_credit_shows_apart_from_the_debt(operator_a, jeanne):
    _pay(operator_a, "AAL-0002", "2000")  # 500 more than owed
    debt = customer_debt(operator=operator_a, holders=["AAL-0001", "AAL-0002"])
    assert [(a.holder, a.owed, a.credit) for a in debt.accounts] == [
        ("AAL-0001", Decimal("3000"), Decimal("0")),
        ("AAL-0002", Decimal("0"), Decimal("500")),
    ]
    assert (debt.owed, debt.credit) == (Decimal("3000"), Decimal("500"))


def test_the_debt_is_read_in_one_query_whatever_the_number_of_accounts(operator_a, jeanne):
    holders = ["AAL-0001", "AAL-0002", *[f"AAL-1{n:03d}" for n in range(20)]]
    with CaptureQueriesContext(db_connection) as queries:
        debt = customer_debt(operator=operator_a, holders=holders)
    assert len(queries) == 1 and debt.owed == Decimal("4500")


def test_recent_payments_list_every_account_with_links_to_their_history(operator_a, jeanne, cashier_a, client_for):
    _pay(operator_a, "AAL-0002", "700")
    page = client_for(cashier_a).get(f"/customers/{jeanne.pk}/").content.decode()
    panel = page[page.index('data-testid="recent-payments"') :]
    assert "2,000 RWF" in panel and "700 RWF" in panel
    assert 'href="/payments/accounts/AAL-0001/" data-testid="payment-history-AAL-0001"' in panel
    assert 'href="/payments/accounts/AAL-0002/" data-testid="payment-history-AAL-0002"' in panel


# Miscellaneous charges ----------------------------------------------------------------------------------------


def test_a_cashier_posts_a_misc_charge_and_the_debt_grows(operator_a, jeanne, cashier_a, client_for):
    client = client_for(cashier_a)
    electricity = jeanne.connections.get(number="AAL-0002")
    response = client.post(f"/payments/customers/{jeanne.pk}/charges/", _charge_form(electricity))
    assert response.status_code == 302 and response.url == f"/customers/{jeanne.pk}/#panel-payments-charges"
    # 1,000 + 18% VAT is owed on the electricity account
    assert holder_balance(operator=operator_a, holder="AAL-0002") == Decimal("2680")
    charge = Charge.objects.get(reference__startswith="misc:")
    assert (charge.head, charge.net, charge.vat, charge.total) == ("other", 1000, 180, 1180)
    assert charge.value_date == datetime.date.today() and charge.due_date == datetime.date(2026, 12, 31)
    page = client.get(response.url).content.decode()
    assert 'data-testid="debt-total">5,680 RWF<' in page
    charges = page[page.index('data-testid="misc-charges"') :]
    assert "Meter accuracy test on request" in charges and "1,180 RWF" in charges
    # the bills are not "miscellaneous"
    assert "bill:AAL-0001" not in charges
    # and who posted it, with the reason, is in the audit log
    entry = AuditEntry.objects.get(action="charge.misc_posted")
    assert entry.actor == cashier_a and entry.after["reason"] == "Meter accuracy test on request"


def test_with_htmx_the_page_reloads_after_a_charge(operator_a, jeanne, cashier_a, client_for):
    water = jeanne.connections.get(number="AAL-0001")
    response = client_for(cashier_a).post(f"/payments/customers/{jeanne.pk}/charges/", _charge_form(water), **HTMX)
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    assert Charge.objects.filter(reference__startswith="misc:").count() == 1


def test_a_double_submit_posts_the_charge_once(operator_a, jeanne, cashier_a, client_for):
    client = client_for(cashier_a)
    form = _charge_form(jeanne.connections.get(number="AAL-0001"))
    first = client.post(f"/payments/customers/{jeanne.pk}/charges/", form)
    second = client.post(f"/payments/customers/{jeanne.pk}/charges/", form)
    assert first.status_code == second.status_code == 302
    assert Charge.objects.filter(reference__startswith="misc:").count() == 1
    assert holder_balance(operator=operator_a, holder="AAL-0001") == Decimal("4180")


def test_bad_input_is_shown_on_its_field_and_posts_nothing(operator_a, jeanne, cashier_a, client_for):
    client = client_for(cashier_a)
    water = jeanne.connections.get(number="AAL-0001")
    url = f"/payments/customers/{jeanne.pk}/charges/"
    # cents in RWF
    response = client.post(url, _charge_form(water, amount="10.50"))
    assert response.status_code == 400
    assert (
        "RWF has no cents" in response.content.decode()
        and 'data-testid="misc-charge-form"' in response.content.decode()
    )
    # zero, no reason, an unknown head
    assert client.post(url, _charge_form(water, amount="0")).status_code == 400
    assert client.post(url, _charge_form(water, reason="")).status_code == 400
    assert client.post(url, _charge_form(water, head="bribes")).status_code == 400
    # with htmx the panel comes back with the errors and what was typed
    response = client.post(url, _charge_form(water, amount="10.50", reason="Seal replaced"), **HTMX)
    assert response.status_code == 200 and "RWF has no cents" in response.content.decode()
    assert 'value="Seal replaced"' in response.content.decode()
    assert not Charge.objects.filter(reference__startswith="misc:").exists()
    assert holder_balance(operator=operator_a, holder="AAL-0001") == Decimal("3000")


def test_a_connection_of_another_customer_is_refused(operator_a, jeanne, cashier_a, client_for):
    eric = customer_of(operator_a, name="Eric Habimana", phone="+250722000999")
    theirs = connection_of(operator_a, eric, "AAL-0009")
    response = client_for(cashier_a).post(f"/payments/customers/{jeanne.pk}/charges/", _charge_form(theirs))
    assert response.status_code == 400 and not Charge.objects.filter(reference__startswith="misc:").exists()


def test_who_may_post_a_misc_charge(operator_a, jeanne, client_for):
    water = jeanne.connections.get(number="AAL-0001")
    url = f"/payments/customers/{jeanne.pk}/charges/"
    # customer care sees the charges, not the form, and may not post
    clerk = client_for(member(Role.CUSTOMER_CARE, operator_a))
    page = clerk.get(f"/customers/{jeanne.pk}/").content.decode()
    assert 'data-testid="misc-charges"' in page and 'data-testid="misc-charge-form"' not in page
    assert clerk.post(url, _charge_form(water)).status_code == 403
    # the billing officer may
    officer = client_for(member(Role.BILLING_OFFICER, operator_a))
    assert 'data-testid="misc-charge-form"' in officer.get(f"/customers/{jeanne.pk}/").content.decode()
    assert officer.post(url, _charge_form(water)).status_code == 302
    assert Charge.objects.filter(reference__startswith="misc:").count() == 1


def test_the_api_posts_a_misc_charge_once_per_key(operator_a, jeanne, cashier_a, client_for):
    client = client_for(cashier_a)
    water = jeanne.connections.get(number="AAL-0001")
    body = {
        "connection_id": water.pk,
        "head": "reconnection_fees",
        "amount": "2000",
        "vat_rule": "exempt",
        "reason": "Reconnection after arrears",
        "due_date": "2026-12-15",
        "key": "0b8f0d1c-7f0e-4c53-9d35-1f0c7b2f6f11",
    }
    url = f"/api/v1/customers/{jeanne.pk}/charges"
    first = client.post(url, body, content_type="application/json")
    assert first.status_code == 201, first.json()
    assert (first.json()["total"], first.json()["connection"], first.json()["reason"]) == (
        "2000",
        "AAL-0001",
        "Reconnection after arrears",
    )
    # a replay returns the first charge
    replay = client.post(url, body, content_type="application/json")
    assert replay.status_code == 201 and replay.json()["id"] == first.json()["id"]
    # the same key with another body is a 409, and posts nothing
    for change in (
        {"amount": "2500"},
        {"reason": "Something else"},
        {"connection_id": jeanne.connections.get(number="AAL-0002").pk},
    ):
        conflict = client.post(url, body | change, content_type="application/json")
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert Charge.objects.filter(reference__startswith="misc:").count() == 1
    assert holder_balance(operator=operator_a, holder="AAL-0001") == Decimal("5000")


def test_the_api_says_what_to_fix(operator_a, jeanne, cashier_a, client_for):
    client = client_for(cashier_a)
    water = jeanne.connections.get(number="AAL-0001")
    body = {
        "connection_id": water.pk,
        "head": "other",
        "amount": "1.5",
        "reason": "x",
        "due_date": "2026-12-15",
        "key": "k-1",
    }
    url = f"/api/v1/customers/{jeanne.pk}/charges"
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["fields"]["amount"]
    response = client.post(url, body | {"amount": "1,000"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "number_format"
    response = client.post(url, body | {"amount": "-5"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "amount_invalid"
    response = client.post(url, body | {"amount": "100", "key": "has space"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "key_invalid"
    response = client.post(url, body | {"amount": "100", "vat_rule": "half"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "vat_rule_unknown"
    # a refused request takes no key: the same key, fixed, posts
    response = client.post(url, body | {"amount": "100"}, content_type="application/json")
    assert response.status_code == 201
    assert (
        client_for(member(Role.CUSTOMER_CARE, operator_a))
        .post(url, body | {"key": "k-2"}, content_type="application/json")
        .status_code
        == 403
    )


# Billing-history chart -------------------------------------------------------------------------------------------


def test_the_chart_sums_charges_and_payments_per_month_over_twelve_months(operator_a, client_for, cashier_a):
    customer = customer_of(operator_a)
    connection_of(operator_a, customer, "AAL-0001")
    connection_of(operator_a, customer, "AAL-0002")
    _bill(operator_a, "AAL-0001", "1000", datetime.date(2026, 3, 31))
    _bill(operator_a, "AAL-0002", "400", datetime.date(2026, 3, 15))
    _bill(operator_a, "AAL-0001", "900", datetime.date(2025, 11, 30))  # 13 months before December 2026: left out
    _pay(operator_a, "AAL-0001", "600", value_date=datetime.date(2026, 4, 2))
    months = billing_history(operator=operator_a, holders=["AAL-0001", "AAL-0002"], today=datetime.date(2026, 12, 1))
    assert [month.month for month in months][:2] == [datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)]
    assert len(months) == 12 and months[-1].month == datetime.date(2026, 12, 1)
    figures = {month.month.month: (month.charged, month.paid) for month in months if month.charged or month.paid}
    assert figures == {3: (Decimal("1400"), Decimal("0")), 4: (Decimal("0"), Decimal("600"))}
    # the tallest bar is the largest figure; the others in proportion
    march, april = months[2], months[3]
    assert march.charged_height == 130 and april.paid_height == round(600 * 130 / 1400)


def test_the_chart_panel_draws_svg_bars_and_a_table(operator_a, jeanne, cashier_a, client_for):
    part = client_for(cashier_a).get(f"/customers/{jeanne.pk}/panels/payments.chart/", **HTMX).content.decode()
    assert "<svg" in part and 'role="img"' in part and part.count("<rect") >= 24
    row = part[part.index(f'data-testid="history-{datetime.date.today():%Y-%m}"') :]
    row = row[: row.index("</tr>")]
    assert "6,500" in row and "2,000" in row


# Tenancy --------------------------------------------------------------------------------------------------------


def test_another_operators_admin_gets_404_and_posts_nothing(operator_a, operator_b, jeanne, admin_b, client_for):
    outsider = client_for(admin_b)
    water = jeanne.connections.get(number="AAL-0001")
    assert outsider.post(f"/payments/customers/{jeanne.pk}/charges/", _charge_form(water)).status_code == 404
    body = {
        "connection_id": water.pk,
        "head": "other",
        "amount": "100",
        "reason": "x",
        "due_date": "2026-12-15",
        "key": "k",
    }
    assert (
        outsider.post(f"/api/v1/customers/{jeanne.pk}/charges", body, content_type="application/json").status_code
        == 404
    )
    for key in ("payments.debt", "payments.recent", "payments.charges", "payments.chart"):
        assert outsider.get(f"/customers/{jeanne.pk}/panels/{key}/").status_code == 404
    # nor may B charge A's connection through a customer of B's own
    theirs = customer_of(operator_b, name="Bea of Bravo", phone="+250733000111")
    response = outsider.post(f"/api/v1/customers/{theirs.pk}/charges", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "connection_invalid"
    assert not Charge.objects.filter(reference__startswith="misc:").exists()
