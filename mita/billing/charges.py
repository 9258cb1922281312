"""How a bill's lines become ledger charges: one per revenue head, with the VAT the tariff computed (pure)."""

from collections.abc import Iterable
from decimal import Decimal

from mita.ledger.services import REVENUE_HEADS

ZERO = Decimal(0)


def ledger_head(head: str) -> str:
    """The ledger's revenue head for a line's head: a head the chart has no account for (e.g. "sanitation") goes
    to "other" (an account per head is the accounting issue's)."""
    return head if head in REVENUE_HEADS else "other"


def charges_of_lines(lines: Iterable[tuple[str, Decimal, Decimal, str]]) -> list[tuple[str, Decimal, Decimal]]:
    """(head, net, vat) per revenue head from a bill's lines (head, amount, vat, kind); they add up to its total.

    Exclusive VAT comes as a "vat" line of its own and each taxed line says its share in `vat`; inclusive VAT is inside
    the lines' amounts (and there is no "vat" line). The round-off line (which may be negative) goes to the head
    with the largest amount. Heads that come to nothing are left out (a zero bill posts nothing).
    """
    lines = list(lines)
    added = sum((amount for _head, amount, _vat, kind in lines if kind == "vat"), ZERO)
    priced = [(head, amount, vat) for head, amount, vat, kind in lines if kind not in ("vat", "round_off")]
    shares = sum((vat for _head, _amount, vat in priced), ZERO)
    inclusive = added == 0 and shares > 0
    if added and added != shares:
        # Versions of both kinds in one period: the VAT added by lines is what the "vat" lines add; the rest is inside.
        inclusive = False
    gross: dict[str, Decimal] = {}
    taxes: dict[str, Decimal] = {}
    for head, amount, vat in priced:
        key = ledger_head(head)
        gross[key] = gross.get(key, ZERO) + amount
        taxes[key] = taxes.get(key, ZERO) + vat
    nets = {head: gross[head] - taxes[head] if inclusive else gross[head] for head in gross}
    round_off = sum((amount for _head, amount, _vat, kind in lines if kind == "round_off"), ZERO)
    if round_off and nets:
        largest = max(sorted(nets), key=lambda head: nets[head] + taxes[head])
        nets[largest] += round_off
    return [(head, nets[head], taxes[head]) for head in sorted(nets) if nets[head] > 0]
