"""POST /api/v1/tariffs/quote: price a usage with a tariff definition sent in the body (the CLI's quote over HTTP).

Any signed-in user may call it: it reads nothing of any operator. Amounts travel as decimal strings, never floats.
"""

import datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from mita.core.errors import DomainError
from mita.tariffs.pricing import TariffInvalid, Usage, quote

router = Router(tags=["tariffs"])


Quantity = Annotated[Decimal, Field(ge=0)]


class UsageIn(Schema):
    quantity: Quantity = Decimal(0)  # m3 or kWh consumed in the period
    property_type: str = ""
    connection_type: str = ""
    meter_size: str = ""
    indigent: bool = False
    days: Annotated[int, Field(ge=1)] | None = None  # days in the period; none = the standard period
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    counts: dict[str, Quantity] = {}  # per-unit counts, e.g. {"taps": 3}
    prior_quantity: Quantity = Decimal(0)  # units already bought this month (prepaid blocks)


class QuoteIn(Schema):
    definition: dict[str, Any]  # a tariff definition (docs/tariffs.md)
    usage: UsageIn = UsageIn()


class QuoteLineOut(Schema):
    label: str
    quantity: str
    rate: str
    amount: str
    head: str
    kind: str
    vat: str


class QuoteOut(Schema):
    lines: list[QuoteLineOut]
    total: str


@router.post("/tariffs/quote", response=QuoteOut, summary="Price a usage with a tariff definition")
def tariff_quote(request: HttpRequest, payload: QuoteIn) -> dict[str, Any]:
    usage = Usage(**payload.usage.dict())
    try:
        return quote(payload.definition, usage).as_json()
    except TariffInvalid as invalid:
        if all(problem.path.startswith("usage") for problem in invalid.problems):
            message = _("The tariff cannot price this usage; see the fields for what to change.")
            raise DomainError(message, code="usage_invalid", fields=invalid.as_fields()) from invalid
        message = _("The tariff definition is not valid; see the fields for what to fix.")
        raise DomainError(message, code="tariff_invalid", fields=invalid.as_fields()) from invalid
