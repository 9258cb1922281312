"""API for contracts and the start-of-operations checklist, with the same permissions as the pages.

Bodies of the POST endpoints are read after the permission checks (not by ninja before them), so that another
tenant's object is a 404 and a role's closed endpoint a 403 whatever is sent; they are documented in the schema.
"""

import datetime
from typing import Any, TypeVar

import pydantic
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import ValidationError
from ninja.pagination import LimitOffsetPagination, paginate

from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.registry.forms_contracts import ContractForm, NationalUtilityContractForm
from mita.registry.models import Contract, Requirement
from mita.registry.selectors_contracts import (
    CHECKLIST_READ_ROLES,
    CONTRACT_READ_ROLES,
    Checklist,
    checklist_for,
    contract_get_for_access,
    contracts_visible_to,
    district_operator_get_for_access,
    may_act_in_district,
)
from mita.registry.services import contracts as services
from mita.registry.views.contracts import contract_file_response

router = Router(tags=["contracts"])
S = TypeVar("S", bound=pydantic.BaseModel)


class ContractOut(Schema):
    id: int
    operator_id: int
    operator_name: str
    kind: str
    status: str
    district_id: int | None
    district_name: str | None
    title: str
    parties: str
    signed_on: datetime.date
    starts_on: datetime.date
    ends_on: datetime.date
    rejection_reason: str
    uploaded_by_id: int | None
    uploaded_at: datetime.datetime
    decided_by_id: int | None
    decided_at: datetime.datetime | None
    document_url: str

    @staticmethod
    def resolve_operator_name(contract: Contract) -> str:
        return contract.operator.name

    @staticmethod
    def resolve_district_name(contract: Contract) -> str | None:
        return contract.district.name if contract.district else None

    @staticmethod
    def resolve_document_url(contract: Contract) -> str:
        return reverse("api:contract_document", kwargs={"contract_id": contract.pk})


class RejectIn(Schema):
    reason: str = ""


class ChecklistItemOut(Schema):
    requirement_id: int
    title: str
    description: str
    checked: bool
    checked_at: datetime.datetime | None
    checked_by_id: int | None
    note: str


class ChecklistOut(Schema):
    district_id: int
    operator_id: int
    cleared: bool
    checked: int
    total: int
    items: list[ChecklistItemOut]


class ChecklistTickIn(Schema):
    requirement_id: int
    checked: bool = True
    note: str = ""


def _access(request: HttpRequest) -> Any:
    return request.access  # type: ignore[attr-defined]


def _require_roles(request: HttpRequest, *roles: str) -> None:
    if not _access(request).has_role(*roles):
        raise PermissionDenied


def _payload(request: HttpRequest, schema: type[S]) -> S:
    """Parse a JSON body once the permission checks have passed; a bad one is a 422 naming the fields."""
    try:
        return schema.model_validate_json(request.body or b"{}")
    except pydantic.ValidationError as error:
        raise ValidationError([dict(problem) for problem in error.errors(include_url=False)]) from None


def _json_body(schema: type[Schema]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema.model_json_schema()}}}}


def _multipart_body(*, with_operator: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": {"type": "string", "maxLength": 200},
        "parties": {"type": "string"},
        "signed_on": {"type": "string", "format": "date"},
        "starts_on": {"type": "string", "format": "date"},
        "ends_on": {"type": "string", "format": "date"},
        "document": {"type": "string", "format": "binary", "description": "The signed contract as one PDF file."},
    }
    if with_operator:
        properties = {"operator": {"type": "integer", "description": "The operator's id."}, **properties}
    schema = {"type": "object", "required": list(properties), "properties": properties}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


def _form_error(form: ContractForm) -> DomainError:
    fields = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    summary = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in fields.items())
    return services.ContractError(summary, code="contract_invalid", fields=fields)


def _checklist_out(checklist: Checklist) -> dict[str, Any]:
    return {
        "district_id": checklist.district.pk,
        "operator_id": checklist.operator.pk,
        "cleared": checklist.cleared,
        "checked": checklist.checked,
        "total": checklist.total,
        "items": [
            {
                "requirement_id": item.requirement.pk,
                "title": item.requirement.title,
                "description": item.requirement.description,
                "checked": item.checked,
                "checked_at": item.check.checked_at if item.check else None,
                "checked_by_id": item.check.checked_by_id if item.check else None,
                "note": item.check.note if item.check else "",
            }
            for item in checklist.items
        ],
    }


# -- contracts ----------------------------------------------------------------------------------------------------


@router.get("/contracts", response=list[ContractOut], summary="Contracts you may read")
@paginate(LimitOffsetPagination)
def contract_list(
    request: HttpRequest,
    status: str = "",
    kind: str = "",
    operator_id: int | None = None,
    district_id: int | None = None,
) -> QuerySet[Contract]:
    _require_roles(request, *CONTRACT_READ_ROLES)
    contracts = contracts_visible_to(_access(request)).order_by("-uploaded_at", "-pk")
    if status:
        contracts = contracts.filter(status=status)
    if kind:
        contracts = contracts.filter(kind=kind)
    if operator_id is not None:
        contracts = contracts.filter(operator_id=operator_id)
    if district_id is not None:
        contracts = contracts.filter(district_id=district_id)
    return contracts


