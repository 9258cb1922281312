"""Meters and stores: serial ranges, receiving batches (duplicates named, nothing saved, keys replayed), moving meters
between stores, the lab, the supplier and scrap, meter models whose dials are fixed once they have meters, and
calibrations due per month."""

import datetime
from decimal import Decimal

import pytest

from mita.core.errors import Conflict
from mita.core.models import AuditEntry
from mita.metering.errors import MeteringError
from mita.metering.models import Calibration, Meter, Movement, Register, Store
from mita.metering.selectors_calibration import calibrations_due, due_chart, months_later
from mita.metering.serials import serial_range, serials_parse
from mita.metering.services_calibration import calibration_record
from mita.metering.services_catalogue import meter_model_create, meter_model_update, store_create, store_update
from mita.metering.services_movements import meters_move, meters_receive
from mita.metering.tests.world import meter_model_of, metered_connection, store_of

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 2)


class Workspace:
    """What an operator's access gives the selectors."""

    def __init__(self, operator):  # type: ignore[no-untyped-def]
        self.operator, self.user, self.roles = operator, None, frozenset()

    def operator_ids(self):  # type: ignore[no-untyped-def]
        return [self.operator.pk]

    def has_role(self, *roles):  # type: ignore[no-untyped-def]
        return True


def receive(operator, serials, *, store=None, model=None, key="", on=DAY):  # type: ignore[no-untyped-def]
    return meters_receive(
        operator=operator,
        store=store or store_of(operator),
        meter_model=model or meter_model_of(operator),
        serials=serials,
        received_on=on,
        supplier="Itron Africa",
        key=key,
        acting_user=None,
    )


# Serial numbers ------------------------------------------------------------------------------------------------------


def test_a_range_counts_up_keeping_its_prefix_and_zero_padding():
    assert serial_range("30001", "30010") == [str(n) for n in range(30001, 30011)]
    assert serial_range("WM-030001", "WM-030003") == ["WM-030001", "WM-030002", "WM-030003"]
    assert serial_range("wm-0998", "WM-1001") == ["wm-0998", "wm-0999", "wm-1000", "wm-1001"]
    assert serial_range("7", "7") == ["7"]


def test_a_range_backwards_too_big_or_with_two_prefixes_is_refused_with_the_field_to_fix():
    for first, last, code in [
        ("30010", "30001", "range_invalid"),
        ("WM-1", "XM-5", "range_invalid"),
        ("ABC", "ABD", "range_invalid"),
        ("1", "10001", "batch_too_large"),
    ]:
        with pytest.raises(MeteringError) as error:
            serial_range(first, last)
        assert error.value.code == code
        assert set(error.value.fields) <= {"serial_from", "serial_to"}
    assert len(serial_range("1", "10000")) == 10_000


def test_a_pasted_list_has_one_serial_a_line_and_may_hold_ranges():
    text = "A-17\n\n  B-3 \nWM-01 .. WM-03\nC-1, C-2"
    assert serials_parse(text) == ["A-17", "B-3", "WM-01", "WM-02", "WM-03", "C-1", "C-2"]


# Receiving -----------------------------------------------------------------------------------------------------------


def test_a_batch_received_by_range_is_one_movement_with_a_line_per_meter(operator_a):
    store = store_of(operator_a)
    result = receive(operator_a, serial_range("WM-030001", "WM-030010"), store=store)
    movement = result.movement
    assert (movement.kind, movement.to_store, movement.supplier, movement.lines.count()) == (
        Movement.Kind.RECEIVE,
        store,
        "Itron Africa",
        10,
    )
    meters = Meter.objects.filter(operator=operator_a).order_by("serial")
    assert [meter.serial for meter in meters][:2] == ["WM-030001", "WM-030002"]
    assert {(meter.status, meter.store_id, meter.received_on) for meter in meters} == {
        (Meter.Status.IN_STORE, store.pk, DAY)
    }
    assert AuditEntry.objects.filter(action="meters.received", target_id=str(movement.pk)).count() == 1


