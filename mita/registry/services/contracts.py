"""Writes about contracts and the start-of-operations checklist: uploads, verification, ticks, the requirement list.

Who may call each service is checked by the views and the API; the services enforce the business rules.
"""

import datetime
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.registry.models import Boundary, Contract, Operator, Requirement, RequirementCheck
from mita.registry.selectors_contracts import operator_operates_in

PDF_MAGIC = b"%PDF-"
CONTRACT_FIELDS = ["kind", "status", "title", "parties", "signed_on", "starts_on", "ends_on", "district"]
REQUIREMENT_FIELDS = ["title", "description", "order", "is_active"]


class ContractError(DomainError):
    pass


class ContractConflict(Conflict):
    pass


def _field_error(field: str, message: str, *, code: str) -> ContractError:
    return ContractError(message, code=code, fields={field: [message]})


def contract_document_check(*, document: File) -> None:
    """The uploaded file must be a PDF by its content (not its name), not empty, and within the size limit."""
    size = document.size or 0
    if size == 0:
        raise _field_error(
            "document",
            _("The file is empty. Choose the contract's PDF file and upload it again."),
            code="document_empty",
        )
    limit = settings.MITA_CONTRACT_MAX_BYTES
    if size > limit:
        raise _field_error(
            "document",
            _(
                "The file is %(size)s; the largest allowed is %(limit)s. "
                "Scan the contract at a lower resolution or in black and white, then upload it again."
            )
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="document_too_large",
        )
    document.seek(0)
    head = document.read(len(PDF_MAGIC))
    document.seek(0)
    if head != PDF_MAGIC:
        raise _field_error(
            "document",
            _("This file is not a PDF. Save or scan the contract as a PDF file and upload that file."),
            code="document_not_pdf",
        )


def _contract_fields_check(
    *, title: str, parties: str, signed_on: datetime.date, starts_on: datetime.date, ends_on: datetime.date
) -> tuple[str, str]:
    fields: dict[str, list[str]] = {}
    title, parties = title.strip(), parties.strip()
    if not title:
        fields["title"] = [_("Give the contract a title.")]
    elif len(title) > 200:
        fields["title"] = [_("Shorten the title to at most 200 characters.")]
    if not parties:
        fields["parties"] = [_("Name the parties to the contract.")]
    if ends_on < starts_on:
        fields["ends_on"] = [_("The contract must end on or after the day it starts.")]
    if signed_on > ends_on:
        fields["signed_on"] = [_("The contract must be signed before it ends.")]
    if fields:
        raise ContractError(
            _("The contract could not be saved: correct the marked fields."), code="contract_invalid", fields=fields
        )
    return title, parties


@transaction.atomic
def contract_upload_by_district(
    *,
    operator: Operator,
    district: Boundary,
    title: str,
    parties: str,
    signed_on: datetime.date,
    starts_on: datetime.date,
    ends_on: datetime.date,
    document: File,
    acting_user: Any,
) -> Contract:
    """A district officer files a signed contract with an operator of the district; it is in force at once."""
    if not operator_operates_in(operator=operator, district=district):
        raise ContractError(
            _("%(operator)s does not operate in %(district)s.") % {"operator": operator, "district": district},
            code="operator_not_in_district",
        )
    title, parties = _contract_fields_check(
        title=title, parties=parties, signed_on=signed_on, starts_on=starts_on, ends_on=ends_on
    )
    contract_document_check(document=document)
    contract = Contract(
        operator=operator,
        kind=Contract.Kind.DISTRICT,
        district=district,
        title=title,
        parties=parties,
        signed_on=signed_on,
        starts_on=starts_on,
        ends_on=ends_on,
        status=Contract.Status.ACTIVE,
        uploaded_by=acting_user,
    )
    contract.document.save("contract.pdf", document, save=False)  # the name comes from the model's upload_to
    contract.save()
    audit_record(
        actor=acting_user, action="contract.uploaded", target=contract, after=snapshot(contract, CONTRACT_FIELDS)
    )
    return contract


