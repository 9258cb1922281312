"""Writes of customers and connections: creating them, contact changes, status changes, opening arrears."""

import dataclasses
import datetime
import re
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.accounts.phones import normalize_phone
from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.core.money import quantize
from mita.core.sequences import sequence_next
from mita.customers.models import (
    Connection,
    ConnectionHolding,
    Customer,
    CustomerStatusChange,
    MeterChamber,
    Route,
    SearchTerm,
)
from mita.customers.parcels import ParcelError, ParcelRecord, parcel_lookup, upi_clean
from mita.customers.search import connection_term, customer_terms_of
from mita.ledger import services as ledger
from mita.registry.models import Boundary, Cluster, ClusterAssignment, SupplySystem

CUSTOMER_SEQUENCE = "customer"
GPS_STEP = Decimal("0.000001")
LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)
CONTACT_FIELDS = (
    "kind",
    "name",
    "relative_name",
    "phone",
    "phone_2",
    "id_type",
    "id_number",
    "email",
    "language",
    "district",
    "village",
    "street",
    "house",
    "bank_name",
    "bank_account",
)
PARCEL_FIELDS = [
    "parcel_upi",
    "parcel_village",
    "parcel_cell",
    "parcel_sector",
    "parcel_district",
    "parcel_area_m2",
    "parcel_land_use",
    "parcel_owner_name",
    "parcel_looked_up_at",
]
# Changing these needs the code sent to the customer's current phone (services_contacts.py), or an operator admin.
CODE_GUARDED_FIELDS = ("phone", "phone_2", "email")
# The fields whose words the search index keeps (mita.customers.search.customer_terms).
SEARCHED_FIELDS = frozenset({"name", "phone", "phone_2", "id_number", "village", "street", "house", "bank_account"})
BANK_ACCOUNT = re.compile(r"^[A-Z0-9][A-Z0-9 -]{2,38}[A-Z0-9]$")


class CustomerError(DomainError):
    """Bad customer or connection input: says which field and what to fix."""


class ConnectionNumberTaken(Conflict):
    """A connection with this number (in any case) already exists at the operator."""


class ConnectionNumberImmutable(CustomerError):
    """A connection's number never changes once made: the ledger, receipts and meters know it by it."""


def customer_number(*, operator: Any, sequence_number: int) -> str:
    return f"{operator.prefix}-C-{sequence_number:06d}"


def connection_number_clean(raw: str) -> str:
    """The number as it will be stored: spaces around it dropped, inner spaces refused (it is an account number)."""
    number = (raw or "").strip()
    if not number:
        raise CustomerError(
            _("Enter the connection number."), code="number_required", fields={"number": [_("Required.")]}
        )
    if len(number) > 64 or any(char.isspace() for char in number):
        raise CustomerError(
            _("A connection number has no spaces and at most 64 characters."),
            code="number_invalid",
            fields={"number": [_("No spaces, at most 64 characters.")]},
        )
    return number


def _phone(raw: str, *, operator: Any, field: str, required: bool) -> str:
    raw = (raw or "").strip()
    if not raw and not required:
        return ""
    try:
        return normalize_phone(raw, (operator.country_code or "").upper() or None)
    except ValidationError as error:
        message = error.messages[0]
        raise CustomerError(message, code="phone_invalid", fields={field: [message]}) from None


