"""The demo's meters: for each demo operator a central store, a branch store and a lab, its meter models (water: 4- and
5-digit mechanical, one smart; electricity: prepaid, and a smart CT meter with active and reactive registers and a
multiplier), meters received in batches (every metered connection + 20% spare), transfers, lab trips, calibrations
(some meters left overdue) and one scrapped. The installations step (minstall) takes `demo_meters_in_store`."""

import dataclasses
import datetime
import math
from typing import Any

from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.demo import DemoContext
from mita.customers.models import Connection
from mita.metering.models import Meter, MeterModel, Store
from mita.metering.selectors_calibration import months_later
from mita.metering.serials import serial_range
from mita.metering.services_calibration import calibration_record
from mita.metering.services_catalogue import meter_model_create, store_create
from mita.metering.services_movements import meters_move, meters_receive

SPARE = 0.2


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    code: str
    brand: str
    name: str
    kind: str
    size: str
    digits: int
    interval: int
    share: float  # of the operator's meters
    first_serial: str  # a range starts here, its width and prefix kept
    supplier: str
    registers: tuple[tuple[str, str, str], ...] = (("main", "m3", "1"),)
    reversible: bool = False


MODELS: dict[str, tuple[str, list[ModelSpec]]] = {
    "amazi": (
        MeterModel.Utility.WATER,
        [
            ModelSpec(
                "AM-15", "Itron", "Aquadis+ 15 mm", "mechanical", "15 mm", 5, 60, 0.6, "WM-030001", "Itron Africa Ltd"
            ),
            ModelSpec(
                "AM-15K",
                "Kent",
                "PSM-T 15 mm",
                "mechanical",
                "15 mm",
                4,
                60,
                0.3,
                "KT-4000001",
                "Kigali Water Supplies",
            ),
            ModelSpec(
                "AM-SM", "Kamstrup", "flowIQ 2101 smart", "smart", "DN20", 8, 96, 0.1, "KM-80000001", "Itron Africa Ltd"
            ),
        ],
    ),
    "kilaraipur": (
        MeterModel.Utility.WATER,
        [
            ModelSpec(
                "KR-15", "Capstan", "Class B 15 mm", "mechanical", "15 mm", 5, 60, 0.6, "30001", "Ludhiana Meters & Co"
            ),
            ModelSpec(
                "KR-4D",
                "Zenner",
                "MTKD 4-digit 15 mm",
                "mechanical",
                "15 mm",
                4,
                60,
                0.4,
                "Z-0700001",
                "Punjab Water Supplies",
            ),
        ],
    ),
    "izuba": (
        MeterModel.Utility.ELECTRICITY,
        [
            ModelSpec(
                "IZ-PP",
                "Conlog",
                "BEC23 prepaid",
                "prepaid",
                "10-60 A",
                6,
                120,
                0.85,
                "IZP-000001",
                "Solar Components Rwanda",
                registers=(("active", "kWh", "1"),),
            ),
            ModelSpec(
                "IZ-CT",
                "Hexing",
                "HXE310 smart CT",
                "smart",
                "CT 200/5 A",
                6,
                96,
                0.15,
                "HX-7000001",
                "Solar Components Rwanda",
                registers=(("active", "kWh", "40"), ("reactive", "kvarh", "40")),
            ),
        ],
    ),
}
STORES = {
    "amazi": ("Nyamata", "Gashora"),
    "kilaraipur": ("Kila Raipur", "Dehlon"),
    "izuba": ("Munini", "Kibeho"),
}


def demo_meters_in_store(operator: Any) -> list[Meter]:
    """The operator's meters waiting in its stores (not the lab), oldest receipts first: for the installations demo."""
    return list(
        Meter.objects.filter(operator=operator, status=Meter.Status.IN_STORE)
        .exclude(store__kind=Store.Kind.LAB)
        .select_related("meter_model", "store")
        .order_by("received_on", "meter_model__code", "serial")
    )


def _count_needed(operator: Any) -> int:
    metered = Connection.objects.filter(operator=operator, metered=True).count()
    return max(math.ceil(metered * (1 + SPARE)), metered + 12, 24)