@transaction.atomic
def contract_submit_by_national_utility(
    *,
    operator: Operator,
    title: str,
    parties: str,
    signed_on: datetime.date,
    starts_on: datetime.date,
    ends_on: datetime.date,
    document: File,
    acting_user: Any,
) -> Contract:
    """The national utility submits a contract with an operator; it waits for the regulator to verify it."""
    title, parties = _contract_fields_check(
        title=title, parties=parties, signed_on=signed_on, starts_on=starts_on, ends_on=ends_on
    )
    contract_document_check(document=document)
    contract = Contract(
        operator=operator,
        kind=Contract.Kind.NATIONAL_UTILITY,
        district=None,
        title=title,
        parties=parties,
        signed_on=signed_on,
        starts_on=starts_on,
        ends_on=ends_on,
        status=Contract.Status.PENDING,
        uploaded_by=acting_user,
    )
    contract.document.save("contract.pdf", document, save=False)
    contract.save()
    audit_record(
        actor=acting_user, action="contract.submitted", target=contract, after=snapshot(contract, CONTRACT_FIELDS)
    )
    return contract


def _pending_or_conflict(contract: Contract) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.kind != Contract.Kind.NATIONAL_UTILITY or contract.status != Contract.Status.PENDING:
        raise ContractConflict(
            _("Only a contract waiting for verification can be verified or rejected; this one is %(status)s.")
            % {"status": contract.get_status_display().lower()},
            code="contract_not_pending",
        )
    return contract


@transaction.atomic
def contract_verify(*, contract: Contract, acting_user: Any) -> Contract:
    """The regulator confirms a contract the national utility submitted."""
    contract = _pending_or_conflict(contract)
    contract.status = Contract.Status.VERIFIED
    contract.decided_by = acting_user
    contract.decided_at = timezone.now()
    contract.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=acting_user,
        action="contract.verified",
        target=contract,
        before={"status": Contract.Status.PENDING},
        after={"status": contract.status},
    )
    return contract


@transaction.atomic
def contract_reject(*, contract: Contract, reason: str, acting_user: Any) -> Contract:
    """The regulator turns down a contract the national utility submitted, saying why."""
    reason = reason.strip()
    if not reason:
        raise _field_error(
            "reason",
            _("Say why the contract is rejected, so the national utility can correct it."),
            code="reason_required",
        )
    contract = _pending_or_conflict(contract)
    contract.status = Contract.Status.REJECTED
    contract.rejection_reason = reason
    contract.decided_by = acting_user
    contract.decided_at = timezone.now()
    contract.save(update_fields=["status", "rejection_reason", "decided_by", "decided_at"])
    audit_record(
        actor=acting_user,
        action="contract.rejected",
        target=contract,
        before={"status": Contract.Status.PENDING},
        after={"status": contract.status},
        detail={"reason": reason},
    )
    return contract


# -- the checklist ------------------------------------------------------------------------------------------------


def _checklist_detail(*, district: Boundary, requirement: Requirement) -> dict[str, Any]:
    return {
        "district": district.pk,
        "district_name": district.name,
        "requirement": requirement.pk,
        "title": requirement.title,
    }


@transaction.atomic
def requirement_check(
    *, operator: Operator, district: Boundary, requirement: Requirement, note: str = "", acting_user: Any
) -> RequirementCheck:
    """Tick a requirement for an operator in a district. Ticking it again changes nothing (but a new note)."""
    if not operator_operates_in(operator=operator, district=district):
        raise ContractError(
            _("%(operator)s does not operate in %(district)s.") % {"operator": operator, "district": district},
            code="operator_not_in_district",
        )
    if not requirement.is_active:
        raise _field_error(
            "requirement",
            _("This requirement is no longer on the checklist. Reload the page to see the current list."),
            code="requirement_inactive",
        )
    note = note.strip()
    if len(note) > 300:
        raise _field_error("note", _("Shorten the note to at most 300 characters."), code="note_too_long")
    check, created = RequirementCheck.objects.get_or_create(
        operator=operator,
        district=district,
        requirement=requirement,
        defaults={"checked_by": acting_user, "note": note},
    )
    if created:
        audit_record(
            actor=acting_user,
            action="requirement.checked",
            target=operator,
            after={"district": district.name, "requirement": requirement.title, "note": note},
            detail=_checklist_detail(district=district, requirement=requirement),
        )
    elif note and note != check.note:
        before = check.note
        check.note = note
        check.save(update_fields=["note"])
        audit_record(
            actor=acting_user,
            action="requirement.note_changed",
            target=operator,
            before={"requirement": requirement.title, "note": before},
            after={"requirement": requirement.title, "note": note},
            detail=_checklist_detail(district=district, requirement=requirement),
        )
    return check


