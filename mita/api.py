"""The JSON API at /api/v1/: one NinjaAPI, each app's router, one error shape."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from mita.accounts.api import router as accounts_router
from mita.core.api import router as core_router
from mita.core.errors import DomainError
from mita.notifications.api import router as notifications_router
from mita.payments.api import router as payments_router
from mita.payments.api_cashier import router as cashier_router
from mita.payments.api_mpesa import router as mpesa_router
from mita.registry.api import router as registry_router
from mita.registry.api_access import bearer_authenticate


class BearerToken(HttpBearer):
    """`Authorization: Bearer mita_...` from POST /api/v1/auth/token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # The token and its workspaces, kept a few seconds per process (mita/registry/api_access.py).
        return bearer_authenticate(request, token)


api = NinjaAPI(
    title="Mita API",
    version="1",
    description="Customer management and billing for rural water and mini-grid operators. "
    "Authenticate with a bearer token from POST /api/v1/auth/token, or with the browser session. "
    "Choose the workspace with the X-Mita-Workspace header (e.g. operator:12); errors are "
    '{"error": {"code", "message", "fields"}}.',
    auth=[BearerToken(), SessionAuth()],
    urls_namespace="api",
    docs_url="/docs",
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, fields: dict[str, Any] | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message, "fields": fields or {}}}, status=status
    )


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return api.create_response(request, error.as_dict(), status=error.status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for problem in error.errors:
        location = [str(part) for part in problem.get("loc", []) if part not in ("body", "query", "path", "payload")]
        fields.setdefault(".".join(location) or "body", []).append(str(problem.get("msg", "invalid")))
    message = "; ".join(f"{name}: {', '.join(msgs)}" for name, msgs in fields.items())
    return error_response(request, 422, "invalid", f"The request is not valid. {message}", fields)


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return error_response(
        request,
        401,
        "unauthenticated",
        "Sign in, or send 'Authorization: Bearer <token>' from POST /api/v1/auth/token.",
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return error_response(request, error.status_code, "http_error", str(error))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, "forbidden", "Your role does not allow this.")


api.add_router("/", core_router)
api.add_router("/", accounts_router)
api.add_router("/", registry_router)
api.add_router("/", notifications_router)
api.add_router("/", payments_router)
api.add_router("/", mpesa_router)
api.add_router("/", "mita.payments.api_documents.router")  # statements and payment histories
api.add_router("/", cashier_router)
api.add_router("/", "mita.payments.api_deposits.router")  # deposits, refunds, charge-backs, charge cancellations
api.add_router("/", "mita.payments.api_online.router")  # payment links, online checkouts and their review
api.add_router("/", "mita.customers.api.router")  # customers and connections
api.add_router("/", "mita.payments.api_panels.router")  # miscellaneous charges from the customer 360 page
api.add_router("/", "mita.customers.api_details.router")  # routes, chambers, land parcels, contact changes
api.add_router("/", "mita.servicing.api.router")  # service requests, work orders, the fee schedule
api.add_router("/", "mita.stock.api.router")  # the materials catalogue
api.add_router("/", "mita.metering.api.router")  # meters, stores, installations, readings, reviews, field app
api.add_router("/", "mita.customers.api_imports.router")  # bulk import of customers and connections
api.add_router("/", "mita.customers.api_indigent.router")  # the indigent register
api.add_router("/", "mita.tariffs.api_quote.router")  # the tariff quote: any definition, any usage, no operator data
api.add_router("/", "mita.tariffs.api.router")  # tariffs, their versions, packages, a tariff's quote
api.add_router("/", "mita.billing.api.router")  # billing cycles, bill runs, bills
