"""Customer statements: opening balance, lines with a running balance, closing balance, consistent with the
ledger; the period's checks; on screen, as PDF and through the API; payment history; roles and tenancy."""

import datetime
import io
import itertools
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from mita.accounts.roles import Role
from mita.ledger.selectors import holder_balance
from mita.ledger.services import charge_post, transfers_reverse
from mita.payments.services import credit_apply, payment_assign, payment_receive, payment_void
from mita.payments.statements import StatementError, period_check, period_parse, statement
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"
D = datetime.date


def charge(operator, amount, reference, day, holder=HOLDER, vat_rule="exempt", head="water_sales"):
    return charge_post(
        operator=operator,
        holder=holder,
        head=head,
        amount=Decimal(amount),
        vat_rule=vat_rule,
        reference=reference,
        due_date=day,
        acting_user=None,
    )


def paid(operator, amount, day, reference=HOLDER, user=None, channel="cash_office"):
    return payment_receive(
        operator=operator,
        channel=channel,
        amount=Decimal(amount),
        account_reference=reference,
        idempotency_key=str(uuid.uuid4()),
        received_by=user,
        value_date=day,
    )


def owed(operator, holder=HOLDER):
    """What the ledger says the account owes net of its credit."""
    return holder_balance(operator=operator, holder=holder) - holder_balance(
        operator=operator, holder=holder, purpose="credit"
    )


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


@pytest.fixture
def history(operator_a, cashier_a):
    """January: 1,000 charged, 400 paid. February: 500 charged, 1,500 paid (400 kept as credit).
    March: 300 charged and the credit used on it."""
    charge(operator_a, "1000", "bill:jan", D(2026, 1, 31))
    first = paid(operator_a, "400", D(2026, 1, 15), user=cashier_a)
    charge(operator_a, "500", "bill:feb", D(2026, 2, 28))
    second = paid(operator_a, "1500", D(2026, 2, 20), user=cashier_a)
    charge(operator_a, "300", "bill:mar", D(2026, 3, 31))
    credit_apply(operator=operator_a, holder=HOLDER, acting_user=None, value_date=D(2026, 3, 31))
    return first, second


# The selector --------------------------------------------------------------------------------------------


def test_a_statement_opens_with_the_balance_before_it_lists_each_movement_and_closes_with_a_running_balance(
    operator_a, history
):
    _first, second = history
    # when February's statement is read
    february = statement(operator=operator_a, holder=HOLDER, start=D(2026, 2, 1), end=D(2026, 2, 28))
    # then it opens with January's 600, lists the payment and the charge in date order, and closes in credit
    assert february.opening_balance == Decimal("600")
    assert [
        (line.date, line.kind, line.reference, line.debit, line.credit, line.balance) for line in february.lines
    ] == [
        (D(2026, 2, 20), "payment", second.receipt.number, Decimal("0"), Decimal("1500"), Decimal("-900")),
        (D(2026, 2, 28), "charge", "bill:feb", Decimal("500"), Decimal("0"), Decimal("-400")),
    ]
    assert february.lines[0].receipt_number == second.receipt.number
    assert february.lines[1].description == "Water"
    assert february.closing_balance == Decimal("-400")
    assert (february.total_debit, february.total_credit) == (Decimal("500"), Decimal("1500"))


def test_credit_used_on_a_charge_is_a_line_that_changes_nothing_owed(operator_a, history):
    march = statement(operator=operator_a, holder=HOLDER, start=D(2026, 3, 1), end=D(2026, 3, 31))
    assert march.opening_balance == Decimal("-400")
    kinds = [(line.kind, line.debit, line.credit, line.credit_used, line.balance) for line in march.lines]
    assert kinds == [
        ("charge", Decimal("300"), Decimal("0"), Decimal("0"), Decimal("-100")),
        ("credit_used", Decimal("0"), Decimal("0"), Decimal("300"), Decimal("-100")),
    ]
    assert march.closing_balance == Decimal("-100")


def test_adjacent_periods_chain_and_an_open_ended_statement_closes_on_the_ledgers_balance(operator_a, history):
    periods = [
        (D(2025, 12, 1), D(2026, 1, 20)),
        (D(2026, 1, 21), D(2026, 2, 20)),
        (D(2026, 2, 21), D(2026, 3, 30)),
        (D(2026, 3, 31), D(2026, 12, 31)),
    ]
    statements = [statement(operator=operator_a, holder=HOLDER, start=start, end=end) for start, end in periods]
    for earlier, later in itertools.pairwise(statements):
        assert later.opening_balance == earlier.closing_balance
    assert statements[0].opening_balance == Decimal("0")
    assert statements[-1].closing_balance == owed(operator_a) == Decimal("-100")
    # every movement is on exactly one of the statements
    assert sum(len(s.lines) for s in statements) == len(
        statement(operator=operator_a, holder=HOLDER, start=None, end=None).lines
    )
    open_ended = statement(operator=operator_a, holder=HOLDER, start=None, end=None)
    assert open_ended.opening_balance == Decimal("0") and open_ended.closing_balance == owed(operator_a)


