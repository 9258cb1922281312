"""Money: Decimal amounts and the one rounding function per currency."""

from decimal import ROUND_HALF_UP, Decimal

# Minor units per ISO 4217; RWF has none in practice, INR has paise.
CURRENCY_EXPONENTS: dict[str, int] = {"RWF": 0, "INR": 2, "KES": 2, "UGX": 0, "TZS": 2, "USD": 2, "EUR": 2, "ZAR": 2}


def quantize(
    amount: Decimal | int | str, currency: str, rounding: str = ROUND_HALF_UP, *, places: int | None = None
) -> Decimal:
    """Round an amount to the currency's minor unit (or to `places` decimals, e.g. 0 for a whole unit).

    The only place Mita rounds money.
    """
    if isinstance(amount, float):
        raise TypeError("Money is never a float; pass a Decimal, int or str.")
    try:
        exponent = CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise ValueError(f"Unknown currency {currency!r}") from None
    if places is not None:
        exponent = places
    return Decimal(amount).quantize(Decimal(1).scaleb(-exponent), rounding=rounding)
