"""Bill PDFs: A4 and thermal rolls hold the bill's figures, a draft says DRAFT, the payment link is a QR code or the
bill says how to pay; another operator's bill is a 404 on the page and the API."""

import io
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from PIL import Image as PillowImage
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from mita.billing.documents import bill_document
from mita.billing.pdf_bill import bill_pdf
from mita.billing.selectors import bill_get_for_access
from mita.billing.tests.world_documents import ARREARS, CREDIT, issued_world
from mita.payments.models import PaymentLink
from mita.payments.online import online_channel_configure
from mita.payments.statements import money

pytestmark = pytest.mark.django_db


def pdf_of(response) -> PdfReader:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def text_of(reader: PdfReader) -> str:
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


class OperatorAccess:
    """The access of an operator's user, as bill_get_for_access reads it."""

    def __init__(self, operator):
        self.operator = operator

    def operator_ids(self):
        return [self.operator.pk]


@pytest.fixture
def world(operator_a):
    return issued_world(operator_a)


def test_an_issued_bills_a4_pdf_holds_its_figures_and_its_payment_link(client_for, admin_a, operator_a, world):
    # given operator A takes payments online, and R1-03 used 37 m3 in October owing 1,500 from September
    online_channel_configure(operator=operator_a, acting_user=admin_a)
    bill = world["bills"]["AAL-R1-03"]
    assert bill.number and bill.arrears == ARREARS
    # when the bill's A4 PDF is opened
    reader = pdf_of(client_for(admin_a).get(f"/billing/bills/{bill.pk}/pdf/?layout=a4"))
    text = text_of(reader)
    # then it is one A4 page with the bill's facts, its lines and its totals
    assert len(reader.pages) == 1 and float(reader.pages[0].mediabox.height) == pytest.approx(A4[1], abs=0.5)
    lines = bill.line_items
    assert "Service charge" in {line.label for line in lines} and len(lines) >= 4  # 3 water bands, the charge
    expected = [
        operator_a.name,
        bill.number,
        "Holder of AAL-R1-03",
        "AAL-R1-03",
        "AALR13",  # the meter's serial
        "Previous index 100",
        "Current index 137",
        "Consumption 37 m3",
        "2026-10",
        f"Due on {bill.due_on:%Y-%m-%d}",
        f"This bill {money(bill.total, 'RWF')}",
        f"Arrears {money(ARREARS, 'RWF')}",
        f"Total due {money(bill.total + ARREARS, 'RWF')}",
        *(line.label for line in lines),
        *(money(line.amount, "RWF") for line in lines),
    ]
    for fact in expected:
        assert fact in text, fact
    assert "DRAFT" not in text
    # and it carries the account's payment link (the one the bill's SMS would send), as text and as a QR code
    link = PaymentLink.objects.get(operator=operator_a, holder="AAL-R1-03")
    assert f"/pay/{link.token}/" in text
    assert "scan the code" in text


def test_a_roll_is_as_wide_as_the_paper_and_as_tall_as_the_bill(client_for, admin_a, world):
    bill = world["bills"]["AAL-R3-02"]
    client = client_for(admin_a)
    heights = {}
    for layout in ("58", "80"):
        reader = pdf_of(client.get(f"/billing/bills/{bill.pk}/pdf/?layout={layout}"))
        page = reader.pages[0]
        assert len(reader.pages) == 1
        assert float(page.mediabox.width) == pytest.approx(int(layout) * mm, abs=0.5)
        heights[layout] = float(page.mediabox.height)
        text = text_of(reader)
        for fact in (bill.number, "AAL-R3-02", "Consumption 50 m3", money(bill.total, "RWF")):
            assert fact in text, (layout, fact)
    # a roll is cut after the bill: far shorter than an A4 page
    assert max(heights.values()) < A4[1] * 0.8


