"""Role checks for views: a page for other roles is a 403 with a clear message, never a silent redirect."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def require_roles(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.access.has_role(*roles):  # type: ignore[attr-defined]
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def request_access(request: HttpRequest) -> Any:
    """The request's workspace (mita.core.access.Access), set by the middleware or the API's authentication."""
    return request.access  # type: ignore[attr-defined]


def require_api_roles(request: HttpRequest, *roles: str) -> Any:
    """For API endpoints: the request's workspace if its user holds one of `roles` there, else a 403."""
    access = request_access(request)
    if not access.has_role(*roles):
        raise PermissionDenied
    return access
