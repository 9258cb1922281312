"""Reads of the corrections pages: an operator's penalty rules and penalties, a bill's cancellation and rebill."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mita.accounts.roles import Role
from mita.billing.models import Bill, BillCancellation, Penalty, PenaltyRule
from mita.core.access import Access

RULE_WRITE_ROLES = (Role.OPERATOR_ADMIN,)
PENALTY_RUN_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER)
CANCEL_ROLES = (Role.OPERATOR_ADMIN,)
REBILL_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER)


def operator_of(access: Access) -> Any:
    """The operator a corrections page works for; a regulator's or district's workspace has none (404)."""
    if access.operator is None:
        raise Http404
    return access.operator


def rules_of(*, access: Access) -> QuerySet[PenaltyRule]:
    return PenaltyRule.objects.filter(operator=operator_of(access)).order_by("days_after_due", "pk")


def rule_get_for_access(*, access: Access, rule_id: int) -> PenaltyRule:
    rule = rules_of(access=access).filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule


def penalties_of(*, access: Access, bill: Bill | None = None) -> QuerySet[Penalty]:
    penalties = Penalty.objects.filter(operator=operator_of(access)).select_related("bill", "rule")
    if bill is not None:
        penalties = penalties.filter(bill=bill)
    return penalties.order_by("-on", "-pk")


def own_bill(*, access: Access, bill_id: int) -> Bill:
    """A bill of the workspace's operator (another operator's, or none in an oversight workspace: 404)."""
    bill = Bill.objects.filter(operator=operator_of(access), pk=bill_id).select_related("operator", "cycle").first()
    if bill is None:
        raise Http404
    return bill


def bill_corrections(bill: Bill) -> dict[str, Any]:
    """What the bill page shows of corrections: its cancellation (and rebill), what it replaces, its penalties."""
    cancellation = BillCancellation.objects.filter(bill=bill).select_related("rebill", "cancelled_by").first()
    replaces = BillCancellation.objects.filter(rebill=bill).select_related("bill").first()
    return {
        "cancellation": cancellation,
        "replaces": replaces,
        "penalties": list(Penalty.objects.filter(bill=bill).select_related("rule").order_by("on", "pk")),
    }
