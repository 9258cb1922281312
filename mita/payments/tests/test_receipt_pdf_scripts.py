"""Receipts and statements in Hindi and Punjabi: Devanagari and Gurmukhi drawn with the Noto fonts Mita ships and
shaped by HarfBuzz (conjuncts, reordered vowel signs), Latin-script languages still in Helvetica, thermal rolls
still fitting, and English when shaping is not available.

How a shaped word is checked: HarfBuzz turns a word into glyphs; a glyph that is one character (क, ा) is written
in the PDF's text layer as that character, a glyph with no character of its own (the conjunct क्ष, the vowel sign
ि moved before its consonant's cluster) as a private-use character. So the text layer holds each word as HarfBuzz
shaped it, in drawing order: shaped_pattern() builds that expectation from the shipped font, and an unshaped word
(one glyph per character, in typing order) does not match it.
"""

import datetime
import io
import re
import uuid
from decimal import Decimal
from xml.sax.saxutils import unescape

import pytest
import uharfbuzz
from django.utils import translation
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.platypus import Paragraph, Table

from mita.accounts.roles import Role
from mita.ledger.services import charge_post
from mita.payments import pdf
from mita.payments.receipts import receipt_document
from mita.payments.services import payment_receive
from mita.testing.factories import member

pytestmark = pytest.mark.django_db
HOLDER = "AAL-0001"
REGULAR = pdf.FONT_DIR / "MitaNotoSansIndic-Regular.ttf"
PRIVATE = "[\ue000-\uf8ff]"
KSHATRIYA = "क्षत्रिय"  # क्ष and त्र are conjuncts, ि is drawn before त्र: 8 characters, 4 glyphs
PREETI = "ਪ੍ਰੀਤੀ"  # ਪ੍ਰ: ਰ under ਪ as one glyph; ਿ before ਤ


@pytest.fixture(scope="module")
def shaper():
    blob = uharfbuzz.Blob(REGULAR.read_bytes())
    font = uharfbuzz.Font(uharfbuzz.Face(blob))
    characters: dict[int, list[int]] = {}
    for code in TTFont(REGULAR).getBestCmap():
        characters.setdefault(font.get_nominal_glyph(code), []).append(code)
    return font, characters


def shaped(shaper, word):
    """The glyphs HarfBuzz draws `word` with in the shipped font, each as the characters it may stand for in the
    text layer (None: a glyph of no character, written as a private-use one)."""
    font, characters = shaper
    buffer = uharfbuzz.Buffer()
    buffer.add_str(word)
    buffer.guess_segment_properties()
    uharfbuzz.shape(font, buffer, {"kern": True, "liga": True, "dlig": True})
    return [characters.get(info.codepoint) for info in buffer.glyph_infos]


def shaped_pattern(shaper, phrase):
    """A regular expression for `phrase` in the text layer as drawn shaped (spaces left out: see flat())."""
    parts = []
    for word in phrase.split():
        for codes in shaped(shaper, word):
            parts.append(PRIVATE if codes is None else "(?:" + "|".join(re.escape(chr(code)) for code in codes) + ")")
    return "".join(parts)


