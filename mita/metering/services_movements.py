"""Writes of metering: meters — receiving meters from a supplier in batches, and moving them between stores, to and
from the lab, back to the supplier (reject) and to scrap. Each is one Movement document with its lines, in one
transaction, audited; a key makes it idempotent (the same key again returns the same movement).

What each movement asks of its meters (all must be in the from-store; the error names those that are not):
  transfer  store -> another store (not a lab)   in store or faulty          status unchanged
  to_lab    store -> a lab                         in store or faulty          in the lab
  from_lab  lab -> a store (not a lab)             in the lab or faulty        in store (faulty stays faulty)
  reject    any store -> the supplier              in store, in lab or faulty  out of stock for good (scrapped status)
  scrap     any store -> nowhere                   in store, in lab or faulty  scrapped
"""

import dataclasses
import datetime
import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict
from mita.metering.errors import MeteringError
from mita.metering.models import Meter, MeterModel, Movement, MovementKey, MovementLine, Store
from mita.metering.serials import MAX_BATCH, named, repeated

CHUNK = 1000
S = Meter.Status
K = Movement.Kind
# kind -> (statuses a meter may have, from a lab?, to a lab?, status after; None = unchanged / faulty stays faulty)
RULES: dict[str, tuple[tuple[str, ...], bool | None, bool | None, str | None]] = {
    K.TRANSFER: ((S.IN_STORE, S.FAULTY), False, False, None),
    K.TO_LAB: ((S.IN_STORE, S.FAULTY), False, True, S.IN_LAB),
    K.FROM_LAB: ((S.IN_LAB, S.FAULTY), True, False, S.IN_STORE),
    K.REJECT: ((S.IN_STORE, S.IN_LAB, S.FAULTY), None, None, S.SCRAPPED),
    K.SCRAP: ((S.IN_STORE, S.IN_LAB, S.FAULTY), None, None, S.SCRAPPED),
}


@dataclasses.dataclass(frozen=True)
class MovementResult:
    movement: Movement
    replayed: bool = False


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _replay(operator: Any, key: str, digest: str) -> MovementResult | None:
    """The movement this key made before (a replay), None if the key is new; another body with it is a 409."""
    if not key:
        return None
    known = MovementKey.objects.filter(operator=operator, key=key).select_related("movement").first()
    if known is None:
        return None
    if known.body_digest != digest:
        raise Conflict(
            _("This key was used for another movement; use a new key for a new movement."),
            code="key_reused",
            fields={"key": [_("Already used for another movement.")]},
        )
    return MovementResult(movement=known.movement, replayed=True)


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def _key_check(key: str) -> str:
    key = (key or "").strip()
    if len(key) > 120:
        raise MeteringError(
            _("A key has at most 120 characters."), code="key_invalid", fields={"key": [_("Too long.")]}
        )
    return key


def _date_check(on: datetime.date, field: str) -> None:
    if on > timezone.localdate():
        raise MeteringError(
            _("That date is in the future."), code="date_in_future", fields={field: [_("Not later than today.")]}
        )


def _store_check(operator: Any, store: Store | None, field: str) -> Store:
    if store is None or store.operator_id != operator.pk:
        raise MeteringError(
            _("Choose one of your stores."), code="store_invalid", fields={field: [_("Choose a store.")]}
        )
    if not store.active:
        raise MeteringError(
            _("Store %(store)s is closed.") % {"store": store.code}, code="store_closed", fields={field: [_("Closed.")]}
        )
    return store


def _with_key(*, operator: Any, key: str, digest: str, movement: Movement) -> MovementResult | None:
    """Save the key with the movement; when another request saved it first (a concurrent retry), its movement."""
    if not key:
        return None
    try:
        with transaction.atomic():
            MovementKey.objects.create(operator=operator, key=key, body_digest=digest, movement=movement)
    except IntegrityError:
        return _replay(operator, key, digest)
    return None


