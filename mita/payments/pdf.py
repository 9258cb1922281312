"""PDF layouts of receipts (A4, and 58 mm and 80 mm thermal rolls for portable printers) and of statements (A4).

Pure drawing: the functions take a ReceiptDocument or a Statement and return the PDF's bytes, in the active
language. A thermal receipt is one page as wide as the roll and as tall as its content. The fonts follow the
language (LANGUAGE_FONTS): the PDF's standard Helvetica for the Latin alphabets of English, French and
Kinyarwanda (no font to embed: small files for slow links); for Hindi and Punjabi, Noto Sans Devanagari and
Gurmukhi merged with Noto Sans's Latin into one font shipped in mita/payments/fonts/ (embedded as a subset of the
glyphs used), its text shaped by HarfBuzz (uharfbuzz) so conjuncts and vowel signs are drawn as they are written.
A language with no fonts here gets its PDFs in English (pdf_language; see docs/receipts-and-statements.md).
"""

import dataclasses
import datetime
import functools
import io
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from mita.payments.receipts import ReceiptDocument
from mita.payments.statements import Statement, money

logger = logging.getLogger(__name__)

# Content taller than this never fits a thermal page: a guard, not a real limit (a receipt is a few cm).
MAX_ROLL_HEIGHT = 5000 * mm
FONT_DIR = Path(__file__).resolve().parent / "fonts"


@dataclasses.dataclass(frozen=True)
class PdfFonts:
    """The fonts a PDF is drawn with: a regular and a bold face, either standard PDF fonts (files=None, nothing
    embedded) or TrueType files in FONT_DIR (embedded, subset to the glyphs used), shaped by HarfBuzz if
    `shaping` (scripts whose letters join, reorder or stack: Devanagari, Gurmukhi ...)."""

    regular: str
    bold: str
    files: tuple[str, str] | None = None  # (regular, bold) file names in FONT_DIR
    shaping: bool = False
    leading: float = 1.25  # line height, as a multiple of the font size (vowel signs above and below need more)


HELVETICA = PdfFonts("Helvetica", "Helvetica-Bold")
# Noto Sans Devanagari + Noto Sans Gurmukhi + the Latin of Noto Sans, one font per weight (scripts/build-pdf-fonts).
NOTO_INDIC = PdfFonts(
    "MitaNotoSansIndic",
    "MitaNotoSansIndic-Bold",
    files=("MitaNotoSansIndic-Regular.ttf", "MitaNotoSansIndic-Bold.ttf"),
    shaping=True,
    leading=1.5,
)
# The languages PDFs are drawn in, and their fonts. A language in a script none of these fonts writes is not
# here: its readers get English (pdf_language). To add one, build its Noto font into a family and list it here.
LANGUAGE_FONTS: dict[str, PdfFonts] = {
    "en": HELVETICA,
    "fr": HELVETICA,
    "rw": HELVETICA,
    "hi": NOTO_INDIC,
    "pa": NOTO_INDIC,
}
PDF_SCRIPT_LANGUAGES = frozenset(LANGUAGE_FONTS)
PDF_FALLBACK_LANGUAGE = "en"

_registering = threading.Lock()


def shaping_available() -> bool:
    """Whether reportlab can shape text (uharfbuzz imported); without it Devanagari would print as broken glyphs."""
    return ttfonts.uharfbuzz is not None


def _code(language: str | None) -> str:
    return (language or "").split("-")[0].split("_")[0].lower()


def pdf_language(language: str | None) -> str:
    """The language to draw a PDF in: the reader's, if Mita has fonts that write its script, else English."""
    code = _code(language)
    fonts = LANGUAGE_FONTS.get(code)
    if fonts is None:
        return PDF_FALLBACK_LANGUAGE
    if fonts.shaping and not shaping_available():
        logger.warning("uharfbuzz is not installed: PDFs in %s are drawn in English", code)
        return PDF_FALLBACK_LANGUAGE
    return code


def standard_fonts_write(text: str) -> bool:
    """Whether Helvetica, as reportlab draws it (WinAnsi encoding), has a glyph for every character of `text`."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def pdf_fonts(language: str | None = None, *, texts: Iterable[str] = ()) -> PdfFonts:
    """The fonts for a PDF in `language` (default: the active language), registered with reportlab on first use.

    `texts` are what users typed that the PDF shows (names, references): an English or French receipt of a
    payer named in Devanagari is drawn with the Noto fonts too, not with Helvetica's empty boxes."""
    fonts = LANGUAGE_FONTS.get(_code(language or translation.get_language()), HELVETICA)
    if fonts.files is None and shaping_available() and not all(standard_fonts_write(text) for text in texts):
        fonts = NOTO_INDIC
    if fonts.files is not None:
        _register(fonts)
    return fonts