def test_vat_is_part_of_the_charge_line_and_a_voided_payment_shows_and_undoes_itself(
    operator_a, cashier_a, treasurer_a, settings
):
    settings.MITA_VAT_RATES = {"RW": "0.18"}
    today = timezone.localdate()
    charge(operator_a, "1000", "bill:vat", today, vat_rule="standard")
    payment = paid(operator_a, "1180", today, user=cashier_a)
    payment_void(
        payment=payment,
        reason="Wrong account",
        approved_by=treasurer_a,
        acting_user=cashier_a,
        approver_roles=frozenset({Role.TREASURER}),
    )
    lines = statement(operator=operator_a, holder=HOLDER, start=today, end=today).lines
    assert [(line.kind, line.debit, line.credit, line.balance) for line in lines] == [
        ("charge", Decimal("1180"), Decimal("0"), Decimal("1180")),
        ("payment", Decimal("0"), Decimal("1180"), Decimal("0")),
        ("reversal", Decimal("1180"), Decimal("0"), Decimal("1180")),
    ]
    assert lines[2].description == "Payment voided: Wrong account"
    assert lines[2].reference == payment.receipt.number
    assert owed(operator_a) == Decimal("1180") == lines[-1].balance


def test_a_cancelled_charge_and_a_payment_assigned_from_suspense(operator_a, treasurer_a):
    day = D(2026, 5, 10)
    charge(operator_a, "700", "bill:wrong", day)
    transfers_reverse(operator=operator_a, reference="bill:wrong", reason="Meter misread", acting_user=None)
    charge(operator_a, "200", "bill:right", day)
    held = paid(operator_a, "250", day, reference="AAL-01")
    payment_assign(payment=held, holder_reference=HOLDER, acting_user=treasurer_a)
    lines = statement(operator=operator_a, holder=HOLDER, start=day, end=day).lines
    described = [(line.description, line.reference, line.balance) for line in lines]
    assert described == [
        ("Water", "bill:wrong", Decimal("700")),
        ("Water cancelled: Meter misread", "bill:wrong", Decimal("0")),
        ("Water", "bill:right", Decimal("200")),
        ("Payment (Cash at the office)", held.receipt.number, Decimal("-50")),
    ]
    assert owed(operator_a) == Decimal("-50")


def test_another_accounts_movements_are_not_on_the_statement(operator_a):
    charge(operator_a, "999", "bill:other", D(2026, 1, 31), holder="AAL-0002")
    charge(operator_a, "100", "bill:mine", D(2026, 1, 31))
    lines = statement(operator=operator_a, holder=HOLDER, start=None, end=None).lines
    assert [line.reference for line in lines] == ["bill:mine"]


# The period ----------------------------------------------------------------------------------------------


def test_the_period_must_run_forwards_and_cover_at_most_five_years():
    period_check(start=D(2021, 3, 1), end=D(2026, 3, 1))  # exactly five years is fine
    period_check(start=D(2020, 2, 29), end=D(2025, 2, 28))
    with pytest.raises(StatementError) as reversed_error:
        period_check(start=D(2026, 3, 1), end=D(2026, 2, 28))
    assert reversed_error.value.code == "period_reversed" and "end" in reversed_error.value.fields
    with pytest.raises(StatementError) as long_error:
        period_check(start=D(2021, 3, 1), end=D(2026, 3, 2))
    assert long_error.value.code == "period_too_long"


def test_dates_are_parsed_with_a_message_naming_the_bad_one_and_default_to_the_last_twelve_months():
    today = D(2026, 7, 15)
    assert period_parse(start="", end="", today=today) == (D(2025, 8, 1), today)
    assert period_parse(start="2026-01-01", end="2026-01-31", today=today) == (D(2026, 1, 1), D(2026, 1, 31))
    with pytest.raises(StatementError) as error:
        period_parse(start="31/01/2026", end="2026-02-30", today=today)
    assert error.value.code == "date_invalid"
    assert set(error.value.fields) == {"start", "end"}
    assert "31/01/2026" in error.value.fields["start"][0] and "YYYY-MM-DD" in error.value.fields["start"][0]


# The page and the PDF ------------------------------------------------------------------------------------


