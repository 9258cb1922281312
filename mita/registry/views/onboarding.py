"""Pages for onboarding operators from their licence, licences and grace periods, logos, and the operator's profile."""

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.accounts.services import user_invite
from mita.core.audit import audit_for
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.registry.forms import (
    DistrictOfficerInviteForm,
    GracePeriodForm,
    LicenceLookupForm,
    LogoForm,
    OnboardForm,
)
from mita.registry.models import Licence
from mita.registry.selectors import operator_billing_permission, operators_visible_to
from mita.registry.services.onboarding import (
    grace_period_grant,
    licence_fetch,
    operator_logo_set,
    operator_onboard,
)

REGULATOR_READERS = (Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER)


@login_required
@require_roles(Role.REGULATOR_ADMIN)
def operator_onboard_view(request: HttpRequest) -> HttpResponse:
    """Step 1: look the licence up in the licensing system (nothing saved). Step 2: onboard."""
    lookup = LicenceLookupForm(request.GET or None)
    record = None
    if request.GET and lookup.is_valid():
        try:
            record = licence_fetch(number=lookup.cleaned_data["licence_number"])
        except DomainError as error:
            form_add_domain_error(lookup, error)
    initial = {"licence_number": request.GET.get("licence_number", "")}
    if record is not None:
        country = "IN" if record.phone.startswith("+91") else "RW"
        initial |= {"country_code": country, "currency": "INR" if country == "IN" else "RWF"}
    form = OnboardForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            operator = operator_onboard(
                licence_number=data["licence_number"],
                kind=data["kind"],
                utility=data["utility"],
                currency=data["currency"],
                country_code=data["country_code"],
                name=data["name"],
                districts=list(data["districts"]) or None,
                language=data["language"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
            licence = Licence.objects.filter(number=data["licence_number"].strip()).first()
            return render(
                request,
                "registry/onboard.html",
                {"lookup": lookup, "form": form, "licence": licence},
                status=error.status,
            )
        messages.success(
            request,
            _("%(operator)s is onboarded with prefix %(prefix)s; its admin is invited by SMS.")
            % {"operator": operator.name, "prefix": operator.prefix},
        )
        return redirect("registry:operator_detail", operator_id=operator.pk)
    return render(request, "registry/onboard.html", {"lookup": lookup, "form": form, "record": record})


@login_required
@require_roles(*REGULATOR_READERS)
def licence_detail(request: HttpRequest, licence_id: int) -> HttpResponse:
    licence = get_object_or_404(Licence.objects.select_related("operator"), pk=licence_id)
    return render(
        request,
        "registry/licence_detail.html",
        {
            "licence": licence,
            "events": licence.events.all()[:50],
            "grace_periods": licence.grace_periods.select_related("granted_by"),
            "grace_form": GracePeriodForm() if request.access.has_role(Role.REGULATOR_ADMIN) else None,  # type: ignore[attr-defined]
            "today": timezone.localdate(),
            "audit_entries": audit_for(licence)[:50],
        },
    )


@login_required
@require_roles(Role.REGULATOR_ADMIN)
@require_POST
def grace_period_grant_view(request: HttpRequest, licence_id: int) -> HttpResponse:
    licence = get_object_or_404(Licence, pk=licence_id)
    form = GracePeriodForm(request.POST)
    if form.is_valid():
        try:
            grace_period_grant(licence=licence, acting_user=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Grace period granted."))
            return redirect("registry:licence_detail", licence_id=licence.pk)
    return render(
        request,
        "registry/licence_detail.html",
        {
            "licence": licence,
            "events": licence.events.all()[:50],
            "grace_periods": licence.grace_periods.all(),
            "grace_form": form,
            "today": timezone.localdate(),
            "audit_entries": audit_for(licence)[:50],
        },
        status=400,
    )


@login_required
def operator_logo(request: HttpRequest, operator_id: int) -> FileResponse:
    operator = get_object_or_404(operators_visible_to(request.access), pk=operator_id)  # type: ignore[attr-defined]
    if not operator.logo:
        raise Http404
    content_type = mimetypes.guess_type(operator.logo.name)[0] or "application/octet-stream"
    response = FileResponse(operator.logo.open("rb"), content_type=content_type)
    # An SVG opened on its own must not run anything, whatever slipped past the upload check.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@login_required
@require_roles(*OPERATOR_ROLES)
def operator_profile(request: HttpRequest) -> HttpResponse:
    """The operator's own profile: its data, licence, may it bill today, and the logo (admins change it)."""
    operator = request.access.operator  # type: ignore[attr-defined]
    if operator is None:
        raise Http404
    form = LogoForm()
    if request.method == "POST":
        if not request.access.has_role(Role.OPERATOR_ADMIN):  # type: ignore[attr-defined]
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = LogoForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                operator_logo_set(operator=operator, upload=form.cleaned_data["logo"], acting_user=request.user)
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(request, _("The logo is changed."))
                return redirect("registry:operator_profile")
    return render(
        request,
        "registry/operator_profile.html",
        {
            "operator": operator,
            "licences": operator.licences.all(),
            "billing": operator_billing_permission(operator, timezone.localdate()),
            "districts": operator.districts.order_by("name"),
            "logo_form": form if request.access.has_role(Role.OPERATOR_ADMIN) else None,  # type: ignore[attr-defined]
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_roles(Role.REGULATOR_ADMIN)
def district_officer_invite(request: HttpRequest) -> HttpResponse:
    """The regulator gives a district its officer: a new person is invited by SMS, a known one gets the role."""
    form = DistrictOfficerInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_invite(
                phone=data["phone"],
                name=data["name"],
                email=data["email"],
                language=data["language"],
                role=Role.DISTRICT_OFFICER,
                organisation=data["district"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s is now district officer of %(district)s.")
                % {"name": user.name, "district": data["district"]},
            )
            return redirect("registry:district_officer_invite")
    return render(request, "registry/district_officer_invite.html", {"form": form}, status=400 if form.errors else 200)


urlpatterns = [
    path("district-officers/invite/", district_officer_invite, name="district_officer_invite"),
    path("operators/onboard/", operator_onboard_view, name="operator_onboard"),
    path("operators/<int:operator_id>/logo/", operator_logo, name="operator_logo"),
    path("licences/<int:licence_id>/", licence_detail, name="licence_detail"),
    path("licences/<int:licence_id>/grace-periods/", grace_period_grant_view, name="grace_period_grant"),
    path("profile/", operator_profile, name="operator_profile"),
]