def test_duplicate_serials_in_a_batch_are_named_and_nothing_is_saved(operator_a):
    model = meter_model_of(operator_a)
    receive(operator_a, ["30001", "30002"], model=model)
    # given 30001-30002 already received, a batch of 30000-30005 clashes on them (whatever their case)
    with pytest.raises(Conflict) as error:
        receive(operator_a, serial_range("30000", "30005"), model=model)
    assert error.value.code == "serials_taken"
    assert "30001, 30002" in str(error.value.message)
    assert error.value.fields["serials"] == ["30001", "30002"]
    assert Meter.objects.filter(operator=operator_a).count() == 2
    assert Movement.objects.filter(operator=operator_a).count() == 1
    # and a serial written twice in one batch is named too
    with pytest.raises(MeteringError) as error:
        receive(operator_a, ["X-1", "X-2", "x-1"], model=model)
    assert error.value.code == "serials_repeated" and error.value.fields["serials"] == ["x-1"]


def test_the_same_serial_of_another_brand_or_another_operator_is_no_clash(operator_a, operator_b):
    model = meter_model_of(operator_a)
    other_brand = meter_model_of(operator_a, code="K4")
    other_brand.brand = "Kent"
    other_brand.save()
    receive(operator_a, ["30001"], model=model)
    receive(operator_a, ["30001"], model=other_brand)
    receive(operator_b, ["30001"])
    assert Meter.objects.filter(serial="30001").count() == 3
    with pytest.raises(Conflict):
        receive(operator_a, ["30001"], model=meter_model_of(operator_a, code="M20"))  # also Itron


def test_a_replayed_receipt_returns_the_same_movement_and_another_body_with_its_key_is_refused(operator_a):
    model = meter_model_of(operator_a)
    first = receive(operator_a, ["1", "2"], model=model, key="batch-7")
    again = receive(operator_a, ["1", "2"], model=model, key="batch-7")
    assert (again.movement.pk, again.replayed, first.replayed) == (first.movement.pk, True, False)
    assert Meter.objects.count() == 2
    with pytest.raises(Conflict) as error:
        receive(operator_a, ["3"], model=model, key="batch-7")
    assert error.value.code == "key_reused"


def test_a_receipt_needs_a_supplier_a_date_not_in_the_future_and_the_operators_store(operator_a, operator_b):
    model = meter_model_of(operator_a)
    with pytest.raises(MeteringError) as error:
        meters_receive(
            operator=operator_a,
            store=store_of(operator_a),
            meter_model=model,
            serials=["1"],
            received_on=DAY,
            supplier=" ",
            acting_user=None,
        )
    assert error.value.fields == {"supplier": ["Required."]}
    with pytest.raises(MeteringError) as error:
        receive(operator_a, ["1"], model=model, on=datetime.date.today() + datetime.timedelta(days=2))
    assert error.value.code == "date_in_future"
    with pytest.raises(MeteringError) as error:
        receive(operator_a, serial_range("X" * 60 + "1", "X" * 60 + "2"), model=model)
    assert error.value.code == "serial_invalid"
    with pytest.raises(MeteringError) as error:
        receive(operator_a, ["1"], model=model, store=store_of(operator_b))
    assert error.value.code == "store_invalid"
    assert not Meter.objects.exists()


# Movements -----------------------------------------------------------------------------------------------------------


def _stores(operator):  # type: ignore[no-untyped-def]
    return (
        store_of(operator, "CEN", Store.Kind.CENTRAL),
        store_of(operator, "BR1", Store.Kind.BRANCH),
        store_of(operator, "LAB", Store.Kind.LAB),
    )


def move(operator, kind, from_store, to_store=None, serials=(), **options):  # type: ignore[no-untyped-def]
    return meters_move(
        operator=operator,
        kind=kind,
        from_store=from_store,
        to_store=to_store,
        serials=list(serials),
        moved_on=DAY,
        acting_user=None,
        **options,
    ).movement


