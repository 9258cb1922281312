"""The workflow engine through the complaint type: roles, states, required data, history, due dates, assignment,
badges, and the errors that name what is allowed."""

import dataclasses
import datetime
from collections.abc import Collection
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.errors import PermissionDenied
from mita.customers.services import customer_create
from mita.servicing.models import RequestEvent
from mita.servicing.selectors import requests_waiting_for, tasks_waiting_count
from mita.servicing.services import (
    ServicingError,
    TransitionNotAllowed,
    comment_add,
    request_assign,
    request_transition,
)
from mita.servicing.types.complaint import complaint_open
from mita.servicing.workflow import type_get
from mita.testing.factories import member

pytestmark = pytest.mark.django_db


@dataclasses.dataclass
class AccessOf:
    """The Access a signed-in user has in their operator workspace."""

    user: Any
    operator: Any
    roles: frozenset[str]

    def operator_ids(self) -> Collection[int] | None:
        return {self.operator.pk}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


@pytest.fixture
def people(operator_a):  # type: ignore[no-untyped-def]
    return {
        "care": member(Role.CUSTOMER_CARE, operator_a, name="Cleo Care"),
        "tech": member(Role.TECHNICIAN, operator_a, name="Tom Technician"),
        "tech2": member(Role.TECHNICIAN, operator_a, name="Tina Technician"),
        "cashier": member(Role.CASHIER, operator_a, name="Cash Cashier"),
    }


@pytest.fixture
def complaint(operator_a, people):  # type: ignore[no-untyped-def]
    customer = customer_create(operator=operator_a, acting_user=None, name="Jeanne Uwase", phone="+250788123456")
    return complaint_open(
        operator=operator_a,
        customer=customer,
        category="leak",
        summary="Water leaking at the meter",
        channel="phone",
        acting_user=people["care"],
    )


def test_a_complaint_goes_from_received_to_closed_with_its_history(complaint, people):
    assert (complaint.number, complaint.state, complaint.data["category"]) == ("AAL-SR-000001", "received", "leak")
    request_transition(request=complaint, transition="assign", acting_user=people["care"], assignee=people["tech"])
    request_transition(request=complaint, transition="start", acting_user=people["tech"])
    request_transition(request=complaint, transition="resolve", acting_user=people["tech"], note="Seal replaced")
    request_transition(request=complaint, transition="close", acting_user=people["care"])
    complaint.refresh_from_db()
    assert complaint.state == "closed" and complaint.due_at is None
    history = list(complaint.events.values_list("transition", "from_state", "to_state", "by__name", "note"))
    assert history == [
        ("created", "", "received", "Cleo Care", ""),
        ("assign", "received", "assigned", "Cleo Care", ""),
        ("start", "assigned", "in_progress", "Tom Technician", ""),
        ("resolve", "in_progress", "resolved", "Tom Technician", "Seal replaced"),
        ("close", "resolved", "closed", "Cleo Care", ""),
    ]


def test_a_transition_not_allowed_names_the_allowed_ones(complaint, people):
    with pytest.raises(TransitionNotAllowed) as error:
        request_transition(request=complaint, transition="close", acting_user=people["care"])
    assert "Allowed now: assign, reject" in str(error.value.message)
    assert error.value.status == 409
    complaint.refresh_from_db()
    assert complaint.state == "received" and complaint.events.count() == 1


def test_a_role_that_does_not_act_on_the_state_is_refused(complaint, people):
    with pytest.raises(TransitionNotAllowed) as error:
        request_transition(
            request=complaint, transition="assign", acting_user=people["cashier"], assignee=people["tech"]
        )
    assert "nothing is yours to do" in str(error.value.message)


def test_only_the_assigned_technician_starts_the_work(complaint, people):
    request_transition(request=complaint, transition="assign", acting_user=people["care"], assignee=people["tech"])
    with pytest.raises(TransitionNotAllowed):
        request_transition(request=complaint, transition="start", acting_user=people["tech2"])
    request_transition(request=complaint, transition="start", acting_user=people["tech"])


def test_assignment_needs_one_of_the_operator_s_technicians(complaint, people, operator_b):
    with pytest.raises(ServicingError) as error:
        request_transition(request=complaint, transition="assign", acting_user=people["care"])
    assert "assignee" in error.value.fields
    outsider = member(Role.TECHNICIAN, operator_b, name="Other Operator Tech")
    for wrong in (people["cashier"], outsider):
        with pytest.raises(ServicingError) as error:
            request_transition(request=complaint, transition="assign", acting_user=people["care"], assignee=wrong)
        assert error.value.fields["assignee"] == ["Not a technician of your operator."]


