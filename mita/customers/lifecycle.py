"""Changes in a connection's life (minimal version on the servicing branch: h-ops writes the real one, with a status
history; the merger keeps theirs). Same signature, so servicing works with either."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.customers.models import Connection
from mita.customers.services import CustomerError


@transaction.atomic
def connection_status_change(*, connection: Connection, status: str, reason: str, acting_user: Any) -> Connection:
    """Set a connection pending, active, disconnected or terminated, with the reason; audited."""
    if status not in Connection.Status.values:
        raise CustomerError(_("Unknown connection status."), code="status_invalid", fields={"status": [_("Unknown.")]})
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    previous = connection.status
    if previous == status:
        return connection
    connection.status = status
    connection.save(update_fields=["status"])
    audit_record(
        actor=acting_user,
        action="connection.status_changed",
        target=connection,
        before={"status": previous},
        after={"status": status},
        detail={"reason": reason},
    )
    return connection