def test_meters_travel_to_a_branch_to_the_lab_and_back_each_trip_a_document(operator_a):
    central, branch, lab = _stores(operator_a)
    receive(operator_a, serial_range("M-01", "M-05"), store=central)
    transfer = move(operator_a, "transfer", central, branch, ["M-01", "m-02", "M-03"])
    assert (transfer.from_store, transfer.to_store, transfer.lines.count()) == (central, branch, 3)
    move(operator_a, "to_lab", branch, lab, serials_parse("M-01 .. M-02"))
    assert set(Meter.objects.filter(store=lab).values_list("status", flat=True)) == {Meter.Status.IN_LAB}
    move(operator_a, "from_lab", lab, central, ["M-01"])
    meter = Meter.objects.get(serial="M-01")
    assert (meter.status, meter.store) == (Meter.Status.IN_STORE, central)
    assert list(meter.movement_lines.values_list("movement__kind", flat=True).order_by("pk")) == [
        "receive",
        "transfer",
        "to_lab",
        "from_lab",
    ]


def test_a_movement_names_every_meter_not_in_the_from_store_or_in_the_wrong_state_and_moves_none(operator_a):
    central, branch, lab = _stores(operator_a)
    receive(operator_a, serial_range("M-01", "M-04"), store=central)
    move(operator_a, "transfer", central, branch, ["M-01"])
    installation = metered_connection(operator_a, serial="INST-1")
    with pytest.raises(MeteringError) as error:
        move(operator_a, "to_lab", central, lab, ["M-01", "M-02", "NOPE-9", installation.meter.serial])
    problems = error.value.fields["serials"]
    assert "M-01: not in CEN (BR1)" in problems
    assert "NOPE-9: no such meter" in problems
    assert "INST-1: not in CEN (installed)" in problems
    assert Meter.objects.get(serial="M-02").status == Meter.Status.IN_STORE  # not moved either
    assert Movement.objects.filter(kind="to_lab").count() == 0
    with pytest.raises(MeteringError) as error:
        move(operator_a, "from_lab", central, branch, ["M-02"])
    assert error.value.code == "from_store_invalid"
    with pytest.raises(MeteringError) as error:
        move(operator_a, "transfer", central, lab, ["M-02"])
    assert error.value.code == "to_store_invalid"


def test_rejected_and_scrapped_meters_leave_the_stock_for_good(operator_a):
    central, branch, _lab = _stores(operator_a)
    receive(operator_a, serial_range("M-01", "M-03"), store=central)
    with pytest.raises(MeteringError) as error:
        move(operator_a, "reject", central, None, ["M-01"])
    assert error.value.fields == {"supplier": ["Required."]}
    reject = move(operator_a, "reject", central, None, ["M-01"], supplier="Itron Africa", reference="RMA-12")
    move(operator_a, "scrap", central, None, ["M-02"])
    assert reject.supplier == "Itron Africa"
    assert set(Meter.objects.filter(serial__in=["M-01", "M-02"]).values_list("status", "store")) == {
        (Meter.Status.SCRAPPED, None)
    }
    with pytest.raises(MeteringError) as error:
        move(operator_a, "transfer", central, branch, ["M-01"])
    assert error.value.fields["serials"] == ["M-01: not in CEN (scrapped)"]


def test_a_replayed_movement_key_moves_nothing_twice(operator_a):
    central, branch, _lab = _stores(operator_a)
    receive(operator_a, ["M-1"], store=central)
    first = move(operator_a, "transfer", central, branch, ["M-1"], key="t-1")
    again = move(operator_a, "transfer", central, branch, ["M-1"], key="t-1")
    assert first.pk == again.pk and Movement.objects.filter(kind="transfer").count() == 1
    with pytest.raises(Conflict):
        move(operator_a, "transfer", branch, central, ["M-1"], key="t-1")