def customer_contacts_clean(
    *, operator: Any, values: dict[str, Any], district_ids: Collection[int] | None = None
) -> dict[str, Any]:
    """Check and normalise contact fields given (only those present); raises CustomerError with every problem.
    `district_ids`: the districts' ids when the caller has read them already (a bulk import), else one query."""
    cleaned: dict[str, Any] = {}
    problems: dict[str, list[str]] = {}
    for field, value in values.items():
        if field not in CONTACT_FIELDS:
            raise CustomerError(_("“%(field)s” cannot be changed here.") % {"field": field}, code="field_not_editable")
        try:
            if field == "name":
                value = (value or "").strip()
                if not value:
                    raise CustomerError(_("Enter the customer's name."), code="name_required")
            elif field == "phone":
                value = _phone(value, operator=operator, field=field, required=True)
            elif field == "phone_2":
                value = _phone(value, operator=operator, field=field, required=False)
            elif field == "email":
                value = (value or "").strip()
                if value:
                    validate_email(value)
            elif field == "kind" and value not in Customer.Kind.values:
                raise CustomerError(_("Choose a person or an organisation."), code="kind_invalid")
            elif field == "id_type" and (value or "") not in Customer.IdType.values:
                raise CustomerError(_("Choose a known ID type."), code="id_type_invalid")
            elif field == "language" and (value or "") and value not in LANGUAGE_CODES:
                raise CustomerError(_("Choose one of the languages offered."), code="language_invalid")
            elif field == "bank_account":
                # Kept as printed on the bank's papers, in capitals (IBANs, account numbers with dashes).
                value = " ".join((value or "").upper().split())
                if value and not BANK_ACCOUNT.match(value):
                    raise CustomerError(
                        _("Write the account number with letters, digits, spaces or dashes (4 to 40)."),
                        code="bank_account_invalid",
                    )
            elif field == "district" and value is not None:
                if not isinstance(value, Boundary) or not (
                    value.pk in district_ids
                    if district_ids is not None
                    else Boundary.objects.districts().filter(pk=value.pk).exists()
                ):
                    raise CustomerError(_("Choose a district."), code="district_invalid")
            elif isinstance(value, str):
                value = value.strip()
        except CustomerError as error:
            problems[field] = [str(error.message)]
            continue
        except ValidationError as error:
            problems[field] = [str(message) for message in error.messages]
            continue
        cleaned[field] = value
    if problems:
        raise CustomerError(_("Please correct the customer's details."), code="customer_invalid", fields=problems)
    return cleaned


def bank_check(*, bank_name: str, bank_account: str) -> None:
    """An account number is useless without its bank, and a bank without an account says nothing: both or none."""
    if bank_account and not bank_name:
        raise CustomerError(
            _("Name the bank of the account."), code="bank_name_required", fields={"bank_name": [_("Required.")]}
        )
    if bank_name and not bank_account:
        raise CustomerError(
            _("Enter the account number at that bank, or leave the bank empty."),
            code="bank_account_required",
            fields={"bank_account": [_("Required.")]},
        )


def _search_terms_write(customer: Customer) -> None:
    """Rewrite the word index of a customer's own words (their connections' numbers stay)."""
    SearchTerm.objects.filter(customer=customer, connection__isnull=True).delete()
    SearchTerm.objects.bulk_create(
        SearchTerm(operator_id=customer.operator_id, customer=customer, kind=kind, term=term)
        for kind, term in customer_terms_of(customer)
    )