@transaction.atomic
def meters_receive(
    *,
    operator: Any,
    store: Store,
    meter_model: MeterModel,
    serials: list[str],
    received_on: datetime.date,
    supplier: str,
    acting_user: Any,
    reference: str = "",
    note: str = "",
    key: str = "",
) -> MovementResult:
    """Receive new meters of one model from a supplier into a store: one RECEIVE movement and its lines. A serial
    already at the operator for that brand (whatever its case), or written twice, refuses the whole batch and the
    error names them all; nothing is saved."""
    key = _key_check(key)
    serials = [serial.strip() for serial in serials if serial and serial.strip()]
    supplier = (supplier or "").strip()
    digest = _digest(
        {
            "kind": "receive",
            "store": store.pk,
            "model": meter_model.pk,
            "serials": [serial.upper() for serial in serials],
            "on": received_on,
            "supplier": supplier,
            "reference": reference.strip(),
        }
    )
    if (replayed := _replay(operator, key, digest)) is not None:
        return replayed
    _store_check(operator, store, "store")
    if meter_model.operator_id != operator.pk:
        raise MeteringError(
            _("Choose one of your meter models."), code="meter_model_invalid", fields={"meter_model": [_("Unknown.")]}
        )
    if not meter_model.active:
        raise MeteringError(
            _("Meter model %(code)s is no longer in use.") % {"code": meter_model.code},
            code="meter_model_inactive",
            fields={"meter_model": [_("Choose a model in use.")]},
        )
    if not supplier:
        raise MeteringError(_("Name the supplier."), code="supplier_required", fields={"supplier": [_("Required.")]})
    _date_check(received_on, "received_on")
    if not serials:
        raise MeteringError(
            _("Give the meters' serial numbers."), code="serials_required", fields={"serials": [_("Required.")]}
        )
    if len(serials) > MAX_BATCH:
        raise MeteringError(
            _("%(count)s meters in one batch: at most %(max)s; split it.") % {"count": len(serials), "max": MAX_BATCH},
            code="batch_too_large",
            fields={"serials": [_("At most %(max)s meters.") % {"max": MAX_BATCH}]},
        )
    if too_long := [serial for serial in serials if len(serial) > 60]:
        raise MeteringError(
            _("A serial number has at most 60 characters: %(serial)s.") % {"serial": too_long[0][:70]},
            code="serial_invalid",
            fields={"serials": [_("At most 60 characters.")]},
        )
    if twice := repeated(serials):
        raise MeteringError(
            _("These serials are written more than once: %(serials)s.") % {"serials": named(twice)},
            code="serials_repeated",
            fields={"serials": twice[:100]},
        )
    taken = _serials_taken(operator, meter_model.brand, serials)
    if taken and (replayed := _replay(operator, key, digest)) is not None:
        return replayed  # this batch, received with this key by a request that committed since the first look
    if taken:
        raise Conflict(
            _("%(count)s of these %(brand)s serials are already registered: %(serials)s. Nothing was received.")
            % {"count": len(taken), "brand": meter_model.brand, "serials": named(taken)},
            code="serials_taken",
            fields={"serials": taken[:100]},
        )
    movement = Movement.objects.create(
        operator=operator,
        kind=Movement.Kind.RECEIVE,
        to_store=store,
        supplier=supplier[:200],
        reference=reference.strip()[:80],
        note=note.strip()[:500],
        moved_on=received_on,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    if (concurrent := _with_key(operator=operator, key=key, digest=digest, movement=movement)) is not None:
        movement.delete()
        return concurrent
    status = S.IN_LAB if store.kind == Store.Kind.LAB else S.IN_STORE
    try:
        with transaction.atomic():
            meters = Meter.objects.bulk_create(
                [
                    Meter(
                        operator=operator,
                        meter_model=meter_model,
                        brand=meter_model.brand,
                        serial=serial,
                        status=status,
                        store=store,
                        received_on=received_on,
                    )
                    for serial in serials
                ],
                batch_size=CHUNK,
            )
    except IntegrityError:  # received at the same moment by someone else
        raise Conflict(
            _("Some of these serials were registered a moment ago: check them and send the batch again."),
            code="serials_taken",
            fields={"serials": [_("Some are taken.")]},
        ) from None
    if any(meter.pk is None for meter in meters):  # a database that does not return ids from a bulk insert
        by_serial = dict(
            Meter.objects.filter(
                operator=operator, brand=meter_model.brand, received_on=received_on, store=store
            ).values_list("serial", "pk")
        )
        for meter in meters:
            meter.pk = by_serial[meter.serial]
    MovementLine.objects.bulk_create(
        [MovementLine(movement=movement, meter=meter) for meter in meters], batch_size=CHUNK
    )
    audit_record(
        actor=acting_user,
        action="meters.received",
        target=movement,
        after={
            "store": store.code,
            "meter_model": meter_model.code,
            "supplier": supplier,
            "count": len(meters),
            "first": serials[0],
            "last": serials[-1],
        },
    )
    return MovementResult(movement=movement)


def _serials_taken(operator: Any, brand: str, serials: list[str]) -> list[str]:
    """The serials of `serials` already registered at the operator for this brand, whatever their case."""
    folded = {serial.upper(): serial for serial in serials}
    taken: set[str] = set()
    for chunk in _chunks(sorted(folded)):
        taken.update(
            Meter.objects.filter(operator=operator, brand__iexact=brand)
            .annotate(folded=Upper("serial"))
            .filter(folded__in=chunk)
            .values_list("folded", flat=True)
        )
    return [serial for serial in serials if serial.upper() in taken]


def _meters_named(
    operator: Any, store: Store, serials: list[str], meter_ids: list[int]
) -> tuple[list[Meter], list[str]]:
    """The meters named by serial (whatever its case) or id, locked in id order; and the problems with the names."""
    problems: list[str] = []
    found: set[int] = set()
    if serials:
        folded = {serial.upper(): serial for serial in serials}
        by_serial: dict[str, list[tuple[int, int | None]]] = {}
        for chunk in _chunks(sorted(folded)):
            rows = (
                Meter.objects.filter(operator=operator)
                .annotate(folded=Upper("serial"))
                .filter(folded__in=chunk)
                .values_list("folded", "pk", "store_id")
            )
            for folded_serial, pk, store_id in rows:
                by_serial.setdefault(folded_serial, []).append((pk, store_id))
        for folded_serial, serial in folded.items():
            candidates = by_serial.get(folded_serial, [])
            if len(candidates) > 1:
                # The same serial on two brands: the one in the from-store, if only one is there.
                here = [candidate for candidate in candidates if candidate[1] == store.pk]
                candidates = here if len(here) == 1 else candidates
            if not candidates:
                problems.append(_("%(serial)s: no such meter") % {"serial": serial})
            elif len(candidates) > 1:
                problems.append(
                    _("%(serial)s: meters of several brands have this serial; choose it from the list")
                    % {"serial": serial}
                )
            else:
                found.add(candidates[0][0])
    if meter_ids:
        chosen = set(meter_ids)
        for chunk in _chunks(sorted(chosen)):
            found.update(Meter.objects.filter(operator=operator, pk__in=chunk).values_list("pk", flat=True))
        missing = chosen - found
        if missing:
            problems.append(_("%(count)s meters chosen do not exist") % {"count": len(missing)})
    locked: list[Meter] = []
    for chunk in _chunks(sorted(found)):
        locked.extend(
            Meter.objects.select_for_update(of=("self",)).filter(pk__in=chunk).select_related("store").order_by("pk")
        )
    return locked, problems


@transaction.atomic
def meters_move(
    *,
    operator: Any,
    kind: str,
    from_store: Store,
    moved_on: datetime.date,
    acting_user: Any,
    to_store: Store | None = None,
    serials: list[str] | None = None,
    meter_ids: list[int] | None = None,
    supplier: str = "",
    reference: str = "",
    note: str = "",
    key: str = "",
) -> MovementResult:
    """Move meters out of `from_store`: to another store, to or from the lab, back to the supplier, to scrap (the
    module's table says what each needs). Every meter must be in `from_store` with a status the movement allows;
    otherwise nothing moves and the error names each meter that is not."""
    key = _key_check(key)
    serials = [serial.strip() for serial in (serials or []) if serial and serial.strip()]
    meter_ids = [int(pk) for pk in (meter_ids or [])]
    supplier = (supplier or "").strip()
    digest = _digest(
        {
            "kind": kind,
            "from": getattr(from_store, "pk", None),
            "to": getattr(to_store, "pk", None),
            "serials": sorted(serial.upper() for serial in serials),
            "ids": sorted(meter_ids),
            "on": moved_on,
            "supplier": supplier,
            "reference": reference.strip(),
        }
    )
    if (replayed := _replay(operator, key, digest)) is not None:
        return replayed
    if kind not in RULES:
        raise MeteringError(_("Choose the kind of movement."), code="kind_invalid", fields={"kind": [_("Choose one.")]})
    allowed, from_lab, to_lab, after = RULES[kind]
    from_store = _store_check(operator, from_store, "from_store")
    if from_lab is not None and (from_store.kind == Store.Kind.LAB) != from_lab:
        raise MeteringError(
            _("Meters come back from the lab only.")
            if from_lab
            else _("Meters leave the lab by “Returned from the lab”."),
            code="from_store_invalid",
            fields={"from_store": [_("Choose a lab.") if from_lab else _("Choose a store that is not a lab.")]},
        )
    if kind in (K.REJECT, K.SCRAP):
        if to_store is not None:
            raise MeteringError(
                _("Rejected and scrapped meters go to no store."),
                code="to_store_invalid",
                fields={"to_store": [_("Leave it empty.")]},
            )
    else:
        to_store = _store_check(operator, to_store, "to_store")
        if to_store.pk == from_store.pk:
            raise MeteringError(
                _("Choose another store to send the meters to."),
                code="same_store",
                fields={"to_store": [_("Another store.")]},
            )
        if to_lab is not None and (to_store.kind == Store.Kind.LAB) != to_lab:
            raise MeteringError(
                _("Meters go to the lab by “Sent to the lab”.")
                if not to_lab
                else _("Choose a lab to send the meters to."),
                code="to_store_invalid",
                fields={"to_store": [_("Choose a lab.") if to_lab else _("Choose a store that is not a lab.")]},
            )
    if kind == K.REJECT and not supplier:
        raise MeteringError(
            _("Name the supplier the meters go back to."),
            code="supplier_required",
            fields={"supplier": [_("Required.")]},
        )
    _date_check(moved_on, "moved_on")
    if not serials and not meter_ids:
        raise MeteringError(
            _("Choose the meters to move."), code="meters_required", fields={"serials": [_("Required.")]}
        )
    if len(serials) + len(meter_ids) > MAX_BATCH:
        raise MeteringError(
            _("At most %(max)s meters in one movement.") % {"max": MAX_BATCH},
            code="batch_too_large",
            fields={"serials": [_("At most %(max)s meters.") % {"max": MAX_BATCH}]},
        )
    meters, problems = _meters_named(operator, from_store, serials, meter_ids)
    for meter in meters:
        if meter.store_id != from_store.pk:
            where = meter.store.code if meter.store else meter.get_status_display().lower()
            problems.append(
                _("%(serial)s: not in %(store)s (%(where)s)")
                % {"serial": meter.serial, "store": from_store.code, "where": where}
            )
        elif meter.status not in allowed:
            problems.append(
                _("%(serial)s: %(status)s") % {"serial": meter.serial, "status": meter.get_status_display().lower()}
            )
    if problems:
        raise MeteringError(
            _("%(count)s of the meters cannot be moved: %(problems)s. Nothing was moved.")
            % {"count": len(problems), "problems": named(problems, shown=10)},
            code="meters_not_movable",
            fields={"serials": problems[:100]},
        )
    movement = Movement.objects.create(
        operator=operator,
        kind=kind,
        from_store=from_store,
        to_store=to_store,
        supplier=supplier[:200],
        reference=reference.strip()[:80],
        note=note.strip()[:500],
        moved_on=moved_on,
        created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
    )
    if (concurrent := _with_key(operator=operator, key=key, digest=digest, movement=movement)) is not None:
        movement.delete()
        return concurrent
    MovementLine.objects.bulk_create(
        [MovementLine(movement=movement, meter=meter) for meter in meters], batch_size=CHUNK
    )
    by_status: dict[str, list[int]] = {}
    for meter in meters:
        status = meter.status if after is None or (meter.status == S.FAULTY and kind == K.FROM_LAB) else after
        by_status.setdefault(status, []).append(meter.pk)
    for status, ids in by_status.items():
        for chunk in _chunks(ids):
            Meter.objects.filter(pk__in=chunk).update(status=status, store=None if status == S.SCRAPPED else to_store)
    audit_record(
        actor=acting_user,
        action=f"meters.{kind}",
        target=movement,
        after={
            "from": from_store.code,
            "to": to_store.code if to_store else "",
            "supplier": supplier,
            "count": len(meters),
            "serials": [meter.serial for meter in meters][:200],
        },
    )
    return MovementResult(movement=movement)