def _batches(spec: ModelSpec, count: int, today: datetime.date) -> list[tuple[datetime.date, int]]:
    """(received on, meters) per batch: one overdue for calibration since last September, three falling due this year
    (March, June, October), and a recent one with the rest."""
    shares = [
        ((today.year - 1, 9, 20), 15),
        ((today.year, 3, 10), 10),
        ((today.year, 6, 2), 8),
        ((today.year, 10, 14), 7),
    ]
    batches = [
        (months_later(datetime.date(*due), -spec.interval), max(1, count * share // 100)) for due, share in shares
    ]
    recent = months_later(today.replace(day=5), -14)
    return [*batches, (recent, max(1, count - sum(size for _on, size in batches)))]


def _build_operator(ctx: DemoContext, key: str, operator: Any) -> dict[str, Any]:
    storekeeper = ctx.objects["users"][f"{Role.STOREKEEPER}@{operator}"]
    admin = ctx.objects["users"][f"{Role.OPERATOR_ADMIN}@{operator}"]
    town, branch_town = STORES[key]
    stores = {
        "central": store_create(
            operator=operator, acting_user=admin, code="CEN", name=f"{town} central store", kind="central"
        ),
        "branch": store_create(
            operator=operator, acting_user=admin, code="BR1", name=f"{branch_town} branch store", kind="branch"
        ),
        "lab": store_create(operator=operator, acting_user=admin, code="LAB", name="Meter test bench", kind="lab"),
    }
    utility, specs = MODELS[key]
    needed = _count_needed(operator)
    today = timezone.localdate()
    models = []
    received = 0
    for spec in specs:
        model = meter_model_create(
            operator=operator,
            acting_user=admin,
            code=spec.code,
            brand=spec.brand,
            name=spec.name,
            utility=utility,
            kind=spec.kind,
            size=spec.size,
            dial_digits=spec.digits,
            reversible=spec.reversible,
            calibration_interval_months=spec.interval,
            registers=[{"code": c, "unit": u, "multiplier": m} for c, u, m in spec.registers],
        )
        models.append(model)
        count = math.ceil(needed * spec.share)
        serials = serial_range(spec.first_serial, _nth(spec.first_serial, count))
        start = 0
        for received_on, size in _batches(spec, count, today):
            batch = serials[start : start + size]
            start += size
            if not batch:
                continue
            meters_receive(
                operator=operator,
                store=stores["central"],
                meter_model=model,
                serials=batch,
                received_on=received_on,
                supplier=spec.supplier,
                reference=f"DN-{received_on:%Y%m}-{spec.code}",
                acting_user=storekeeper,
            )
            received += len(batch)
    _movements(operator, stores, storekeeper, today)
    ctx.log(f"{operator.prefix}: {len(models)} meter models, {received} meters received for {needed} needed")
    return {"stores": stores, "meter_models": models}


def _nth(first: str, count: int) -> str:
    """The serial `count - 1` after `first` in its range."""
    prefix = first.rstrip("0123456789")
    digits = first[len(prefix) :]
    return f"{prefix}{int(digits) + count - 1:0{len(digits)}d}"


def _movements(operator: Any, stores: dict[str, Store], storekeeper: Any, today: datetime.date) -> None:
    central, branch, lab = stores["central"], stores["branch"], stores["lab"]
    waiting = list(Meter.objects.filter(operator=operator, store=central).order_by("-received_on", "serial"))
    recent, oldest = waiting[: len(waiting) // 2], waiting[::-1]
    on = today - datetime.timedelta(days=40)
    # A quarter of the recent meters to the branch, in two trips.
    to_branch = recent[: max(2, len(recent) // 4)]
    half = len(to_branch) // 2
    for part, days in ((to_branch[:half], 0), (to_branch[half:], 12)):
        if part:
            meters_move(
                operator=operator,
                kind="transfer",
                from_store=central,
                to_store=branch,
                meter_ids=[m.pk for m in part],
                moved_on=on + datetime.timedelta(days=days),
                reference="Branch stock",
                acting_user=storekeeper,
            )
    # Six of the oldest (overdue) meters to the lab: four pass, one fails and is scrapped, one waits there.
    to_lab = oldest[:6]
    meters_move(
        operator=operator,
        kind="to_lab",
        from_store=central,
        to_store=lab,
        meter_ids=[m.pk for m in to_lab],
        moved_on=on + datetime.timedelta(days=5),
        acting_user=storekeeper,
    )
    calibrated_on = on + datetime.timedelta(days=19)
    for index, meter in enumerate(to_lab[:5]):
        failed = index == 4
        calibration_record(
            meter=meter,
            calibrated_on=calibrated_on,
            result="failed" if failed else ("adjusted" if index == 1 else "passed"),
            error_percent="-4.800" if failed else ("1.900" if index == 1 else "0.600"),
            certificate=f"LAB-{calibrated_on:%Y}-{index + 1:03d}",
            to_store=None if failed else central,
            acting_user=storekeeper,
        )
    meters_move(
        operator=operator,
        kind="scrap",
        from_store=lab,
        meter_ids=[to_lab[4].pk],
        moved_on=calibrated_on + datetime.timedelta(days=2),
        note="Failed calibration: -4.8 %",
        acting_user=storekeeper,
    )


def build_meters(ctx: DemoContext) -> None:
    for key in MODELS:
        operator = ctx.objects.get(f"operator:{key}")
        if operator is None:
            continue
        ctx.objects[f"metering:{key}"] = _build_operator(ctx, key, operator)