@router.post(
    "/contracts",
    response={201: ContractOut},
    summary="Submit a contract for verification (national utility users; multipart with the PDF)",
    openapi_extra=_multipart_body(with_operator=True),
)
def contract_submit(request: HttpRequest) -> Status[Contract]:
    _require_roles(request, Role.NATIONAL_UTILITY_USER)
    form = NationalUtilityContractForm(request.POST, request.FILES)
    if not form.is_valid():
        raise _form_error(form)
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
    return Status(201, contract)


@router.get("/contracts/{contract_id}", response=ContractOut, summary="One contract")
def contract_get(request: HttpRequest, contract_id: int) -> Contract:
    _require_roles(request, *CONTRACT_READ_ROLES)
    return contract_get_for_access(access=_access(request), contract_id=contract_id)


@router.get(
    "/contracts/{contract_id}/document",
    url_name="contract_document",
    summary="The contract's PDF",
    openapi_extra={"responses": {"200": {"description": "The PDF", "content": {"application/pdf": {}}}}},
)
def contract_document(request: HttpRequest, contract_id: int) -> Any:
    _require_roles(request, *CONTRACT_READ_ROLES)
    return contract_file_response(contract_get_for_access(access=_access(request), contract_id=contract_id))


@router.post("/contracts/{contract_id}/verify", response=ContractOut, summary="Verify a submitted contract")
def contract_verify(request: HttpRequest, contract_id: int) -> Contract:
    _require_roles(request, Role.REGULATOR_ADMIN)
    contract = contract_get_for_access(access=_access(request), contract_id=contract_id)
    return services.contract_verify(contract=contract, acting_user=request.user)


@router.post(
    "/contracts/{contract_id}/reject",
    response=ContractOut,
    summary="Reject a submitted contract, with a reason",
    openapi_extra=_json_body(RejectIn),
)
def contract_reject(request: HttpRequest, contract_id: int) -> Contract:
    _require_roles(request, Role.REGULATOR_ADMIN)
    contract = contract_get_for_access(access=_access(request), contract_id=contract_id)
    payload = _payload(request, RejectIn)
    return services.contract_reject(contract=contract, reason=payload.reason, acting_user=request.user)


# -- districts: contracts and the checklist -------------------------------------------------------------------------


@router.post(
    "/districts/{district_id}/operators/{operator_id}/contracts",
    response={201: ContractOut},
    summary="File a district contract (the district's officer; multipart with the PDF)",
    openapi_extra=_multipart_body(with_operator=False),
)
def district_contract_upload(request: HttpRequest, district_id: int, operator_id: int) -> Status[Contract]:
    _require_roles(request, Role.DISTRICT_OFFICER)
    access = _access(request)
    district, operator = district_operator_get_for_access(
        access=access, district_id=district_id, operator_id=operator_id
    )
    if not may_act_in_district(access=access, district=district):
        raise PermissionDenied
    form = ContractForm(request.POST, request.FILES)
    if not form.is_valid():
        raise _form_error(form)
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
    return Status(201, contract)


@router.get(
    "/districts/{district_id}/operators/{operator_id}/checklist",
    response=ChecklistOut,
    summary="An operator's checklist in a district, and whether it is cleared to operate there",
)
def checklist_get(request: HttpRequest, district_id: int, operator_id: int) -> dict[str, Any]:
    _require_roles(request, *CHECKLIST_READ_ROLES)
    district, operator = district_operator_get_for_access(
        access=_access(request), district_id=district_id, operator_id=operator_id
    )
    return _checklist_out(checklist_for(operator=operator, district=district))


@router.post(
    "/districts/{district_id}/operators/{operator_id}/checklist",
    response=ChecklistOut,
    summary="Tick (checked: true) or untick (checked: false) one requirement; the district's officer only",
    openapi_extra=_json_body(ChecklistTickIn),
)
def checklist_tick(request: HttpRequest, district_id: int, operator_id: int) -> dict[str, Any]:
    _require_roles(request, Role.DISTRICT_OFFICER)
    access = _access(request)
    district, operator = district_operator_get_for_access(
        access=access, district_id=district_id, operator_id=operator_id
    )
    if not may_act_in_district(access=access, district=district):
        raise PermissionDenied
    payload = _payload(request, ChecklistTickIn)
    requirement = Requirement.objects.filter(pk=payload.requirement_id).first()
    if requirement is None:
        message = _("No requirement has this id; GET the checklist for the current ones.")
        raise services.ContractError(
            message, code="requirement_unknown", fields={"requirement_id": [message]}, status=422
        )
    if payload.checked:
        services.requirement_check(
            operator=operator, district=district, requirement=requirement, note=payload.note, acting_user=request.user
        )
    else:
        services.requirement_uncheck(
            operator=operator, district=district, requirement=requirement, acting_user=request.user
        )
    return _checklist_out(checklist_for(operator=operator, district=district))