def _strings(value: Any) -> Iterator[str]:
    """The strings in a document: its string fields, those of its lists and of the dataclasses in them."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _strings(getattr(value, field.name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _operator_strings(operator: Any) -> list[str]:
    return [str(getattr(operator, name, "") or "") for name in ("name", "phone", "email")]


@functools.cache
def _register_once(regular: str, bold: str, regular_file: str, bold_file: str) -> None:
    for name, file in ((regular, regular_file), (bold, bold_file)):
        pdfmetrics.registerFont(ttfonts.TTFont(name, str(FONT_DIR / file), shapable=True))
    pdfmetrics.registerFontFamily(regular, normal=regular, bold=bold, italic=regular, boldItalic=bold)


def _register(fonts: PdfFonts) -> None:
    assert fonts.files is not None
    with _registering:  # two threads drawing the first Hindi PDF at once register the font once
        _register_once(fonts.regular, fonts.bold, *fonts.files)


@dataclasses.dataclass(frozen=True)
class Layout:
    key: str
    width: float  # points
    height: float | None  # None: as tall as the content (a roll)
    margin: float
    font_size: float
    label_share: float  # the width of the label column of the facts, as a share of the content width

    @property
    def thermal(self) -> bool:
        return self.height is None


LAYOUTS: dict[str, Layout] = {
    "a4": Layout("a4", A4[0], A4[1], 20 * mm, 10, 0.3),
    "80": Layout("80", 80 * mm, None, 4 * mm, 8.5, 0.4),
    "58": Layout("58", 58 * mm, None, 2.5 * mm, 7.5, 0.42),
}


def _text(value: Any) -> str:
    """Text for a Paragraph: its markup characters escaped (names and references come from users)."""
    return escape(str(value))


@dataclasses.dataclass(frozen=True)
class _Styles:
    normal: ParagraphStyle
    small: ParagraphStyle
    bold: ParagraphStyle
    right: ParagraphStyle
    right_bold: ParagraphStyle
    center: ParagraphStyle
    title: ParagraphStyle
    amount: ParagraphStyle
    stamp: ParagraphStyle


def _styles(size: float, fonts: PdfFonts) -> _Styles:
    # Leadings are the Latin ones (1.25 × the size) scaled by the script's: Devanagari's vowel signs stack above
    # and below the letters and would touch the next line's.
    line = fonts.leading / 1.25
    normal = ParagraphStyle(
        "normal", fontName=fonts.regular, fontSize=size, leading=size * 1.25 * line, shaping=int(fonts.shaping)
    )
    bold = ParagraphStyle("bold", parent=normal, fontName=fonts.bold)
    return _Styles(
        normal=normal,
        small=ParagraphStyle("small", parent=normal, fontSize=size * 0.85, leading=size * 1.05 * line),
        bold=bold,
        right=ParagraphStyle("right", parent=normal, alignment=TA_RIGHT),
        right_bold=ParagraphStyle("right_bold", parent=bold, alignment=TA_RIGHT),
        center=ParagraphStyle("center", parent=normal, alignment=TA_CENTER),
        title=ParagraphStyle(
            "title",
            parent=bold,
            fontSize=size * 1.4,
            leading=size * 1.75 * line,
            alignment=TA_CENTER,
            spaceAfter=size * 0.2,
        ),
        amount=ParagraphStyle(
            "amount", parent=bold, fontSize=size * 1.8, leading=size * 2.2 * line, alignment=TA_CENTER
        ),
        stamp=ParagraphStyle(
            "stamp",
            parent=bold,
            fontSize=size * 2.2,
            leading=size * 2.6 * line,
            alignment=TA_CENTER,
            textColor=colors.black,
        ),
    )


def _logo(operator: Any, *, max_width: float, max_height: float) -> Image | None:
    """The operator's logo (PNG or JPEG) scaled into the box; an SVG or unreadable file is left out."""
    logo = getattr(operator, "logo", None)
    if not logo:
        return None
    try:
        with logo.open("rb") as handle:
            content = handle.read()
        reader = ImageReader(io.BytesIO(content))
        width, height = reader.getSize()
    except Exception:  # an SVG, a missing file, a broken image: a receipt never fails for its logo
        logger.info("operator %s: logo not drawn on a PDF", getattr(operator, "pk", None), exc_info=True)
        return None
    scale = min(max_width / width, max_height / height, 1.0)
    image = Image(io.BytesIO(content), width=width * scale, height=height * scale)
    image.hAlign = "CENTER"
    return image


