"""Pages for contracts and the start-of-operations checklist: a district's operators, each operator's checklist and
contracts, the national utility's submissions, the regulator's verification queue and the requirement list.

Every page checks the role first (a 403 that does not depend on the object) and then looks the object up through
the tenancy rules of mita.registry.selectors_contracts (a 404 for what the user may not see).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.accounts.roles import Role
from mita.core.audit import audit_for
from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.core.tables import Column, table
from mita.registry.forms_contracts import (
    ChecklistTickForm,
    ContractFilterForm,
    ContractForm,
    ContractRejectForm,
    NationalUtilityContractForm,
    RequirementForm,
)
from mita.registry.models import Boundary, Contract, Operator, Requirement
from mita.registry.selectors_contracts import (
    CHECKLIST_READ_ROLES,
    CONTRACT_READ_ROLES,
    DISTRICT_READ_ROLES,
    REQUIREMENT_READ_ROLES,
    checklist_for,
    contract_get_for_access,
    contracts_of_operator_in_district,
    contracts_visible_to,
    contracts_waiting_for_verification,
    district_get_for_access,
    district_operator_get_for_access,
    district_operators,
    may_act_in_district,
    operator_clearances,
)
from mita.registry.services import contracts as services


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


def _yes_no(value: bool) -> str:
    return str(_("Yes") if value else _("Not yet"))


# -- districts ----------------------------------------------------------------------------------------------------


@login_required
@require_roles(Role.DISTRICT_OFFICER)
def district_home(request: HttpRequest) -> HttpResponse:
    """A district officer's own district."""
    district = _access(request).district
    if district is None:
        raise Http404
    return redirect("registry:district_detail", district_id=district.pk)


@login_required
@require_roles(*DISTRICT_READ_ROLES)
def district_detail(request: HttpRequest, district_id: int) -> HttpResponse:
    """A district's operators, whether each is cleared to operate, and the district's latest contracts."""
    access = _access(request)
    district = district_get_for_access(access=access, district_id=district_id)

    def operator_url(operator: Operator) -> str:
        return reverse("registry:district_operator", args=[district.pk, operator.pk])

    columns = [
        Column("name", gettext_lazy("Operator"), order_by="name", link=operator_url),
        Column(
            "cleared",
            gettext_lazy("Cleared to operate"),
            order_by="checked_count",
            value=lambda o: _yes_no(o.is_cleared),
        ),
        Column(
            "checklist",
            gettext_lazy("Checklist"),
            order_by="checked_count",
            value=lambda o: f"{o.checked_count}/{o.requirements_total}",
        ),
        Column("contracts", gettext_lazy("Contracts"), order_by="contracts_count", value=lambda o: o.contracts_count),
    ]
    latest = contracts_visible_to(access).filter(district=district)[:10]
    return render(
        request,
        "registry/contracts/district_detail.html",
        {
            "district": district,
            "table": table(request, district_operators(district=district), columns, default_sort="name"),
            "latest_contracts": latest,
        },
    )


def _render_district_operator(
    request: HttpRequest,
    *,
    district: Boundary,
    operator: Operator,
    upload_form: ContractForm | None = None,
    tick_error: str = "",
    status: int = 200,
    partial: bool = False,
) -> HttpResponse:
    access = _access(request)
    may_act = may_act_in_district(access=access, district=district)
    if may_act and upload_form is None:
        upload_form = ContractForm()
    history = audit_for(operator).filter(action__startswith="requirement.", detail__district=district.pk)
    template = "registry/contracts/district_operator.html"
    return render(
        request,
        f"{template}#checklist" if partial else template,
        {
            "district": district,
            "operator": operator,
            "checklist": checklist_for(operator=operator, district=district),
            "contracts": contracts_of_operator_in_district(operator=operator, district=district),
            "may_act": may_act,
            "may_see_district": access.has_role(*DISTRICT_READ_ROLES),
            "upload_form": upload_form if may_act else None,
            "tick_error": tick_error,
            "audit_entries": history[:50],
        },
        status=status,
    )


