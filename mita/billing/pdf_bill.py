"""The bill as a PDF: A4, or a 58 mm / 80 mm thermal roll one page as tall as its content.

Drawn with the receipts' helpers (mita/payments/pdf.py: layouts, fonts for Hindi and Punjabi shaped by HarfBuzz,
the operator's logo, stamps, fact tables), so a bill and a receipt look alike and print on the same rolls. A draft
says DRAFT and has no number; an issued bill still owed carries its payment link as a QR code, or, when the operator
takes no online payments, how to pay instead (docs/billing-documents.md).
"""

import datetime
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from mita.billing.documents import BillDocument
from mita.payments.pdf import (
    LAYOUTS,
    Layout,
    PdfFonts,
    _build,
    _facts,
    _height,
    _local,
    _logo,
    _operator_strings,
    _stamp,
    _Styles,
    _styles,
    _text,
    _tight,
    pdf_fonts,
)
from mita.payments.statements import money

BILL_LAYOUTS = tuple(LAYOUTS)  # "a4", "80", "58"


def _number(value: Decimal) -> str:
    """A quantity, index or rate without trailing zeros, grouped as the active language writes numbers."""
    value = value.normalize()
    places = max(-int(value.as_tuple().exponent), 0)
    return formats.number_format(value, decimal_pos=places, force_grouping=True)


def _date(value: datetime.date | None) -> str:
    return formats.date_format(value, "Y-m-d") if value else "—"


def _qr(url: str, size: float) -> Drawing:
    """The payment link as a QR code `size` points wide, centred."""
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
    drawing.add(widget)
    drawing.hAlign = "CENTER"
    return drawing


def _facts_of(document: BillDocument) -> list[tuple[str, str]]:
    facts = [
        (_("Customer"), document.customer_name),
        (_("Account"), document.account),
    ]
    if document.address:
        facts.append((_("Address"), document.address))
    facts += [
        (_("Period"), f"{document.cycle_code} · {_date(document.period_start)} – {_date(document.period_end)}"),
        (_("Issued on"), _date(document.issued_on) if document.issued_on else _("Not issued")),
        (_("Due on"), _date(document.due_on)),
    ]
    if document.metered:
        unit = f" {document.unit}" if document.unit else ""
        facts += [
            (_("Meter"), ", ".join(document.meter_serials) or "—"),
            (_("Previous index"), _number(document.previous_index) if document.previous_index is not None else "—"),
            (_("Current index"), _number(document.current_index) if document.current_index is not None else "—"),
            (_("Consumption"), f"{_number(document.consumption)}{unit}"),
        ]
    else:
        facts.append((_("Meter"), _("Not metered")))
    if document.tariff_name:
        facts.append((_("Tariff"), document.tariff_name))
    return facts