def _stamp(text: str, detail: str, styles: _Styles, width: float) -> Table:
    """A boxed word (COPY, VOIDED) that no one can miss, with a line under it saying why."""
    rows: list[list[Any]] = [[Paragraph(_text(text), styles.stamp)]]
    if detail:
        rows.append([Paragraph(_text(detail), styles.center)])
    stamp = Table(rows, colWidths=[width * 0.8])
    stamp.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 2, colors.black),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    stamp.hAlign = "CENTER"
    return stamp


def _facts(rows: Sequence[tuple[str, str]], styles: _Styles, width: float, label_share: float) -> Table:
    table = Table(
        [[Paragraph(_text(label), styles.small), Paragraph(_text(value), styles.normal)] for label, value in rows],
        colWidths=[width * label_share, width * (1 - label_share)],
    )
    table.setStyle(_tight())
    table.hAlign = "LEFT"
    return table


def _tight(*extra: tuple[Any, ...]) -> TableStyle:
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            *extra,
        ]
    )


def _local(moment: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def _receipt_story(
    document: ReceiptDocument, layout: Layout, width: float, *, printed_at: datetime.datetime, fonts: PdfFonts
) -> list[Flowable]:
    styles = _styles(layout.font_size, fonts)
    currency = document.currency
    operator = document.operator
    story: list[Flowable] = []
    logo = _logo(operator, max_width=width * 0.6, max_height=(25 if not layout.thermal else 14) * mm)
    if logo is not None:
        story += [logo, Spacer(1, 2 * mm)]
    story.append(Paragraph(_text(operator.name), styles.title))
    contact = " · ".join(value for value in (getattr(operator, "phone", ""), getattr(operator, "email", "")) if value)
    if contact:
        story.append(Paragraph(_text(contact), styles.center))
    story.append(Spacer(1, 1.5 * mm))
    story.append(Paragraph(_text(_("Payment receipt")), styles.center))
    story.append(Paragraph(_text(document.number or "—"), styles.title))
    if document.is_copy:
        detail = _("Reprint %(count)d, printed %(when)s") % {"count": document.reprints, "when": _local(printed_at)}
        story += [Spacer(1, 1 * mm), _stamp(_("COPY"), detail, styles, width)]
    if document.voided:
        detail = _("Reason: %(reason)s") % {"reason": document.void_reason} if document.void_reason else ""
        story += [Spacer(1, 1 * mm), _stamp(_("VOIDED"), detail, styles, width)]
    elif document.reversed:
        story += [Spacer(1, 1 * mm), _stamp(_("REVERSED"), _("Reversed by the provider."), styles, width)]
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph(_text(money(document.amount, currency)), styles.amount))
    story.append(Spacer(1, 2 * mm))

    facts = [
        (_("Date"), formats.date_format(document.received_at, "Y-m-d H:i")),
        (_("Customer account"), document.holder or _("Not yet matched (in suspense)")),
        (_("Account reference"), document.account_reference),
        (_("Channel"), document.channel),
    ]
    if document.provider_reference:
        facts.append((_("Provider reference"), document.provider_reference))
    if document.payer_name:
        facts.append((_("Payer"), document.payer_name))
    if document.payer_phone:
        facts.append((_("Payer's phone"), document.payer_phone))
    facts.append((_("Received by"), document.received_by or "—"))
    story.append(_facts(facts, styles, width, layout.label_share))
    story.append(Spacer(1, 2 * mm))

    if document.in_suspense:
        story.append(
            Paragraph(
                _text(_("No customer account matched this reference yet: the payment is held until it is assigned.")),
                styles.normal,
            )
        )
    else:
        story.append(_allocation_table(document, styles, width))
    if document.balance_after is not None:
        story.append(Spacer(1, 2 * mm))
        if document.balance_after >= 0:
            label, value = _("Balance after this payment"), money(document.balance_after, currency)
        else:
            label, value = _("In credit after this payment"), money(-document.balance_after, currency)
        story.append(_facts([(label, value)], styles, width, layout.label_share))
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph(_text(_("Thank you.")), styles.center))
    return story


