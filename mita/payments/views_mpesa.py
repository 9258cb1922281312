"""The M-Pesa callbacks Safaricom calls: paybill (C2B) validation and confirmation, and the STK push result.

Wire with path("payments/daraja/", include("mita.payments.views_mpesa")). Not under a path holding "mpesa": Daraja
refuses callback URLs holding M-Pesa, Safaricom, exe, exec, cmd, sql or query. The URL names are
mpesa:c2b_validation, mpesa:c2b_confirmation and mpesa:stk_callback; each URL carries the operator's callback secret.

Every answer is JSON. A wrong secret is 404, an address not allowed 403, a body we cannot read 400 (nothing saved),
the same TransID or receipt number with another amount or account 409 (written to the audit log); docs/mpesa.md.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from mita.core.errors import DomainError
from mita.integrations.mpesa.protocol import (
    PayloadError,
    confirmation_reply,
    loads,
    parse_c2b,
    parse_stk_callback,
    validation_reply,
)
from mita.payments.models_mpesa import MpesaChannelConfig
from mita.payments.mpesa import (
    c2b_confirm,
    c2b_validate,
    mpesa_callback_authorise,
    mpesa_callback_source_ip,
    stk_result_apply,
)

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


app_name = "mpesa"
urlpatterns = [
    path("<str:secret>/c2b/validation/", c2b_validation, name="c2b_validation"),
    path("<str:secret>/c2b/confirmation/", c2b_confirmation, name="c2b_confirmation"),
    path("<str:secret>/stk/result/", stk_callback, name="stk_callback"),
]
