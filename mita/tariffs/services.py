"""Writes of tariffs: a tariff and where it applies, its versions (drafts, then published and never changed), and
mini-grid packages. Each is one transaction with its audit entry; bad input is a TariffError naming the fields."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.core.money import quantize
from mita.tariffs import pricing
from mita.tariffs.models import Package, Tariff, TariffVersion
from mita.tariffs.selectors import connections_by_number, supply_system_choices, tariff_conflicts

TARIFF_FIELDS = ["code", "name", "utility", "kind", "property_types", "connection_types", "priority", "active"]
APPLICABILITY = ("property_types", "connection_types", "supply_system_ids", "connection_numbers", "priority")
EDITABLE = ("name", "active", *APPLICABILITY)
PROPERTY_TYPES = ("residential", "commercial", "institutional", "public_tap", "industrial", "other")


class TariffError(DomainError):
    """Bad tariff input: says which field and what to fix."""


def _invalid(fields: dict[str, list[str]], message: str | None = None) -> TariffError:
    return TariffError(message or _("Please correct the tariff's details."), code="tariff_invalid", fields=fields)


def _text(value: Any) -> str:
    return str(value or "").strip()


def _text_list(value: Any) -> list[str]:
    """A list of short words from a list or a comma-separated text, without blanks or repeats, in order."""
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    seen: list[str] = []
    for item in items:
        text = _text(item)
        if text and text not in seen:
            seen.append(text)
    return seen


def _applicability(*, operator: Any, values: dict[str, Any], problems: dict[str, list[str]]) -> dict[str, Any]:
    """Cleaned applicability: property types known, supply systems of the operator's clusters, connections of the
    operator by number. Problems are added per field."""
    cleaned: dict[str, Any] = {}
    if "property_types" in values:
        types = _text_list(values["property_types"])
        unknown = [t for t in types if t not in PROPERTY_TYPES]
        if unknown:
            problems["property_types"] = [
                _("Unknown property type %(type)s; use %(known)s.")
                % {"type": unknown[0], "known": ", ".join(PROPERTY_TYPES)}
            ]
        cleaned["property_types"] = types
    if "connection_types" in values:
        types = _text_list(values["connection_types"])
        if any(len(t) > 40 for t in types):
            problems["connection_types"] = [_("A connection type has at most 40 characters.")]
        cleaned["connection_types"] = types
    if "supply_system_ids" in values:
        wanted = []
        for value in values["supply_system_ids"] or []:
            try:
                wanted.append(int(getattr(value, "pk", value)))
            except (TypeError, ValueError):
                problems["supply_system_ids"] = [_("Give supply systems by their ids.")]
                break
        found = set(supply_system_choices(operator=operator).filter(pk__in=wanted).values_list("pk", flat=True))
        if "supply_system_ids" not in problems and set(wanted) - found:
            problems["supply_system_ids"] = [
                _("Supply system %(id)s is not in a cluster of your operator.") % {"id": sorted(set(wanted) - found)[0]}
            ]
        cleaned["supply_system_ids"] = sorted(found)
    if "connection_numbers" in values:
        numbers = _text_list(values["connection_numbers"])
        by_number = connections_by_number(operator=operator, numbers=numbers)
        missing = [number for number in numbers if number.upper() not in by_number]
        if missing:
            problems["connection_numbers"] = [
                _("No connection %(number)s at your operator.") % {"number": ", ".join(missing[:5])}
            ]
        cleaned["connection_ids"] = sorted(by_number[n.upper()] for n in numbers if n.upper() in by_number)
    if "priority" in values:
        try:
            cleaned["priority"] = int(values["priority"] or 0)
        except (TypeError, ValueError):
            problems["priority"] = [_("Write a whole number, e.g. 0.")]
    return cleaned


def _refuse_ties(*, operator: Any, tariff: Tariff | None, utility: str, kind: str, values: dict[str, Any]) -> None:
    if kind != Tariff.Kind.STANDARD:
        return
    clashes = tariff_conflicts(
        operator=operator,
        utility=utility,
        property_types=values["property_types"],
        connection_types=values["connection_types"],
        supply_system_ids=values["supply_system_ids"],
        connection_ids=values["connection_ids"],
        priority=values["priority"],
        exclude_pk=tariff.pk if tariff is not None else None,
    )
    if clashes:
        raise Conflict(
            _(
                "Tariff %(code)s applies to the same connections just as specifically: a connection could be priced by "
                "either. Narrow where this one applies, or give it another priority."
            )
            % {"code": clashes[0].code},
            code="tariff_tie",
            fields={"priority": [_("The same as tariff %(code)s.") % {"code": clashes[0].code}]},
        )


def _current_applicability(tariff: Tariff) -> dict[str, Any]:
    return {
        "property_types": list(tariff.property_types),
        "connection_types": list(tariff.connection_types),
        "supply_system_ids": sorted(tariff.supply_systems.values_list("pk", flat=True)),
        "connection_ids": sorted(tariff.connections.values_list("pk", flat=True)),
        "priority": tariff.priority,
    }


def _state(tariff: Tariff) -> dict[str, Any]:
    state = snapshot(tariff, TARIFF_FIELDS)
    state["supply_system_ids"] = sorted(tariff.supply_systems.values_list("pk", flat=True))
    state["connection_ids"] = sorted(tariff.connections.values_list("pk", flat=True))
    return state


def _code_taken(code: str) -> Conflict:
    return Conflict(
        _("Code %(code)s is already used by another tariff or package of yours.") % {"code": code},
        code="tariff_code_taken",
        fields={"code": [_("Already in use.")]},
    )


@transaction.atomic
def tariff_create(
    *,
    operator: Any,
    acting_user: Any,
    code: str,
    name: str,
    utility: str,
    property_types: Any = None,
    connection_types: Any = None,
    supply_system_ids: Any = None,
    connection_numbers: Any = None,
    priority: Any = 0,
    active: bool = True,
    kind: str = Tariff.Kind.STANDARD,
) -> Tariff:
    """Add a tariff with where it applies; its prices come with its first version (version_create)."""
    problems: dict[str, list[str]] = {}
    code, name = _text(code), _text(name)
    if not code:
        problems["code"] = [_("Required.")]
    elif any(char.isspace() for char in code) or len(code) > 40:
        problems["code"] = [_("A code has no spaces and at most 40 characters.")]
    if not name:
        problems["name"] = [_("Required.")]
    if utility not in Tariff.Utility.values:
        problems["utility"] = [_("Choose water or electricity.")]
    values = _applicability(
        operator=operator,
        values={
            "property_types": property_types,
            "connection_types": connection_types,
            "supply_system_ids": supply_system_ids or [],
            "connection_numbers": connection_numbers,
            "priority": priority,
        },
        problems=problems,
    )
    if problems:
        raise _invalid(problems)
    if Tariff.objects.filter(operator=operator, code__iexact=code).exists():
        raise _code_taken(code)
    if active:
        _refuse_ties(operator=operator, tariff=None, utility=utility, kind=kind, values=values)
    try:
        with transaction.atomic():
            tariff = Tariff.objects.create(
                operator=operator,
                code=code,
                name=name,
                utility=utility,
                kind=kind,
                property_types=values["property_types"],
                connection_types=values["connection_types"],
                priority=values["priority"],
                active=bool(active),
                created_by=acting_user,
            )
    except IntegrityError:
        raise _code_taken(code) from None
    tariff.supply_systems.set(values["supply_system_ids"])
    tariff.connections.set(values["connection_ids"])
    audit_record(actor=acting_user, action="tariff.created", target=tariff, after=_state(tariff))
    return tariff


@transaction.atomic
def tariff_update(*, tariff: Tariff, acting_user: Any, **changes: Any) -> Tariff:
    """Change a tariff's name, where it applies, its priority or whether it is active (its code and utility stay).
    Bills already issued keep the tariff they were priced with."""
    if "code" in changes and _text(changes["code"]) != tariff.code:
        raise TariffError(
            _("A tariff's code cannot be changed; add a new tariff and deactivate this one."),
            code="code_not_editable",
            fields={"code": [_("Not editable.")]},
        )
    changes.pop("code", None)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise TariffError(_("“%(field)s” cannot be changed here.") % {"field": unknown[0]}, code="field_not_editable")
    tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    if tariff.kind == Tariff.Kind.PACKAGE and set(changes) & set(APPLICABILITY):
        raise TariffError(
            _("A package applies to the connections on it; it has no other applicability."), code="package_applicability"
        )
    before = _state(tariff)
    problems: dict[str, list[str]] = {}
    if "name" in changes and not _text(changes["name"]):
        problems["name"] = [_("Required.")]
    cleaned = _applicability(operator=tariff.operator, values=changes, problems=problems)
    if problems:
        raise _invalid(problems)
    values = {**_current_applicability(tariff), **cleaned}
    active = bool(changes.get("active", tariff.active))
    if active:
        _refuse_ties(operator=tariff.operator, tariff=tariff, utility=tariff.utility, kind=tariff.kind, values=values)
    if "name" in changes:
        tariff.name = _text(changes["name"])
    tariff.active = active
    tariff.property_types = values["property_types"]
    tariff.connection_types = values["connection_types"]
    tariff.priority = values["priority"]
    tariff.save()
    tariff.supply_systems.set(values["supply_system_ids"])
    tariff.connections.set(values["connection_ids"])
    after = _state(tariff)
    changed = sorted(key for key in after if after[key] != before[key])
    if changed:
        audit_record(
            actor=acting_user,
            action="tariff.updated",
            target=tariff,
            before={key: before[key] for key in changed},
            after={key: after[key] for key in changed},
        )
    return tariff


# Versions -------------------------------------------------------------------------------------------------------------
def definition_problems(*, tariff: Tariff, definition: Any) -> list[str]:
    """What is wrong with a definition for this tariff, each as "path: message" (none when it prices)."""
    if not isinstance(definition, dict):
        return [_("definition: write the tariff as a JSON object, {...}; see docs/tariffs.md.")]
    problems = [f"{problem.path}: {problem.message}" if problem.path else problem.message for problem in pricing.validate(definition)]
    currency = tariff.operator.currency
    if isinstance(definition.get("currency"), str) and definition["currency"] != currency:
        problems.append(
            _("currency: the operator bills in %(currency)s; write \"currency\": \"%(currency)s\".")
            % {"currency": currency}
        )
    if isinstance(definition.get("utility"), str) and definition["utility"] != tariff.utility:
        problems.append(
            _("utility: this tariff is for %(utility)s; write \"utility\": \"%(utility)s\".") % {"utility": tariff.utility}
        )
    return problems


def definition_clean(value: Any) -> Any:
    """A definition as stored: numbers with a fraction become their exact decimal text ("0.15", never a float's
    binary approximation); everything else as given. The engine reads numbers and decimal strings alike."""
    if isinstance(value, dict):
        return {str(key): definition_clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [definition_clean(item) for item in value]
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _date(value: Any, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(_text(value))
    except ValueError:
        raise _invalid({field: [_("Write a date as YYYY-MM-DD, e.g. 2026-01-01.")]}) from None


@transaction.atomic
def version_create(
    *, tariff: Tariff, acting_user: Any, effective_from: Any, definition: Any, note: str = ""
) -> TariffVersion:
    """Save a draft version of a tariff. A definition the pricing engine refuses is not saved: the problems come
    back on the definition field, each with its path."""
    effective = _date(effective_from, "effective_from")
    definition = definition_clean(definition)
    problems = definition_problems(tariff=tariff, definition=definition)
    if problems:
        raise TariffError(
            _("The definition is not valid: %(count)d problem(s) to fix.") % {"count": len(problems)},
            code="definition_invalid",
            fields={"definition": problems},
        )
    note = _text(note)
    if len(note) > 300:
        raise _invalid({"note": [_("At most 300 characters.")]})
    version = TariffVersion.objects.create(
        operator_id=tariff.operator_id,
        tariff=tariff,
        effective_from=effective,
        definition=definition,
        note=note,
        created_by=acting_user,
    )
    audit_record(
        actor=acting_user,
        action="tariff.version_created",
        target=version,
        after={"tariff": tariff.code, "effective_from": effective, "note": note},
    )
    return version


@transaction.atomic
def version_update(
    *, version: TariffVersion, acting_user: Any, effective_from: Any = None, definition: Any = None, note: Any = None
) -> TariffVersion:
    """Change a draft; a published version is never changed (make a new version instead)."""
    version = TariffVersion.objects.select_for_update().select_related("tariff__operator").get(pk=version.pk)
    if version.status != TariffVersion.Status.DRAFT:
        raise _published(version)
    before = snapshot(version, ["effective_from", "definition", "note"])
    if effective_from is not None:
        version.effective_from = _date(effective_from, "effective_from")
    if definition is not None:
        definition = definition_clean(definition)
        problems = definition_problems(tariff=version.tariff, definition=definition)
        if problems:
            raise TariffError(
                _("The definition is not valid: %(count)d problem(s) to fix.") % {"count": len(problems)},
                code="definition_invalid",
                fields={"definition": problems},
            )
        version.definition = definition
    if note is not None:
        version.note = _text(note)[:300]
    version.save()
    audit_record(
        actor=acting_user,
        action="tariff.version_updated",
        target=version,
        before=before,
        after=snapshot(version, ["effective_from", "definition", "note"]),
    )
    return version


def _published(version: TariffVersion) -> TariffError:
    return TariffError(
        _("Version %(version)s is published and never changes: add a new version instead.") % {"version": version},
        code="version_published",
        status=409,
    )


@transaction.atomic
def version_publish(*, version: TariffVersion, acting_user: Any) -> TariffVersion:
    """Publish a draft: from its date it prices the tariff's connections, and it never changes again."""
    version = TariffVersion.objects.select_for_update().select_related("tariff__operator").get(pk=version.pk)
    if version.status == TariffVersion.Status.PUBLISHED:
        raise _published(version)
    problems = definition_problems(tariff=version.tariff, definition=version.definition)
    if problems:  # the engine may have become stricter since the draft was saved
        raise TariffError(
            _("The definition is not valid: %(count)d problem(s) to fix.") % {"count": len(problems)},
            code="definition_invalid",
            fields={"definition": problems},
        )
    taken = TariffVersion.objects.filter(
        tariff=version.tariff, status=TariffVersion.Status.PUBLISHED, effective_from=version.effective_from
    ).exists()
    if taken:
        raise Conflict(
            _("A version effective %(day)s is already published; give this one another date.")
            % {"day": version.effective_from.isoformat()},
            code="version_date_taken",
            fields={"effective_from": [_("Already taken by a published version.")]},
        )
    version.status = TariffVersion.Status.PUBLISHED
    version.published_by = acting_user if getattr(acting_user, "is_authenticated", False) else None
    version.published_at = timezone.now()
    try:
        with transaction.atomic():
            version.save(update_fields=["status", "published_by", "published_at"])
    except IntegrityError:
        raise Conflict(
            _("A version effective %(day)s is already published; give this one another date.")
            % {"day": version.effective_from.isoformat()},
            code="version_date_taken",
            fields={"effective_from": [_("Already taken by a published version.")]},
        ) from None
    audit_record(
        actor=acting_user,
        action="tariff.version_published",
        target=version,
        after={"tariff": version.tariff.code, "effective_from": version.effective_from},
    )
    return version


# Packages -------------------------------------------------------------------------------------------------------------
def _amount(value: Any, field: str, currency: str, problems: dict[str, list[str]], *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            problems[field] = [_("Required.")]
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(_text(value))
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
    name = _text(name)
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
        problems["deposit_amount"] = [_("%(currency)s amounts have no smaller units than this.") % {"currency": currency}]
    effective = _date(effective_from, "effective_from")
    if problems:
        raise _invalid(problems, _("Please correct the package's details."))
    assert amount is not None
    definition = package_definition(
        currency=currency, load_limit_w=load, hours_per_day=hours, charging=charging, payment=payment, price=amount, name=name
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
        after={**snapshot(package, ["code", "name", "load_limit_w", "hours_per_day", "charging", "payment", "deposit_amount"]), "price": amount},
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
        if not _text(changes["name"]):
            problems["name"] = [_("Required.")]
        package.name = _text(changes["name"])
    if "deposit_amount" in changes:
        package.deposit_amount = _amount(
            changes["deposit_amount"], "deposit_amount", package.operator.currency, problems, required=False
        )
    if "active" in changes:
        package.active = bool(changes["active"])
    if problems:
        raise _invalid(problems, _("Please correct the package's details."))
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
