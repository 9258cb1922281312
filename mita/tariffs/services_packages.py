"""Writes of mini-grid packages: offering one (its code from its parts, its price the first published version of a
tariff of its own), and changing its name, deposit or whether it is offered."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict
from mita.core.money import quantize
from mita.tariffs import pricing
from mita.tariffs.models import Package, Tariff
from mita.tariffs.services import (
    TariffError,
    date_of,
    definition_problems,
    tariff_invalid,
    text_of,
    version_create,
    version_publish,
)


def _amount(value: Any, field: str, currency: str, problems: dict[str, list[str]], *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            problems[field] = [_("Required.")]
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(text_of(value))
    except (InvalidOperation, ValueError):
        problems[field] = [_("Write a number, e.g. 1500.")]
        return None
    if not amount.is_finite() or amount < 0:
        problems[field] = [_("Zero or more.")]
        return None
    return amount


def _whole(value: Any, field: str, low: int, high: int, problems: dict[str, list[str]]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        problems[field] = [_("Write a whole number.")]
        return 0
    if not low <= number <= high:
        problems[field] = [_("Between %(low)d and %(high)d.") % {"low": low, "high": high}]
    return number


@transaction.atomic
def package_create(
    *,
    operator: Any,
    acting_user: Any,
    name: str,
    load_limit_w: Any,
    hours_per_day: Any,
    charging: str,
    payment: str,
    price: Any,
    effective_from: Any,
    deposit_amount: Any = None,
) -> Package:
    """Offer a mini-grid package: its code is made from its parts, and its price is the first published version of
    a tariff of its own (a later price is a new version of that tariff)."""
    problems: dict[str, list[str]] = {}
    name = text_of(name)
    if not name:
        problems["name"] = [_("Required.")]
    load = _whole(load_limit_w, "load_limit_w", 1, 1_000_000, problems)
    hours = _whole(hours_per_day, "hours_per_day", 1, 24, problems)
    if charging not in Package.Charging.values:
        problems["charging"] = [_("Choose a flat fee or a price per kWh.")]
    if payment not in Package.Payment.values:
        problems["payment"] = [_("Choose prepaid or postpaid.")]
    currency = operator.currency
    amount = _amount(price, "price", currency, problems, required=True)
    deposit = _amount(deposit_amount, "deposit_amount", currency, problems, required=False)
    if deposit is not None and quantize(deposit, currency) != deposit:
        problems["deposit_amount"] = [
            _("%(currency)s amounts have no smaller units than this.") % {"currency": currency}
        ]
    effective = date_of(effective_from, "effective_from")
    if problems:
        raise tariff_invalid(problems, _("Please correct the package's details."))
    assert amount is not None
    definition = package_definition(
        currency=currency,
        load_limit_w=load,
        hours_per_day=hours,
        charging=charging,
        payment=payment,
        price=amount,
        name=name,
    )
    code = pricing.package_id(definition["components"][0])
    if Tariff.objects.filter(operator=operator, code__iexact=code).exists():
        raise Conflict(
            _("Package %(code)s is already offered: change its price with a new version of its tariff.")
            % {"code": code},
            code="package_exists",
            fields={"load_limit_w": [_("The same parts as package %(code)s.") % {"code": code}]},
        )
    tariff = Tariff.objects.create(
        operator=operator,
        code=code,
        name=name,
        utility=Tariff.Utility.ELECTRICITY,
        kind=Tariff.Kind.PACKAGE,
        created_by=acting_user,
    )
    problems_found = definition_problems(tariff=tariff, definition=definition)
    if problems_found:
        raise TariffError(
            _("The package's price cannot be priced: %(problem)s") % {"problem": problems_found[0]},
            code="definition_invalid",
            fields={"price": problems_found},
        )
    package = Package.objects.create(
        operator=operator,
        tariff=tariff,
        code=code,
        name=name,
        load_limit_w=load,
        hours_per_day=hours,
        charging=charging,
        payment=payment,
        deposit_amount=deposit,
        created_by=acting_user,
    )
    version = version_create(
        tariff=tariff, acting_user=acting_user, effective_from=effective, definition=definition, note=_("First price")
    )
    version_publish(version=version, acting_user=acting_user)
    audit_record(
        actor=acting_user,
        action="tariff.package_created",
        target=package,
        after={
            **snapshot(
                package, ["code", "name", "load_limit_w", "hours_per_day", "charging", "payment", "deposit_amount"]
            ),
            "price": amount,
        },
    )
    return Package.objects.select_related("tariff").get(pk=package.pk)  # the deposit as stored


@transaction.atomic
def package_update(*, package: Package, acting_user: Any, **changes: Any) -> Package:
    """Rename a package, change its deposit or stop offering it (its parts and code never change; its price is a
    new version of its tariff)."""
    unknown = sorted(set(changes) - {"name", "deposit_amount", "active"})
    if unknown:
        raise TariffError(
            _("“%(field)s” cannot be changed: a package's parts make its code; offer a new package instead.")
            % {"field": unknown[0]},
            code="field_not_editable",
        )
    package = Package.objects.select_for_update().select_related("operator", "tariff").get(pk=package.pk)
    problems: dict[str, list[str]] = {}
    before = snapshot(package, ["name", "deposit_amount", "active"])
    if "name" in changes:
        if not text_of(changes["name"]):
            problems["name"] = [_("Required.")]
        package.name = text_of(changes["name"])
    if "deposit_amount" in changes:
        package.deposit_amount = _amount(
            changes["deposit_amount"], "deposit_amount", package.operator.currency, problems, required=False
        )
    if "active" in changes:
        package.active = bool(changes["active"])
    if problems:
        raise tariff_invalid(problems, _("Please correct the package's details."))
    package.save()
    Tariff.objects.filter(pk=package.tariff_id).update(name=package.name, active=package.active)
    audit_record(
        actor=acting_user,
        action="tariff.package_updated",
        target=package,
        before=before,
        after=snapshot(package, ["name", "deposit_amount", "active"]),
    )
    return package


def package_definition(
    *, currency: str, load_limit_w: int, hours_per_day: int, charging: str, payment: str, price: Decimal, name: str = ""
) -> dict[str, Any]:
    """The pricing definition of a package's price (docs/tariffs.md, the "package" component)."""
    component: dict[str, Any] = {
        "type": "package",
        "load_limit_w": load_limit_w,
        "hours": hours_per_day,
        "pricing": charging,
        "payment": payment,
    }
    if name:
        component["name"] = name
    component["fee" if charging == Package.Charging.FLAT else "price_per_kwh"] = format(price, "f")
    return {"currency": currency, "utility": "electricity", "unit": "kWh", "period": "month", "components": [component]}