def test_the_statement_page_shows_the_period_asked_for(operator_a, cashier_a, client_for, history):
    first, second = history
    response = client_for(cashier_a).get(f"/payments/accounts/{HOLDER}/statement/?start=2026-02-01&end=2026-02-28")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="statement-opening">600 RWF' in body
    assert 'data-testid="statement-closing"><strong>-400 RWF' in body
    assert second.receipt.number in body and first.receipt.number not in body
    assert f"/payments/accounts/{HOLDER}/statement.pdf?start=2026-02-01&amp;end=2026-02-28" in body


def test_the_statement_page_opens_on_the_last_twelve_months(operator_a, cashier_a, client_for):
    today = timezone.localdate()
    charge(operator_a, "100", "bill:now", today)
    response = client_for(cashier_a).get(f"/payments/accounts/{HOLDER}/statement/")
    assert response.status_code == 200
    assert response.context["statement"].end == today
    assert [line.reference for line in response.context["statement"].lines] == ["bill:now"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("start=2026-03-01&end=2026-02-01", "end", "is before the start date"),
        ("start=2020-01-01&end=2026-01-01", "end", "at most 5 years"),
        ("start=2026-13-01&end=2026-02-01", "start", "Enter a valid date"),
        ("start=&end=2026-02-01", "start", "This field is required"),
    ],
)
def test_a_bad_period_is_a_400_saying_what_to_fix(operator_a, cashier_a, client_for, history, query, field, message):
    client = client_for(cashier_a)
    response = client.get(f"/payments/accounts/{HOLDER}/statement/?{query}")
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert message in response.content.decode()
    assert response.context["statement"] is None
    pdf = client.get(f"/payments/accounts/{HOLDER}/statement.pdf?{query}")
    assert pdf.status_code == 400 and message in pdf.content.decode()


def test_the_statement_pdf_is_a4_with_opening_lines_and_closing(operator_a, cashier_a, client_for, history):
    first, second = history
    response = client_for(cashier_a).get(f"/payments/accounts/{HOLDER}/statement.pdf?start=2026-01-01&end=2026-03-31")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert round(float(reader.pages[0].mediabox.width)) == 595
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for expected in (
        "Amazi Alpha Ltd",
        "Statement of account",
        HOLDER,
        "2026-01-01 to 2026-03-31",
        "Opening balance",
        first.receipt.number,
        second.receipt.number,
        "bill:jan",
        "1,000 RWF",
        "Credit used on charges: 300 RWF",
        "Closing balance",
        "-100 RWF",
        "Page 1",
    ):
        assert expected in text, expected


def test_a_long_statement_runs_over_pages_with_the_headings_on_each(operator_a, cashier_a, client_for):
    for month in range(1, 61):
        day = D(2021, 1, 1) + datetime.timedelta(days=30 * month)
        charge(operator_a, "100", f"bill:{month}", day)
        paid(operator_a, "100", day)
    response = client_for(cashier_a).get(f"/payments/accounts/{HOLDER}/statement.pdf?start=2021-01-01&end=2025-12-31")
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) >= 3
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "Balance" in text and f"Page {number}" in text


# The API -------------------------------------------------------------------------------------------------


def test_the_api_gives_the_statement_with_its_lines_and_pdf_link(operator_a, cashier_a, client_for, history):
    _first, second = history
    response = client_for(cashier_a).get(f"/api/v1/accounts/{HOLDER.lower()}/statement?start=2026-02-01&end=2026-03-31")
    assert response.status_code == 200
    body = response.json()
    assert body["holder"] == HOLDER and body["currency"] == "RWF"
    assert (body["start"], body["end"]) == ("2026-02-01", "2026-03-31")
    assert Decimal(body["opening_balance"]) == Decimal("600") and Decimal(body["closing_balance"]) == Decimal("-100")
    assert [(line["kind"], line["reference"], Decimal(line["balance"])) for line in body["lines"]] == [
        ("payment", second.receipt.number, Decimal("-900")),
        ("charge", "bill:feb", Decimal("-400")),
        ("charge", "bill:mar", Decimal("-100")),
        ("credit_used", "", Decimal("-100")),
    ]
    assert body["lines"][0]["receipt_number"] == second.receipt.number
    assert body["pdf"] == f"/payments/accounts/{HOLDER}/statement.pdf?start=2026-02-01&end=2026-03-31"