def _lines_table(document: BillDocument, layout: Layout, styles: _Styles, width: float) -> Table:
    """The tariff's lines: label, quantity, rate and amount on A4; on a roll, the quantity × rate under the label."""
    currency = document.currency
    rows: list[list[Any]]
    if layout.thermal:
        rows = [[Paragraph(_text(_("Charge")), styles.bold), Paragraph(_text(_("Amount")), styles.right_bold)]]
        for line in document.lines:
            detail = f"{_number(line.quantity)} × {_number(line.rate)}"
            rows.append(
                [
                    Paragraph(f"{_text(line.label)}<br/>{_text(detail)}", styles.normal),
                    Paragraph(_text(money(line.amount, currency)), styles.right),
                ]
            )
        shares = [0.6, 0.4]
    else:
        rows = [
            [
                Paragraph(_text(_("Charge")), styles.bold),
                Paragraph(_text(_("Quantity")), styles.right_bold),
                Paragraph(_text(_("Rate")), styles.right_bold),
                Paragraph(_text(_("Amount")), styles.right_bold),
            ]
        ]
        for line in document.lines:
            rows.append(
                [
                    Paragraph(_text(line.label), styles.normal),
                    Paragraph(_text(_number(line.quantity)), styles.right),
                    Paragraph(_text(_number(line.rate)), styles.right),
                    Paragraph(_text(money(line.amount, currency)), styles.right),
                ]
            )
        shares = [0.46, 0.16, 0.16, 0.22]
    table = Table(rows, colWidths=[width * share for share in shares], repeatRows=1)
    table.setStyle(_tight(("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black)))
    table.hAlign = "LEFT"
    return table


def _totals_table(document: BillDocument, styles: _Styles, width: float) -> Table:
    currency = document.currency
    rows: list[tuple[str, Decimal, bool]] = [(_("Net"), document.net, False)]
    if document.vat:
        rows.append((_("VAT"), document.vat, False))
    if document.round_off:
        rows.append((_("Round-off"), document.round_off, False))
    rows += [
        (_("This bill"), document.total, True),
        (_("Arrears"), document.arrears, False),
        (_("Credit"), -document.credit if document.credit else Decimal(0), False),
        (_("Total due"), document.total_due, True),
    ]
    cells = [
        [
            Paragraph(_text(label), styles.bold if strong else styles.normal),
            Paragraph(_text(money(amount, currency)), styles.right_bold if strong else styles.right),
        ]
        for label, amount, strong in rows
    ]
    table = Table(cells, colWidths=[width * 0.6, width * 0.4])
    table.setStyle(
        _tight(
            ("LINEABOVE", (0, 0), (-1, 0), 0.5, colors.black),
            ("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black),
        )
    )
    table.hAlign = "LEFT"
    return table


def _payment_story(document: BillDocument, layout: Layout, styles: _Styles, width: float) -> list[Flowable]:
    if document.draft or document.cancelled:
        return []
    story: list[Flowable] = [Spacer(1, 3 * mm)]
    if document.total_due <= 0:
        story.append(Paragraph(_text(_("Nothing to pay on this bill.")), styles.center))
        return story
    if document.payment_url:
        story.append(Paragraph(_text(_("Pay online: scan the code or open the link.")), styles.center))
        story.append(_qr(document.payment_url, min(width * 0.6, 40 * mm) if layout.thermal else 35 * mm))
        story.append(Paragraph(_text(document.payment_url), styles.small))
    else:
        story.append(Paragraph(_text(document.how_to_pay()), styles.normal))
    return story


def _bill_story(
    document: BillDocument, layout: Layout, width: float, *, printed_at: datetime.datetime, fonts: PdfFonts
) -> list[Flowable]:
    styles = _styles(layout.font_size, fonts)
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
    story.append(Paragraph(_text(_("Bill")), styles.center))
    story.append(Paragraph(_text(document.number or _("(no number)")), styles.title))
    if document.draft:
        detail = _("Not issued: printed %(when)s for checking, not for payment.") % {"when": _local(printed_at)}
        story += [Spacer(1, 1 * mm), _stamp(_("DRAFT"), detail, styles, width)]
    elif document.cancelled:
        story += [Spacer(1, 1 * mm), _stamp(_("CANCELLED"), _("This bill is cancelled."), styles, width)]
    story.append(Spacer(1, 2 * mm))
    story.append(Paragraph(_text(money(document.total_due, document.currency)), styles.amount))
    story.append(Paragraph(_text(_("due by %(date)s") % {"date": _date(document.due_on)}), styles.center))
    story.append(Spacer(1, 2 * mm))
    story.append(_facts(_facts_of(document), styles, width, layout.label_share))
    story.append(Spacer(1, 2 * mm))
    story.append(_lines_table(document, layout, styles, width))
    story.append(Spacer(1, 1 * mm))
    story.append(_totals_table(document, styles, width))
    if document.credit_left:
        left = _("In credit after this bill: %(amount)s") % {"amount": money(document.credit_left, document.currency)}
        story.append(Paragraph(_text(left), styles.normal))
    story += _payment_story(document, layout, styles, width)
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph(_text(_("Printed %(when)s") % {"when": _local(printed_at)}), styles.small))
    return story


def bill_pdf(document: BillDocument, *, layout: str, printed_at: datetime.datetime | None = None) -> bytes:
    """The bill in one of the receipts' layouts: "a4", or "58"/"80" (a thermal roll that wide, one page)."""
    chosen = LAYOUTS[layout]
    texts = [document.customer_name, document.address, document.tariff_name, *(line.label for line in document.lines)]
    fonts = pdf_fonts(texts=[*texts, *_operator_strings(document.operator)])
    width = chosen.width - 2 * chosen.margin
    printed = printed_at or timezone.now()
    story = _bill_story(document, chosen, width, printed_at=printed, fonts=fonts)
    height = chosen.height or _height(story, width) + 2 * chosen.margin + 6 * mm
    story = _bill_story(document, chosen, width, printed_at=printed, fonts=fonts)  # measured flowables are spent
    title = document.number or _("Draft bill %(account)s") % {"account": document.account}
    return _build(story, width=chosen.width, height=height, margin=chosen.margin, title=title)
