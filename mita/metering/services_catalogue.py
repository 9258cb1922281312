"""Writes of metering: meters — meter models with their registers, and stores. One transaction each, audited.

A model's dials are fixed once meters of it exist: its dial digits (where the index wraps), whether it runs backwards,
and the set of its registers. Readings already taken would otherwise be judged by rules they were not read under.
Units and multipliers may change (readings keep the multiplier they were taken with)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict
from mita.metering.errors import MeteringError
from mita.metering.models import Meter, MeterModel, Register, Store

MODEL_FIELDS = (
    "code",
    "brand",
    "name",
    "utility",
    "kind",
    "size",
    "dial_digits",
    "reversible",
    "calibration_interval_months",
    "active",
)
FIXED_ONCE_METERS_EXIST = ("dial_digits", "reversible", "brand")
STORE_FIELDS = ("code", "name", "kind", "active")
MAX_REGISTERS = 6


LONGEST = {"code": 40, "brand": 80, "name": 120, "size": 40}


def _clean_model(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in values.items():
        if field in ("code", "brand", "name", "size"):
            value = (value or "").strip()
            if field != "size" and not value:
                problems[field] = [_("Required.")]
                continue
            if len(value) > LONGEST[field]:
                problems[field] = [_("At most %(count)s characters.") % {"count": LONGEST[field]}]
                continue
            if field == "code" and any(char.isspace() for char in value):
                problems[field] = [_("A code has no spaces.")]
                continue
        elif field == "utility" and value not in MeterModel.Utility.values:
            problems[field] = [_("Choose water or electricity.")]
            continue
        elif field == "kind" and value not in MeterModel.Kind.values:
            problems[field] = [_("Choose a kind.")]
            continue
        elif field == "dial_digits":
            if not isinstance(value, int) or not 1 <= value <= 12:
                problems[field] = [_("Between 1 and 12.")]
                continue
        elif field == "calibration_interval_months":
            if value in ("", None):
                value = None
            elif not isinstance(value, int) or not 1 <= value <= 600:
                problems[field] = [_("Between 1 and 600 months, or empty when it is never calibrated.")]
                continue
        elif field in ("reversible", "active"):
            value = bool(value)
        cleaned[field] = value
    if problems:
        raise MeteringError(_("Please correct the meter model."), code="meter_model_invalid", fields=problems)
    return cleaned


def _clean_registers(registers: list[dict[str, Any]], utility: str) -> list[dict[str, Any]]:
    """[{code, unit, multiplier}] -> cleaned, positions in the order given; at least one (water: main m3)."""
    cleaned: list[dict[str, Any]] = []
    problems: list[str] = []
    for position, register in enumerate(registers, start=1):
        code = (register.get("code") or "").strip().lower()
        unit = (register.get("unit") or "").strip()
        try:
            multiplier = Decimal(str(register.get("multiplier") if register.get("multiplier") not in (None, "") else 1))
        except (InvalidOperation, ValueError):
            multiplier = Decimal(-1)
        if not code or len(code) > 20 or any(char.isspace() for char in code):
            problems.append(_("Register %(number)s: a code without spaces, e.g. active.") % {"number": position})
        elif not unit or len(unit) > 10:
            problems.append(_("Register %(code)s: a unit, e.g. kWh.") % {"code": code})
        elif not multiplier.is_finite() or multiplier <= 0 or multiplier != multiplier.quantize(Decimal("0.0001")):
            problems.append(_("Register %(code)s: a multiplier above 0, e.g. 40.") % {"code": code})
        elif multiplier >= Decimal("100000000"):
            problems.append(_("Register %(code)s: a multiplier below 100,000,000.") % {"code": code})
        else:
            cleaned.append({"code": code, "unit": unit, "multiplier": multiplier, "position": position})
    codes = [register["code"] for register in cleaned]
    if len(set(codes)) != len(codes):
        problems.append(_("Each register has its own code."))
    if len(registers) > MAX_REGISTERS:
        problems.append(_("At most %(max)s registers.") % {"max": MAX_REGISTERS})
    if problems:
        raise MeteringError(
            _("Please correct the registers."), code="registers_invalid", fields={"registers": problems}
        )
    if not cleaned:
        unit = "m3" if utility == MeterModel.Utility.WATER else "kWh"
        code = "main" if utility == MeterModel.Utility.WATER else "active"
        cleaned = [{"code": code, "unit": unit, "multiplier": Decimal(1), "position": 1}]
    return cleaned


def _registers_of(model: MeterModel) -> list[dict[str, Any]]:
    return [
        {"code": register.code, "unit": register.unit, "multiplier": str(register.multiplier)}
        for register in Register.objects.filter(meter_model=model).order_by("position", "code")
    ]


def _code_taken(code: str, what: str = "model") -> Conflict:
    message = (
        _("A meter model with code %(code)s exists already.")
        if what == "model"
        else _("A store with code %(code)s exists already.")
    )
    return Conflict(message % {"code": code}, code=f"{what}_code_taken", fields={"code": [_("Already in use.")]})


@transaction.atomic
def meter_model_create(
    *, operator: Any, acting_user: Any, registers: list[dict[str, Any]] | None = None, **values: Any
) -> MeterModel:
    """A make and model of meter with its registers (water: one `main` in m3 when none are given)."""
    unknown = sorted(set(values) - set(MODEL_FIELDS))
    if unknown:
        raise MeteringError(_("“%(field)s” is not a field of a meter model.") % {"field": unknown[0]}, code="invalid")
    values.setdefault("kind", MeterModel.Kind.MECHANICAL)
    values.setdefault("dial_digits", 5)
    values.setdefault("active", True)
    cleaned = _clean_model(values)
    missing = [field for field in ("code", "brand", "name", "utility") if field not in cleaned]
    if missing:
        raise MeteringError(
            _("Please correct the meter model."),
            code="meter_model_invalid",
            fields={field: [_("Required.")] for field in missing},
        )
    register_rows = _clean_registers(registers or [], cleaned["utility"])
    if MeterModel.objects.filter(operator=operator, code__iexact=cleaned["code"]).exists():
        raise _code_taken(cleaned["code"])
    try:
        with transaction.atomic():
            model = MeterModel.objects.create(operator=operator, **cleaned)
    except IntegrityError:
        raise _code_taken(cleaned["code"]) from None
    Register.objects.bulk_create([Register(meter_model=model, **row) for row in register_rows])
    audit_record(
        actor=acting_user,
        action="meter_model.created",
        target=model,
        after={**snapshot(model, list(MODEL_FIELDS)), "registers": _registers_of(model)},
    )
    return model


def _fixed(field: str, count: int, digits: int) -> MeteringError:
    messages = {
        "dial_digits": _(
            "%(count)s meters of this model exist: their dials keep %(digits)s digits (readings are checked for a "
            "rollover by them). Make a new model for meters with other dials."
        ),
        "reversible": _(
            "%(count)s meters of this model exist: whether they run backwards cannot change (readings are judged by "
            "it). Make a new model instead."
        ),
        "brand": _(
            "%(count)s meters of this model exist: their serial numbers are unique per brand, so the brand stays."
        ),
        "registers": _(
            "%(count)s meters of this model exist: their registers stay as they are (readings are kept per register); "
            "only units and multipliers can change."
        ),
    }
    return MeteringError(
        messages[field] % {"count": count, "digits": digits},
        code=f"{field}_fixed",
        fields={field: [_("Fixed once meters of the model exist.")]},
    )


@transaction.atomic
def meter_model_update(
    *, meter_model: MeterModel, acting_user: Any, registers: list[dict[str, Any]] | None = None, **changes: Any
) -> MeterModel:
    """Change a meter model. Its code never changes; its dial digits, reversibility, brand and register codes are
    fixed once meters of it exist (the message says why)."""
    model = MeterModel.objects.select_for_update().get(pk=meter_model.pk)
    if "code" in changes and (changes["code"] or "").strip().upper() != model.code.upper():
        raise MeteringError(
            _("A meter model's code cannot change; make a new model."),
            code="code_not_editable",
            fields={"code": [_("Not editable.")]},
        )
    changes.pop("code", None)
    unknown = sorted(set(changes) - set(MODEL_FIELDS))
    if unknown:
        raise MeteringError(_("“%(field)s” cannot be changed here.") % {"field": unknown[0]}, code="invalid")
    if "utility" in changes and changes["utility"] != model.utility and model.meters.exists():
        raise MeteringError(
            _("Meters of this model exist: it stays a %(utility)s meter.") % {"utility": model.get_utility_display()},
            code="utility_fixed",
            fields={"utility": [_("Fixed once meters of the model exist.")]},
        )
    cleaned = _clean_model(changes)
    changed = [field for field, value in cleaned.items() if getattr(model, field) != value]
    meter_count = Meter.objects.filter(meter_model=model).count()
    if meter_count:
        for field in FIXED_ONCE_METERS_EXIST:
            if field in changed:
                raise _fixed(field, meter_count, model.dial_digits)
    before_registers = _registers_of(model)
    register_changed = False
    if registers is not None:
        rows = _clean_registers(registers, cleaned.get("utility", model.utility))
        existing = {register.code: register for register in Register.objects.filter(meter_model=model)}
        if meter_count and sorted(existing) != sorted(row["code"] for row in rows):
            raise _fixed("registers", meter_count, model.dial_digits)
        for row in rows:
            register = existing.pop(row["code"], None)
            if register is None:
                Register.objects.create(meter_model=model, **row)
                register_changed = True
            elif (register.unit, register.multiplier, register.position) != (
                row["unit"],
                row["multiplier"],
                row["position"],
            ):
                register.unit, register.multiplier, register.position = row["unit"], row["multiplier"], row["position"]
                register.save(update_fields=["unit", "multiplier", "position"])
                register_changed = True
        if existing:
            Register.objects.filter(pk__in=[register.pk for register in existing.values()]).delete()
            register_changed = True
    if not changed and not register_changed:
        return model
    before = snapshot(model, changed)
    for field in changed:
        setattr(model, field, cleaned[field])
    if changed:
        model.save(update_fields=changed)
    audit_record(
        actor=acting_user,
        action="meter_model.updated",
        target=model,
        before={**before, **({"registers": before_registers} if register_changed else {})},
        after={**snapshot(model, changed), **({"registers": _registers_of(model)} if register_changed else {})},
    )
    return model


def _clean_store(values: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in values.items():
        if field in ("code", "name"):
            value = (value or "").strip()
            if not value:
                problems[field] = [_("Required.")]
                continue
            if field == "code" and (any(char.isspace() for char in value) or len(value) > 32):
                problems[field] = [_("At most 32 characters, no spaces.")]
                continue
            if field == "name" and len(value) > 120:
                problems[field] = [_("At most %(count)s characters.") % {"count": 120}]
                continue
        elif field == "kind" and value not in Store.Kind.values:
            problems[field] = [_("Choose central, branch or lab.")]
            continue
        elif field == "active":
            value = bool(value)
        cleaned[field] = value
    if problems:
        raise MeteringError(_("Please correct the store."), code="store_invalid", fields=problems)
    return cleaned


@transaction.atomic
def store_create(
    *, operator: Any, acting_user: Any, code: str, name: str, kind: str = Store.Kind.BRANCH, active: bool = True
) -> Store:
    """A store where meters wait: the central store, a branch store or the calibration lab."""
    cleaned = _clean_store({"code": code, "name": name, "kind": kind, "active": active})
    if Store.objects.filter(operator=operator, code__iexact=cleaned["code"]).exists():
        raise _code_taken(cleaned["code"], "store")
    try:
        with transaction.atomic():
            store = Store.objects.create(operator=operator, **cleaned)
    except IntegrityError:
        raise _code_taken(cleaned["code"], "store") from None
    audit_record(actor=acting_user, action="store.created", target=store, after=snapshot(store, list(STORE_FIELDS)))
    return store


@transaction.atomic
def store_update(*, store: Store, acting_user: Any, **changes: Any) -> Store:
    """Rename a store, change its kind or close it; a store holding meters keeps its kind and stays open (a lab's
    meters are "in the lab", a store's are not: move them first)."""
    store = Store.objects.select_for_update().get(pk=store.pk)
    if "code" in changes and (changes["code"] or "").strip().upper() != store.code.upper():
        raise MeteringError(
            _("A store's code cannot change."), code="code_not_editable", fields={"code": [_("Not editable.")]}
        )
    changes.pop("code", None)
    unknown = sorted(set(changes) - {"name", "kind", "active"})
    if unknown:
        raise MeteringError(_("“%(field)s” cannot be changed here.") % {"field": unknown[0]}, code="invalid")
    cleaned = _clean_store(changes)
    changed = [field for field, value in cleaned.items() if getattr(store, field) != value]
    if not changed:
        return store
    holding = Meter.objects.filter(store=store).count()
    if holding and "kind" in changed:
        raise MeteringError(
            _("%(count)s meters are in this store: move them out before changing its kind.") % {"count": holding},
            code="store_not_empty",
            fields={"kind": [_("Move its meters first.")]},
        )
    if holding and "active" in changed and not cleaned["active"]:
        raise MeteringError(
            _("%(count)s meters are in this store: move them out before closing it.") % {"count": holding},
            code="store_not_empty",
            fields={"active": [_("Move its meters first.")]},
        )
    before = snapshot(store, changed)
    for field in changed:
        setattr(store, field, cleaned[field])
    store.save(update_fields=changed)
    audit_record(actor=acting_user, action="store.updated", target=store, before=before, after=snapshot(store, changed))
    return store
