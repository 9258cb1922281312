"""Reads of the outbox with the tenancy rules applied: an operator's messages to its admins, all to the regulator."""

from django.db.models import QuerySet
from django.http import Http404

from mita.core.access import Access
from mita.notifications.models import OutboxMessage

# Role names as mita.accounts.roles spells them: accounts sends through this app, so this app does not import it.
OPERATOR_ADMIN = "operator_admin"
REGULATOR_ADMIN = "regulator_admin"
# Who may read the outbox; everyone else gets a 403 (another operator's message stays a 404).
OUTBOX_ROLES = (OPERATOR_ADMIN, REGULATOR_ADMIN)


def outbox_messages_visible_to(
    *, access: Access, status: str = "", channel: str = "", to: str = ""
) -> QuerySet[OutboxMessage]:
    """The messages of the operators this workspace reads (every one, and Mita's own, for the regulator)."""
    messages = OutboxMessage.objects.visible_to(access).select_related("operator")
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    if to := to.strip():
        messages = messages.filter(to__icontains=to)
    return messages


def outbox_message_get_for_access(*, access: Access, message_id: int) -> OutboxMessage:
    """One message the workspace may read, or 404 (another operator's message does not exist for them)."""
    try:
        return outbox_messages_visible_to(access=access).get(pk=message_id)
    except OutboxMessage.DoesNotExist:
        raise Http404 from None


def outbox_failed_count(*, access: Access) -> int:
    return outbox_messages_visible_to(access=access, status=OutboxMessage.Status.FAILED).count()


def message_may_send_again(*, access: Access, message: OutboxMessage) -> bool:
    """Operator admins resend their operator's failed messages; the regulator's admins only Mita's own (no operator),
    since the regulator reads operators' data but does not act for them."""
    if not message.can_be_sent_again:
        return False
    if message.operator_id is None:
        return access.has_role(REGULATOR_ADMIN)
    operator = access.operator
    return access.has_role(OPERATOR_ADMIN) and operator is not None and operator.pk == message.operator_id
