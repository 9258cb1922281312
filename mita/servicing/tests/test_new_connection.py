"""The new-connection flow through the services: application, survey, connection fee first, itemised material fee
with the SMS and its public page, installation with the meter, connection active."""

from decimal import Decimal

import pytest

from mita.customers.models import Connection, Customer
from mita.ledger.selectors import holder_balance, holder_credit
from mita.notifications.models import OutboxMessage
from mita.servicing.models import RequestEvent, RequestFee, ServiceRequest, WorkOrder
from mita.servicing.services import ServicingError, TransitionNotAllowed, request_transition, work_order_complete
from mita.servicing.types.new_connection import new_connection_apply
from mita.stock.services import material_update

from .world import PNG, World, signed_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(operator_a):  # type: ignore[no-untyped-def]
    return World(operator_a)


def apply(world: World, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "operator": world.operator,
        "acting_user": world.care,
        "channel": "office",
        "utility": "water",
        "property_type": "residential",
        "terms_accepted": True,
        "customer_fields": {"name": "Jeanne Uwase", "phone": "0788123456", "language": "rw"},
        "signed_form": signed_form(),
    }
    values.update(overrides)
    return new_connection_apply(**values)


def survey(world: World, request: ServiceRequest, **result_overrides):  # type: ignore[no-untyped-def]
    request_transition(request=request, transition="assign_survey", acting_user=world.care, assignee=world.technician)
    work_order = WorkOrder.objects.get(request=request, kind="survey")
    return work_order_complete(
        work_order=work_order, result={**world.survey_result(), **result_overrides}, acting_user=world.technician
    )


def test_an_office_application_registers_the_customer_a_pending_connection_and_the_terms_accepted(world):
    # when customer care receives Jeanne's application at the office
    request = apply(world)
    # then she is a customer, her connection is pending under the operator's next connection number
    customer = Customer.objects.get(name="Jeanne Uwase")
    connection = Connection.objects.get(customer=customer)
    assert (connection.number, connection.status) == ("AAL-N-000001", "pending")
    # and the request is numbered, received, with the terms' version and time, and the signed form kept
    assert (request.number, request.state, request.connection_id) == ("AAL-SR-000001", "received", connection.pk)
    assert request.terms == world.terms and request.terms_accepted_at is not None
    attachment = request.attachments.get()
    assert (attachment.kind, attachment.content_type) == ("signed_form", "application/pdf")
    assert attachment.file.read().startswith(b"%PDF")
    assert list(RequestEvent.objects.filter(request=request).values_list("transition", flat=True)) == ["created"]
    assert request.due_at is not None


def test_an_office_application_without_the_signed_form_is_refused_and_saves_nothing(world):
    with pytest.raises(ServicingError) as error:
        apply(world, signed_form=None)
    assert "signed_form" in error.value.fields
    assert not Customer.objects.exists() and not ServiceRequest.objects.exists()


def test_an_agent_application_needs_no_form_but_always_the_terms(world):
    with pytest.raises(ServicingError) as error:
        apply(world, channel="agent", signed_form=None, terms_accepted=False)
    assert "2026-1" in error.value.fields["terms_accepted"][0]
    request = apply(world, channel="agent", signed_form=None, number="AAL-7777")
    assert request.connection.number == "AAL-7777"


def test_a_signed_form_that_is_not_a_pdf_or_image_is_refused(world):
    with pytest.raises(ServicingError) as error:
        apply(world, signed_form=signed_form("form.pdf", b"MZ\x90\x00 not a pdf"))
    assert error.value.fields["signed_form"] == ["Attach a PDF, JPEG or PNG file."]
    request = apply(world, signed_form=signed_form("scan.png", PNG))
    assert request.attachments.get().content_type == "image/png"