@transaction.atomic
def requirement_uncheck(*, operator: Operator, district: Boundary, requirement: Requirement, acting_user: Any) -> None:
    """Take a tick back; unticking what is not ticked changes nothing."""
    deleted, _details = RequirementCheck.objects.filter(
        operator=operator, district=district, requirement=requirement
    ).delete()
    if deleted:
        audit_record(
            actor=acting_user,
            action="requirement.unchecked",
            target=operator,
            before={"district": district.name, "requirement": requirement.title},
            detail=_checklist_detail(district=district, requirement=requirement),
        )


# -- the requirement list (the regulator's) --------------------------------------------------------------------------


def _same_words_active(*, title: str, exclude_pk: int | None) -> bool:
    """Whether another active requirement says the same (ignoring case)."""
    same = Requirement.objects.filter(title__iexact=title, is_active=True)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    return same.exists()


def _requirement_fields_check(
    *, title: str, description: str, order: int, exclude_pk: int | None = None
) -> tuple[str, str]:
    title, description = title.strip(), description.strip()
    fields: dict[str, list[str]] = {}
    if not title:
        fields["title"] = [_("Write the requirement.")]
    elif len(title) > 200:
        fields["title"] = [_("Shorten the requirement to at most 200 characters.")]
    elif _same_words_active(title=title, exclude_pk=exclude_pk):
        fields["title"] = [_("This requirement is already on the checklist.")]
    if not 0 <= order <= 32767:
        fields["order"] = [_("Give a position between 0 and 32767.")]
    if fields:
        raise ContractError(
            _("The requirement could not be saved: correct the marked fields."),
            code="requirement_invalid",
            fields=fields,
        )
    return title, description


@transaction.atomic
def requirement_create(*, title: str, description: str = "", order: int = 100, acting_user: Any) -> Requirement:
    """Add a requirement to the checklist: no operator is cleared anywhere until it is ticked for them."""
    title, description = _requirement_fields_check(title=title, description=description, order=order)
    requirement = Requirement.objects.create(title=title, description=description, order=order)
    audit_record(
        actor=acting_user,
        action="requirement.created",
        target=requirement,
        after=snapshot(requirement, REQUIREMENT_FIELDS),
    )
    return requirement


@transaction.atomic
def requirement_update(
    *, requirement: Requirement, title: str, description: str, order: int, acting_user: Any
) -> Requirement:
    """Reword or move a requirement; the ticks already given stay."""
    requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
    title, description = _requirement_fields_check(
        title=title, description=description, order=order, exclude_pk=requirement.pk
    )
    before = snapshot(requirement, REQUIREMENT_FIELDS)
    requirement.title, requirement.description, requirement.order = title, description, order
    requirement.save(update_fields=["title", "description", "order"])
    audit_record(
        actor=acting_user,
        action="requirement.updated",
        target=requirement,
        before=before,
        after=snapshot(requirement, REQUIREMENT_FIELDS),
    )
    return requirement


def _requirement_set_active(*, requirement: Requirement, active: bool, acting_user: Any) -> Requirement:
    requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
    if requirement.is_active == active:
        return requirement
    if active and _same_words_active(title=requirement.title, exclude_pk=requirement.pk):
        raise ContractError(
            _("An active requirement with the same words is already on the checklist."), code="requirement_duplicate"
        )
    requirement.is_active = active
    requirement.save(update_fields=["is_active"])
    audit_record(
        actor=acting_user,
        action="requirement.activated" if active else "requirement.deactivated",
        target=requirement,
        before={"is_active": not active},
        after={"is_active": active},
    )
    return requirement


@transaction.atomic
def requirement_deactivate(*, requirement: Requirement, acting_user: Any) -> Requirement:
    """Take a requirement off the checklist; its ticks are kept, in case it comes back."""
    return _requirement_set_active(requirement=requirement, active=False, acting_user=acting_user)


@transaction.atomic
def requirement_activate(*, requirement: Requirement, acting_user: Any) -> Requirement:
    """Put a requirement back on the checklist, with the ticks it had."""
    return _requirement_set_active(requirement=requirement, active=True, acting_user=acting_user)