@login_required
@require_roles(*CHECKLIST_READ_ROLES)
def district_operator(request: HttpRequest, district_id: int, operator_id: int) -> HttpResponse:
    """One operator in one district: its checklist (ticked by the district's officer) and its contracts there."""
    access = _access(request)
    district, operator = district_operator_get_for_access(
        access=access, district_id=district_id, operator_id=operator_id
    )
    if request.method != "POST":
        return _render_district_operator(request, district=district, operator=operator)
    if not may_act_in_district(access=access, district=district):
        raise PermissionDenied
    htmx = bool(getattr(request, "htmx", False))
    form = ChecklistTickForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            if form.cleaned_data["checked"]:
                services.requirement_check(
                    operator=operator,
                    district=district,
                    requirement=form.cleaned_data["requirement"],
                    note=form.cleaned_data["note"],
                    acting_user=request.user,
                )
            else:
                services.requirement_uncheck(
                    operator=operator,
                    district=district,
                    requirement=form.cleaned_data["requirement"],
                    acting_user=request.user,
                )
        except DomainError as domain_error:
            error = str(domain_error.message)
    else:
        error = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
    if htmx or error:
        # htmx swaps only 2xx answers: the error is shown inside the swapped checklist instead.
        status = 400 if error and not htmx else 200
        return _render_district_operator(
            request, district=district, operator=operator, tick_error=error, status=status, partial=htmx
        )
    return redirect("registry:district_operator", district_id=district.pk, operator_id=operator.pk)