def flat(reader):
    """The text layer without any white space: extraction puts spaces inside words after a positioned mark."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def fonts_of(reader):
    """{base font name without its subset prefix: embedded?} for every font on every page."""
    found = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+")[-1]
            descriptor = font.get("/FontDescriptor")
            found[name] = descriptor is not None and "/FontFile2" in descriptor.get_object()
    return found


def drawn_fonts(reader):
    """The fonts the pages' text is shown in (a Tf followed by a Tj or TJ before the next Tf), by base font name.
    reportlab selects Helvetica at the top of every page whether or not it writes anything with it."""
    names = set()
    for page in reader.pages:
        resources = page["/Resources"]["/Font"]
        content = page.get_contents().get_data().decode("latin-1")
        for key in re.findall(r"/(\S+) [\d.]+ Tf(?:(?!Tf).)*?(?:Tj|TJ)", content, flags=re.DOTALL):
            names.add(str(resources["/" + key].get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def charge(operator, amount, reference, due):
    return charge_post(
        operator=operator,
        holder=HOLDER,
        head="water_sales",
        amount=Decimal(amount),
        vat_rule="exempt",
        reference=reference,
        due_date=due,
        acting_user=None,
    )


def paid(operator, amount, *, user, **extra):
    return payment_receive(
        operator=operator,
        channel="cash_office",
        amount=Decimal(amount),
        account_reference=HOLDER,
        idempotency_key=str(uuid.uuid4()),
        received_by=user,
        **extra,
    )


def translated(language, text):
    with translation.override(language):
        result = translation.gettext(text)
    assert result != text, f"{text!r} has no {language} translation"
    return result


@pytest.fixture
def cashier_hi(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier", language="hi")


@pytest.fixture
def cashier_pa(operator_a):
    return member(Role.CASHIER, operator_a, name="Carla Cashier", language="pa")


@pytest.fixture
def hindi_payment(operator_a, cashier_hi):
    charge(operator_a, "800", "bill:sep", datetime.date(2026, 9, 30))
    return paid(operator_a, "2000", user=cashier_hi, payer_name=KSHATRIYA)


def reader_of(client_for, user):
    """A client signed in as `user`, in the user's language (the cookie the sign-in page sets)."""
    client = client_for(user)
    client.cookies["mita_language"] = user.language
    return client


def pdf_get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content)), len(response.content)


@pytest.mark.parametrize("layout", ["a4", "80", "58"])
def test_a_hindi_readers_receipt_is_in_hindi_in_the_noto_font_and_shaped(
    operator_a, cashier_hi, client_for, hindi_payment, shaper, layout
):
    reader, size = pdf_get(
        reader_of(client_for, cashier_hi), f"/payments/{hindi_payment.pk}/receipt.pdf?layout={layout}"
    )
    print(f"Hindi receipt, {layout}: {size} bytes")
    # the text is drawn in the Noto font Mita ships, embedded, regular and bold; Helvetica draws nothing
    assert fonts_of(reader)["MitaNotoSansIndic-Regular"] is True
    assert fonts_of(reader)["MitaNotoSansIndic-Bold"] is True
    assert drawn_fonts(reader) == {"MitaNotoSansIndic-Regular", "MitaNotoSansIndic-Bold"}
    text = flat(reader)
    # in Hindi, not English: its words as HarfBuzz shapes them, with the Latin figures and references
    for english in ("Payment receipt", "Customer account", "Thank you.", "Kept as credit for the next charges"):
        assert english.replace(" ", "") not in text
        assert re.search(shaped_pattern(shaper, translated("hi", english)), text), english
    for latin in ("AmaziAlphaLtd", "AAL-R-000001", "2000RWF", "AAL-0001", "bill:sep"):
        assert latin in text, latin
    # the payer's name is shaped: क्ष and त्र are one glyph each and ि is drawn before त्र, 4 glyphs for 8 letters
    glyphs = shaped(shaper, KSHATRIYA)
    assert len(glyphs) == 4 and glyphs[-1] == [ord("य")]
    assert re.search(shaped_pattern(shaper, KSHATRIYA), text)
    assert KSHATRIYA not in text  # what the text layer would hold drawn letter by letter, unshaped


