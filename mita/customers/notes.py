"""Service notes: the customer's file of visits, calls and promises, written from the 360 page or the API."""

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.customers.models import Connection, Customer, ServiceNote
from mita.customers.services import CustomerError

NOTE_MAX_LENGTH = 2000


@transaction.atomic
def service_note_add(
    *, customer: Customer, text: str, acting_user: Any, connection: Connection | None = None
) -> ServiceNote:
    """Append a note to the customer's file; a connection named must be one of the customer's."""
    text = (text or "").strip()
    if not text:
        raise CustomerError(_("Write the note."), code="note_required", fields={"text": [_("Required.")]})
    if len(text) > NOTE_MAX_LENGTH:
        raise CustomerError(
            _("A note has at most %(max)d characters; this one has %(count)d.")
            % {"max": NOTE_MAX_LENGTH, "count": len(text)},
            code="note_too_long",
            fields={"text": [_("At most %(max)d characters.") % {"max": NOTE_MAX_LENGTH}]},
        )
    if connection is not None and (
        connection.customer_id != customer.pk or connection.operator_id != customer.operator_id
    ):
        raise CustomerError(
            _("Choose one of this customer's connections, or none."),
            code="connection_invalid",
            fields={"connection": [_("Not this customer's connection.")]},
        )
    note = ServiceNote.objects.create(
        operator_id=customer.operator_id,
        customer=customer,
        connection=connection,
        text=text,
        author=acting_user if getattr(acting_user, "pk", None) else None,
    )
    audit_record(
        actor=acting_user,
        action="customer.note_added",
        target=customer,
        detail={"note": note.pk, "connection": connection.number if connection else ""},
    )
    return note


def service_notes_of(*, customer: Customer) -> QuerySet[ServiceNote]:
    """The customer's notes, newest first."""
    return (
        ServiceNote.objects.filter(operator_id=customer.operator_id, customer=customer)
        .select_related("author", "connection")
        .order_by("-created_at", "-pk")
    )