# Meter models and stores ---------------------------------------------------------------------------------------------


def test_a_model_with_meters_keeps_its_dial_digits_and_says_why(operator_a):
    model = meter_model_create(
        operator=operator_a,
        acting_user=None,
        code="IZ-CT",
        brand="Hexing",
        name="HXE310 CT",
        utility="electricity",
        kind="smart",
        dial_digits=6,
        calibration_interval_months=120,
        registers=[
            {"code": "active", "unit": "kWh", "multiplier": "40"},
            {"code": "reactive", "unit": "kvarh", "multiplier": "40"},
        ],
    )
    assert list(Register.objects.filter(meter_model=model).values_list("code", "multiplier")) == [
        ("active", Decimal("40")),
        ("reactive", Decimal("40")),
    ]
    meter_model_update(meter_model=model, acting_user=None, dial_digits=7)  # no meters yet: fine
    receive(operator_a, ["H-1"], model=model)
    with pytest.raises(MeteringError) as error:
        meter_model_update(meter_model=model, acting_user=None, dial_digits=5)
    assert error.value.code == "dial_digits_fixed" and "1 meters of this model exist" in str(error.value.message)
    with pytest.raises(MeteringError) as error:
        meter_model_update(meter_model=model, acting_user=None, reversible=True)
    assert error.value.code == "reversible_fixed"
    with pytest.raises(MeteringError) as error:
        meter_model_update(
            meter_model=model, acting_user=None, registers=[{"code": "active", "unit": "kWh", "multiplier": "40"}]
        )
    assert error.value.code == "registers_fixed"
    meter_model_update(
        meter_model=model,
        acting_user=None,
        name="HXE310 CT meter",
        registers=[
            {"code": "active", "unit": "kWh", "multiplier": "80"},
            {"code": "reactive", "unit": "kvarh", "multiplier": "80"},
        ],
    )
    assert Register.objects.get(meter_model=model, code="active").multiplier == Decimal("80")
    model.refresh_from_db()
    assert (model.dial_digits, model.name) == (7, "HXE310 CT meter")


def test_model_and_store_codes_are_unique_whatever_their_case(operator_a):
    meter_model_create(operator=operator_a, acting_user=None, code="M15", brand="Itron", name="A", utility="water")
    with pytest.raises(Conflict):
        meter_model_create(operator=operator_a, acting_user=None, code="m15", brand="Itron", name="B", utility="water")
    store_create(operator=operator_a, acting_user=None, code="LAB", name="Lab", kind="lab")
    with pytest.raises(Conflict):
        store_create(operator=operator_a, acting_user=None, code="lab", name="Lab 2", kind="lab")
    with pytest.raises(MeteringError) as error:
        meter_model_create(
            operator=operator_a, acting_user=None, code="X 1", brand="", name="C", utility="gas", dial_digits=13
        )
    assert set(error.value.fields) == {"code", "brand", "utility", "dial_digits"}
    with pytest.raises(MeteringError) as error:
        meter_model_create(operator=operator_a, acting_user=None, code="C" * 41, brand="B", name="N", utility="water")
    assert error.value.fields == {"code": ["At most 40 characters."]}
    with pytest.raises(MeteringError) as error:
        store_create(operator=operator_a, acting_user=None, code="S", name="N" * 121)
    assert error.value.fields == {"name": ["At most 120 characters."]}


def test_a_store_holding_meters_keeps_its_kind_and_stays_open(operator_a):
    central = store_of(operator_a)
    receive(operator_a, ["1"], store=central)
    with pytest.raises(MeteringError) as error:
        store_update(store=central, acting_user=None, kind="lab")
    assert error.value.code == "store_not_empty"
    store_update(store=central, acting_user=None, name="Nyamata central store")
    central.refresh_from_db()
    assert central.name == "Nyamata central store"


# Calibration ---------------------------------------------------------------------------------------------------------


