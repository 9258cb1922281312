"""The notes and coins a cashier counts when closing a till, per currency, and the exact total of a count.

Only what circulates: a denomination withdrawn or never seen at a utility's counter is left out (docs/cashier-sessions.md
lists the choices). Where a value exists as both a note and a coin (UGX 1,000, TZS 500, INR 10 and 20, USD 1), it is
counted once: the cashier counts money, not paper.
"""

import dataclasses
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from mita.core.errors import DomainError
from mita.core.money import quantize

NOTE = "note"
COIN = "coin"
NOTE_OR_COIN = "note_or_coin"
FORMS = {
    NOTE: pgettext_lazy("money", "note"),
    COIN: pgettext_lazy("money", "coin"),
    NOTE_OR_COIN: pgettext_lazy("money", "note or coin"),
}
# No one counts more pieces of one kind than this at a counter; a bigger number is a typing mistake.
MAX_PIECES = 1_000_000


@dataclasses.dataclass(frozen=True)
class Denomination:
    value: Decimal
    form: str

    @property
    def key(self) -> str:
        """How a count names it: "5000", "0.50"."""
        return str(self.value)

    @property
    def form_label(self) -> str:
        return str(FORMS[self.form])


def _list(notes: tuple[str, ...], coins: tuple[str, ...]) -> tuple[Denomination, ...]:
    both = set(notes) & set(coins)
    values = sorted({Decimal(v) for v in notes + coins}, reverse=True)
    by_text = {Decimal(v): v for v in notes + coins}
    result = []
    for value in values:
        text = by_text[value]
        form = NOTE_OR_COIN if text in both else NOTE if text in notes else COIN
        result.append(Denomination(Decimal(text), form))
    return tuple(result)


DENOMINATIONS: dict[str, tuple[Denomination, ...]] = {
    # National Bank of Rwanda: notes 5,000 to 500, coins 100 to 1.
    "RWF": _list(("5000", "2000", "1000", "500"), ("100", "50", "20", "10", "5", "1")),
    # Bank of Uganda: 1,000 is both a note and a coin; the 1, 5 and 10 shilling coins no longer change hands.
    "UGX": _list(("50000", "20000", "10000", "5000", "2000", "1000"), ("1000", "500", "200", "100", "50")),
    # Central Bank of Kenya: notes 1,000 to 50, coins 20 to 1 and the 50-cent coin.
    "KES": _list(("1000", "500", "200", "100", "50"), ("20", "10", "5", "1", "0.50")),
    # Bank of Tanzania: 500 is both a note and a coin; no cents circulate.
    "TZS": _list(("10000", "5000", "2000", "1000", "500"), ("500", "200", "100", "50")),
    # Reserve Bank of India: the 2,000 note is withdrawn from circulation; 10 and 20 are notes and coins.
    "INR": _list(("500", "200", "100", "50", "20", "10"), ("20", "10", "5", "2", "1", "0.50")),
    "USD": _list(("100", "50", "20", "10", "5", "2", "1"), ("1", "0.50", "0.25", "0.10", "0.05", "0.01")),
    "EUR": _list(
        ("500", "200", "100", "50", "20", "10", "5"), ("2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01")
    ),
    # South African Reserve Bank: notes R200 to R10, coins R5 to 10 cents (1c, 2c and 5c are no longer issued).
    "ZAR": _list(("200", "100", "50", "20", "10"), ("5", "2", "1", "0.50", "0.20", "0.10")),
}


class CountError(DomainError):
    pass


def denominations_of(currency: str) -> tuple[Denomination, ...]:
    try:
        return DENOMINATIONS[currency]
    except KeyError:
        raise CountError(
            _("Mita has no list of notes and coins for %(currency)s.") % {"currency": currency},
            code="currency_without_denominations",
        ) from None


def count_normalise(*, currency: str, counts: Mapping[str, Any], field: str = "counts") -> dict[str, int]:
    """A count as {denomination key: pieces}, every denomination of the currency present (0 when not given).

    Keys may be written "500", "500.00" or "0.5"; a key that is not a note or coin of the currency, or a count
    that is not a whole number of pieces from 0 up, is an error naming it.
    """
    denominations = denominations_of(currency)
    by_value = {denomination.value: denomination for denomination in denominations}
    pieces = {denomination.key: 0 for denomination in denominations}
    problems: list[str] = []
    for raw_key, raw_count in counts.items():
        try:
            value = Decimal(str(raw_key).strip())
        except InvalidOperation:
            value = None
        denomination = by_value.get(value) if value is not None and value.is_finite() else None
        if denomination is None:
            problems.append(
                _("%(key)s is not a note or coin of %(currency)s (they are: %(values)s).")
                % {"key": raw_key, "currency": currency, "values": ", ".join(d.key for d in denominations)}
            )
            continue
        if isinstance(raw_count, bool) or not isinstance(raw_count, int) or not 0 <= raw_count <= MAX_PIECES:
            problems.append(
                _("The count of %(key)s must be a whole number of pieces from 0 to %(max)s.")
                % {"key": denomination.key, "max": MAX_PIECES}
            )
            continue
        pieces[denomination.key] += raw_count
    if problems:
        raise CountError(" ".join(problems), code="count_invalid", fields={field: problems})
    return pieces


def count_total(*, currency: str, pieces: Mapping[str, int]) -> Decimal:
    """The exact value of a count (Decimal arithmetic, no rounding beyond the currency's own units)."""
    total = sum((Decimal(key) * count for key, count in pieces.items()), Decimal("0"))
    return quantize(total, currency)
