"""The new-connection type: an application (with the terms accepted and, at the office, the signed form), a survey,
the connection fee paid first, then the itemised material fee, the installation with its meter, and the connection
active.

received → survey (customer care names the surveyor) → connection_fee_due (the survey done: the fee is charged)
→ material_fee_due (the connection fee paid: the material fee is charged, the applicant gets an SMS with the quote's
public page) → installation (the material fee paid: an installation work order) → active (the meter installed: the
connection is active). A request is rejected only before any fee is charged.
"""

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.accounts.roles import Role
from mita.core.money import quantize
from mita.core.sequences import sequence_next
from mita.customers.lifecycle import connection_status_change
from mita.customers.models import Connection, Customer
from mita.customers.services import connection_create, customer_create
from mita.notifications.catalogue import register_template
from mita.notifications.services import message_queue
from mita.payments.online import payment_link_for
from mita.payments.statements import money
from mita.servicing.models import RequestAttachment, RequestFee, ServiceFee, ServiceRequest, WorkOrder
from mita.servicing.selectors import fee_is_paid, service_fee_for, terms_current
from mita.servicing.services import (
    ServicingError,
    attachment_add,
    attachment_check,
    fee_charge,
    quote_token_give,
    request_create,
    request_transition,
    work_order_create,
    work_orders_cancel_open,
)
from mita.servicing.workflow import RequestType, State, Transition, register_type
from mita.stock.selectors import materials_by_id

KEY = "new_connection"
CONNECTION_NUMBER_SEQUENCE = "connection_number"
CROSSINGS = ("road", "swamp", "river", "railway", "other")
CARE = frozenset({Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE})
DAY = datetime.timedelta(days=1)
SMS_TEMPLATE = "servicing.material_fee"

register_template(
    SMS_TEMPLATE,
    subject=gettext_lazy("Your connection: materials to pay"),
    body=gettext_lazy(
        "%(operator)s: connection fee received for request %(number)s. Materials to pay: %(amount)s. "
        "See the list and how to pay: %(link)s"
    ),
)