@login_required
@require_roles(Role.DISTRICT_OFFICER)
def district_contract_upload(request: HttpRequest, district_id: int, operator_id: int) -> HttpResponse:
    """A district officer files a signed contract with an operator of their district."""
    access = _access(request)
    district, operator = district_operator_get_for_access(
        access=access, district_id=district_id, operator_id=operator_id
    )
    if not may_act_in_district(access=access, district=district):
        raise PermissionDenied
    if request.method != "POST":
        return _render_district_operator(request, district=district, operator=operator)
    form = ContractForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            contract = services.contract_upload_by_district(
                operator=operator,
                district=district,
                title=form.cleaned_data["title"],
                parties=form.cleaned_data["parties"],
                signed_on=form.cleaned_data["signed_on"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                document=form.cleaned_data["document"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The contract is saved."))
            return redirect("registry:contract_detail", contract_id=contract.pk)
    return _render_district_operator(request, district=district, operator=operator, upload_form=form, status=400)


# -- contracts ----------------------------------------------------------------------------------------------------


def _district_link(contract: Contract) -> str:
    return reverse("registry:district_detail", args=[contract.district_id]) if contract.district_id else ""


def _contract_columns(*, with_operator: bool, link_districts: bool) -> list[Column]:
    columns = [
        Column(
            "title",
            gettext_lazy("Title"),
            order_by="title",
            link=lambda contract: reverse("registry:contract_detail", args=[contract.pk]),
        ),
        Column("operator", gettext_lazy("Operator"), order_by="operator__name", value=lambda c: c.operator.name),
        Column(
            "district",
            gettext_lazy("District"),
            order_by="district__name",
            value=lambda c: c.district or "—",
            link=_district_link if link_districts else None,
        ),
        Column("kind", gettext_lazy("Kind"), order_by="kind", value=lambda c: c.get_kind_display()),
        Column("status", gettext_lazy("Status"), order_by="status", value=lambda c: c.get_status_display()),
        Column("starts_on", gettext_lazy("Starts on"), order_by="starts_on", value=lambda c: c.starts_on.isoformat()),
        Column("ends_on", gettext_lazy("Ends on"), order_by="ends_on", value=lambda c: c.ends_on.isoformat()),
        Column(
            "uploaded_at",
            gettext_lazy("Uploaded"),
            order_by="uploaded_at",
            value=lambda c: timezone.localdate(c.uploaded_at).isoformat(),
        ),
    ]
    return columns if with_operator else [column for column in columns if column.key != "operator"]


@login_required
@require_roles(*CONTRACT_READ_ROLES)
def contract_list(request: HttpRequest) -> HttpResponse:
    """The contracts the user may read; an operator admin also sees where their operator is cleared to operate."""
    access = _access(request)
    form = ContractFilterForm(request.GET or None)
    contracts = contracts_visible_to(access)
    filters = form.cleaned_data if form.is_valid() else {}
    if filters.get("status"):
        contracts = contracts.filter(status=filters["status"])
    if filters.get("kind"):
        contracts = contracts.filter(kind=filters["kind"])
    if q := filters.get("q", "").strip():
        contracts = contracts.filter(Q(title__icontains=q) | Q(parties__icontains=q) | Q(operator__name__icontains=q))
    district_filter = request.GET.get("district", "")
    if district_filter.isdigit():
        contracts = contracts.filter(district_id=int(district_filter))
    own_operator = access.operator if access.has_role(Role.OPERATOR_ADMIN) else None
    return render(
        request,
        "registry/contracts/contract_list.html",
        {
            "form": form,
            "table": table(
                request,
                contracts,
                _contract_columns(
                    with_operator=own_operator is None, link_districts=access.has_role(*DISTRICT_READ_ROLES)
                ),
                default_sort="-uploaded_at",
            ),
            "clearances": operator_clearances(operator=own_operator) if own_operator is not None else None,
            "own_operator": own_operator,
            "may_submit": access.has_role(Role.NATIONAL_UTILITY_USER),
            "may_verify": access.has_role(Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER),
        },
    )


@login_required
@require_roles(Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER)
def contract_pending_list(request: HttpRequest) -> HttpResponse:
    """The national utility's contracts waiting for the regulator, oldest first."""
    columns = [
        Column(
            "title",
            gettext_lazy("Title"),
            order_by="title",
            link=lambda contract: reverse("registry:contract_detail", args=[contract.pk]),
        ),
        Column("operator", gettext_lazy("Operator"), order_by="operator__name", value=lambda c: c.operator.name),
        Column(
            "uploaded_by",
            gettext_lazy("Submitted by"),
            order_by="uploaded_by__name",
            value=lambda c: c.uploaded_by.name if c.uploaded_by else "—",
        ),
        Column(
            "uploaded_at",
            gettext_lazy("Submitted"),
            order_by="uploaded_at",
            value=lambda c: timezone.localdate(c.uploaded_at).isoformat(),
        ),
        Column("starts_on", gettext_lazy("Starts on"), order_by="starts_on", value=lambda c: c.starts_on.isoformat()),
        Column("ends_on", gettext_lazy("Ends on"), order_by="ends_on", value=lambda c: c.ends_on.isoformat()),
    ]
    return render(
        request,
        "registry/contracts/contract_pending_list.html",
        {"table": table(request, contracts_waiting_for_verification(), columns, default_sort="uploaded_at")},
    )


@login_required
@require_roles(Role.NATIONAL_UTILITY_USER)
def contract_submit(request: HttpRequest) -> HttpResponse:
    """The national utility submits a contract with any operator for the regulator to verify."""
    form = NationalUtilityContractForm(request.POST, request.FILES) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            contract = services.contract_submit_by_national_utility(
                operator=form.cleaned_data["operator"],
                title=form.cleaned_data["title"],
                parties=form.cleaned_data["parties"],
                signed_on=form.cleaned_data["signed_on"],
                starts_on=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
                document=form.cleaned_data["document"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The contract is submitted. The regulator will verify it."))
            return redirect("registry:contract_detail", contract_id=contract.pk)
    return render(
        request,
        "registry/contracts/contract_submit.html",
        {"form": form or NationalUtilityContractForm()},
        status=400 if form is not None else 200,
    )


@login_required
@require_roles(*CONTRACT_READ_ROLES)
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    access = _access(request)
    contract = contract_get_for_access(access=access, contract_id=contract_id)
    return render(
        request,
        "registry/contracts/contract_detail.html",
        {
            "contract": contract,
            "may_decide": access.has_role(Role.REGULATOR_ADMIN) and contract.status == Contract.Status.PENDING,
            "audit_entries": audit_for(contract)[:50],
        },
    )


@login_required
@require_roles(*CONTRACT_READ_ROLES)  # type: ignore[arg-type]  # a FileResponse streams: not an HttpResponse subclass
def contract_document(request: HttpRequest, contract_id: int) -> FileResponse:
    """The contract's PDF, to those who may read the contract (files are never served from MEDIA_URL)."""
    contract = contract_get_for_access(access=_access(request), contract_id=contract_id)
    return contract_file_response(contract)


def contract_file_response(contract: Contract) -> FileResponse:
    try:
        document = contract.document.storage.open(contract.document.name, "rb")
    except FileNotFoundError:
        raise Http404(_("The contract's file is missing.")) from None
    response = FileResponse(
        document,
        as_attachment=True,
        filename=f"{slugify(contract.title) or 'contract'}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _decided_elsewhere(request: HttpRequest, contract: Contract, error: DomainError) -> HttpResponse:
    messages.error(request, str(error.message))
    return redirect("registry:contract_detail", contract_id=contract.pk)


@login_required
@require_roles(Role.REGULATOR_ADMIN)
def contract_verify(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = contract_get_for_access(access=_access(request), contract_id=contract_id)
    if request.method == "POST":
        try:
            services.contract_verify(contract=contract, acting_user=request.user)
        except DomainError as error:
            return _decided_elsewhere(request, contract, error)
        messages.success(request, _("The contract is verified."))
        return redirect("registry:contract_detail", contract_id=contract.pk)
    return render(request, "registry/contracts/contract_verify.html", {"contract": contract})


@login_required
@require_roles(Role.REGULATOR_ADMIN)
def contract_reject(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = contract_get_for_access(access=_access(request), contract_id=contract_id)
    form = ContractRejectForm(request.POST) if request.method == "POST" else ContractRejectForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.contract_reject(
                    contract=contract, reason=form.cleaned_data["reason"], acting_user=request.user
                )
            except DomainError as error:
                # The reason stays in the form, so nothing typed is lost.
                form_add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The contract is rejected; the national utility sees why."))
                return redirect("registry:contract_detail", contract_id=contract.pk)
    return render(
        request, "registry/contracts/contract_reject.html", {"contract": contract, "form": form}, status=status
    )


# -- the requirement list -----------------------------------------------------------------------------------------


@login_required
@require_roles(*REQUIREMENT_READ_ROLES)
def requirement_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registry/contracts/requirement_list.html",
        {
            "requirements": Requirement.objects.order_by("-is_active", "order", "pk"),
            "may_edit": _access(request).has_role(Role.REGULATOR_ADMIN),
        },
    )


@login_required
@require_roles(Role.REGULATOR_ADMIN)
def requirement_create(request: HttpRequest) -> HttpResponse:
    form = RequirementForm(request.POST) if request.method == "POST" else RequirementForm()
    if request.method == "POST" and form.is_valid():
        try:
            services.requirement_create(
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                order=form.cleaned_data["order"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The requirement is on the checklist."))
            return redirect("registry:requirement_list")
    return render(
        request,
        "registry/contracts/requirement_form.html",
        {"form": form, "requirement": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_roles(Role.REGULATOR_ADMIN)
def requirement_update(request: HttpRequest, requirement_id: int) -> HttpResponse:
    requirement = get_object_or_404(Requirement, pk=requirement_id)
    if request.method == "POST":
        form = RequirementForm(request.POST)
    else:
        form = RequirementForm(
            initial={"title": requirement.title, "description": requirement.description, "order": requirement.order}
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.requirement_update(
                requirement=requirement,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                order=form.cleaned_data["order"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The requirement is saved."))
            return redirect("registry:requirement_list")
    return render(
        request,
        "registry/contracts/requirement_form.html",
        {"form": form, "requirement": requirement, "audit_entries": audit_for(requirement)[:50]},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_roles(Role.REGULATOR_ADMIN)
@require_POST
def requirement_deactivate(request: HttpRequest, requirement_id: int) -> HttpResponse:
    requirement = get_object_or_404(Requirement, pk=requirement_id)
    services.requirement_deactivate(requirement=requirement, acting_user=request.user)
    messages.success(request, _("The requirement is off the checklist; the ticks it had are kept."))
    return redirect("registry:requirement_list")


@login_required
@require_roles(Role.REGULATOR_ADMIN)
@require_POST
def requirement_activate(request: HttpRequest, requirement_id: int) -> HttpResponse:
    requirement = get_object_or_404(Requirement, pk=requirement_id)
    try:
        services.requirement_activate(requirement=requirement, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The requirement is back on the checklist."))
    return redirect("registry:requirement_list")


urlpatterns = [
    path("district/", district_home, name="district_home"),
    path("districts/<int:district_id>/", district_detail, name="district_detail"),
    path("districts/<int:district_id>/operators/<int:operator_id>/", district_operator, name="district_operator"),
    path(
        "districts/<int:district_id>/operators/<int:operator_id>/contracts/new/",
        district_contract_upload,
        name="district_contract_upload",
    ),
    path("contracts/", contract_list, name="contract_list"),
    path("contracts/pending/", contract_pending_list, name="contract_pending_list"),
    path("contracts/submit/", contract_submit, name="contract_submit"),
    path("contracts/<int:contract_id>/", contract_detail, name="contract_detail"),
    path("contracts/<int:contract_id>/document/", contract_document, name="contract_document"),
    path("contracts/<int:contract_id>/verify/", contract_verify, name="contract_verify"),
    path("contracts/<int:contract_id>/reject/", contract_reject, name="contract_reject"),
    path("requirements/", requirement_list, name="requirement_list"),
    path("requirements/new/", requirement_create, name="requirement_create"),
    path("requirements/<int:requirement_id>/edit/", requirement_update, name="requirement_update"),
    path("requirements/<int:requirement_id>/deactivate/", requirement_deactivate, name="requirement_deactivate"),
    path("requirements/<int:requirement_id>/activate/", requirement_activate, name="requirement_activate"),
]
