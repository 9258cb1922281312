"""The indigent register: reads (the register a workspace sees, who is on it on a day) and writes (register a
household, end its registration), each write audited. The bill run asks `indigent_customer_ids` (docs/customers.md)."""

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.access import Access
from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.customers.models import Connection, Customer, IndigentRegistration
from mita.customers.selectors import _operator_of

AUDITED = ["customer_id", "reference", "evidence", "valid_from", "valid_to", "end_reason"]


class IndigentError(DomainError):
    """Bad input to the indigent register: says which field and what to fix."""


# Reads ------------------------------------------------------------------------------------------------------------


def valid_on(day: datetime.date) -> Q:
    """Registrations in force on a day (their first day on or before it, their last day, if any, on or after it)."""
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def indigent_customer_ids(*, operator_id: int, on: datetime.date) -> set[int]:
    """The customers on the operator's indigent register on a day: what a bill run of a cycle ending that day uses."""
    return set(
        IndigentRegistration.objects.filter(valid_on(on), operator_id=operator_id).values_list("customer_id", flat=True)
    )


def indigent_register_visible_to(
    *, access: Access, on: datetime.date | None = None, customer: Customer | None = None
) -> QuerySet[IndigentRegistration]:
    """The operator's register, the latest first; `on` keeps the registrations in force that day."""
    registrations = IndigentRegistration.objects.filter(operator=_operator_of(access)).select_related(
        "customer", "registered_by", "ended_by"
    )
    if on is not None:
        registrations = registrations.filter(valid_on(on))
    if customer is not None:
        registrations = registrations.filter(customer=customer)
    return registrations.order_by("-valid_from", "-pk")


def indigent_get_for_access(*, access: Access, indigent_id: int) -> IndigentRegistration:
    """One registration of the user's operator, or 404."""
    registration = indigent_register_visible_to(access=access).filter(pk=indigent_id).first()
    if registration is None:
        raise Http404
    return registration


def customer_by_account(*, operator: Any, account: str) -> Customer | None:
    """The customer a number names: their customer number, or the number of one of their connections (the account
    the household knows from its bills), whatever its case."""
    account = (account or "").strip()
    if not account:
        return None
    customer = Customer.objects.filter(operator=operator, number__iexact=account).first()
    if customer is not None:
        return customer
    connection = Connection.objects.filter(operator=operator, number__iexact=account).select_related("customer").first()
    return connection.customer if connection is not None else None


# Writes -----------------------------------------------------------------------------------------------------------


def _overlapping(customer: Customer, start: datetime.date, end: datetime.date | None) -> IndigentRegistration | None:
    """A registration of the customer sharing a day with start..end (end None: open-ended)."""
    found = IndigentRegistration.objects.filter(customer=customer).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=start)
    )
    if end is not None:
        found = found.filter(valid_from__lte=end)
    return found.order_by("valid_from").first()


@transaction.atomic
def indigent_register(
    *,
    operator: Any,
    customer: Customer,
    reference: str,
    valid_from: datetime.date,
    acting_user: Any,
    evidence: str = "",
    valid_to: datetime.date | None = None,
) -> IndigentRegistration:
    """Put a household on the indigent register from `valid_from` (until `valid_to`, or until ended). Refused when
    the customer is already on it for one of those days: end or let that registration run out first."""
    if customer.operator_id != operator.pk:
        raise IndigentError(
            _("Choose one of your customers."), code="customer_invalid", fields={"customer": [_("Not found.")]}
        )
    problems: dict[str, list[str]] = {}
    reference = (reference or "").strip()
    if not reference:
        problems["reference"] = [_("Give the social register's number or the letter's reference.")]
    elif len(reference) > 120:
        problems["reference"] = [_("At most %(count)d characters.") % {"count": 120}]
    evidence = (evidence or "").strip()
    if len(evidence) > 500:
        problems["evidence"] = [_("At most %(count)d characters.") % {"count": 500}]
    if valid_to is not None and valid_to < valid_from:
        problems["valid_to"] = [_("On or after the first day.")]
    if problems:
        raise IndigentError(_("Please correct the registration."), code="indigent_invalid", fields=problems)
    Customer.objects.select_for_update().filter(pk=customer.pk).first()  # one registration at a time per household
    clash = _overlapping(customer, valid_from, valid_to)
    if clash is not None:
        raise Conflict(
            _("%(customer)s is already on the indigent register from %(start)s (reference %(reference)s).")
            % {"customer": customer.number, "start": clash.valid_from.isoformat(), "reference": clash.reference},
            code="already_registered",
            fields={"valid_from": [_("Overlaps a registration already on the register.")]},
        )
    registration = IndigentRegistration.objects.create(
        operator=operator,
        customer=customer,
        reference=reference,
        evidence=evidence,
        valid_from=valid_from,
        valid_to=valid_to,
        registered_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    audit_record(
        actor=acting_user,
        action="customers.indigent_registered",
        target=registration,
        after=snapshot(registration, AUDITED),
    )
    return registration


@transaction.atomic
def indigent_end(
    *, registration: IndigentRegistration, acting_user: Any, valid_to: datetime.date | None = None, reason: str = ""
) -> IndigentRegistration:
    """End a registration: its last day is `valid_to` (today when not given), never before its first day nor after
    the last day it already had. Bills already issued keep the allowance they were given."""
    registration = IndigentRegistration.objects.select_for_update().select_related("customer").get(pk=registration.pk)
    if registration.ended_at is not None:
        raise Conflict(_("This registration has already been ended."), code="already_ended")
    day = valid_to or timezone.localdate()
    reason = (reason or "").strip()
    if day < registration.valid_from:
        raise IndigentError(
            _("The last day cannot be before the first day (%(day)s).") % {"day": registration.valid_from.isoformat()},
            code="indigent_invalid",
            fields={"valid_to": [_("On or after the first day.")]},
        )
    if registration.valid_to is not None and day > registration.valid_to:
        raise IndigentError(
            _("The registration already ends on %(day)s.") % {"day": registration.valid_to.isoformat()},
            code="indigent_invalid",
            fields={"valid_to": [_("On or before the last day it has.")]},
        )
    if len(reason) > 300:
        raise IndigentError(
            _("Please correct the registration."),
            code="indigent_invalid",
            fields={"reason": [_("At most %(count)d characters.") % {"count": 300}]},
        )
    before = snapshot(registration, AUDITED)
    registration.valid_to = day
    registration.end_reason = reason
    registration.ended_by = acting_user if getattr(acting_user, "pk", None) else None
    registration.ended_at = timezone.now()
    registration.save(update_fields=["valid_to", "end_reason", "ended_by", "ended_at"])
    audit_record(
        actor=acting_user,
        action="customers.indigent_ended",
        target=registration,
        before=before,
        after=snapshot(registration, AUDITED),
    )
    return registration