def test_a_passed_calibration_sends_the_meter_back_to_a_store_and_a_failed_one_makes_it_faulty(operator_a):
    central, _branch, lab = _stores(operator_a)
    receive(operator_a, ["C-1", "C-2"], store=central, on=datetime.date(2020, 1, 10))
    move(operator_a, "to_lab", central, lab, ["C-1", "C-2"])
    good, bad = Meter.objects.get(serial="C-1"), Meter.objects.get(serial="C-2")
    with pytest.raises(MeteringError) as error:
        calibration_record(meter=good, calibrated_on=DAY, result="passed", acting_user=None)
    assert error.value.code == "to_store_required"
    calibration = calibration_record(
        meter=good, calibrated_on=DAY, result="adjusted", error_percent="-1.25", to_store=central, acting_user=None
    )
    calibration_record(meter=bad, calibrated_on=DAY, result="failed", acting_user=None)
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.status, good.store, good.last_calibrated_on) == (Meter.Status.IN_STORE, central, DAY)
    assert (bad.status, bad.store, bad.last_calibrated_on) == (Meter.Status.FAULTY, lab, None)
    assert calibration.error_percent == Decimal("-1.25")
    assert Calibration.objects.count() == 2
    assert AuditEntry.objects.filter(action="meter.calibrated").count() == 2
    assert Movement.objects.filter(kind="from_lab", lines__meter=good).count() == 1


def test_months_later_keeps_the_day_or_takes_the_months_last():
    assert months_later(datetime.date(2021, 1, 31), 1) == datetime.date(2021, 2, 28)
    assert months_later(datetime.date(2021, 6, 15), 60) == datetime.date(2026, 6, 15)


def test_meters_due_per_month_count_the_overdue_ones_in_the_first_month(operator_a):
    central, branch, _lab = _stores(operator_a)
    model = meter_model_of(operator_a)  # calibrated every 60 months
    receive(operator_a, ["OLD-1"], store=central, model=model, on=datetime.date(2020, 5, 1))  # due 2025-05: overdue
    receive(operator_a, ["MAR-1", "MAR-2"], store=central, model=model, on=datetime.date(2021, 3, 9))  # due 2026-03
    receive(operator_a, ["OCT-1"], store=branch, model=model, on=datetime.date(2021, 10, 1))  # due 2026-10
    receive(operator_a, ["NEW-1"], store=central, model=model, on=datetime.date(2022, 1, 5))  # due 2027
    recalibrated = receive(operator_a, ["CAL-1"], store=central, model=model, on=datetime.date(2020, 2, 1))
    calibration_record(
        meter=recalibrated.movement.lines.get().meter, calibrated_on=datetime.date(2024, 7, 1), result="passed",
        acting_user=None,
    )  # fmt: skip  # due 2029
    report = calibrations_due(access=Workspace(operator_a), year=2026)
    by_month = {month.month: (month.due, month.overdue) for month in report.months}
    assert by_month[1] == (0, 1) and by_month[3] == (2, 0) and by_month[10] == (1, 0)
    assert sum(month.total for month in report.months) == report.total == 4
    assert [meter.serial for meter in report.meters] == ["OLD-1", "MAR-1", "MAR-2", "OCT-1"]
    # filtered by store and narrowed to a date range: overdue means due before the range starts
    assert [m.serial for m in calibrations_due(access=Workspace(operator_a), year=2026, store_id=branch.pk).meters] == [
        "OCT-1"
    ]
    spring = calibrations_due(
        access=Workspace(operator_a), year=2026, date_from=datetime.date(2026, 4, 1), date_to=datetime.date(2026, 6, 30)
    )
    assert [(m.serial, m.overdue, m.month) for m in spring.meters] == [
        ("OLD-1", True, 4),
        ("MAR-1", True, 4),
        ("MAR-2", True, 4),
    ]
    chart = due_chart(report)
    assert len(chart.bars) == 12 and chart.bars[2].due_height > 0 and chart.bars[0].overdue_height > 0
