"""Receipt PDFs: A4 and the 58/80 mm thermal rolls, what they say, COPY on reprints, VOIDED, and who may print."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import translation
from PIL import Image as PillowImage
from pypdf import PdfReader
from reportlab.lib.units import mm

from mita.accounts.roles import Role
from mita.core.models import AuditEntry
from mita.ledger.services import charge_post
from mita.payments.models import Payment, Receipt
from mita.payments.services import payment_receive, payment_void
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"


def charge(operator, amount, reference, due, holder=HOLDER):
    return charge_post(
        operator=operator,
        holder=holder,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=due,
        acting_user=None,
    )


def paid(operator, amount, *, reference=HOLDER, user=None, **extra):
    return payment_receive(
        operator=operator,
        channel=extra.pop("channel", "cash_office"),
        amount=Decimal(amount),
        account_reference=reference,
        idempotency_key=str(uuid.uuid4()),
        received_by=user,
        **extra,
    )


def pdf_of(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def text_of(reader):
    """The PDF's words, wrapped lines joined with single spaces."""
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def cashier_a(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier")


@pytest.fixture
def treasurer_a(operator_a):
    return member(Role.TREASURER, operator_a, name="Tom Treasurer")


@pytest.fixture
def overpaid(operator_a, cashier_a):
    """Two charges (800 due in September, 1,000 in October) and a payment of 2,000: 200 is kept as credit."""
    charge(operator_a, "800", "bill:sep", datetime.date(2026, 9, 30))
    charge(operator_a, "1000", "bill:oct", datetime.date(2026, 10, 31))
    return paid(
        operator_a,
        "2000",
        user=cashier_a,
        payer_name="Jeanne Uwase",
        payer_phone="+250788123456",
        provider_reference="",
    )


def test_an_a4_receipt_says_who_paid_what_for_which_charges_and_the_balance_after(
    operator_a, cashier_a, client_for, overpaid
):
    # when the cashier opens the A4 PDF of the receipt
    reader = pdf_of(client_for(cashier_a).get(f"/payments/{overpaid.pk}/receipt.pdf?layout=a4"))
    text = text_of(reader)
    # then it is one A4 page with the operator, the number, the amount and what it paid
    assert len(reader.pages) == 1
    assert round(float(reader.pages[0].mediabox.width)) == 595 and round(float(reader.pages[0].mediabox.height)) == 842
    for expected in (
        "Amazi Alpha Ltd",
        "AAL-R-000001",
        "2,000 RWF",
        HOLDER,
        "Cash at the office",
        "Carla Cashier",
        "Jeanne Uwase",
        "bill:sep",
        "800 RWF",
        "bill:oct",
        "1,000 RWF",
        "Kept as credit for the next charges",
        "200 RWF",
        "In credit after this payment",
    ):
        assert expected in text, expected
    # an original: no COPY, no VOIDED
    assert "COPY" not in text and "VOIDED" not in text


@pytest.mark.parametrize("layout", ["58", "80"])
def test_a_thermal_receipt_is_one_page_as_wide_as_the_roll_and_as_tall_as_its_content(
    operator_a, cashier_a, client_for, overpaid, layout
):
    reader = pdf_of(client_for(cashier_a).get(f"/payments/{overpaid.pk}/receipt.pdf?layout={layout}"))
    page = reader.pages[0]
    assert len(reader.pages) == 1
    assert float(page.mediabox.width) == pytest.approx(int(layout) * mm, abs=0.5)
    # a roll is cut after the content: much shorter than an A4 page, and nothing is lost off its end
    assert 60 * mm < float(page.mediabox.height) < 297 * mm
    text = text_of(reader)
    for expected in ("AAL-R-000001", "2,000 RWF", "bill:sep", "800 RWF", "200 RWF", "Thank you."):
        assert expected in text, expected


def test_a_receipt_without_layout_is_a4_and_an_unknown_layout_is_a_400_saying_what_to_choose(
    operator_a, cashier_a, client_for, overpaid
):
    client = client_for(cashier_a)
    reader = pdf_of(client.get(f"/payments/{overpaid.pk}/receipt.pdf"))
    assert round(float(reader.pages[0].mediabox.width)) == 595
    response = client.get(f"/payments/{overpaid.pk}/receipt.pdf?layout=letter")
    assert response.status_code == 400
    assert "a4, 58 or 80" in response.content.decode()


def test_a_reprint_is_counted_audited_and_every_later_print_says_copy(operator_a, cashier_a, client_for, overpaid):
    client = client_for(cashier_a)
    # given the original, printed as often as the printer jams: never a COPY until a reprint is asked for
    assert "COPY" not in text_of(pdf_of(client.get(f"/payments/{overpaid.pk}/receipt.pdf?layout=58")))
    # when the cashier reprints it on the 80 mm roll
    response = client.post(f"/payments/{overpaid.pk}/reprint.pdf", {"layout": "80"})
    # then they are sent to the 80 mm PDF, which says COPY with the reprint's number and the same figures
    assert response.status_code == 302 and response["Location"].endswith(
        f"/payments/{overpaid.pk}/receipt.pdf?layout=80"
    )
    reader = pdf_of(client.get(response["Location"]))
    text = text_of(reader)
    assert "COPY" in text and "Reprint 1" in text
    assert "AAL-R-000001" in text and "2,000 RWF" in text and "200 RWF" in text
    assert float(reader.pages[0].mediabox.width) == pytest.approx(80 * mm, abs=0.5)
    assert Receipt.objects.get(payment=overpaid).prints == 1
    entry = AuditEntry.objects.filter(action="receipt.reprinted").latest("pk")
    assert entry.after["layout"] == "80" and entry.after["prints"] == 1
    # and the A4 print of it now says COPY too, and a second reprint counts 2
    client.post(f"/payments/{overpaid.pk}/reprint.pdf", {"layout": "a4"})
    assert "Reprint 2" in text_of(pdf_of(client.get(f"/payments/{overpaid.pk}/receipt.pdf?layout=a4")))
    # the HTML page's reprint and the PDF's share the count
    assert Receipt.objects.get(payment=overpaid).prints == 2


def test_a_reprint_with_an_unknown_layout_counts_nothing(operator_a, cashier_a, client_for, overpaid):
    response = client_for(cashier_a).post(f"/payments/{overpaid.pk}/reprint.pdf", {"layout": "a5"})
    assert response.status_code == 400
    assert Receipt.objects.get(payment=overpaid).prints == 0


def test_the_balance_after_stays_what_it_was_when_the_payment_was_taken(operator_a, cashier_a, client_for):
    # given 1,000 owed, a payment of 400 (600 left), then another charge and payment
    charge(operator_a, "1000", "bill:1", datetime.date(2026, 9, 30))
    first = paid(operator_a, "400", user=cashier_a)
    charge(operator_a, "500", "bill:2", datetime.date(2026, 10, 31))
    paid(operator_a, "100", user=cashier_a)
    # when the first receipt is printed later
    text = text_of(pdf_of(client_for(cashier_a).get(f"/payments/{first.pk}/receipt.pdf?layout=80")))
    # then it shows the balance right after that payment, not today's
    assert "Balance after this payment 600 RWF" in text
    assert "1,000 RWF" not in text  # what the account owes today


def test_a_voided_payments_receipt_says_voided_and_why(operator_a, cashier_a, treasurer_a, client_for, overpaid):
    payment_void(
        payment=overpaid,
        reason="Typed the wrong amount",
        approved_by=treasurer_a,
        acting_user=cashier_a,
        approver_roles=frozenset({Role.TREASURER}),
    )
    text = text_of(pdf_of(client_for(cashier_a).get(f"/payments/{overpaid.pk}/receipt.pdf?layout=58")))
    assert "VOIDED" in text and "Typed the wrong amount" in text
    assert "AAL-R-000001" in text and "2,000 RWF" in text


def test_a_payment_in_suspense_says_so_and_has_no_balance(operator_a, cashier_a, client_for):
    payment = paid(operator_a, "700", reference="NOBODY-9", user=cashier_a)
    text = text_of(pdf_of(client_for(cashier_a).get(f"/payments/{payment.pk}/receipt.pdf?layout=80")))
    assert "NOBODY-9" in text and "700 RWF" in text
    assert "in suspense" in text
    assert "Balance after" not in text


def test_a_provider_payment_shows_its_reference_and_the_payer_and_markup_in_names_is_just_text(
    operator_a, cashier_a, client_for
):
    charge(operator_a, "500", "bill:1", datetime.date(2026, 9, 30))
    payment = paid(operator_a, "500", channel="mpesa", provider_reference="RKTQDM7W6S", payer_name="Ann <b>& Co</b>")
    text = text_of(pdf_of(client_for(cashier_a).get(f"/payments/{payment.pk}/receipt.pdf")))
    assert "RKTQDM7W6S" in text and "M-Pesa" in text
    assert "Ann <b>& Co</b>" in text
    assert "Balance after this payment" in text


def test_the_operators_logo_is_drawn_and_an_svg_logo_is_left_out(operator_a, cashier_a, client_for, overpaid):
    png = io.BytesIO()
    PillowImage.new("RGB", (120, 40), (0, 90, 160)).save(png, format="PNG")
    operator_a.logo.save("logo.png", ContentFile(png.getvalue()), save=True)
    client = client_for(cashier_a)
    for layout in ("a4", "58"):
        reader = pdf_of(client.get(f"/payments/{overpaid.pk}/receipt.pdf?layout={layout}"))
        assert len(reader.pages[0].images) == 1, layout
    operator_a.logo.save("logo.svg", ContentFile(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), save=True)
    reader = pdf_of(client.get(f"/payments/{overpaid.pk}/receipt.pdf"))
    assert len(reader.pages[0].images) == 0 and "AAL-R-000001" in text_of(reader)


def test_a_receipt_is_drawn_in_the_readers_language(operator_a, cashier_a, client_for, overpaid):
    client = client_for(cashier_a)
    # French is written in the Latin alphabet: the receipt is in French, accents and all
    client.cookies["mita_language"] = "fr"
    with translation.override("fr"):
        french_title = translation.gettext("Payment receipt")
    assert french_title != "Payment receipt"
    french = text_of(pdf_of(client.get(f"/payments/{overpaid.pk}/receipt.pdf")))
    assert french_title in french and "AAL-R-000001" in french
    # Hindi is drawn in Devanagari with the Noto fonts (test_receipt_pdf_scripts.py checks the script itself)
    client.cookies["mita_language"] = "hi"
    hindi = text_of(pdf_of(client.get(f"/payments/{overpaid.pk}/receipt.pdf")))
    assert "Payment receipt" not in hindi and "AAL-R-000001" in hindi


@pytest.mark.parametrize(
    "role", [Role.CASHIER, Role.REVENUE_COLLECTOR, Role.TREASURER, Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE]
)
def test_payment_roles_and_customer_care_may_print_a_receipt(operator_a, client_for, overpaid, role):
    client = client_for(member(role, operator_a))
    assert client.get(f"/payments/{overpaid.pk}/receipt.pdf?layout=58").status_code == 200


@pytest.mark.parametrize("role", [Role.BILLING_OFFICER, Role.STOREKEEPER, Role.TECHNICIAN])
def test_other_roles_may_not_print_or_reprint(operator_a, client_for, overpaid, role):
    client = client_for(member(role, operator_a))
    assert client.get(f"/payments/{overpaid.pk}/receipt.pdf").status_code == 403
    assert client.post(f"/payments/{overpaid.pk}/reprint.pdf", {"layout": "a4"}).status_code == 403
    assert Receipt.objects.get(payment=overpaid).prints == 0


def test_another_operators_admin_gets_404_and_counts_no_reprint(operator_a, admin_b, client_for, overpaid):
    client = client_for(admin_b)
    assert client.get(f"/payments/{overpaid.pk}/receipt.pdf").status_code == 404
    assert client.get(f"/payments/{overpaid.pk}/receipt.pdf?layout=58").status_code == 404
    assert client.post(f"/payments/{overpaid.pk}/reprint.pdf", {"layout": "a4"}).status_code == 404
    assert Receipt.objects.get(payment=overpaid).prints == 0
    assert Payment.objects.filter(operator=operator_a).count() == 1


def test_the_receipt_page_links_its_pdfs_and_the_pdf_reprint(operator_a, cashier_a, client_for, overpaid):
    body = client_for(cashier_a).get(f"/payments/{overpaid.pk}/").content.decode()
    for layout in ("a4", "58", "80"):
        assert f"/payments/{overpaid.pk}/receipt.pdf?layout={layout}" in body
    assert f'action="/payments/{overpaid.pk}/reprint.pdf"' in body
