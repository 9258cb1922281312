"""The complaint type: a leak, no supply, poor quality, a billing dispute or anything else; no money moves.

received → assigned (customer care names a technician) → in progress → resolved (by the technician, saying how)
→ closed (customer care, once the customer agrees); or rejected (customer care, saying why) before work starts.
"""

import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mita.accounts.roles import Role
from mita.servicing.models import ServiceRequest
from mita.servicing.services import ServicingError, request_create
from mita.servicing.workflow import RequestType, State, Transition, register_type

KEY = "complaint"
CATEGORIES = {
    "leak": gettext_lazy("Leak"),
    "no_supply": gettext_lazy("No supply"),
    "quality": gettext_lazy("Quality"),
    "billing_dispute": gettext_lazy("Billing dispute"),
    "other": gettext_lazy("Other"),
}
CARE = frozenset({Role.OPERATOR_ADMIN, Role.CUSTOMER_CARE})
FIELD = frozenset({Role.OPERATOR_ADMIN, Role.TECHNICIAN})
DAY = datetime.timedelta(days=1)

COMPLAINT = RequestType(
    key=KEY,
    label=gettext_lazy("Complaint"),
    initial="received",
    create_roles=CARE,
    states=(
        State("received", gettext_lazy("Received"), due=DAY),
        State("assigned", gettext_lazy("Assigned"), due=DAY),
        State("in_progress", gettext_lazy("In progress"), due=2 * DAY),
        State("resolved", gettext_lazy("Resolved"), due=2 * DAY),
        State("closed", gettext_lazy("Closed"), final=True),
        State("rejected", gettext_lazy("Rejected"), final=True),
    ),
    transitions=(
        Transition("assign", gettext_lazy("Assign a technician"), ("received",), "assigned", CARE, assigns=True),
        Transition("start", gettext_lazy("Start the work"), ("assigned",), "in_progress", FIELD, assignee_only=True),
        Transition(
            "resolve",
            gettext_lazy("Resolved"),
            ("in_progress",),
            "resolved",
            FIELD,
            assignee_only=True,
            required=("note",),
        ),
        Transition(
            "reopen", gettext_lazy("Reopen"), ("resolved",), "in_progress", CARE, required=("note",), waits=False
        ),
        Transition("close", gettext_lazy("Close"), ("resolved",), "closed", CARE),
        Transition(
            "reject",
            gettext_lazy("Reject"),
            ("received", "assigned"),
            "rejected",
            CARE,
            required=("note",),
            waits=False,
        ),
    ),
)
register_type(COMPLAINT)


@transaction.atomic
def complaint_open(
    *,
    operator: Any,
    customer: Any,
    category: str,
    summary: str,
    channel: str,
    acting_user: Any,
    connection: Any = None,
    details: str = "",
) -> ServiceRequest:
    """Record a customer's complaint; it waits for customer care to assign a technician."""
    if category not in CATEGORIES:
        raise ServicingError(
            _("Choose what the complaint is about: %(choices)s.") % {"choices": ", ".join(CATEGORIES)},
            code="category_invalid",
            fields={"category": [_("Unknown category.")]},
        )
    return request_create(
        operator=operator,
        type=KEY,
        customer=customer,
        connection=connection,
        channel=channel,
        summary=summary,
        details=details,
        data={"category": category},
        acting_user=acting_user,
    )