def _allocation_table(document: ReceiptDocument, styles: _Styles, width: float) -> Table:
    currency = document.currency
    rows: list[list[Any]] = [
        [Paragraph(_text(_("Paid towards")), styles.bold), Paragraph(_text(_("Amount")), styles.right_bold)]
    ]
    for line in document.lines:
        what = _("%(reference)s · %(head)s, due %(due)s") % {
            "reference": line.charge_reference,
            "head": line.head,
            "due": formats.date_format(line.due_date, "Y-m-d"),
        }
        rows.append(
            [Paragraph(_text(what), styles.normal), Paragraph(_text(money(line.amount, currency)), styles.right)]
        )
    if document.to_credit > 0:
        rows.append(
            [
                Paragraph(_text(_("Kept as credit for the next charges")), styles.normal),
                Paragraph(_text(money(document.to_credit, currency)), styles.right),
            ]
        )
    rows.append(
        [
            Paragraph(_text(_("Total")), styles.bold),
            Paragraph(_text(money(document.amount, currency)), styles.right_bold),
        ]
    )
    table = Table(rows, colWidths=[width * 0.6, width * 0.4], repeatRows=1)
    table.setStyle(
        _tight(
            ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
            ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
        )
    )
    table.hAlign = "LEFT"
    return table


def _height(story: Sequence[Flowable], width: float) -> float:
    total = 0.0
    for flowable in story:
        _width, height = flowable.wrap(width, MAX_ROLL_HEIGHT)
        total += height + flowable.getSpaceBefore() + flowable.getSpaceAfter()
    return total


def _build(
    story: list[Flowable],
    *,
    width: float,
    height: float,
    margin: float,
    title: str,
    on_page: Any = None,
) -> bytes:
    buffer = io.BytesIO()
    frame = Frame(
        margin,
        margin,
        width - 2 * margin,
        height - 2 * margin,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    document = BaseDocTemplate(
        buffer,
        pagesize=(width, height),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author="Mita",
        creator="Mita",
    )
    document.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=on_page or (lambda canvas, doc: None))])
    document.build(story)
    return buffer.getvalue()


def receipt_pdf(document: ReceiptDocument, *, layout: str, printed_at: datetime.datetime | None = None) -> bytes:
    """The receipt in one of LAYOUTS: "a4", or "58"/"80" (a thermal roll that long, one page)."""
    chosen = LAYOUTS[layout]
    fonts = pdf_fonts(texts=[*_strings(document), *_operator_strings(document.operator)])
    width = chosen.width - 2 * chosen.margin
    printed = printed_at or timezone.now()
    story = _receipt_story(document, chosen, width, printed_at=printed, fonts=fonts)
    # A roll is cut after the content: measure it, add the margins and a little room for rounding.
    height = chosen.height or _height(story, width) + 2 * chosen.margin + 6 * mm
    story = _receipt_story(document, chosen, width, printed_at=printed, fonts=fonts)  # measured ones are spent
    return _build(story, width=chosen.width, height=height, margin=chosen.margin, title=document.number or _("Receipt"))


# Statements ----------------------------------------------------------------------------------------------

STATEMENT_MARGIN = 15 * mm


def _period_text(statement: Statement) -> str:
    start = formats.date_format(statement.start, "Y-m-d") if statement.start else _("the first movement")
    end = formats.date_format(statement.end, "Y-m-d") if statement.end else _("the last movement")
    return _("%(start)s to %(end)s") % {"start": start, "end": end}