def test_a_rejection_needs_a_reason(complaint, people):
    with pytest.raises(ServicingError) as error:
        request_transition(request=complaint, transition="reject", acting_user=people["care"])
    assert "note" in error.value.fields
    request_transition(request=complaint, transition="reject", acting_user=people["care"], note="Not our network")
    complaint.refresh_from_db()
    assert complaint.state == "rejected"


def test_due_dates_follow_the_state(complaint, people):
    before = timezone.now()
    assert complaint.due_at is not None and complaint.due_at - before <= datetime.timedelta(days=1)
    request_transition(request=complaint, transition="assign", acting_user=people["care"], assignee=people["tech"])
    request_transition(request=complaint, transition="start", acting_user=people["tech"])
    complaint.refresh_from_db()
    expected = type_get("complaint").state("in_progress").due
    assert expected is not None
    assert abs((complaint.due_at - timezone.now()) - expected) < datetime.timedelta(minutes=1)


def test_reassigning_keeps_the_state_and_says_so_in_the_history(complaint, people):
    request_transition(request=complaint, transition="assign", acting_user=people["care"], assignee=people["tech"])
    request_assign(request=complaint, assignee=people["tech2"], acting_user=people["care"])
    complaint.refresh_from_db()
    assert (complaint.state, complaint.assignee) == ("assigned", people["tech2"])
    assert complaint.events.last().transition == "reassigned"
    with pytest.raises(PermissionDenied):
        request_assign(request=complaint, assignee=people["tech"], acting_user=people["tech2"])


def test_the_history_is_append_only(complaint):
    event = RequestEvent.objects.get(request=complaint)
    with pytest.raises(DatabaseError), transaction.atomic():
        RequestEvent.objects.filter(pk=event.pk).update(note="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        RequestEvent.objects.filter(pk=event.pk).delete()


def test_comments_need_text(complaint, people):
    with pytest.raises(ServicingError):
        comment_add(request=complaint, text="  ", acting_user=people["care"])
    comment_add(request=complaint, text="Customer called again", acting_user=people["care"])
    assert complaint.comments.get().text == "Customer called again"


def test_badges_count_what_waits_for_each_user(complaint, people, operator_a, operator_b):
    care = AccessOf(people["care"], operator_a, frozenset({Role.CUSTOMER_CARE}))
    tech = AccessOf(people["tech"], operator_a, frozenset({Role.TECHNICIAN}))
    tech2 = AccessOf(people["tech2"], operator_a, frozenset({Role.TECHNICIAN}))
    cashier = AccessOf(people["cashier"], operator_a, frozenset({Role.CASHIER}))
    outsider = AccessOf(member(Role.CUSTOMER_CARE, operator_b), operator_b, frozenset({Role.CUSTOMER_CARE}))
    # a received complaint waits for customer care only
    assert [tasks_waiting_count(a) for a in (care, tech, tech2, cashier, outsider)] == [1, 0, 0, 0, 0]
    # once assigned, it waits for its technician only
    request_transition(request=complaint, transition="assign", acting_user=people["care"], assignee=people["tech"])
    assert [tasks_waiting_count(a) for a in (care, tech, tech2)] == [0, 1, 0]
    assert list(requests_waiting_for(access=tech)) == [complaint]
    # resolved, it waits for customer care to close it
    request_transition(request=complaint, transition="start", acting_user=people["tech"])
    request_transition(request=complaint, transition="resolve", acting_user=people["tech"], note="Fixed")
    assert [tasks_waiting_count(a) for a in (care, tech)] == [1, 0]


def test_an_unknown_category_is_refused(operator_a, people):
    customer = customer_create(operator=operator_a, acting_user=None, name="Eric", phone="+250788123457")
    with pytest.raises(ServicingError) as error:
        complaint_open(
            operator=operator_a,
            customer=customer,
            category="noise",
            summary="x",
            channel="phone",
            acting_user=people["care"],
        )
    assert "category" in error.value.fields


def test_the_request_list_does_not_grow_its_queries_with_its_rows(client_for, operator_a, people, complaint):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = client_for(people["care"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("servicing:request_list")).status_code == 200
    for number in range(8):
        complaint_open(
            operator=operator_a,
            customer=complaint.customer,
            category="quality",
            summary=f"Brown water {number}",
            channel="phone",
            acting_user=people["care"],
        )
    with CaptureQueriesContext(connection) as many:
        body = client.get(reverse("servicing:request_list")).content.decode()
    assert body.count('data-testid="request-row-') == 9
    assert len(many.captured_queries) == len(few.captured_queries)