def test_the_survey_charges_the_connection_fee_and_the_material_fee_waits_for_it(world):
    request = apply(world)
    survey(world, request)
    request.refresh_from_db()
    holder = request.connection.number
    # then the connection fee is charged to the pending connection, and only it
    assert request.state == "connection_fee_due"
    assert holder_balance(operator=world.operator, holder=holder) == Decimal("10000")
    assert list(request.fees.values_list("kind", flat=True)) == ["connection"]
    # when part of it is paid, nothing moves
    world.pay(holder, "4000")
    request.refresh_from_db()
    assert request.state == "connection_fee_due"


def test_paying_the_connection_fee_charges_the_itemised_material_fee_and_texts_the_quote_page(
    world, django_capture_on_commit_callbacks
):
    request = apply(world)
    survey(world, request)
    holder = request.connection.number
    # when the connection fee is paid by a payment quoting the connection number
    with django_capture_on_commit_callbacks(execute=True):
        world.pay(holder, "10000")
    request.refresh_from_db()
    # then the material fee is charged: 25 m × 800 + 1 × 15,000
    assert request.state == "material_fee_due"
    fee = RequestFee.objects.get(request=request, kind="material")
    assert fee.amount == Decimal("35000")
    assert [(item["code"], item["quantity"], item["unit_price"], item["amount"]) for item in fee.items] == [
        ("PIPE-20", "25", "800.00", "20000"),
        ("KIT-M", "1", "15000.00", "15000"),
    ]
    assert holder_balance(operator=world.operator, holder=holder) == Decimal("35000")
    # and the applicant's SMS carries the quote's public page
    sms = OutboxMessage.objects.get(template="servicing.material_fee")
    assert sms.to == "+250788123456"
    assert f"/q/{request.quote_token}/" in sms.body
    # in the applicant's language (Kinyarwanda), with the total as Kinyarwanda writes numbers
    assert sms.language == "rw" and "35000 RWF" in sms.body and "Materials to pay" not in sms.body


def test_prices_are_frozen_on_the_fee_when_charged(world, django_capture_on_commit_callbacks):
    request = apply(world)
    survey(world, request)
    with django_capture_on_commit_callbacks(execute=True):
        world.pay(request.connection.number, "10000")
    material_update(material=world.pipe, acting_user=world.admin, unit_price=Decimal("999"))
    fee = RequestFee.objects.get(request=request, kind="material")
    assert fee.items[0]["unit_price"] == "800.00" and fee.amount == Decimal("35000")


def test_paying_both_fees_opens_the_installation_and_the_meter_makes_the_connection_active(
    world, django_capture_on_commit_callbacks
):
    request = apply(world)
    survey(world, request)
    holder = request.connection.number
    with django_capture_on_commit_callbacks(execute=True):
        world.pay(holder, "10000")
    with django_capture_on_commit_callbacks(execute=True):
        world.pay(holder, "35000", channel="momo")
    request.refresh_from_db()
    assert request.state == "installation"
    installation = WorkOrder.objects.get(request=request, kind="installation")
    assert installation.assignee == world.technician and installation.state == "open"
    # a meter without its serial number is refused, nothing changes
    with pytest.raises(ServicingError) as error:
        work_order_complete(
            work_order=installation, result={"meter_brand": "Itron", "initial_index": "0"}, acting_user=world.technician
        )
    assert "meter_serial" in error.value.fields
    work_order_complete(
        work_order=installation,
        result={"meter_serial": "SN-123", "meter_brand": "Itron", "initial_index": "3.5"},
        acting_user=world.technician,
    )
    request.refresh_from_db()
    installation.refresh_from_db()
    assert request.state == "active"
    assert Connection.objects.get(pk=request.connection_id).status == "active"
    assert installation.result["meter_serial"] == "SN-123" and installation.result["initial_index"] == "3.5"
    assert holder_balance(operator=world.operator, holder=holder) == Decimal("0")
    transitions = list(request.events.values_list("transition", flat=True))
    for step in ("created", "assign_survey", "survey_done", "connection_fee_paid", "material_fee_paid", "installed"):
        assert step in transitions