def statement_pdf(statement: Statement, *, operator: Any, printed_at: datetime.datetime | None = None) -> bytes:
    """The statement on A4 pages: a header, the opening balance, the lines with their running balance, the
    closing balance; the column headings repeat on every page, and each page says its number."""
    fonts = pdf_fonts(texts=[*_strings(statement), *_operator_strings(operator)])
    styles = _styles(8.5, fonts)
    heading = _styles(10, fonts)
    currency = statement.currency
    width = A4[0] - 2 * STATEMENT_MARGIN
    printed = printed_at or timezone.now()
    story: list[Flowable] = []
    logo = _logo(operator, max_width=width * 0.4, max_height=20 * mm)
    if logo is not None:
        logo.hAlign = "LEFT"
        story += [logo, Spacer(1, 2 * mm)]
    story.append(Paragraph(_text(operator.name), ParagraphStyle("left_title", parent=heading.title, alignment=0)))
    story.append(Paragraph(_text(_("Statement of account")), heading.bold))
    facts = [(_("Customer account"), statement.holder)]
    if statement.name:
        facts.append((_("Name"), statement.name))
    facts += [(_("Period"), _period_text(statement)), (_("Printed"), _local(printed))]
    story.append(_facts(facts, heading, width, 0.25))
    story.append(Spacer(1, 4 * mm))

    columns = [0.12, 0.33, 0.15, 0.13, 0.13, 0.14]
    header = [
        _("Date"),
        _("Description"),
        _("Reference"),
        pgettext("statement column", "Debit"),
        pgettext("statement column", "Credit"),
        _("Balance"),
    ]
    rows: list[list[Any]] = [
        [Paragraph(_text(text), styles.bold if index < 3 else styles.right_bold) for index, text in enumerate(header)]
    ]

    def amount(value: Decimal, *, blank_zero: bool = True) -> Paragraph:
        return Paragraph(_text("" if blank_zero and not value else money(value, currency)), styles.right)

    rows.append(
        [
            Paragraph("", styles.normal),
            Paragraph(_text(_("Opening balance")), styles.bold),
            Paragraph("", styles.normal),
            amount(Decimal(0)),
            amount(Decimal(0)),
            amount(statement.opening_balance, blank_zero=False),
        ]
    )
    for line in statement.lines:
        description = line.description
        if line.credit_used:
            description = _("%(description)s: %(amount)s") % {
                "description": description,
                "amount": money(line.credit_used, currency),
            }
        rows.append(
            [
                Paragraph(_text(formats.date_format(line.date, "Y-m-d")), styles.normal),
                Paragraph(_text(description), styles.normal),
                Paragraph(_text(line.reference), styles.normal),
                amount(line.debit),
                amount(line.credit),
                amount(line.balance, blank_zero=False),
            ]
        )
    rows.append(
        [
            Paragraph("", styles.normal),
            Paragraph(_text(_("Closing balance")), styles.bold),
            Paragraph("", styles.normal),
            Paragraph(_text(money(statement.total_debit, currency)), styles.right_bold),
            Paragraph(_text(money(statement.total_credit, currency)), styles.right_bold),
            Paragraph(_text(money(statement.closing_balance, currency)), styles.right_bold),
        ]
    )
    table = Table(rows, colWidths=[width * share for share in columns], repeatRows=1)
    table.setStyle(
        _tight(
            ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.black),
            ("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black),
            ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.HexColor("#f2f2f2")]),
        )
    )
    story.append(table)
    story.append(Spacer(1, 3 * mm))
    story.append(
        Paragraph(
            _text(_("A negative balance is credit in the customer's favour, used on the next charges.")), styles.small
        )
    )

    footer = _("%(operator)s · statement of %(holder)s · %(period)s") % {
        "operator": operator.name,
        "holder": statement.holder,
        "period": _period_text(statement),
    }

    foot = ParagraphStyle("foot", parent=styles.normal, fontSize=7.5, leading=7.5 * fonts.leading)
    foot_right = ParagraphStyle("foot_right", parent=foot, alignment=TA_RIGHT)

    def on_page(canvas: Canvas, doc: BaseDocTemplate) -> None:
        # Paragraphs, not canvas.drawString: they shape word by word, each in its own script, where drawString
        # shapes the whole line in the script of its first letter (the Latin of the operator's name).
        page = _("Page %(number)d") % {"number": doc.page}
        for text, style, left, share in (
            (footer, foot, STATEMENT_MARGIN, 0.82),
            (page, foot_right, A4[0] - STATEMENT_MARGIN - width * 0.18, 0.18),
        ):
            paragraph = Paragraph(_text(text), style)
            paragraph.wrapOn(canvas, width * share, 12 * mm)
            paragraph.drawOn(canvas, left, 8 * mm)

    title = _("Statement %(holder)s") % {"holder": statement.holder}
    return _build(story, width=A4[0], height=A4[1], margin=STATEMENT_MARGIN, title=title, on_page=on_page)
