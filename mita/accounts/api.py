"""API for tokens and the signed-in user."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from mita.accounts import services

router = Router(tags=["accounts"])


class TokenIn(Schema):
    phone: str
    password: str
    name: str = "API"


class TokenOut(Schema):
    token: str


class WorkspaceOut(Schema):
    key: str
    scope: str
    label: str
    roles: list[str]


class MeOut(Schema):
    id: int
    phone: str
    name: str
    email: str
    language: str
    workspace: WorkspaceOut | None
    workspaces: list[WorkspaceOut]


@router.post(
    "/auth/token", auth=None, response={200: TokenOut}, summary="Exchange a phone and password for a bearer token"
)
def token_create(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    user = services.login_authenticate(
        phone=payload.phone, password=payload.password, request=request, ip=request.META.get("REMOTE_ADDR")
    )
    _token, raw = services.api_token_create(user=user, name=payload.name)
    return {"token": raw}


def _workspace_out(workspace: Any) -> dict[str, object]:
    return {
        "key": workspace.key,
        "scope": workspace.scope,
        "label": workspace.label,
        "roles": sorted(workspace.roles),
    }


@router.get("/me", response=MeOut, summary="The signed-in user and their workspaces")
def me(request: HttpRequest) -> dict[str, object]:
    access = request.access  # type: ignore[attr-defined]
    user: Any = request.user
    return {
        "id": user.pk,
        "phone": user.phone,
        "name": user.name,
        "email": user.email,
        "language": user.language,
        "workspace": _workspace_out(access.workspace) if access.workspace else None,
        "workspaces": [_workspace_out(w) for w in access.workspaces],
    }