def test_without_online_payments_the_bill_says_how_to_pay_and_what_credit_is_left(client_for, admin_a, world):
    # given R1-01 paid 5,000 in advance, more than its October bill
    bill = world["bills"]["AAL-R1-01"]
    assert bill.credit == CREDIT and bill.total < CREDIT
    text = text_of(pdf_of(client_for(admin_a).get(f"/billing/bills/{bill.pk}/pdf/")))
    assert f"Credit -{money(CREDIT, 'RWF')}" in text
    assert f"Total due {money(Decimal(0), 'RWF')}" in text
    assert f"In credit after this bill: {money(CREDIT - bill.total, 'RWF')}" in text
    assert "Nothing to pay on this bill" in text
    # and a bill still owed, with no online payments, says how to pay with the account number instead of a QR code
    owed = text_of(pdf_of(client_for(admin_a).get(f"/billing/bills/{world['bills']['AAL-R1-02'].pk}/pdf/?layout=80")))
    assert "giving your account number AAL-R1-02 as the reference" in owed
    assert "/pay/" not in owed and not PaymentLink.objects.exists()


def test_a_drafts_pdf_says_draft_and_has_no_number_nor_payment_link(client_for, admin_a, operator_a):
    world = issued_world(operator_a, approve=False)
    online_channel_configure(operator=operator_a, acting_user=admin_a)
    draft = world["bills"]["AAL-R2-01"]
    assert draft.status == "draft" and not draft.number
    text = text_of(pdf_of(client_for(admin_a).get(f"/billing/bills/{draft.pk}/pdf/?layout=58")))
    assert "DRAFT" in text and "(no number)" in text and "Consumption 80 m3" in text
    assert "AAL-B-" not in text and "/pay/" not in text
    assert not PaymentLink.objects.exists()


def test_the_api_gives_the_pdf_and_bad_layouts_are_told_what_to_fix(client_for, staff_a, world):
    client = client_for(staff_a)
    bill = world["bills"]["AAL-R2-02"]
    reader = pdf_of(client.get(f"/api/v1/bills/{bill.pk}/pdf?layout=80"))
    assert bill.number in text_of(reader)
    bad = client.get(f"/api/v1/bills/{bill.pk}/pdf?layout=letter")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "layout_invalid"
    assert "layout" in bad.json()["error"]["fields"]
    page = client.get(f"/billing/bills/{bill.pk}/pdf/?layout=letter")
    assert page.status_code == 400 and b"choose a4, 58 or 80" in page.content
    # the bill's page links its PDFs
    detail = client.get(f"/billing/bills/{bill.pk}/")
    assert f"/billing/bills/{bill.pk}/pdf/?layout=58".encode() in detail.content


def test_another_operator_gets_404_for_a_bills_pdf(client_for, admin_b, world):
    bill = world["bills"]["AAL-R1-03"]
    client = client_for(admin_b)
    for url in (
        f"/billing/bills/{bill.pk}/pdf/",
        f"/billing/bills/{bill.pk}/pdf/?layout=letter",
        f"/api/v1/bills/{bill.pk}/pdf",
        f"/api/v1/bills/{bill.pk}/pdf?layout=letter",
    ):
        assert client.get(url).status_code == 404, url


def test_the_regulator_reads_a_bill_pdf_without_making_a_payment_link(
    client_for, regulator_viewer, admin_a, operator_a, world
):
    online_channel_configure(operator=operator_a, acting_user=admin_a)
    bill = world["bills"]["AAL-R1-03"]
    text = text_of(pdf_of(client_for(regulator_viewer).get(f"/billing/bills/{bill.pk}/pdf/")))
    assert bill.number in text and "giving your account number" in text
    assert not PaymentLink.objects.exists()


def test_the_logo_is_drawn_and_the_document_takes_a_few_queries_whatever_its_lines(
    operator_a, admin_a, world, django_assert_max_num_queries
):
    png = io.BytesIO()
    PillowImage.new("RGB", (120, 40), (0, 90, 160)).save(png, format="PNG")
    operator_a.logo.save("logo.png", ContentFile(png.getvalue()), save=True)
    access = OperatorAccess(operator_a)
    bill = world["bills"]["AAL-R3-01"]
    # the bill (its lines kept on it), its meters, the payment link's setting: no query per line
    with django_assert_max_num_queries(4):
        document = bill_document(bill=bill_get_for_access(access=access, bill_id=bill.pk), acting_user=admin_a)
    for layout in ("a4", "58"):
        reader = PdfReader(io.BytesIO(bill_pdf(document, layout=layout)))
        assert len(reader.pages[0].images) == 1, layout
