"""The cashier pages: open a till, count and close it (variance and explanation), bank it, the day-end report,
collectors' hand-overs and the treasurer's confirmation; who may open which page, and another operator's 404s."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mita.accounts.roles import Role
from mita.payments.cashier import handover_record, till_close, till_open
from mita.payments.models_cashier import BankingSlip, CashHandover, TillSession
from mita.payments.tests.cashier_world import also, cash_account, charge, take
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
SHORT = {"count_5000": "1", "count_1000": "1", "count_500": "1", "count_100": "4"}  # 6,900


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


@pytest.fixture
def busy_till(charged, cashier_a):
    """Float 5,000; 1,200 and 800 taken: the till should hold 7,000."""
    till = till_open(operator=charged, cashier=cashier_a, float_amount=Decimal("5000"))
    take(charged, cashier_a, "1200")
    take(charged, cashier_a, "800")
    return till


# Opening ---------------------------------------------------------------------------------------------------------


def test_a_cashier_opens_a_till_from_the_page_once_however_often_the_form_is_sent(operator_a, cashier_a, client_for):
    client = client_for(cashier_a)
    assert 'data-testid="till-open-link"' in client.get("/payments/tills/").content.decode()
    form = client.get("/payments/tills/open/")
    key = form.context["form"].initial["idempotency_key"]
    first = client.post("/payments/tills/open/", {"float_amount": "5000", "idempotency_key": key})
    again = client.post("/payments/tills/open/", {"float_amount": "5000", "idempotency_key": key})
    till = TillSession.objects.get()
    assert first["Location"] == again["Location"] == f"/payments/tills/{till.pk}/"
    page = client.get(first["Location"]).content.decode()
    assert "5,000 RWF" in page and 'data-testid="till-close-link"' in page
    # with a till open, the open page leads to it, and the list says so
    assert client.get("/payments/tills/open/")["Location"] == f"/payments/tills/{till.pk}/"
    assert 'data-testid="my-open-till"' in client.get("/payments/tills/").content.decode()
    # a second till with a new form is refused with the reason
    refused = client.post("/payments/tills/open/", {"float_amount": "100", "idempotency_key": str(uuid.uuid4())})
    assert refused.status_code == 400 and f"till {till.pk} open" in refused.content.decode()
    assert TillSession.objects.count() == 1


@pytest.mark.parametrize("float_amount", ["-5", "12.5", "abc", ""])
def test_a_bad_float_is_an_error_on_the_field(operator_a, cashier_a, client_for, float_amount):
    response = client_for(cashier_a).post(
        "/payments/tills/open/", {"float_amount": float_amount, "idempotency_key": str(uuid.uuid4())}
    )
    assert response.status_code == 400 and response.context["form"].errors["float_amount"]
    assert not TillSession.objects.exists()


# Counting and closing ---------------------------------------------------------------------------------------------


def test_the_count_shows_the_variance_and_a_variance_needs_an_explanation(busy_till, cashier_a, client_for):
    client = client_for(cashier_a)
    url = f"/payments/tills/{busy_till.pk}/close/"
    form = client.get(url)
    assert form.status_code == 200 and "count_5000" in form.context["form"].fields
    assert form.context["expected"] == Decimal("7000")
    # "check" shows the variance and closes nothing
    checked = client.post(url, SHORT | {"action": "check"})
    assert checked.status_code == 200 and checked.context["variance"] == Decimal("-100")
    assert 'data-testid="count-variance"' in checked.content.decode()
    busy_till.refresh_from_db()
    assert busy_till.is_open
    # "close" without an explanation is refused on the field, and keeps the count typed
    refused = client.post(url, SHORT | {"action": "close"})
    assert refused.status_code == 400
    assert refused.context["form"].errors["explanation"]
    assert "100 RWF short" in refused.content.decode()
    assert refused.context["form"]["count_100"].value() == "4"
    busy_till.refresh_from_db()
    assert busy_till.is_open
    # with the explanation it closes, and the till shows the count, the variance and why
    done = client.post(url, SHORT | {"action": "close", "explanation": "Change to a customer"}, follow=True)
    assert done.redirect_chain[-1][0] == f"/payments/tills/{busy_till.pk}/"
    page = done.content.decode()
    assert 'data-testid="till-variance"><strong>-100 RWF</strong> (short)' in page
    assert "Change to a customer" in page
    busy_till.refresh_from_db()
    assert busy_till.status == TillSession.Status.CLOSED and busy_till.counted == Decimal("6900")
    # the close page of a closed till leads back to it
    assert client.get(url)["Location"] == f"/payments/tills/{busy_till.pk}/"


@pytest.mark.parametrize("fields", [{"count_100": "-1"}, {"count_100": "x"}, {"count_100": "1.5"}])
def test_a_bad_count_is_an_error_on_its_denomination(busy_till, cashier_a, client_for, fields):
    response = client_for(cashier_a).post(
        f"/payments/tills/{busy_till.pk}/close/", fields | {"action": "close", "explanation": "x"}
    )
    assert response.status_code == 400 and response.context["form"].errors["count_100"]
    busy_till.refresh_from_db()
    assert busy_till.is_open


# Banking ---------------------------------------------------------------------------------------------------------


def test_a_cashier_records_the_banking_slip_of_their_closed_till(busy_till, cashier_a, client_for):
    till_close(
        till=busy_till, counts={"5000": 1, "1000": 1, "500": 1, "100": 4}, explanation="x", acting_user=cashier_a
    )
    client = client_for(cashier_a)
    assert 'data-testid="till-bank-link"' in client.get(f"/payments/tills/{busy_till.pk}/").content.decode()
    form = client.get(f"/payments/tills/banking/new/?till={busy_till.pk}").context["form"]
    assert list(form.fields["till"].queryset) == [busy_till]
    assert form.initial["amount"] == Decimal("1900")
    body = {
        "till": busy_till.pk,
        "bank_name": "Bank of Kigali",
        "slip_number": "BK-5",
        "amount": "1900",
        "deposited_on": timezone.localdate().isoformat(),
        "idempotency_key": form.initial["idempotency_key"],
    }
    done = client.post("/payments/tills/banking/new/", body, follow=True)
    assert done.redirect_chain[-1][0] == f"/payments/tills/{busy_till.pk}/"
    assert "BK-5" in done.content.decode()
    assert cash_account(busy_till.operator, "clearing:bank") == Decimal("1900")
    # too much is an error on the amount, and the tills with nothing left are no longer offered
    too_much = client.post("/payments/tills/banking/new/", body | {"idempotency_key": "2", "slip_number": "BK-6"})
    assert too_much.status_code == 400 and too_much.context["form"].errors["till"]
    assert BankingSlip.objects.count() == 1
    assert list(client.get("/payments/tills/banking/").context["slips"]) == list(BankingSlip.objects.all())


def test_the_treasurer_banks_office_cash_without_a_till(charged, collector_a, treasurer_a, client_for):
    take(charged, collector_a, "3000", channel="cash_field")
    handover = handover_record(
        operator=charged, collector=collector_a, treasurer=treasurer_a, amount=Decimal("3000"), idempotency_key="h"
    )
    client = client_for(treasurer_a)
    client.post(f"/payments/handovers/{handover.pk}/confirm/")
    assert client.get("/payments/tills/banking/").context["office_cash"] == Decimal("3000")
    body = {
        "till": "",
        "bank_name": "Equity",
        "slip_number": "E-1",
        "amount": "3000",
        "deposited_on": timezone.localdate().isoformat(),
        "idempotency_key": str(uuid.uuid4()),
    }
    assert client.post("/payments/tills/banking/new/", body)["Location"] == "/payments/tills/banking/"
    assert cash_account(charged, "clearing:cash_office") == Decimal("0")


# The day-end report ------------------------------------------------------------------------------------------------


def test_the_day_end_page_shows_each_persons_day_and_a_cashier_only_their_own(
    busy_till, cashier_a, collector_a, treasurer_a, client_for
):
    operator = busy_till.operator
    till_close(
        till=busy_till, counts={"5000": 1, "1000": 1, "500": 1, "100": 4}, explanation="x", acting_user=cashier_a
    )
    take(operator, collector_a, "3000", channel="cash_field")
    take(operator, cashier_a, "300")  # after the close: cash taken with no till open
    response = client_for(treasurer_a).get("/payments/tills/day-end/")
    assert response.status_code == 200
    [day] = response.context["days"]
    people = {person.name: person for person in day.people}
    assert set(people) == {"Carla Cashier", "Colin Collector"}
    carla = people["Carla Cashier"]
    assert (carla.float_amount, carla.expected, carla.counted, carla.variance) == (
        Decimal("5000"),
        Decimal("7000"),
        Decimal("6900"),
        Decimal("-100"),
    )
    page = response.content.decode()
    assert f'data-testid="day-end-row-{cashier_a.pk}"' in page and "-100" in page
    assert "1 cash payment (300) taken with no till open" in page
    assert (carla.outside_till_count, carla.outside_till_amount) == (1, Decimal("300"))
    own = client_for(cashier_a).get("/payments/tills/day-end/")
    assert [person.name for day in own.context["days"] for person in day.people] == ["Carla Cashier"]
    # a day with nothing says so
    empty = client_for(treasurer_a).get("/payments/tills/day-end/?date_from=2020-01-01&date_to=2020-01-01")
    assert 'data-testid="day-end-empty"' in empty.content.decode()


def test_the_day_end_page_does_not_grow_its_queries_with_the_people(charged, treasurer_a, client_for):
    client = client_for(treasurer_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/payments/tills/day-end/").status_code == 200
        return len(captured)

    cashier = member(Role.CASHIER, charged)
    till_open(operator=charged, cashier=cashier, float_amount=Decimal("0"))
    take(charged, cashier, "100")
    few = queries()
    for _ in range(4):
        more = member(Role.CASHIER, charged)
        till_open(operator=charged, cashier=more, float_amount=Decimal("0"))
        take(charged, more, "100")
        take(charged, member(Role.REVENUE_COLLECTOR, charged), "100", channel="cash_field")
    assert queries() == few


# Hand-overs -------------------------------------------------------------------------------------------------------


def test_a_collector_hands_over_and_the_treasurer_confirms_from_the_pages(
    charged, collector_a, treasurer_a, client_for
):
    take(charged, collector_a, "5000", channel="cash_field")
    collector = client_for(collector_a)
    assert collector.get("/payments/handovers/").context["my_cash"].in_hand == Decimal("5000")
    form = collector.get("/payments/handovers/new/").context["form"]
    assert list(form.fields["treasurer"].queryset) == [treasurer_a]
    body = {
        "treasurer": treasurer_a.pk,
        "amount": "3000",
        "note": "Route 4",
        "count_2000": "1",
        "count_1000": "1",
        "idempotency_key": form.initial["idempotency_key"],
    }
    done = collector.post("/payments/handovers/new/", body)
    handover = CashHandover.objects.get()
    assert done["Location"] == f"/payments/handovers/{handover.pk}/"
    assert handover.counts == {"2000": 1, "1000": 1}
    # the collector's own page offers no confirmation
    assert 'data-testid="handover-confirm"' not in collector.get(done["Location"]).content.decode()
    # the treasurer sees it waiting, with the collector's cash in hand, and confirms
    treasurer = client_for(treasurer_a)
    listing = treasurer.get("/payments/handovers/")
    assert list(listing.context["pending"]) == [handover]
    assert [(row.name, row.in_hand) for row in listing.context["collectors"]] == [("Colin Collector", Decimal("5000"))]
    cards = dict((card.key, badge) for card, badge in treasurer.get("/").context["cards"])
    assert cards["payments.handovers"] == 1
    assert 'data-testid="handover-confirm"' in treasurer.get(done["Location"]).content.decode()
    confirmed = treasurer.post(f"/payments/handovers/{handover.pk}/confirm/", follow=True)
    assert 'data-testid="handover-status">Confirmed' in confirmed.content.decode()
    assert collector.get("/payments/handovers/").context["my_cash"].in_hand == Decimal("2000")


def test_a_hand_over_of_more_than_in_hand_is_an_error_on_the_amount(charged, collector_a, treasurer_a, client_for):
    take(charged, collector_a, "1000", channel="cash_field")
    body = {"treasurer": treasurer_a.pk, "amount": "2000", "idempotency_key": str(uuid.uuid4())}
    response = client_for(collector_a).post("/payments/handovers/new/", body)
    assert response.status_code == 400 and response.context["form"].errors["amount"]
    assert not CashHandover.objects.exists()


def test_a_dispute_needs_a_reason_on_the_page(charged, collector_a, treasurer_a, client_for):
    take(charged, collector_a, "1000", channel="cash_field")
    handover = handover_record(
        operator=charged, collector=collector_a, treasurer=treasurer_a, amount=Decimal("1000"), idempotency_key="d"
    )
    client = client_for(treasurer_a)
    refused = client.post(f"/payments/handovers/{handover.pk}/dispute/", {"reason": ""})
    assert refused.status_code == 400 and refused.context["dispute_form"].errors["reason"]
    done = client.post(f"/payments/handovers/{handover.pk}/dispute/", {"reason": "800 only"}, follow=True)
    assert 'data-testid="handover-dispute-reason">800 only' in done.content.decode()
    handover.refresh_from_db()
    assert handover.status == CashHandover.Status.DISPUTED


# Roles --------------------------------------------------------------------------------------------------------------


def test_a_collector_cannot_open_a_cashiers_till_pages(busy_till, collector_a, client_for):
    client = client_for(collector_a)
    for url in (
        "/payments/tills/",
        "/payments/tills/open/",
        f"/payments/tills/{busy_till.pk}/",
        f"/payments/tills/{busy_till.pk}/close/",
        "/payments/tills/banking/",
        "/payments/tills/banking/new/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/payments/tills/{busy_till.pk}/close/", SHORT | {"action": "close"}).status_code == 403
    busy_till.refresh_from_db()
    assert busy_till.is_open


def test_a_cashier_cannot_see_a_colleagues_till_nor_the_hand_overs(
    busy_till, charged, collector_a, treasurer_a, client_for
):
    colleague = client_for(member(Role.CASHIER, charged))
    assert colleague.get(f"/payments/tills/{busy_till.pk}/").status_code == 404
    assert colleague.get(f"/payments/tills/{busy_till.pk}/close/").status_code == 404
    assert colleague.get(f"/payments/tills/banking/new/?till={busy_till.pk}").status_code == 404
    assert colleague.get("/payments/tills/").context["rows"] == []
    take(charged, collector_a, "1000", channel="cash_field")
    handover = handover_record(
        operator=charged, collector=collector_a, treasurer=treasurer_a, amount=Decimal("1000"), idempotency_key="r"
    )
    for url in ("/payments/handovers/", f"/payments/handovers/{handover.pk}/", "/payments/handovers/new/"):
        assert colleague.get(url).status_code == 403, url
    assert colleague.post(f"/payments/handovers/{handover.pk}/confirm/").status_code == 403
    handover.refresh_from_db()
    assert handover.status == CashHandover.Status.PENDING


def test_a_collector_who_is_also_treasurer_cannot_confirm_their_own_hand_over(charged, treasurer_a, client_for):
    two_hats = also(member(Role.TREASURER, charged), Role.REVENUE_COLLECTOR, charged)
    take(charged, two_hats, "1000", channel="cash_field")
    handover = handover_record(
        operator=charged, collector=two_hats, treasurer=treasurer_a, amount=Decimal("1000"), idempotency_key="o"
    )
    client = client_for(two_hats)
    assert 'data-testid="handover-confirm"' not in client.get(f"/payments/handovers/{handover.pk}/").content.decode()
    response = client.post(f"/payments/handovers/{handover.pk}/confirm/")
    assert response.status_code == 403 and "cannot confirm or dispute their own" in response.content.decode()
    handover.refresh_from_db()
    assert handover.status == CashHandover.Status.PENDING


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.CASHIER, {"payments.tills", "payments.day_end"}, {"payments.handovers"}),
        (Role.REVENUE_COLLECTOR, {"payments.handovers", "payments.day_end"}, {"payments.tills"}),
        (Role.TREASURER, {"payments.tills", "payments.handovers", "payments.day_end"}, set()),
    ],
)
def test_each_role_sees_its_cashier_cards(operator_a, client_for, role, shown, hidden):
    cards = {card.key for card, _badge in client_for(member(role, operator_a)).get("/").context["cards"]}
    assert shown <= cards and not hidden & cards


# Another operator ----------------------------------------------------------------------------------------------------


def test_another_operators_admin_gets_404_on_our_till_and_hand_over_pages(
    busy_till, charged, collector_a, treasurer_a, admin_b, client_for
):
    take(charged, collector_a, "1000", channel="cash_field")
    handover = handover_record(
        operator=charged, collector=collector_a, treasurer=treasurer_a, amount=Decimal("1000"), idempotency_key="t"
    )
    outsider = client_for(admin_b)
    for url in (
        f"/payments/tills/{busy_till.pk}/",
        f"/payments/tills/{busy_till.pk}/close/",
        f"/payments/tills/banking/new/?till={busy_till.pk}",
        f"/payments/handovers/{handover.pk}/",
    ):
        assert outsider.get(url).status_code == 404, url
    assert outsider.post(f"/payments/tills/{busy_till.pk}/close/", SHORT | {"action": "close"}).status_code == 404
    assert outsider.post(f"/payments/handovers/{handover.pk}/confirm/").status_code == 404
    assert outsider.post(f"/payments/handovers/{handover.pk}/dispute/", {"reason": "x"}).status_code == 404
    assert outsider.get("/payments/tills/").context["rows"] == []
    assert outsider.get("/payments/tills/day-end/").context["days"] == []
    assert list(outsider.get("/payments/handovers/").context["handovers"]) == []
    assert list(outsider.get("/payments/tills/banking/").context["slips"]) == []
    busy_till.refresh_from_db()
    handover.refresh_from_db()
    assert busy_till.is_open and handover.status == CashHandover.Status.PENDING


def test_the_payment_form_warns_a_cashier_with_no_open_till(operator_a, client_for):
    cashier = member(Role.CASHIER, operator_a)
    page = client_for(cashier).get("/payments/new/")
    assert page.status_code == 200 and b'data-testid="no-open-till"' in page.content
    till_open(operator=operator_a, cashier=cashier, float_amount=Decimal("5000"), idempotency_key="till-1")
    page = client_for(cashier).get("/payments/new/")
    assert b'data-testid="no-open-till"' not in page.content
