"""M-Pesa pages: the callbacks Safaricom calls (paybill validation and confirmation, the STK push result), and the
cashier's "Request payment by M-Pesa" page that prompts a customer's phone and follows the push until it ends.

Wire with path("payments/daraja/", include("mita.payments.views_mpesa")). Not under a path holding "mpesa": Daraja
refuses callback URLs holding M-Pesa, Safaricom, exe, exec, cmd, sql or query. The callback URL names are
mpesa:c2b_validation, mpesa:c2b_confirmation and mpesa:stk_callback; each URL carries the operator's callback secret.
The cashier's pages are mpesa:stk_request, mpesa:stk_detail (its status part is polled by htmx) and mpesa:stk_check.

Every callback answer is JSON. A wrong secret is 404, an address not allowed 403, a body we cannot read 400 (nothing
saved), the same TransID or receipt number with another amount or account 409 (written to the audit log);
docs/mpesa.md.
"""

import functools
import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.integrations.mpesa.protocol import (
    PayloadError,
    confirmation_reply,
    loads,
    parse_c2b,
    parse_stk_callback,
    validation_reply,
)
from mita.payments.models_mpesa import MpesaChannelConfig, StkRequest
from mita.payments.mpesa import (
    ACCOUNT_REFERENCE_MAX,
    c2b_confirm,
    c2b_validate,
    mpesa_callback_authorise,
    mpesa_callback_source_ip,
    stk_push,
    stk_result_apply,
)
from mita.payments.mpesa_query import stk_check
from mita.payments.selectors import PAYMENT_ROLES
from mita.payments.selectors_mpesa import mpesa_prompts_available, stk_get_for_access, stk_requests_visible_to

logger = logging.getLogger(__name__)

Handler = Callable[[MpesaChannelConfig, Any], dict[str, Any]]


def _refusal(status: int, result_code: Any, code: str, message: str, fields: dict[str, list[str]]) -> JsonResponse:
    """Safaricom reads ResultCode and ResultDesc; people and our logs read the error."""
    return JsonResponse(
        {
            "ResultCode": result_code,
            "ResultDesc": message,
            "error": {"code": code, "message": message, "fields": fields},
        },
        status=status,
    )


def _callback(*, refusal_code: Any) -> Callable[[Handler], Callable[[HttpRequest, str], HttpResponse]]:
    """A callback view: the secret finds the operator (404), the caller's address is checked (403), the body is read
    (400); the handler's answer is sent as JSON, a domain error as its status. refusal_code is the ResultCode sent
    with a refusal."""

    def decorate(handler: Handler) -> Callable[[HttpRequest, str], HttpResponse]:
        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest, secret: str) -> HttpResponse:
            try:
                config = mpesa_callback_authorise(secret=secret, source_ip=mpesa_callback_source_ip(request.META))
            except DomainError as error:
                return _refusal(error.status, refusal_code, error.code, str(error.message), error.fields)
            if request.method != "POST":
                response = _refusal(405, refusal_code, "method_not_allowed", _("Send a POST."), {})
                response["Allow"] = "POST"
                return response
            try:
                return JsonResponse(handler(config, loads(request.body)))
            except RequestDataTooBig:
                return _refusal(400, refusal_code, "payload_too_large", _("The body is too large."), {})
            except PayloadError as error:
                logger.warning("M-Pesa %s for operator %s refused: %s", handler.__name__, config.operator_id, error)
                message = _("The body cannot be read: %(reason)s.") % {"reason": error}
                return _refusal(400, refusal_code, "payload_invalid", message, {error.field or "body": [str(error)]})
            except DomainError as error:
                logger.warning("M-Pesa %s for operator %s refused: %s", handler.__name__, config.operator_id, error)
                return _refusal(error.status, refusal_code, error.code, str(error.message), error.fields)

        return view

    return decorate


@_callback(refusal_code="C2B00016")
def c2b_validation(config: MpesaChannelConfig, body: Any) -> dict[str, Any]:
    """Safaricom asks whether to take a paybill payment: {"ResultCode": "0"} or a C2B000xx refusal, always 200."""
    return validation_reply(c2b_validate(config=config, notification=parse_c2b(body)))


@_callback(refusal_code=1)
def c2b_confirmation(config: MpesaChannelConfig, body: Any) -> dict[str, Any]:
    """A paybill payment has been made: record it once per TransID, matched or in suspense."""
    c2b_confirm(config=config, notification=parse_c2b(body))
    return confirmation_reply()


@_callback(refusal_code=1)
def stk_callback(config: MpesaChannelConfig, body: Any) -> dict[str, Any]:
    """The customer answered (or ignored) an STK push prompt."""
    stk_result_apply(config=config, result=parse_stk_callback(body))
    return {"ResultCode": 0, "ResultDesc": "Accepted"}


