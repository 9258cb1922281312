"""Reads of M-Pesa STK pushes for pages and the API: the operator's latest, and one by id (404 across operators)."""

from django.db.models import QuerySet
from django.http import Http404

from mita.core.access import Access
from mita.payments.models_mpesa import MpesaChannelConfig, StkRequest


def stk_requests_visible_to(*, access: Access) -> QuerySet[StkRequest]:
    """The STK pushes of the user's operator, newest first; none in a regulator or district workspace."""
    if access.operator is None:
        return StkRequest.objects.none()
    return (
        StkRequest.objects.filter(operator=access.operator)
        .select_related("payment__receipt", "requested_by")
        .order_by("-created_at", "-pk")
    )


def stk_get_for_access(*, access: Access, stk_id: int) -> StkRequest:
    """One STK push of the user's operator, or 404 (another operator's push does not exist for them)."""
    stk = stk_requests_visible_to(access=access).filter(pk=stk_id).first()
    if stk is None:
        raise Http404
    return stk


def mpesa_prompts_available(*, operator: object) -> bool:
    """Whether the operator can prompt customers' phones: M-Pesa set up, enabled, with the STK passkey."""
    config = MpesaChannelConfig.objects.filter(operator=operator).first()
    return config is not None and config.enabled and bool(config.passkey)
