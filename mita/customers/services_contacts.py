"""Changing a customer's phones or e-mail: only with a code sent by SMS to their current phone, read back to the
agent; or, for a customer who lost that phone, by an operator admin with a written reason (docs/customers.md)."""

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mita.accounts.models import Membership
from mita.accounts.roles import Role
from mita.core.audit import audit_record
from mita.core.errors import PermissionDenied, Throttled
from mita.customers.models import ContactChange, Customer
from mita.customers.services import CODE_GUARDED_FIELDS, CustomerError, contacts_apply, contacts_clean
from mita.notifications.services import message_queue

CODE_TTL = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 5
STARTS_PER_HOUR = 5  # codes sent to one customer's phone in an hour


def _code_hash(change_id: int, code: str) -> str:
    return salted_hmac("mita.customers.contact_change", f"{change_id}:{code}", secret=settings.SECRET_KEY).hexdigest()


def _wanted(customer: Customer, changes: dict[str, Any]) -> dict[str, Any]:
    """The new phones and e-mail, checked and normalised, and only those that differ from today's."""
    unknown = sorted(set(changes) - set(CODE_GUARDED_FIELDS))
    if unknown:
        raise CustomerError(
            _("Only the phones and the e-mail change this way; change “%(field)s” directly.") % {"field": unknown[0]},
            code="field_not_editable",
        )
    cleaned = contacts_clean(operator=customer.operator, values=changes)
    wanted = {field: value for field, value in cleaned.items() if getattr(customer, field) != value}
    if not wanted:
        raise CustomerError(
            _("These are the customer's phones and e-mail already: change at least one."),
            code="contact_unchanged",
            fields={field: [_("Unchanged.")] for field in cleaned} or {"phone": [_("Unchanged.")]},
        )
    return wanted