def test_a_customer_s_credit_pays_a_fee_at_once(world):
    request = apply(world)
    holder = request.connection.number
    world.pay(holder, "50000")  # paid in advance: held as credit
    survey(world, request)
    request.refresh_from_db()
    # the credit cleared the connection fee at its posting, then the material fee too
    assert request.state == "installation"
    assert holder_balance(operator=world.operator, holder=holder) == Decimal("0")
    assert holder_credit(operator=world.operator, holder=holder) == Decimal("5000")


def test_without_a_connection_fee_in_the_schedule_the_survey_is_refused_with_what_to_do(operator_a):
    world = World(operator_a, connection_fee="0")
    request = apply(world, property_type="commercial", utility="electricity")
    request_transition(request=request, transition="assign_survey", acting_user=world.care, assignee=world.technician)
    work_order = WorkOrder.objects.get(request=request)
    with pytest.raises(ServicingError) as error:
        work_order_complete(work_order=work_order, result=world.survey_result(), acting_user=world.technician)
    assert error.value.code == "fee_schedule_missing"
    work_order.refresh_from_db()
    assert work_order.state == "open"


def test_a_zero_connection_fee_goes_straight_to_the_material_fee(operator_a):
    world = World(operator_a, connection_fee="0")
    request = apply(world)
    survey(world, request)
    request.refresh_from_db()
    assert request.state == "material_fee_due"
    assert list(request.fees.values_list("kind", flat=True)) == ["material"]


def test_a_survey_with_bad_findings_is_refused_field_by_field(world):
    request = apply(world)
    request_transition(request=request, transition="assign_survey", acting_user=world.care, assignee=world.technician)
    work_order = WorkOrder.objects.get(request=request)
    with pytest.raises(ServicingError) as error:
        work_order_complete(
            work_order=work_order,
            result={
                "distance_m": "0",
                "crossings": [{"kind": "lake", "count": 1}],
                "materials": [{"material_id": world.pipe.pk, "quantity": "-1"}],
            },
            acting_user=world.technician,
        )
    assert set(error.value.fields) == {"distance_m", "crossings.0.kind", "materials.0"}


def test_only_the_assigned_technician_does_the_survey(world):
    from mita.accounts.roles import Role
    from mita.core.errors import PermissionDenied
    from mita.testing.factories import member

    request = apply(world)
    request_transition(request=request, transition="assign_survey", acting_user=world.care, assignee=world.technician)
    other = member(Role.TECHNICIAN, world.operator, name="Other Tech")
    with pytest.raises(PermissionDenied):
        work_order_complete(
            work_order=WorkOrder.objects.get(request=request), result=world.survey_result(), acting_user=other
        )


def test_users_cannot_take_the_system_s_transitions(world):
    request = apply(world)
    with pytest.raises(TransitionNotAllowed) as error:
        request_transition(request=request, transition="installed", acting_user=world.admin)
    assert "Allowed now: assign_survey, reject" in str(error.value.message)


def test_a_rejected_application_terminates_its_pending_connection_and_calls_off_the_survey(world):
    request = apply(world)
    request_transition(request=request, transition="assign_survey", acting_user=world.care, assignee=world.technician)
    request_transition(request=request, transition="reject", acting_user=world.care, note="Outside the service area")
    request.refresh_from_db()
    assert request.state == "rejected"
    assert Connection.objects.get(pk=request.connection_id).status == "terminated"
    assert WorkOrder.objects.get(request=request).state == "cancelled"


def test_the_sweep_moves_on_a_request_whose_fee_was_paid_while_no_task_ran(world):
    from mita.servicing.tasks import requests_fees_sweep

    request = apply(world)
    survey(world, request)
    # a payment whose after-commit task never ran (here: the test's transaction never commits)
    world.pay(request.connection.number, "10000")
    request.refresh_from_db()
    assert request.state == "connection_fee_due"
    # when the periodic sweep runs
    result = requests_fees_sweep.call()
    # then the request is moved on, and the material fee charged
    request.refresh_from_db()
    assert result == {"advanced": 1}
    assert request.state == "material_fee_due"
    assert requests_fees_sweep.call() == {"advanced": 0}
