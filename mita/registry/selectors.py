"""Reads of organisations with the tenancy rules applied, and whether an operator may bill."""

import dataclasses
import datetime

from django.conf import settings
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from mita.core.access import Access
from mita.registry.models import Boundary, GracePeriod, Licence, Operator


def operators_visible_to(access: Access) -> QuerySet[Operator]:
    operator_ids = access.operator_ids()
    operators = Operator.objects.all()
    return operators if operator_ids is None else operators.filter(pk__in=operator_ids)


def districts() -> QuerySet[Boundary]:
    return Boundary.objects.districts().select_related("parent")


@dataclasses.dataclass(frozen=True)
class BillingPermission:
    allowed: bool
    reason: str  # why not, in the user's language; empty when allowed
    licence: Licence | None = None
    grace_period: GracePeriod | None = None


def operator_billing_permission(operator: Operator, on: datetime.date) -> BillingPermission:
    """May the operator bill on this day: its licence is valid that day, or a grace period covers it."""
    licences = list(Licence.objects.filter(operator=operator).prefetch_related("grace_periods"))
    for licence in licences:
        if licence.is_valid_on(on):
            return BillingPermission(allowed=True, reason="", licence=licence)
    for licence in licences:
        for grace in licence.grace_periods.all():
            if grace.covers(on):
                return BillingPermission(allowed=True, reason="", licence=licence, grace_period=grace)
    if not licences:
        reason = _("%(operator)s has no licence on record.") % {"operator": operator}
    else:
        licence = max(licences, key=lambda item: item.expires_on)
        reason = _(
            "%(operator)s may not bill on %(day)s: licence %(number)s is %(status)s (expiry %(expiry)s) "
            "and no grace period covers that day."
        ) % {
            "operator": operator,
            "day": on.isoformat(),
            "number": licence.number,
            "status": licence.get_status_display().lower(),
            "expiry": licence.expires_on.isoformat(),
        }
    return BillingPermission(allowed=False, reason=reason)


def operator_may_bill(operator: Operator, on: datetime.date) -> bool:
    """True while the operator's licence is valid or a grace period covers the day; billing refuses otherwise."""
    return operator_billing_permission(operator, on).allowed


def operators_with_licences(access: Access, *, today: datetime.date) -> QuerySet[Operator]:
    """Operators the user oversees, annotated with their latest licence and the grace period covering today."""
    latest = Licence.objects.filter(operator=OuterRef("pk")).order_by("-expires_on")
    return operators_visible_to(access).annotate(
        licence_number=Subquery(latest.values("number")[:1]),
        licence_status=Subquery(latest.values("status")[:1]),
        licence_expires_on=Subquery(latest.values("expires_on")[:1]),
        grace_until=Max(
            "licences__grace_periods__ends_on",
            filter=Q(licences__grace_periods__starts_on__lte=today, licences__grace_periods__ends_on__gte=today),
        ),
    )


def licence_warning(operator: Operator, *, today: datetime.date) -> str:
    """What the regulator should look at for this operator's licence (annotated by operators_with_licences)."""
    status = getattr(operator, "licence_status", None)
    expires_on = getattr(operator, "licence_expires_on", None)
    grace_until = getattr(operator, "grace_until", None)
    if status is None:
        return _("No licence on record")
    if status != Licence.Status.VALID or (expires_on is not None and expires_on < today):
        if grace_until:
            return _("Licence not valid; grace period until %(day)s") % {"day": grace_until.isoformat()}
        return _("Licence not valid: may not bill")
    days = (expires_on - today).days if expires_on else None
    if days is not None and days <= settings.MITA_EXPIRY_WARNING_DAYS:
        return _("Licence expires in %(days)d days") % {"days": days}
    return ""


def licences_expiring(access: Access, *, today: datetime.date) -> QuerySet[Licence]:
    """Valid licences of overseen operators that expire within the warning window."""
    horizon = today + datetime.timedelta(days=settings.MITA_EXPIRY_WARNING_DAYS)
    licences = Licence.objects.filter(
        status=Licence.Status.VALID, expires_on__gte=today, expires_on__lte=horizon, operator__isnull=False
    ).select_related("operator")
    operator_ids = access.operator_ids()
    return licences if operator_ids is None else licences.filter(operator_id__in=operator_ids)