@pytest.mark.parametrize(
    ("query", "code", "field"),
    [
        ("start=2026-03-01&end=2026-02-01", "period_reversed", "end"),
        ("start=2019-01-01&end=2026-01-01", "period_too_long", "end"),
        ("start=yesterday", "date_invalid", "start"),
    ],
)
def test_a_bad_period_through_the_api_is_a_400_naming_the_field(operator_a, cashier_a, client_for, query, code, field):
    charge(operator_a, "100", "bill:1", D(2026, 1, 31))
    response = client_for(cashier_a).get(f"/api/v1/accounts/{HOLDER}/statement?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and field in error["fields"] and error["message"]


def test_the_api_lists_the_whole_payment_history_with_receipt_pdf_links(operator_a, cashier_a, client_for, history):
    first, second = history
    paid(operator_a, "50", D(2026, 4, 1), reference="AAL-0002")  # another account's payment (in suspense)
    response = client_for(cashier_a).get(f"/api/v1/accounts/{HOLDER}/payments")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["receipt_number"] for item in body["items"]] == [second.receipt.number, first.receipt.number]
    assert body["items"][0]["receipt_pdf"] == {
        "a4": f"/payments/{second.pk}/receipt.pdf?layout=a4",
        "roll_80mm": f"/payments/{second.pk}/receipt.pdf?layout=80",
        "roll_58mm": f"/payments/{second.pk}/receipt.pdf?layout=58",
    }
    assert Decimal(body["items"][0]["amount"]) == Decimal("1500")
    assert (
        client_for(cashier_a)
        .get(f"/api/v1/accounts/{HOLDER}/payments?limit=1&offset=1")
        .json()["items"][0]["receipt_number"]
        == first.receipt.number
    )


def test_the_account_page_lists_every_payment_a_page_at_a_time_with_receipt_pdfs(operator_a, cashier_a, client_for):
    charge(operator_a, "100000", "bill:big", D(2026, 1, 31))
    payments = [paid(operator_a, "10", D(2026, 2, 1)) for _ in range(55)]
    client = client_for(cashier_a)
    first_page = client.get(f"/payments/accounts/{HOLDER}/").content.decode()
    second_page = client.get(f"/payments/accounts/{HOLDER}/?page=2").content.decode()
    numbers = [payment.receipt.number for payment in payments]
    shown = [number for number in numbers if number in first_page or number in second_page]
    assert shown == numbers  # all 55, none lost to a cap
    assert "Page 1 of 2 · 55 payments" in first_page
    assert f"/payments/{payments[-1].pk}/receipt.pdf?layout=58" in first_page
    assert f"/payments/accounts/{HOLDER}/statement/" in first_page


# Roles and tenancy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.CASHIER, Role.REVENUE_COLLECTOR, Role.TREASURER, Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE]
)
def test_payment_roles_and_customer_care_read_statements(operator_a, client_for, history, role):
    client = client_for(member(role, operator_a))
    assert client.get(f"/payments/accounts/{HOLDER}/statement/").status_code == 200
    assert client.get(f"/payments/accounts/{HOLDER}/statement.pdf").status_code == 200
    assert client.get(f"/api/v1/accounts/{HOLDER}/statement").status_code == 200
    assert client.get(f"/api/v1/accounts/{HOLDER}/payments").status_code == 200


@pytest.mark.parametrize("role", [Role.BILLING_OFFICER, Role.STOREKEEPER, Role.TECHNICIAN, Role.COMMITTEE_VIEWER])
def test_other_roles_may_not_read_statements(operator_a, client_for, history, role):
    client = client_for(member(role, operator_a))
    assert client.get(f"/payments/accounts/{HOLDER}/statement/").status_code == 403
    assert client.get(f"/payments/accounts/{HOLDER}/statement.pdf").status_code == 403
    assert client.get(f"/api/v1/accounts/{HOLDER}/statement").status_code == 403
    assert client.get(f"/api/v1/accounts/{HOLDER}/payments").status_code == 403


def test_another_operators_admin_gets_404_on_every_statement_and_history(operator_a, admin_b, client_for, history):
    client = client_for(admin_b)
    for url in (
        f"/payments/accounts/{HOLDER}/statement/",
        f"/payments/accounts/{HOLDER}/statement/?start=2026-01-01&end=2026-12-31",
        f"/payments/accounts/{HOLDER}/statement.pdf",
        f"/api/v1/accounts/{HOLDER}/statement",
        f"/api/v1/accounts/{HOLDER}/statement?start=2026-01-01&end=2026-12-31",
        f"/api/v1/accounts/{HOLDER}/payments",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"Amazi" not in response.content and b"bill:jan" not in response.content


def test_an_unknown_account_is_a_404(operator_a, cashier_a, client_for):
    client = client_for(cashier_a)
    assert client.get("/payments/accounts/AAL-NOPE/statement/").status_code == 404
    assert client.get("/api/v1/accounts/AAL-NOPE/statement").status_code == 404
    assert client.get("/api/v1/accounts/AAL-NOPE/payments").status_code == 404