@transaction.atomic
def customer_create(*, operator: Any, acting_user: Any, name: str, phone: str, **contacts: Any) -> Customer:
    """A new customer, numbered <prefix>-C-000001 onwards without gaps at its operator."""
    cleaned = customer_contacts_clean(operator=operator, values={"name": name, "phone": phone, **contacts})
    bank_check(bank_name=cleaned.get("bank_name", ""), bank_account=cleaned.get("bank_account", ""))
    sequence_number = sequence_next(operator_id=operator.pk, name=CUSTOMER_SEQUENCE)
    customer = Customer.objects.create(
        operator=operator,
        sequence_number=sequence_number,
        number=customer_number(operator=operator, sequence_number=sequence_number),
        created_by=acting_user,
        **cleaned,
    )
    CustomerStatusChange.objects.create(
        operator=operator,
        customer=customer,
        to_status=customer.status,
        reason=_("Customer created"),
        changed_by=acting_user,
    )
    _search_terms_write(customer)
    audit_record(
        actor=acting_user, action="customer.created", target=customer, after=snapshot(customer, list(CONTACT_FIELDS))
    )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, acting_user: Any, **changes: Any) -> Customer:
    """Change a customer's contact data (name, phones, ID, e-mail, language, address); the number never changes."""
    if "number" in changes:
        raise CustomerError(
            _("A customer's number cannot be changed."),
            code="number_not_editable",
            fields={"number": [_("Not editable.")]},
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    cleaned = customer_contacts_clean(operator=customer.operator, values=changes)
    guarded = [
        field for field in CODE_GUARDED_FIELDS if field in cleaned and getattr(customer, field) != cleaned[field]
    ]
    if guarded:
        message = _("Phones and e-mail change only with the code sent to the customer's phone: start a contact change.")
        raise CustomerError(message, code="contact_change_needs_code", fields={field: [message] for field in guarded})
    return contacts_apply(customer=customer, cleaned=cleaned, acting_user=acting_user)


def contacts_apply(
    *,
    customer: Customer,
    cleaned: dict[str, Any],
    acting_user: Any,
    action: str = "customer.updated",
    detail: dict[str, Any] | None = None,
) -> Customer:
    """Write checked contact values to a locked customer, with an audit entry of what changed."""
    changed = [field for field, value in cleaned.items() if getattr(customer, field) != value]
    if not changed:
        return customer
    bank_check(
        bank_name=cleaned.get("bank_name", customer.bank_name),
        bank_account=cleaned.get("bank_account", customer.bank_account),
    )
    before = snapshot(customer, changed)
    for field in changed:
        setattr(customer, field, cleaned[field])
    customer.save(update_fields=[*changed, "updated_at"])
    if SEARCHED_FIELDS.intersection(changed):
        _search_terms_write(customer)
    audit_record(
        actor=acting_user,
        action=action,
        target=customer,
        before=before,
        after=snapshot(customer, changed),
        detail=detail,
    )
    return customer


def contacts_clean(*, operator: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise contact fields (the contact-change flow uses it for phones and e-mail)."""
    return customer_contacts_clean(operator=operator, values=values)


@transaction.atomic
def customer_status_change(*, customer: Customer, status: str, reason: str, acting_user: Any) -> Customer:
    """Set a customer active, inactive or banned, with the reason; the history keeps every change."""
    reason = (reason or "").strip()
    if status not in Customer.Status.values:
        raise CustomerError(
            _("Choose active, inactive or banned."), code="status_invalid", fields={"status": [_("Unknown status.")]}
        )
    if not reason:
        raise CustomerError(
            _("Say why the status changes."), code="reason_required", fields={"reason": [_("Required.")]}
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.status == status:
        raise CustomerError(
            _("The customer is already %(status)s.") % {"status": customer.get_status_display()},
            code="status_unchanged",
            fields={"status": [_("Choose another status.")]},
        )
    previous = customer.status
    customer.status = status
    customer.status_reason = reason[:300]
    customer.save(update_fields=["status", "status_reason", "updated_at"])
    CustomerStatusChange.objects.create(
        operator=customer.operator,
        customer=customer,
        from_status=previous,
        to_status=status,
        reason=reason[:300],
        changed_by=acting_user,
    )
    audit_record(
        actor=acting_user,
        action="customer.status_changed",
        target=customer,
        before={"status": previous},
        after={"status": status},
        detail={"reason": reason},
    )
    return customer


def connection_supply_clean(
    *, operator: Any, supply_system: SupplySystem | None, cluster: Cluster | None
) -> Cluster | None:
    """The connection's cluster: the supply system's, which must be one ever assigned to the operator."""
    if supply_system is not None:
        if cluster is not None and cluster.pk != supply_system.cluster_id:
            raise CustomerError(
                _("The supply system is not in that cluster."),
                code="cluster_mismatch",
                fields={"cluster": [_("Choose the supply system's cluster, or none.")]},
            )
        cluster = supply_system.cluster
    if cluster is not None and not ClusterAssignment.objects.filter(operator=operator, cluster=cluster).exists():
        field = "supply_system" if supply_system is not None else "cluster"
        raise CustomerError(
            _("That cluster is not assigned to your operator."),
            code="cluster_not_assigned",
            fields={field: [_("Choose one of your operator's.")]},
        )
    return cluster


def connection_fields_problems(
    *,
    operator: Any,
    utility: str,
    property_type: str,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    opening_arrears: Decimal | None = None,
    arrears_as_of: datetime.date | None = None,
) -> dict[str, list[str]]:
    """What is wrong with a connection's description, by field (empty: nothing); the bulk import's preview asks too."""
    problems: dict[str, list[str]] = {}
    if utility not in Connection.Utility.values:
        problems["utility"] = [_("Choose water or electricity.")]
    if property_type not in Connection.PropertyType.values:
        problems["property_type"] = [_("Choose a property type.")]
    if latitude is not None and not -90 <= latitude <= 90:
        problems["latitude"] = [_("Between -90 and 90.")]
    if longitude is not None and not -180 <= longitude <= 180:
        problems["longitude"] = [_("Between -180 and 180.")]
    if opening_arrears is not None and opening_arrears != 0:
        if opening_arrears < 0:
            problems["opening_arrears"] = [_("More than zero, or leave it empty.")]
        elif quantize(opening_arrears, operator.currency) != opening_arrears:
            problems["opening_arrears"] = [
                _("%(currency)s amounts have no smaller units than this: write %(rounded)s.")
                % {"currency": operator.currency, "rounded": quantize(opening_arrears, operator.currency)}
            ]
        if arrears_as_of is None:
            problems["arrears_as_of"] = [_("The date the arrears were owed at.")]
    return problems


@transaction.atomic
def connection_create(
    *,
    operator: Any,
    customer: Customer,
    number: str,
    utility: str,
    property_type: str,
    acting_user: Any,
    connection_type: str = "",
    metered: bool = True,
    supply_system: SupplySystem | None = None,
    cluster: Cluster | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    starts_on: datetime.date | None = None,
    opening_arrears: Decimal | None = None,
    arrears_as_of: datetime.date | None = None,
    route: Route | None = None,
    reading_sequence: int | None = None,
    chamber: MeterChamber | None = None,
    billing_cycle: str = Connection.BillingCycle.MONTHLY,
    parcel: "ParcelResolution | None" = None,
    assessed_usage: Decimal | None = None,
) -> Connection:
    """A new connection of a customer, its contract history's first line, and its receivable in the ledger.

    The number is unique at the operator whatever its case and whoever the customer: a second one is a 409.
    Opening arrears (with their as-of date) are posted to the ledger as the account's first charge.
    """
    number = connection_number_clean(number)
    if customer.operator_id != operator.pk:
        raise CustomerError(_("Choose one of your customers."), code="customer_invalid")
    problems = connection_fields_problems(
        operator=operator,
        utility=utility,
        property_type=property_type,
        latitude=latitude,
        longitude=longitude,
        opening_arrears=opening_arrears,
        arrears_as_of=arrears_as_of,
    )
    problems.update(
        _details_problems(
            operator=operator,
            route=route,
            reading_sequence=reading_sequence,
            chamber=chamber,
            billing_cycle=billing_cycle,
        )
    )
    problems.update(_assessed_problems(assessed_usage))
    if problems:
        raise CustomerError(_("Please correct the connection's details."), code="connection_invalid", fields=problems)
    latitude, longitude = degrees(latitude), degrees(longitude)
    cluster = connection_supply_clean(operator=operator, supply_system=supply_system, cluster=cluster)
    if Connection.objects.filter(operator=operator, number__iexact=number).exists():
        raise _number_taken(number)
    try:
        with transaction.atomic():
            connection = Connection.objects.create(
                operator=operator,
                number=number,
                customer=customer,
                utility=utility,
                property_type=property_type,
                connection_type=(connection_type or "").strip(),
                metered=metered,
                supply_system=supply_system,
                cluster=cluster,
                latitude=latitude,
                longitude=longitude,
                route=route,
                reading_sequence=reading_sequence,
                chamber=chamber,
                billing_cycle=billing_cycle,
                assessed_usage=assessed_usage,
                created_by=acting_user,
                **parcel_values(parcel),
            )
    except IntegrityError:  # a concurrent creation of the same number (or place on the route) won the race
        if route is not None and reading_sequence is not None:
            _sequence_check(route=route, reading_sequence=reading_sequence)
        raise _number_taken(number) from None
    ConnectionHolding.objects.create(
        operator=operator, connection=connection, customer=customer, starts_on=starts_on or timezone.localdate()
    )
    SearchTerm.objects.create(
        operator=operator,
        customer=customer,
        connection=connection,
        kind=SearchTerm.Kind.CONNECTION_NUMBER,
        term=connection_term(connection.number),
    )
    ledger.holder_account(operator=operator, holder=connection.number, purpose="receivable")
    audit_record(
        actor=acting_user,
        action="connection.created",
        target=connection,
        after=snapshot(
            connection, ["number", "customer_id", "utility", "property_type", "metered", "status", *DETAILS]
        ),
    )
    if opening_arrears and arrears_as_of is not None:  # the date was checked above
        ledger.opening_balance_post(
            operator=operator,
            holder=connection.number,
            amount=opening_arrears,
            as_of=arrears_as_of,
            reference=f"opening:{connection.number}",
            acting_user=acting_user,
        )
    return connection


def degrees(value: Decimal | None) -> Decimal | None:
    """GPS in the six decimals stored (about 0.1 m), so what is returned is what is kept."""
    return None if value is None else value.quantize(GPS_STEP)


def _number_taken(number: str) -> ConnectionNumberTaken:
    return ConnectionNumberTaken(
        _("Connection number %(number)s is already in use at your operator; a number is never given twice.")
        % {"number": number},
        code="connection_number_taken",
        fields={"number": [_("Already in use.")]},
    )


DETAILS = ["route_id", "reading_sequence", "chamber_id", "billing_cycle", *PARCEL_FIELDS]
CONNECTION_EDITABLE = (
    "connection_type",
    "metered",
    "latitude",
    "longitude",
    "route",
    "reading_sequence",
    "chamber",
    "billing_cycle",
    "parcel",
    "assessed_usage",
)


def _assessed_problems(assessed_usage: Decimal | None) -> dict[str, list[str]]:
    """A connection's own assessed usage (bulk demand), when given, is 0 or more with at most 3 decimals."""
    if assessed_usage is None:
        return {}
    if (
        assessed_usage < 0
        or assessed_usage >= Decimal("1e9")
        or assessed_usage != assessed_usage.quantize(Decimal("0.001"))
    ):
        return {"assessed_usage": [_("Give 0 or more units, with at most 3 decimals; or leave it empty.")]}
    return {}


@transaction.atomic
def connection_update(*, connection: Connection, acting_user: Any, **changes: Any) -> Connection:
    """Change a connection's description (type, metered, GPS, route and place on it, chamber, billing cycle, land
    parcel, assessed usage); its number, never. `parcel` is a ParcelResolution from connection_parcel_resolve()."""
    if "number" in changes:
        raise ConnectionNumberImmutable(
            _("A connection number cannot be changed once the connection exists."),
            code="number_not_editable",
            fields={"number": [_("Not editable.")]},
        )
    for field in ("latitude", "longitude"):
        if field in changes:
            changes[field] = degrees(changes[field])
    unknown = sorted(set(changes) - set(CONNECTION_EDITABLE))
    if unknown:
        raise CustomerError(_("“%(field)s” cannot be changed here.") % {"field": unknown[0]}, code="field_not_editable")
    if "assessed_usage" in changes and (problems := _assessed_problems(changes["assessed_usage"])):
        raise CustomerError(_("Please correct the connection's details."), code="connection_invalid", fields=problems)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if "parcel" in changes:
        parcel: ParcelResolution | None = changes.pop("parcel")
        if parcel is not None and parcel.record is None and parcel.upi == connection.parcel_upi:
            pass  # the registry did not answer a second look-up: what it said before stays
        else:
            changes.update(parcel_values(parcel))
    if {"route", "reading_sequence", "chamber", "billing_cycle"} & set(changes):
        if "route" in changes and "reading_sequence" not in changes and changes["route"] != connection.route:
            changes["reading_sequence"] = None  # a place on the old route means nothing on the new one
        problems = _details_problems(
            operator=connection.operator,
            route=changes.get("route", connection.route),
            reading_sequence=changes.get("reading_sequence", connection.reading_sequence),
            chamber=changes.get("chamber", connection.chamber),
            billing_cycle=changes.get("billing_cycle", connection.billing_cycle),
            connection=connection,
        )
        if problems:
            raise CustomerError(
                _("Please correct the connection's details."), code="connection_invalid", fields=problems
            )
    changed = [field for field, value in changes.items() if getattr(connection, field) != value]
    if not changed:
        return connection
    audited = [f"{field}_id" if field in ("route", "chamber") else field for field in changed]
    before = snapshot(connection, audited)
    for field in changed:
        setattr(connection, field, changes[field])
    try:
        with transaction.atomic():
            connection.save(update_fields=changed)
    except IntegrityError:  # a concurrent change took the place on the route
        _sequence_check(route=connection.route, reading_sequence=connection.reading_sequence, connection=connection)
        raise
    audit_record(
        actor=acting_user,
        action="connection.updated",
        target=connection,
        before=before,
        after=snapshot(connection, audited),
    )
    return connection


# Connection details: route and reading sequence, meter chamber, billing cycle, land parcel ---------------------


@dataclasses.dataclass(frozen=True)
class ParcelResolution:
    """A UPI to save on a connection and what the land registry said about it (record None: it could not answer,
    `warning` says why; the UPI is kept all the same)."""

    upi: str
    record: ParcelRecord | None = None
    warning: str = ""


def connection_parcel_resolve(raw_upi: str) -> ParcelResolution:
    """Look a connection's UPI up before saving it (outside any transaction: the registry may take seconds).

    An empty UPI clears the parcel; a malformed or unknown UPI is refused (ParcelError); a registry that cannot
    answer lets the UPI be saved without its parcel data, to be looked up again later.
    """
    if not (raw_upi or "").strip():
        return ParcelResolution(upi="")
    upi = upi_clean(raw_upi)
    try:
        return ParcelResolution(upi=upi, record=parcel_lookup(upi))
    except ParcelError as error:
        if error.code in ("parcel_not_found", "upi_invalid"):
            raise
        return ParcelResolution(upi=upi, warning=str(error.message))


def parcel_values(parcel: ParcelResolution | None) -> dict[str, Any]:
    """The connection's parcel fields for a resolution: the registry's data, or the UPI alone, or nothing."""
    record = parcel.record if parcel is not None else None
    if record is not None and parcel is not None and record.upi == parcel.upi:
        return {
            "parcel_upi": record.upi,
            "parcel_village": record.village,
            "parcel_cell": record.cell,
            "parcel_sector": record.sector,
            "parcel_district": record.district,
            "parcel_area_m2": record.area_m2,
            "parcel_land_use": record.land_use,
            "parcel_owner_name": record.owner_name,
            "parcel_looked_up_at": record.looked_up_at,
        }
    values: dict[str, Any] = {field: "" for field in PARCEL_FIELDS}
    values.update(parcel_upi=parcel.upi if parcel is not None else "", parcel_area_m2=None, parcel_looked_up_at=None)
    return values


def _details_problems(
    *,
    operator: Any,
    route: Route | None,
    reading_sequence: int | None,
    chamber: MeterChamber | None,
    billing_cycle: str,
    connection: Connection | None = None,
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if route is not None and route.operator_id != operator.pk:
        problems["route"] = [_("Choose one of your operator's routes.")]
    if chamber is not None and chamber.operator_id != operator.pk:
        problems["chamber"] = [_("Choose one of your operator's meter chambers.")]
    if billing_cycle not in Connection.BillingCycle.values:
        problems["billing_cycle"] = [_("Choose monthly, every two months, quarterly, half-yearly or yearly.")]
    if reading_sequence is not None:
        if isinstance(reading_sequence, bool) or not isinstance(reading_sequence, int) or reading_sequence < 1:
            problems["reading_sequence"] = [_("A whole number from 1.")]
        elif route is None:
            problems["reading_sequence"] = [_("Choose the route first: the sequence is the place on a route.")]
        elif "route" not in problems:
            try:
                _sequence_check(route=route, reading_sequence=reading_sequence, connection=connection)
            except CustomerError as error:
                problems.update(error.fields)
    return problems


def _sequence_check(*, route: Route | None, reading_sequence: int | None, connection: Connection | None = None) -> None:
    """Refuse a place on a route another live (not terminated) connection already has."""
    if route is None or reading_sequence is None:
        return
    holder = (
        Connection.objects.filter(route=route, reading_sequence=reading_sequence)
        .exclude(status=Connection.Status.TERMINATED)
        .exclude(pk=connection.pk if connection is not None else None)
        .first()
    )
    if holder is not None:
        message = _("Place %(sequence)s on route %(route)s is taken by connection %(number)s.") % {
            "sequence": reading_sequence,
            "route": route.code,
            "number": holder.number,
        }
        raise CustomerError(message, code="reading_sequence_taken", fields={"reading_sequence": [message]})
