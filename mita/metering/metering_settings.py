"""Changing the operator's metering settings: anomaly thresholds, the reading window, the zero rule."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.metering.errors import MeteringError
from mita.metering.models import MeteringSettings

FIELDS = [
    "high_factor",
    "low_factor",
    "min_units",
    "history_readings",
    "rollover_share",
    "window_days_before",
    "window_days_after",
    "zero_is_anomaly",
]


def _rules(values: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if values["high_factor"] <= 1:
        bad("high_factor", _("More than 1: a reading is high when above this many times the average."))
    if not Decimal(0) < values["low_factor"] < 1:
        bad("low_factor", _("Between 0 and 1: a reading is low when below this share of the average."))
    if values["min_units"] < 0:
        bad("min_units", _("Zero or more."))
    if not 3 <= values["history_readings"] <= 24:
        bad("history_readings", _("From 3 to 24 readings."))
    if not Decimal(0) < values["rollover_share"] <= Decimal("0.5"):
        bad("rollover_share", _("More than 0 and at most 0.5 of the dial."))
    for field in ("window_days_before", "window_days_after"):
        if not 0 <= values[field] <= 31:
            bad(field, _("From 0 to 31 days."))
    return problems


@transaction.atomic
def metering_settings_update(*, operator: Any, acting_user: Any, **changes: Any) -> MeteringSettings:
    """Change some of the operator's settings (the others keep their values); readings checked from now on use them."""
    settings = MeteringSettings.objects.select_for_update().filter(operator=operator).first() or MeteringSettings(
        operator=operator
    )
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise MeteringError(
            _("Unknown settings: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            code="settings_unknown",
            fields={name: [_("Unknown.")] for name in sorted(unknown)},
        )
    before = snapshot(settings, FIELDS)
    values = {field: changes.get(field, getattr(settings, field)) for field in FIELDS}
    try:
        for field in FIELDS:
            if field == "zero_is_anomaly":
                values[field] = bool(values[field])
            elif field in ("history_readings", "window_days_before", "window_days_after"):
                values[field] = int(values[field])
            else:
                values[field] = Decimal(str(values[field]))
    except (ValueError, ArithmeticError):
        raise MeteringError(_("Write each setting as a number."), code="settings_invalid") from None
    problems = _rules(values)
    if problems:
        raise MeteringError(_("Some settings are out of range."), code="settings_invalid", fields=problems)
    for field, value in values.items():
        setattr(settings, field, value)
    settings.save()
    audit_record(
        actor=acting_user,
        action="metering.settings_changed",
        target=settings,
        operator=operator,
        before=before,
        after=snapshot(settings, FIELDS),
    )
    settings.refresh_from_db()
    return settings