@transaction.atomic
def contact_change_start(*, customer: Customer, changes: dict[str, Any], acting_user: Any) -> ContactChange:
    """Keep the new values aside and text a six-digit code to the customer's current phone.

    A newer request replaces one still waiting (its code stops working). Nothing on the customer changes until
    the code comes back (contact_change_confirm).
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    wanted = _wanted(customer, changes)
    now = timezone.now()
    recent = ContactChange.objects.filter(
        customer=customer, sent_to__gt="", created_at__gte=now - datetime.timedelta(hours=1)
    ).count()
    if recent >= STARTS_PER_HOUR:
        raise Throttled(
            _("Codes were sent to this customer's phone %(count)s times in the last hour; wait before asking again.")
            % {"count": recent},
            code="contact_change_throttled",
        )
    ContactChange.objects.filter(customer=customer, status=ContactChange.Status.PENDING).update(
        status=ContactChange.Status.SUPERSEDED
    )
    change = ContactChange.objects.create(
        operator=customer.operator,
        customer=customer,
        changes=wanted,
        previous={field: getattr(customer, field) for field in wanted},
        sent_to=customer.phone,
        expires_at=now + CODE_TTL,
        requested_by=acting_user,
    )
    code = f"{secrets.randbelow(10**6):06d}"
    change.code_hash = _code_hash(change.pk, code)
    change.save(update_fields=["code_hash"])
    message_queue(
        channel="sms",
        to=customer.phone,
        template="customers.contact_change_code",
        context={"operator": customer.operator.name, "code": code, "minutes": int(CODE_TTL.total_seconds() // 60)},
        language=customer.language,
        operator=customer.operator,
    )
    audit_record(
        actor=acting_user,
        action="customer.contact_change_requested",
        target=customer,
        after=wanted,
        detail={"change": change.pk, "code_sent_to": customer.phone},
    )
    return change


def contact_change_confirm(*, change: ContactChange, code: str, acting_user: Any) -> ContactChange:
    """Apply the pending change if the code is right. A wrong code counts (five at most) and is kept counted."""
    with transaction.atomic():
        change, error = _confirm(change=change, code=code, acting_user=acting_user)
    if error is not None:  # raised after the commit, so the used-up try stays counted
        raise error
    return change


def _confirm(*, change: ContactChange, code: str, acting_user: Any) -> tuple[ContactChange, CustomerError | None]:
    change = ContactChange.objects.select_for_update().select_related("customer").get(pk=change.pk)
    if change.status != ContactChange.Status.PENDING:
        return change, CustomerError(
            _("This contact change is no longer waiting for a code (%(status)s). Start a new one if needed.")
            % {"status": change.get_status_display()},
            code="contact_change_closed",
            status=409,
        )
    if change.expires_at <= timezone.now():
        return change, CustomerError(
            _("The code has expired (codes last 10 minutes). Start the change again to send a new code."),
            code="contact_change_expired",
            fields={"code": [_("Expired.")]},
        )
    code = "".join((code or "").split())
    if not constant_time_compare(change.code_hash, _code_hash(change.pk, code)):
        change.attempts += 1
        fields = ["attempts"]
        left = MAX_ATTEMPTS - change.attempts
        if left <= 0:
            change.status = ContactChange.Status.FAILED
            fields.append("status")
        change.save(update_fields=fields)
        if left <= 0:
            audit_record(
                actor=acting_user,
                action="customer.contact_change_failed",
                target=change.customer,
                detail={"change": change.pk, "attempts": change.attempts},
            )
            return change, CustomerError(
                _("Too many wrong codes: this change is cancelled. Start again to send a new code."),
                code="contact_change_failed",
                fields={"code": [_("Too many wrong codes.")]},
            )
        message = ngettext("Wrong code. %(left)d try left.", "Wrong code. %(left)d tries left.", left) % {"left": left}
        return change, CustomerError(message, code="contact_code_wrong", fields={"code": [message]})
    customer = Customer.objects.select_for_update().get(pk=change.customer_id)
    contacts_apply(
        customer=customer,
        cleaned=dict(change.changes),
        acting_user=acting_user,
        action="customer.contact_changed",
        detail={"change": change.pk, "confirmed_by": "code sent to " + change.sent_to},
    )
    change.status = ContactChange.Status.APPLIED
    change.applied_at = timezone.now()
    change.save(update_fields=["status", "applied_at"])
    return change, None


@transaction.atomic
def contact_change_without_code(
    *, customer: Customer, changes: dict[str, Any], reason: str, acting_user: Any
) -> ContactChange:
    """For a customer who lost their phone: an operator admin applies the change at once, with a written reason;
    the old phone gets a notice (it may be in a thief's hands, or found again)."""
    if (
        not Membership.objects.active()
        .filter(user=acting_user, role=Role.OPERATOR_ADMIN, operator_id=customer.operator_id)
        .exists()
    ):
        raise PermissionDenied(
            _("Only an operator admin may change contacts without the customer's code."), code="admin_only"
        )
    reason = (reason or "").strip()
    if not reason:
        raise CustomerError(
            _("Write why the change is made without the customer's code (e.g. the phone was stolen)."),
            code="reason_required",
            fields={"reason": [_("Required.")]},
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    wanted = _wanted(customer, changes)
    old_phone = customer.phone
    ContactChange.objects.filter(customer=customer, status=ContactChange.Status.PENDING).update(
        status=ContactChange.Status.SUPERSEDED
    )
    now = timezone.now()
    change = ContactChange.objects.create(
        operator=customer.operator,
        customer=customer,
        changes=wanted,
        previous={field: getattr(customer, field) for field in wanted},
        expires_at=now,
        status=ContactChange.Status.APPLIED_WITHOUT_CODE,
        reason=reason[:300],
        requested_by=acting_user,
        applied_at=now,
    )
    contacts_apply(
        customer=customer,
        cleaned=wanted,
        acting_user=acting_user,
        action="customer.contact_changed_without_code",
        detail={"change": change.pk, "reason": reason},
    )
    message_queue(
        channel="sms",
        to=old_phone,
        template="customers.contact_changed_without_code",
        context={"operator": customer.operator.name, "number": customer.number},
        language=customer.language,
        operator=customer.operator,
    )
    return change