# The cashier's page ------------------------------------------------------------------------------------------------

# Who may prompt a customer's phone, at the counter or in the field.
STK_ROLES = PAYMENT_ROLES
RECENT_PUSHES = 20


class StkPushForm(forms.Form):
    account_reference = forms.CharField(
        label=gettext_lazy("Customer account"),
        max_length=64,
        help_text=gettext_lazy("The account number on the bill."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Customer's M-Pesa number"),
        max_length=30,
        help_text=gettext_lazy("The phone that will show the prompt, e.g. 0708 374 149."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"),
        min_value=Decimal("1"),
        max_digits=14,
        decimal_places=2,
        help_text=gettext_lazy("A whole amount: M-Pesa prompts take no cents."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    # Made when the form is shown: the same form sent twice (a double click) prompts the customer once.
    idempotency_key = forms.CharField(max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", str(uuid.uuid4()))
        super().__init__(*args, **kwargs)
        self.fields["account_reference"].help_text = _(
            "The account number on the bill (M-Pesa carries %(max)s characters at most)."
        ) % {"max": ACCOUNT_REFERENCE_MAX}

    def renew_key(self) -> None:
        """A new key: what the cashier sends next is a new prompt, not a replay of the one that failed."""
        data = cast(QueryDict, self.data).copy()
        data["idempotency_key"] = str(uuid.uuid4())
        self.data = data


def _operator(request: HttpRequest) -> Any:
    operator = request.access.operator  # type: ignore[attr-defined]
    if operator is None:  # a regulator or district workspace takes no payments
        raise Http404
    return operator


@login_required
@require_roles(*STK_ROLES)
def stk_request_page(request: HttpRequest) -> HttpResponse:
    """Prompt a customer's phone to pay an account by M-Pesa; then follow the push on its own page."""
    operator = _operator(request)
    prefill = {name: request.GET.get(name, "") for name in ("account_reference", "phone", "amount")}
    form = StkPushForm(request.POST or None, initial=prefill)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            stk = stk_push(
                operator=operator,
                account_reference=data["account_reference"],
                amount=data["amount"],
                phone=data["phone"],
                acting_user=request.user,
                idempotency_key=data["idempotency_key"],
            )
        except DomainError as error:
            form.renew_key()
            form_add_domain_error(form, error)
        else:
            return redirect("mpesa:stk_detail", stk_id=stk.pk)
    recent = stk_requests_visible_to(access=request.access)[:RECENT_PUSHES]  # type: ignore[attr-defined]
    return render(
        request,
        "payments/mpesa_stk.html",
        {"form": form, "recent": recent, "available": mpesa_prompts_available(operator=operator)},
        status=400 if form.errors else 200,
    )


def _stk_page(request: HttpRequest, stk: StkRequest) -> HttpResponse:
    """The push's page, or only its status part when htmx asks (the part polls itself while the push is pending)."""
    template = "payments/mpesa_stk_detail.html"
    if getattr(request, "htmx", False):
        template += "#status"
    return render(request, template, {"stk": stk})


@login_required
@require_roles(*STK_ROLES)
def stk_detail(request: HttpRequest, stk_id: int) -> HttpResponse:
    """One push: waiting for the customer, paid (with its receipt) or failed (with the reason)."""
    return _stk_page(request, stk_get_for_access(access=request.access, stk_id=stk_id))  # type: ignore[attr-defined]


@login_required
@require_roles(*STK_ROLES)
@require_POST
def stk_check_view(request: HttpRequest, stk_id: int) -> HttpResponse:
    """Ask M-Pesa now how the push stands (the customer says they paid, and the callback is late)."""
    stk = stk_get_for_access(access=request.access, stk_id=stk_id)  # type: ignore[attr-defined]
    stk = stk_check(stk_id=stk.pk)
    if not getattr(request, "htmx", False):
        if stk.status == StkRequest.Status.PENDING:
            messages.info(request, _("M-Pesa still waits for the customer to answer."))
        return redirect("mpesa:stk_detail", stk_id=stk.pk)
    return _stk_page(request, stk_get_for_access(access=request.access, stk_id=stk.pk))  # type: ignore[attr-defined]


app_name = "mpesa"
urlpatterns = [
    path("stk/", stk_request_page, name="stk_request"),
    path("stk/<int:stk_id>/", stk_detail, name="stk_detail"),
    path("stk/<int:stk_id>/check/", stk_check_view, name="stk_check"),
    path("<str:secret>/c2b/validation/", c2b_validation, name="c2b_validation"),
    path("<str:secret>/c2b/confirmation/", c2b_confirmation, name="c2b_confirmation"),
    path("<str:secret>/stk/result/", stk_callback, name="stk_callback"),
]
