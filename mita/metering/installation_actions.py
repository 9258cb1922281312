"""Installing, removing and replacing a connection's meter as the pages and the API ask for it: the meter found by
its serial, a request sent again answered with its first result (a replay), the register a removal records, dates
not in the future. The work itself is mita.metering.installations' (docs/metering-installations.md)."""

import dataclasses
import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.customers.models import Connection
from mita.metering.errors import MeteringError
from mita.metering.installations import meter_install, meter_remove, meter_replace
from mita.metering.models import Installation, Meter, Store
from mita.metering.selectors_installations import (
    installation_open_of,
    meters_by_serial,
)

# A request that finds the connection or the meter in another state than it expects: someone else acted first, or
# the same request came with another body. A 409 in the API.
CONFLICT_CODES = frozenset({"connection_has_meter", "no_meter", "meter_not_in_store"})


@dataclasses.dataclass(frozen=True)
class InstallationOutcome:
    installation: Installation
    replayed: bool  # the same request was done before: nothing written, the first result returned


def _conflict(error: MeteringError, **renames: str) -> MeteringError:
    """The service's error as the caller sees it: a 409 for a state conflict, its fields named as the form's
    ("meter" is the serial typed; a replacement has one date)."""
    if error.code in CONFLICT_CODES:
        error.status = 409
    renames = {"meter": "serial", **renames}
    error.fields = {renames.get(field, field): messages for field, messages in error.fields.items()}
    return error


def _same_index(stored: Decimal | None, sent: Any) -> bool:
    try:
        return stored is not None and Decimal(str(sent)) == stored
    except (InvalidOperation, ValueError):
        return False


def _date_checked(day: datetime.date, field: str) -> datetime.date:
    if day > timezone.localdate():
        raise MeteringError(
            _("The date is in the future: write the day the work was done."),
            code="date_in_future",
            fields={field: [_("Today or earlier.")]},
        )
    return day


def meter_find(*, operator: Any, serial: str, brand: str = "", field: str = "serial") -> Meter:
    """The operator's meter with this serial (any case); `brand` tells apart meters of two brands with one serial."""
    serial = (serial or "").strip()
    if not serial:
        raise MeteringError(
            _("Write the meter's serial number."), code="serial_required", fields={field: [_("Required.")]}
        )
    meters = meters_by_serial(operator=operator, serial=serial, brand=brand)
    if not meters:
        raise MeteringError(
            _("No meter has the serial %(serial)s: check the number, or receive the meter into a store first.")
            % {"serial": serial},
            code="meter_unknown",
            fields={field: [_("Unknown serial.")]},
        )
    if len(meters) > 1:
        brands = ", ".join(meter.brand for meter in meters)
        raise MeteringError(
            _("Meters of several brands carry the serial %(serial)s (%(brands)s): name the brand.")
            % {"serial": serial, "brands": brands},
            code="meter_ambiguous",
            fields={"brand": [_("One of %(brands)s.") % {"brands": brands}]},
        )
    return meters[0]


def store_find(*, operator: Any, store_id: int | None) -> Store:
    store = Store.objects.filter(operator=operator, pk=store_id, active=True).first() if store_id else None
    if store is None:
        raise MeteringError(
            _("Choose the store the meter goes to."), code="store_invalid", fields={"to_store": [_("Choose a store.")]}
        )
    return store


def installation_install(
    *,
    connection: Connection,
    serial: str,
    installed_on: datetime.date,
    initial_index: Any,
    acting_user: Any,
    brand: str = "",
) -> InstallationOutcome:
    """Install the meter with this serial on a connection without one; the same installation asked again (same meter,
    day and index) is a replay."""
    _date_checked(installed_on, "installed_on")
    meter = meter_find(operator=connection.operator, serial=serial, brand=brand)
    current = installation_open_of(connection=connection)
    if (
        current is not None
        and current.meter_id == meter.pk
        and current.installed_on == installed_on
        and _same_index(current.initial_index, initial_index)
    ):
        return InstallationOutcome(current, replayed=True)
    try:
        installation = meter_install(
            meter=meter,
            connection=connection,
            installed_on=installed_on,
            initial_index=initial_index,
            acting_user=acting_user,
        )
    except MeteringError as error:
        raise _conflict(error) from None
    return InstallationOutcome(installation, replayed=False)


def _last_removed(connection: Connection) -> Installation | None:
    return (
        Installation.objects.filter(connection=connection, removed_on__isnull=False)
        .select_related("meter")
        .order_by("-removed_on", "-pk")
        .first()
    )


def _removal_matches(
    installation: Installation | None, *, removed_on: datetime.date, final_index: Any, reason: str
) -> bool:
    return (
        installation is not None
        and installation.removed_on == removed_on
        and installation.removal_reason == reason
        and _same_index(installation.final_index, final_index)
    )


def installation_remove(
    *,
    connection: Connection,
    removed_on: datetime.date,
    final_index: Any,
    reason: str,
    to_store: Store,
    acting_user: Any,
) -> InstallationOutcome:
    """Take the connection's meter off with its final index (of the meter model's first register) and send it to a
    store; the same removal asked again is a replay."""
    _date_checked(removed_on, "removed_on")
    current = installation_open_of(connection=connection)
    if current is None:
        last = _last_removed(connection)
        if _removal_matches(last, removed_on=removed_on, final_index=final_index, reason=reason):
            assert last is not None
            return InstallationOutcome(last, replayed=True)
        raise _conflict(MeteringError(_("This connection has no meter installed."), code="no_meter"))
    try:
        installation = meter_remove(
            connection=connection,
            removed_on=removed_on,
            final_index=final_index,
            reason=reason,
            to_store=to_store,
            acting_user=acting_user,
        )
    except MeteringError as error:
        raise _conflict(error) from None
    return InstallationOutcome(installation, replayed=False)


@transaction.atomic
def installation_replace(
    *,
    connection: Connection,
    serial: str,
    replaced_on: datetime.date,
    final_index: Any,
    initial_index: Any,
    reason: str,
    to_store: Store,
    acting_user: Any,
    brand: str = "",
) -> InstallationOutcome:
    """Remove the connection's meter with its final index and install the meter with this serial the same day, in one
    transaction (installations.meter_replace: the removal is recorded on the old meter's first register,
    so that a meter without a "main" register can be replaced too). The same replacement asked again is a replay."""
    _date_checked(replaced_on, "replaced_on")
    meter = meter_find(operator=connection.operator, serial=serial, brand=brand)
    current = installation_open_of(connection=connection)
    if (
        current is not None
        and current.meter_id == meter.pk
        and current.installed_on == replaced_on
        and _same_index(current.initial_index, initial_index)
        and _removal_matches(_last_removed(connection), removed_on=replaced_on, final_index=final_index, reason=reason)
    ):
        return InstallationOutcome(current, replayed=True)
    if current is None:
        raise _conflict(
            MeteringError(_("This connection has no meter to replace: install one instead."), code="no_meter")
        )
    if current.meter_id == meter.pk:
        raise MeteringError(
            _("Meter %(serial)s is the one installed: choose the meter that replaces it.") % {"serial": meter.serial},
            code="same_meter",
            fields={"serial": [_("Another meter.")]},
        )
    try:
        installation = meter_replace(
            connection=connection,
            new_meter=meter,
            replaced_on=replaced_on,
            final_index=final_index,
            initial_index=initial_index,
            reason=reason,
            to_store=to_store,
            acting_user=acting_user,
        )
    except MeteringError as error:
        raise _conflict(error, removed_on="replaced_on", installed_on="replaced_on") from None
    return InstallationOutcome(installation, replayed=False)
