"""What the ledger asks of the app that clears charges, without importing it.

The ledger owns charges but not what clears them: payments allocates payments and credit to charges and cancels
charges (mita/payments). Two ledger operations need to know a charge's open amount or to clear one outright: the
arrears move of a meter transfer (services.arrears_move) and the "is this fee paid" read (selectors.
charge_outstanding). Payments fills this hook from its AppConfig.ready() (mita/payments/termination.py).
"""

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from mita.ledger.models import Charge


@dataclasses.dataclass
class ChargeBook:
    # The account's charges not yet fully paid (nor cancelled), each with `open_amount`, in the order payments
    # clear them. Call after holder_lock() when acting on them.
    open_charges: Callable[..., list[Charge]]
    # Clear the account's open charges because their amount moves to another account (reference = the move's).
    # Returns each charge cleared with the amount that was open on it. What cannot move (an unpaid security deposit:
    # it secures nothing) is dealt with here too, the way the clearing app deals with it on termination.
    settle_for_move: Callable[..., list[tuple[Charge, Decimal]]]


_book: list[ChargeBook] = []


def charge_book_register(book: ChargeBook) -> None:
    """Called once by the app that clears charges (payments)."""
    _book[:] = [book]


def charge_book() -> ChargeBook:
    if not _book:  # pragma: no cover - payments is always installed with the ledger
        raise RuntimeError("No app has registered how charges are cleared (mita.payments registers it).")
    return _book[0]


def open_charges(*, operator: Any, holder: str) -> list[Charge]:
    return charge_book().open_charges(operator=operator, holder=holder)
