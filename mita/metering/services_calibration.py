"""Writes of metering: meters — recording a calibration or verification result (one transaction, audited).

passed / adjusted: the meter's last calibration is that day and it is good for use again: a meter in the lab goes back
to a store (`to_store`, a FROM_LAB movement), a faulty meter in a store is in store again, an installed meter verified
in place stays installed. failed: the meter is faulty where it is (an installed meter must first be removed from its
connection with its final index, so a failed meter on a connection is refused)."""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.metering.errors import MeteringError
from mita.metering.models import Calibration, Meter, Movement, MovementLine, Store

S = Meter.Status


def _error_percent(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = Decimal("NaN")
    if not number.is_finite() or abs(number) >= 10000 or number != number.quantize(Decimal("0.001")):
        raise MeteringError(
            _("Write the error as a percentage, e.g. -1.5."),
            code="error_percent_invalid",
            fields={"error_percent": [_("A number with at most 3 decimals.")]},
        )
    return number


@transaction.atomic
def calibration_record(
    *,
    meter: Meter,
    calibrated_on: datetime.date,
    result: str,
    acting_user: Any,
    to_store: Store | None = None,
    error_percent: Any = None,
    certificate: str = "",
    note: str = "",
) -> Calibration:
    """Record a calibration's result on a meter and put the meter where the result says."""
    meter = Meter.objects.select_for_update(of=("self",)).select_related("store").get(pk=meter.pk)
    if result not in Calibration.Result.values:
        raise MeteringError(_("Choose the result."), code="result_invalid", fields={"result": [_("Choose one.")]})
    if calibrated_on > timezone.localdate():
        raise MeteringError(
            _("That date is in the future."),
            code="date_in_future",
            fields={"calibrated_on": [_("Not later than today.")]},
        )
    if meter.received_on and calibrated_on < meter.received_on:
        raise MeteringError(
            _("The meter was received on %(day)s: it was calibrated after that.") % {"day": meter.received_on},
            code="date_before_receipt",
            fields={"calibrated_on": [_("On or after %(day)s.") % {"day": meter.received_on}]},
        )
    percent = _error_percent(error_percent)
    if meter.status == S.SCRAPPED:
        raise MeteringError(
            _("Meter %(serial)s is scrapped.") % {"serial": meter.serial},
            code="meter_scrapped",
            fields={"meter": [_("Scrapped.")]},
        )
    passed = result != Calibration.Result.FAILED
    if meter.status == S.INSTALLED and not passed:
        raise MeteringError(
            _("Meter %(serial)s is on a connection: remove it (reason: faulty) with its final index first.")
            % {"serial": meter.serial},
            code="meter_installed",
            fields={"result": [_("Remove the meter first.")]},
        )
    leaving_lab = passed and meter.store is not None and meter.store.kind == Store.Kind.LAB
    if leaving_lab:
        if to_store is None:
            raise MeteringError(
                _("Choose the store the meter goes back to."),
                code="to_store_required",
                fields={"to_store": [_("Required.")]},
            )
        if to_store.operator_id != meter.operator_id or not to_store.active or to_store.kind == Store.Kind.LAB:
            raise MeteringError(
                _("Choose one of your open stores that is not a lab."),
                code="to_store_invalid",
                fields={"to_store": [_("Choose a store.")]},
            )
    before = {
        "status": meter.status,
        "store": meter.store.code if meter.store else "",
        "last_calibrated_on": meter.last_calibrated_on,
    }
    user = acting_user if getattr(acting_user, "is_authenticated", False) else None
    calibration = Calibration.objects.create(
        operator_id=meter.operator_id,
        meter=meter,
        calibrated_on=calibrated_on,
        result=result,
        error_percent=percent,
        certificate=(certificate or "").strip()[:80],
        note=(note or "").strip()[:500],
        created_by=user,
    )
    if passed:
        if meter.last_calibrated_on is None or calibrated_on > meter.last_calibrated_on:
            meter.last_calibrated_on = calibrated_on
        if leaving_lab and to_store is not None:
            movement = Movement.objects.create(
                operator_id=meter.operator_id,
                kind=Movement.Kind.FROM_LAB,
                from_store=meter.store,
                to_store=to_store,
                moved_on=calibrated_on,
                reference=calibration.certificate,
                note=_("After calibration"),
                created_by=user,
            )
            MovementLine.objects.create(movement=movement, meter=meter)
            meter.store = to_store
        if meter.status != S.INSTALLED:
            meter.status = S.IN_STORE
    else:
        meter.status = S.FAULTY
    meter.save(update_fields=["status", "store", "last_calibrated_on"])
    audit_record(
        actor=acting_user,
        action="meter.calibrated",
        target=meter,
        before=before,
        after={
            "calibration": calibration.pk,
            "result": result,
            "error_percent": percent,
            "status": meter.status,
            "store": meter.store.code if meter.store else "",
            "last_calibrated_on": meter.last_calibrated_on,
        },
    )
    return calibration
