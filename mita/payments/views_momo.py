"""MTN MoMo pages: the callback MTN calls (a hint, confirmed with MTN), and a cashier's "request payment by MoMo".

Wire with path("payments/momo/", include("mita.payments.views_momo")): the URL names are momo:callback,
momo:request and momo:check.
"""

import json
import logging
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError, NotFound, PermissionDenied
from mita.core.permissions import require_roles
from mita.core.tenancy import get_for_access_or_404
from mita.payments.models_momo import MomoRequest
from mita.payments.momo import (
    callback_source_ip,
    momo_callback_authorise,
    momo_callback_receive,
    momo_confirm,
    request_to_pay,
)

logger = logging.getLogger(__name__)

# Who may ask a customer to pay by MoMo at the counter or in the field.
MOMO_REQUEST_ROLES = ("cashier", "revenue_collector", "treasurer", "operator_admin")


@csrf_exempt
def momo_callback(request: HttpRequest, operator_id: int, secret: str) -> HttpResponse:
    """MTN's callback for a request-to-pay (PUT or POST, sent once). It only tells us to ask MTN: the request's
    status is confirmed with GET requesttopay/{referenceId} before anything is recorded."""
    try:
        config = momo_callback_authorise(
            operator_id=operator_id, secret=secret, source_ip=callback_source_ip(request.META)
        )
    except NotFound:
        raise Http404 from None
    except PermissionDenied:
        return HttpResponseForbidden("This address may not send MoMo callbacks.", content_type="text/plain")
    if request.method not in ("POST", "PUT"):
        return HttpResponseNotAllowed(["POST", "PUT"])
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        body = None
    reference_ids = [
        request.GET.get("referenceId", ""),
        request.headers.get("X-Reference-Id", ""),
        body.get("referenceId", "") if isinstance(body, dict) else "",
    ]
    confirmed = momo_callback_receive(config=config, reference_ids=reference_ids, body=body)
    # Answer 200 whatever we made of it: MTN never sends a callback twice, and the poller has the last word.
    return JsonResponse({"received": True, "matched": len(confirmed)})


class MomoRequestForm(forms.Form):
    account_reference = forms.CharField(label=gettext_lazy("Customer account"), max_length=64)
    amount = forms.DecimalField(label=gettext_lazy("Amount"), min_value=Decimal("1"), max_digits=16, decimal_places=2)
    payer_phone = forms.CharField(
        label=gettext_lazy("Payer's MoMo number"), max_length=20, help_text=gettext_lazy("e.g. 0788 123 456")
    )


def _operator(request: HttpRequest) -> object:
    operator = request.access.operator  # type: ignore[attr-defined]
    if operator is None:  # a regulator or district workspace takes no payments
        raise Http404
    return operator


@login_required
@require_roles(*MOMO_REQUEST_ROLES)
def momo_request_page(request: HttpRequest) -> HttpResponse:
    """Ask a customer to approve a payment on their phone; the page lists the operator's latest requests."""
    operator = _operator(request)
    form = MomoRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            momo = request_to_pay(
                operator=operator,
                account_reference=form.cleaned_data["account_reference"],
                amount=form.cleaned_data["amount"],
                payer_phone=form.cleaned_data["payer_phone"],
                acting_user=request.user,
            )
        except DomainError as error:
            for field, errors in error.fields.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, str(error.message))
        else:
            if momo.status == MomoRequest.Status.FAILED:
                messages.error(request, _("MTN refused the request: %(reason)s") % {"reason": momo.reason_code})
            else:
                messages.success(
                    request,
                    _("The payer's phone asks them to approve %(amount)s %(currency)s for %(account)s.")
                    % {"amount": momo.amount, "currency": momo.currency, "account": momo.external_id},
                )
            return redirect("momo:request")
    recent = MomoRequest.objects.for_operator(operator).select_related("payment__receipt")[:20]
    return render(request, "payments/momo_request.html", {"form": form, "recent": recent})


@login_required
@require_POST
def momo_check(request: HttpRequest, momo_id: int) -> HttpResponse:
    """Ask MTN now how a request stands (the payer says they approved it)."""
    momo = get_for_access_or_404(MomoRequest.objects.all(), request.access, pk=momo_id)  # type: ignore[attr-defined]
    if not request.access.has_role(*MOMO_REQUEST_ROLES):  # type: ignore[attr-defined]
        return HttpResponseForbidden()
    momo = momo_confirm(reference_id=momo.reference_id)
    if momo.status == MomoRequest.Status.PENDING:
        messages.info(request, _("MTN still waits for the payer to approve."))
    else:
        messages.success(request, _("MTN says: %(status)s.") % {"status": momo.get_status_display()})
    return redirect("momo:request")


app_name = "momo"
urlpatterns = [
    path("callback/<int:operator_id>/<str:secret>/", momo_callback, name="callback"),
    path("request/", momo_request_page, name="request"),
    path("requests/<int:momo_id>/check/", momo_check, name="check"),
]