def test_a_punjabi_readers_statement_is_in_punjabi_in_the_noto_font_and_shaped(
    operator_a, cashier_pa, client_for, shaper
):
    charge(operator_a, "1000", "bill:jan", datetime.date(2026, 1, 31))
    payment = paid(operator_a, "400", user=cashier_pa, value_date=datetime.date(2026, 1, 15))
    url = f"/payments/accounts/{HOLDER}/statement.pdf?start=2026-01-01&end=2026-03-31"
    reader, size = pdf_get(reader_of(client_for, cashier_pa), url)
    print(f"Punjabi statement: {size} bytes")
    assert fonts_of(reader)["MitaNotoSansIndic-Regular"] is True
    assert drawn_fonts(reader) == {"MitaNotoSansIndic-Regular", "MitaNotoSansIndic-Bold"}
    text = flat(reader)
    for english in ("Statement of account", "Opening balance", "Closing balance", "Customer account"):
        assert english.replace(" ", "") not in text
        assert re.search(shaped_pattern(shaper, translated("pa", english)), text), english
    # the footnote's ਕ੍ਰੈਡਿਟ ("credit"): a subjoined ਰ and a reordered ਿ, fewer glyphs than letters
    note = translated("pa", "A negative balance is credit in the customer's favour, used on the next charges.")
    assert "ਕ੍ਰੈਡਿਟ" in note
    assert len(shaped(shaper, "ਕ੍ਰੈਡਿਟ")) < len("ਕ੍ਰੈਡਿਟ")
    assert re.search(shaped_pattern(shaper, note), text)
    assert "ਕ੍ਰੈਡਿਟ" not in text
    # the figures and references, and the footer drawn on the canvas (shaped too): "Page 1" in Punjabi
    for latin in ("AAL-0001", payment.receipt.number, "bill:jan", "1000RWF", "2026-01-01"):
        assert latin in text, latin
    page = translated("pa", "Page %(number)d") % {"number": 1}
    assert re.search(shaped_pattern(shaper, page), text)


def test_the_statement_footer_shapes_each_word_in_its_own_script(operator_a, cashier_hi, client_for, shaper):
    # the footer starts with the operator's Latin name and goes on in Devanagari ("विवरण": ि before the first व)
    charge(operator_a, "1000", "bill:jan", datetime.date(2026, 1, 31))
    url = f"/payments/accounts/{HOLDER}/statement.pdf?start=2026-01-01&end=2026-03-31"
    reader, _size = pdf_get(reader_of(client_for, cashier_hi), url)
    with translation.override("hi"):
        period = translation.gettext("%(start)s to %(end)s") % {"start": "2026-01-01", "end": "2026-03-31"}
        footer = translation.gettext("%(operator)s · statement of %(holder)s · %(period)s") % {
            "operator": operator_a.name,
            "holder": HOLDER,
            "period": period,
        }
    assert "विवरण" in footer
    assert re.search(shaped_pattern(shaper, footer), flat(reader))


@pytest.mark.parametrize("language", ["en", "fr"])
def test_latin_script_languages_keep_helvetica_and_small_files(operator_a, client_for, hindi_payment, shaper, language):
    # a payer with a Latin name: nothing the standard fonts cannot write
    payment = paid(operator_a, "100", user=None, payer_name="Jeanne Uwase")
    user = member(Role.CASHIER, operator_a, language=language)
    reader, size = pdf_get(reader_of(client_for, user), f"/payments/{payment.pk}/receipt.pdf?layout=58")
    print(f"{language} receipt, 58: {size} bytes")
    assert fonts_of(reader) == {"Helvetica": False, "Helvetica-Bold": False}
    assert size < 6_000
    text = " ".join(reader.pages[0].extract_text().split())
    title = "Payment receipt" if language == "en" else translated("fr", "Payment receipt")
    assert title in text and "Jeanne Uwase" in text
    statement, size = pdf_get(reader_of(client_for, user), f"/payments/accounts/{HOLDER}/statement.pdf")
    assert set(fonts_of(statement)) == {"Helvetica", "Helvetica-Bold"}


def test_an_english_receipt_of_a_payer_named_in_gurmukhi_uses_the_noto_font_not_empty_boxes(
    operator_a, client_for, shaper
):
    user = member(Role.CASHIER, operator_a, language="en")
    payment = paid(operator_a, "100", user=user, payer_name=f"{PREETI} Kaur")
    reader, _size = pdf_get(reader_of(client_for, user), f"/payments/{payment.pk}/receipt.pdf?layout=80")
    assert drawn_fonts(reader) == {"MitaNotoSansIndic-Regular", "MitaNotoSansIndic-Bold"}
    text = flat(reader)
    assert "Paymentreceipt" in text  # still English
    assert re.search(shaped_pattern(shaper, PREETI) + "Kaur", text)