def _survey_open(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    work_order_create(request=request, kind=WorkOrder.Kind.SURVEY, assignee=request.assignee, acting_user=acting_user)


def _installation_open(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    work_order_create(
        request=request, kind=WorkOrder.Kind.INSTALLATION, assignee=request.assignee, acting_user=acting_user
    )


def _connection_fee_charge(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    """Charge the schedule's connection fee to the pending connection (none when the schedule says zero)."""
    connection = request.connection
    assert connection is not None
    line = service_fee_for(
        operator=request.operator,
        kind=ServiceFee.Kind.CONNECTION,
        utility=connection.utility,
        property_type=connection.property_type,
    )
    if line is None:
        raise ServicingError(
            _(
                "Your operator has no connection fee for %(utility)s connections (%(property_type)s): an operator admin "
                "sets it in the fee schedule, then the survey can be recorded."
            )
            % {"utility": connection.get_utility_display(), "property_type": connection.get_property_type_display()},
            code="fee_schedule_missing",
        )
    if line.amount > 0:
        fee_charge(
            request=request,
            kind=RequestFee.Kind.CONNECTION,
            amount=line.amount,
            items=[{"label": str(_("Connection fee")), "amount": str(line.amount)}],
            acting_user=acting_user,
        )


def material_items(*, request: ServiceRequest) -> list[dict[str, Any]]:
    """The survey's materials priced from the catalogue now (these prices are frozen on the fee once charged)."""
    survey = request.work_orders.filter(kind=WorkOrder.Kind.SURVEY, state=WorkOrder.State.DONE).order_by("-pk").first()
    if survey is None:
        return []
    lines = survey.result.get("materials", [])
    catalogue = materials_by_id(operator=request.operator, ids=[line["material_id"] for line in lines])
    items = []
    for line in lines:
        material = catalogue.get(line["material_id"])
        if material is None:
            continue
        quantity = Decimal(line["quantity"])
        amount = quantize(quantity * material.unit_price, request.operator.currency)
        items.append(
            {
                "material_id": material.pk,
                "code": material.code,
                "name": material.name,
                "unit": material.unit,
                "properties": material.properties,
                "quantity": str(quantity),
                "unit_price": str(material.unit_price),
                "amount": str(amount),
            }
        )
    return items


def quote_url(request: ServiceRequest) -> str:
    return settings.MITA_PUBLIC_URL + reverse("quote", args=[quote_token_give(request=request)])


def _material_fee_charge(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    """Charge the itemised material fee and text the applicant the quote's public page."""
    items = material_items(request=request)
    total = sum((Decimal(item["amount"]) for item in items), Decimal("0"))
    if total <= 0:
        return
    fee = fee_charge(request=request, kind=RequestFee.Kind.MATERIAL, amount=total, items=items, acting_user=acting_user)
    connection, customer, operator = request.connection, request.customer, request.operator
    assert connection is not None
    link = payment_link_for(
        operator=operator, holder=connection.number, amount=fee.amount, phone=customer.phone, acting_user=acting_user
    )
    if link is not None:
        request.data = {**request.data, "payment_link": link.token}
        request.save(update_fields=["data", "updated_at"])
    language = customer.language or settings.LANGUAGE_CODE
    with translation.override(language):  # the figures are written as the customer's language writes them
        context = {
            "operator": operator.name,
            "number": request.number,
            "amount": money(fee.amount, operator.currency),
            "link": quote_url(request),
        }
    message_queue(
        channel="sms", to=customer.phone, template=SMS_TEMPLATE, context=context, language=language, operator=operator
    )


def _rejected(request: ServiceRequest, acting_user: Any, data: dict[str, Any]) -> None:
    """The survey is called off and the pending connection, never connected, is terminated (its number stays
    taken: a number is never given twice)."""
    work_orders_cancel_open(request=request, acting_user=acting_user)
    if request.connection is not None and request.connection.status == Connection.Status.PENDING:
        connection_status_change(
            connection=request.connection,
            status=Connection.Status.TERMINATED,
            reason=_("Application %(number)s rejected") % {"number": request.number},
            acting_user=acting_user,
        )


def _advance(request: ServiceRequest) -> str | None:
    """A fee-waiting request moves on once its fee is paid (or when there was nothing to charge)."""
    kinds = {"connection_fee_due": RequestFee.Kind.CONNECTION, "material_fee_due": RequestFee.Kind.MATERIAL}
    kind = kinds.get(request.state)
    if kind is None:
        return None
    fee = request.fees.filter(kind=kind).select_related("charge").first()
    if fee is None or fee_is_paid(fee=fee):
        return f"{kind}_fee_paid"
    return None


def _decimal(value: Any, field: str, problems: dict[str, list[str]], *, positive: bool = False) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        problems[field] = [_("Write a number, e.g. 12.5.")]
        return None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        problems[field] = [_("More than zero.") if positive else _("Zero or more.")]
        return None
    return number


def survey_check(work_order: WorkOrder, acting_user: Any, result: dict[str, Any]) -> dict[str, Any]:
    """The surveyor's findings: pipe crossings (kind, count, length), distance in metres, catalogue materials."""
    problems: dict[str, list[str]] = {}
    distance = _decimal(result.get("distance_m", ""), "distance_m", problems, positive=True)
    crossings = []
    for number, crossing in enumerate(result.get("crossings") or []):
        kind = crossing.get("kind")
        if kind not in CROSSINGS:
            problems[f"crossings.{number}.kind"] = [_("Choose road, swamp, river, railway or other.")]
            continue
        count = _decimal(crossing.get("count", "0") or "0", f"crossings.{number}.count", problems)
        length = _decimal(crossing.get("length_m", "0") or "0", f"crossings.{number}.length_m", problems)
        if count is not None and count != count.to_integral_value():
            problems[f"crossings.{number}.count"] = [_("A whole number.")]
        if count is not None and length is not None and (count > 0 or length > 0):
            crossings.append({"kind": kind, "count": int(count), "length_m": str(length)})
    lines = result.get("materials") or []
    ids = []
    for line in lines:
        try:
            ids.append(int(line.get("material_id")))
        except (TypeError, ValueError):
            problems["materials"] = [_("Choose items from the catalogue.")]
    catalogue = materials_by_id(operator=work_order.operator, ids=ids)
    materials = []
    for number, line in enumerate(lines):
        field = f"materials.{number}"
        try:
            material = catalogue.get(int(line.get("material_id")))
        except (TypeError, ValueError):
            continue
        if material is None or not material.active:
            problems[field] = [_("Choose an item offered in your catalogue.")]
            continue
        quantity = _decimal(line.get("quantity", ""), field, problems, positive=True)
        if quantity is not None:
            materials.append({"material_id": material.pk, "code": material.code, "quantity": str(quantity)})
    if problems:
        raise ServicingError(_("Please correct the survey."), code="survey_invalid", fields=problems)
    return {
        "distance_m": str(distance),
        "crossings": crossings,
        "materials": materials,
        "note": str(result.get("note", "") or "").strip(),
    }


def _survey_done(work_order: WorkOrder, acting_user: Any) -> None:
    request_transition(request=work_order.request, transition="survey_done", acting_user=acting_user, system=True)


def installation_check(work_order: WorkOrder, acting_user: Any, result: dict[str, Any]) -> dict[str, Any]:
    """The meter fitted: serial number, brand and initial index (kept in the work order's result until the metering
    module turns them into a meter installation; docs/servicing.md)."""
    problems: dict[str, list[str]] = {}
    connection = work_order.request.connection
    serial = str(result.get("meter_serial", "") or "").strip()
    brand = str(result.get("meter_brand", "") or "").strip()
    metered = connection is not None and connection.metered
    if metered and not serial:
        problems["meter_serial"] = [_("Required: the number printed on the meter.")]
    if metered and not brand:
        problems["meter_brand"] = [_("Required.")]
    index = _decimal(result.get("initial_index", "0") or "0", "initial_index", problems) if metered else None
    if len(serial) > 40:
        problems["meter_serial"] = [_("At most 40 characters.")]
    if problems:
        raise ServicingError(_("Please complete the meter's details."), code="installation_invalid", fields=problems)
    return {
        "meter_serial": serial,
        "meter_brand": brand[:60],
        "initial_index": str(index) if index is not None else None,
        "note": str(result.get("note", "") or "").strip(),
    }


def _installed(work_order: WorkOrder, acting_user: Any) -> None:
    request = work_order.request
    assert request.connection is not None
    connection_status_change(
        connection=request.connection,
        status=Connection.Status.ACTIVE,
        reason=_("Installed under request %(number)s") % {"number": request.number},
        acting_user=acting_user,
    )
    request_transition(request=request, transition="installed", acting_user=acting_user, system=True)


NEW_CONNECTION = RequestType(
    key=KEY,
    label=gettext_lazy("New connection"),
    initial="received",
    create_roles=CARE,
    states=(
        State("received", gettext_lazy("Received"), due=2 * DAY),
        State("survey", gettext_lazy("Survey"), due=3 * DAY, on_enter=_survey_open),
        State("connection_fee_due", gettext_lazy("Connection fee due"), on_enter=_connection_fee_charge),
        State("material_fee_due", gettext_lazy("Material fee due"), on_enter=_material_fee_charge),
        State("installation", gettext_lazy("Installation"), due=5 * DAY, on_enter=_installation_open),
        State("active", gettext_lazy("Connected"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition("assign_survey", gettext_lazy("Send a surveyor"), ("received",), "survey", CARE, assigns=True),
        Transition("survey_done", gettext_lazy("Survey done"), ("survey",), "connection_fee_due", system=True),
        Transition(
            "connection_fee_paid",
            gettext_lazy("Connection fee paid"),
            ("connection_fee_due",),
            "material_fee_due",
            system=True,
        ),
        Transition(
            "material_fee_paid", gettext_lazy("Material fee paid"), ("material_fee_due",), "installation", system=True
        ),
        Transition("installed", gettext_lazy("Meter installed"), ("installation",), "active", system=True),
        Transition(
            "reject",
            gettext_lazy("Reject"),
            ("received", "survey"),
            "rejected",
            CARE,
            required=("note",),
            waits=False,
            hook=_rejected,
        ),
    ),
    work_order_done={WorkOrder.Kind.SURVEY: survey_check, WorkOrder.Kind.INSTALLATION: installation_check},
    after_work_order={WorkOrder.Kind.SURVEY: _survey_done, WorkOrder.Kind.INSTALLATION: _installed},
    advance=_advance,
    advance_states=("connection_fee_due", "material_fee_due"),
)
register_type(NEW_CONNECTION)


def _connection_number_next(operator: Any) -> str:
    """<prefix>-N-000001 onwards; a number already typed by hand for another connection is skipped."""
    while True:
        number = f"{operator.prefix}-N-{sequence_next(operator_id=operator.pk, name=CONNECTION_NUMBER_SEQUENCE):06d}"
        if not Connection.objects.filter(operator=operator, number__iexact=number).exists():
            return number


@transaction.atomic
def new_connection_apply(
    *,
    operator: Any,
    acting_user: Any,
    channel: str,
    utility: str,
    property_type: str,
    terms_accepted: bool,
    customer: Customer | None = None,
    customer_fields: dict[str, Any] | None = None,
    number: str = "",
    signed_form: Any = None,
    details: str = "",
    connection_fields: dict[str, Any] | None = None,
) -> ServiceRequest:
    """An application for a new connection: the customer (made if new), a PENDING connection, the request, the terms
    accepted (time and version), and at the office the signed form. All or nothing: an error saves none of it."""
    problems: dict[str, list[str]] = {}
    terms = terms_current(operator=operator)
    if terms is None:
        raise ServicingError(
            _("Your operator has no terms and conditions in force: an operator admin publishes them first."),
            code="terms_missing",
        )
    if not terms_accepted:
        problems["terms_accepted"] = [
            _("The applicant must accept the terms and conditions (version %(version)s).") % {"version": terms.version}
        ]
    if channel == ServiceRequest.Channel.OFFICE and signed_form is None:
        problems["signed_form"] = [_("At the office, attach the signed application form (PDF, JPEG or PNG).")]
    elif signed_form is not None:
        try:
            attachment_check(signed_form, field="signed_form")
        except ServicingError as error:
            problems.update(error.fields)
        signed_form.seek(0)
    if customer is None and not customer_fields:
        problems["customer"] = [_("Choose the customer, or give the new customer's name and phone.")]
    if problems:
        raise ServicingError(_("Please correct the application."), code="application_invalid", fields=problems)
    if customer is None:
        fields = dict(customer_fields or {})
        customer = customer_create(
            operator=operator,
            acting_user=acting_user,
            name=fields.pop("name", ""),
            phone=fields.pop("phone", ""),
            **fields,
        )
    connection = connection_create(
        operator=operator,
        customer=customer,
        number=number.strip() or _connection_number_next(operator),
        utility=utility,
        property_type=property_type,
        acting_user=acting_user,
        **(connection_fields or {}),
    )
    request = request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=_("New %(utility)s connection %(number)s")
        % {"utility": connection.get_utility_display().lower(), "number": connection.number},
        details=details,
        data={"utility": utility, "property_type": property_type},
        terms=terms,
        acting_user=acting_user,
    )
    if signed_form is not None:
        attachment_add(
            request=request, upload=signed_form, kind=RequestAttachment.Kind.SIGNED_FORM, acting_user=acting_user
        )
    return request
