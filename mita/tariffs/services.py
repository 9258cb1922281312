"""Writes of tariffs: a tariff and where it applies, its versions (drafts, then published and never changed), and
mini-grid packages. Each is one transaction with its audit entry; bad input is a TariffError naming the fields."""

import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.tariffs import pricing
from mita.tariffs.models import Tariff, TariffVersion
from mita.tariffs.selectors import connections_by_number, supply_system_choices, tariff_conflicts

TARIFF_FIELDS = ["code", "name", "utility", "kind", "property_types", "connection_types", "priority", "active"]
APPLICABILITY = ("property_types", "connection_types", "supply_system_ids", "connection_numbers", "priority")
EDITABLE = ("name", "active", *APPLICABILITY)
PROPERTY_TYPES = ("residential", "commercial", "institutional", "public_tap", "industrial", "other")


class TariffError(DomainError):
    """Bad tariff input: says which field and what to fix."""


def tariff_invalid(fields: dict[str, list[str]], message: str | None = None) -> TariffError:
    return TariffError(message or _("Please correct the tariff's details."), code="tariff_invalid", fields=fields)


def text_of(value: Any) -> str:
    return str(value or "").strip()


def _text_list(value: Any) -> list[str]:
    """A list of short words from a list or a comma-separated text, without blanks or repeats, in order."""
    if value in (None, ""):
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    seen: list[str] = []
    for item in items:
        text = text_of(item)
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
    code, name = text_of(code), text_of(name)
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
        raise tariff_invalid(problems)
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
    if "code" in changes and text_of(changes["code"]) != tariff.code:
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
    if tariff.kind == Tariff.Kind.PACKAGE:
        raise TariffError(
            _("A package's tariff changes with its package (name, deposit, offered); its price is a new version."),
            code="package_tariff",
        )
    before = _state(tariff)
    problems: dict[str, list[str]] = {}
    if "name" in changes and not text_of(changes["name"]):
        problems["name"] = [_("Required.")]
    cleaned = _applicability(operator=tariff.operator, values=changes, problems=problems)
    if problems:
        raise tariff_invalid(problems)
    values = {**_current_applicability(tariff), **cleaned}
    active = bool(changes.get("active", tariff.active))
    if active:
        _refuse_ties(operator=tariff.operator, tariff=tariff, utility=tariff.utility, kind=tariff.kind, values=values)
    if "name" in changes:
        tariff.name = text_of(changes["name"])
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
    problems = [
        f"{problem.path}: {problem.message}" if problem.path else problem.message
        for problem in pricing.validate(definition)
    ]
    currency = tariff.operator.currency
    if isinstance(definition.get("currency"), str) and definition["currency"] != currency:
        problems.append(
            _('currency: the operator bills in %(currency)s; write "currency": "%(currency)s".')
            % {"currency": currency}
        )
    if isinstance(definition.get("utility"), str) and definition["utility"] != tariff.utility:
        problems.append(
            _('utility: this tariff is for %(utility)s; write "utility": "%(utility)s".') % {"utility": tariff.utility}
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
        return repr(value)  # the shortest text that reads back as the same float: what the client wrote
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def date_of(value: Any, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(text_of(value))
    except ValueError:
        raise tariff_invalid({field: [_("Write a date as YYYY-MM-DD, e.g. 2026-01-01.")]}) from None


@transaction.atomic
def version_create(
    *,
    tariff: Tariff,
    acting_user: Any,
    effective_from: Any,
    definition: Any,
    note: str = "",
    idempotency_key: str = "",
) -> TariffVersion:
    """Save a draft version of a tariff. A definition the pricing engine refuses is not saved: the problems come
    back on the definition field, each with its path. With a key, a retry returns the first draft; the same key with
    other contents is a conflict."""
    effective = date_of(effective_from, "effective_from")
    definition = definition_clean(definition)
    key = text_of(idempotency_key)[:100]
    if key:
        first = TariffVersion.objects.filter(tariff=tariff, idempotency_key=key).first()
        if first is not None:
            return _replayed(first, effective=effective, definition=definition, note=text_of(note))
    problems = definition_problems(tariff=tariff, definition=definition)
    if problems:
        raise TariffError(
            _("The definition is not valid: %(count)d problem(s) to fix.") % {"count": len(problems)},
            code="definition_invalid",
            fields={"definition": problems},
        )
    note = text_of(note)
    if len(note) > 300:
        raise tariff_invalid({"note": [_("At most 300 characters.")]})
    try:
        with transaction.atomic():
            version = TariffVersion.objects.create(
                operator_id=tariff.operator_id,
                tariff=tariff,
                effective_from=effective,
                definition=definition,
                note=note,
                created_by=acting_user,
                idempotency_key=key,
            )
    except IntegrityError:  # the same key saved at the same moment by a concurrent retry
        first = TariffVersion.objects.get(tariff=tariff, idempotency_key=key)
        return _replayed(first, effective=effective, definition=definition, note=note)
    audit_record(
        actor=acting_user,
        action="tariff.version_created",
        target=version,
        after={"tariff": tariff.code, "effective_from": effective, "note": note},
    )
    return version


def _replayed(first: TariffVersion, *, effective: datetime.date, definition: Any, note: str) -> TariffVersion:
    if (first.effective_from, first.definition, first.note) != (effective, definition, note):
        raise Conflict(
            _("This key already saved another version; use a new key for new contents."),
            code="idempotency_key_reused",
            fields={"idempotency_key": [_("Already used for other contents.")]},
        )
    return first


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
        version.effective_from = date_of(effective_from, "effective_from")
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
        version.note = text_of(note)[:300]
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