def test_the_sizes_of_indic_pdfs_stay_reasonable_for_slow_links(operator_a, cashier_hi, client_for, hindi_payment):
    # the fonts are embedded as subsets of the glyphs used: tens of kilobytes, not the 300 KB font files
    for layout in ("a4", "58"):
        _reader, size = pdf_get(
            reader_of(client_for, cashier_hi), f"/payments/{hindi_payment.pk}/receipt.pdf?layout={layout}"
        )
        assert size < 60_000, (layout, size)
    assert REGULAR.stat().st_size > 200_000


def _paragraphs(flowables, width):
    """(paragraph, the width it is laid out in) for every paragraph of a story, inside tables too."""
    for flowable in flowables:
        if isinstance(flowable, Paragraph):
            yield flowable, width
        elif isinstance(flowable, Table):
            for row in flowable._cellvalues:
                for column, cell in enumerate(row):
                    padding = 2  # _tight(): no left padding, 2 pt right
                    cells = cell if isinstance(cell, list | tuple) else [cell]
                    yield from _paragraphs(cells, flowable._colWidths[column] - padding)


@pytest.mark.parametrize("language", ["hi", "pa"])
def test_on_the_58_mm_roll_every_word_fits_its_column_and_the_receipt_one_short_page(
    operator_a, client_for, hindi_payment, language
):
    user = member(Role.CASHIER, operator_a, name="Manpreet Kaur", language=language)
    with translation.override(language):
        document = receipt_document(payment=hindi_payment)
        fonts = pdf.pdf_fonts()
        layout = pdf.LAYOUTS["58"]
        width = layout.width - 2 * layout.margin
        story = pdf._receipt_story(
            document, layout, width, printed_at=datetime.datetime.now(tz=datetime.UTC), fonts=fonts
        )
    assert fonts is pdf.NOTO_INDIC
    checked = 0
    for paragraph, room in _paragraphs(story, width):
        style = paragraph.style
        for word in unescape(paragraph.text).split():
            # reportlab would break a word wider than its column in the middle of a letter cluster
            drawn = pdfmetrics.stringWidth(word, style.fontName, style.fontSize)
            assert drawn <= room, (word, drawn, room)
            checked += 1
    assert checked > 40
    reader, _size = pdf_get(reader_of(client_for, user), f"/payments/{hindi_payment.pk}/receipt.pdf?layout=58")
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) == pytest.approx(58 * mm, abs=0.5)
    assert 60 * mm < float(reader.pages[0].mediabox.height) < 297 * mm


def test_the_language_table_and_english_when_shaping_is_missing(
    operator_a, cashier_hi, client_for, hindi_payment, monkeypatch
):
    assert pdf.pdf_language("hi") == "hi" and pdf.pdf_language("pa-IN") == "pa"
    assert pdf.pdf_language("fr") == "fr" and pdf.pdf_language("ta") == "en" and pdf.pdf_language(None) == "en"
    assert pdf.pdf_fonts("hi") is pdf.pdf_fonts("pa") is pdf.NOTO_INDIC
    assert pdf.pdf_fonts("rw") is pdf.HELVETICA
    # without uharfbuzz, reportlab would draw Devanagari letter by letter, wrong: a Hindi reader gets English
    monkeypatch.setattr(ttfonts, "uharfbuzz", None)
    assert pdf.pdf_language("hi") == "en"
    reader, _size = pdf_get(reader_of(client_for, cashier_hi), f"/payments/{hindi_payment.pk}/receipt.pdf")
    assert "Payment receipt" in " ".join(reader.pages[0].extract_text().split())
