"""Pages for signing in and out, invitations, forgotten passwords, languages, profiles and user management."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.accounts import selectors, services
from mita.accounts.forms import (
    ApiTokenForm,
    InvitationAcceptForm,
    InviteUserForm,
    LoginForm,
    PasswordResetConfirmForm,
    PasswordResetRequestForm,
)
from mita.accounts.models import Membership, User
from mita.accounts.roles import OPERATOR_ROLES, ROLE_SCOPE, Role, Scope
from mita.core.audit import audit_for, audit_record
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.core.tables import Column, table

USER_ADMIN_ROLES = (Role.OPERATOR_ADMIN, Role.REGULATOR_ADMIN)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def _with_language_cookie(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _sign_in(request: HttpRequest, user: User) -> HttpResponse:
    login(request, user, backend="mita.accounts.backends.PhoneBackend")
    audit_record(actor=user, action="user.logged_in", target=user)
    response = HttpResponseRedirect(_safe_next(request, reverse("core:home")))
    return _with_language_cookie(response, user.language)


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("core:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_authenticate(
                phone=form.cleaned_data["phone"],
                password=form.cleaned_data["password"],
                request=request,
                ip=request.META.get("REMOTE_ADDR"),
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
            return render(request, "accounts/login.html", {"form": form}, status=error.status)
        return _sign_in(request, user)
    return render(request, "accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(actor=request.user, action="user.logged_out", target=request.user)
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("accounts:login")


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_get_usable(raw_token=token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(request.POST or None, initial={"language": invitation.user.language})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                raw_token=token, password=form.cleaned_data["password"], language=form.cleaned_data["language"]
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Welcome to Mita. Your password is set."))
            return _sign_in(request, user)
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})


def password_reset_request_view(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_request(phone=form.cleaned_data["phone"])
        except DomainError as error:
            form_add_domain_error(form, error)
            return render(request, "accounts/password_reset_request.html", {"form": form}, status=error.status)
        messages.info(request, _("If this phone has an account, a code is on its way by SMS. It works for 10 minutes."))
        return redirect(reverse("accounts:password_reset_confirm") + "?phone=" + form.cleaned_data["phone"].lstrip())
    return render(request, "accounts/password_reset_request.html", {"form": form})


def password_reset_confirm_view(request: HttpRequest) -> HttpResponse:
    form = PasswordResetConfirmForm(request.POST or None, initial={"phone": request.GET.get("phone", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_confirm(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["password"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Your password is changed. Sign in with it."))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    """Switch language: for this device, and for the user's account when signed in (SMS too)."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Choose one of the offered languages."))
        return redirect(_safe_next(request, reverse("core:home")))
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    return _with_language_cookie(HttpResponseRedirect(_safe_next(request, reverse("core:home"))), language)


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _token, new_token = services.api_token_create(user=user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "new_token": new_token,
            "tokens": user.api_tokens.filter(revoked_at__isnull=True),
            "memberships": selectors.memberships_of(user=user).select_related("regulator", "district", "operator"),
        },
    )


def _workspace_or_404(request: HttpRequest) -> tuple[str, Any]:
    workspace = request.access.workspace  # type: ignore[attr-defined]
    if workspace is None:
        raise Http404
    return workspace.scope, workspace.organisation


def _invitable_roles(scope: str) -> frozenset[str]:
    if scope == Scope.OPERATOR:
        return OPERATOR_ROLES
    return frozenset(role for role, role_scope in ROLE_SCOPE.items() if role_scope == scope)


@login_required
@require_roles(*USER_ADMIN_ROLES)
def user_list_view(request: HttpRequest) -> HttpResponse:
    scope, organisation = _workspace_or_404(request)
    users = selectors.users_in_workspace(scope=scope, organisation_id=organisation.pk).prefetch_related(
        Prefetch(
            "memberships",
            queryset=Membership.objects.filter(is_active=True, **{f"{scope}_id": organisation.pk}),
            to_attr="workspace_memberships",
        )
    )
    if q := request.GET.get("q", "").strip():
        users = users.filter(name__icontains=q) | users.filter(phone__startswith=q)
    columns = [
        Column(
            "name",
            gettext_lazy("Name"),
            order_by="name",
            link=lambda user: reverse("accounts:user_detail", args=[user.pk]),
        ),
        Column("phone", gettext_lazy("Phone"), order_by="phone"),
        Column(
            "roles",
            gettext_lazy("Roles"),
            value=lambda user: ", ".join(str(m.get_role_display()) for m in user.workspace_memberships),
        ),
        Column("last_login", gettext_lazy("Last signed in"), order_by="last_login"),
    ]
    return render(
        request,
        "accounts/user_list.html",
        {
            "table": table(request, users, columns, default_sort="name"),
            "organisation": organisation,
            "q": q,
        },
    )


@login_required
@require_roles(*USER_ADMIN_ROLES)
def user_invite_view(request: HttpRequest) -> HttpResponse:
    scope, organisation = _workspace_or_404(request)
    if scope == Scope.DISTRICT:
        raise Http404
    form = InviteUserForm(request.POST or None, roles=_invitable_roles(scope))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_invite(
                phone=data["phone"],
                name=data["name"],
                email=data["email"],
                language=data["language"],
                role=data["role"],
                organisation=organisation,
                acting_user=request.user,
                operator=organisation if scope == Scope.OPERATOR else None,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("%(name)s is invited by SMS.") % {"name": user.name})
            return redirect("accounts:user_detail", user_id=user.pk)
    return render(request, "accounts/user_invite.html", {"form": form, "organisation": organisation})


@login_required
@require_roles(*USER_ADMIN_ROLES)
def user_detail_view(request: HttpRequest, user_id: int) -> HttpResponse:
    scope, organisation = _workspace_or_404(request)
    member = get_object_or_404(selectors.users_in_workspace(scope=scope, organisation_id=organisation.pk), pk=user_id)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "member": member,
            "organisation": organisation,
            "memberships": selectors.memberships_in_workspace(
                user=member, scope=scope, organisation_id=organisation.pk
            ),
            "audit_entries": audit_for(member)[:50],
        },
    )


@login_required
@require_roles(*USER_ADMIN_ROLES)
@require_POST
def membership_revoke_view(request: HttpRequest, membership_id: int) -> HttpResponse:
    scope, organisation = _workspace_or_404(request)
    membership = get_object_or_404(
        Membership.objects.filter(is_active=True, **{f"{scope}_id": organisation.pk}), pk=membership_id
    )
    if membership.user_id == request.user.pk and membership.role in USER_ADMIN_ROLES:
        messages.error(request, _("You cannot remove your own administrator role."))
    else:
        services.membership_revoke(membership=membership, acting_user=request.user)
        messages.success(request, _("The role is removed."))
    return redirect("accounts:user_detail", user_id=membership.user_id)
