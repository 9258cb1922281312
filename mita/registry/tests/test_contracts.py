"""Contracts and the checklist before starting operations: uploads, clearance, verification, and who sees what."""

import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

import mita.registry.navigation_contracts  # noqa: F401  (registers the home cards, as apps.py does)
from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.core.navigation import cards_for
from mita.registry.access import WorkspaceAccess, workspaces_of
from mita.registry.models import Contract, Requirement, RequirementCheck
from mita.registry.selectors_contracts import operator_cleared_to_operate
from mita.registry.services.contracts import (
    ContractError,
    contract_reject,
    contract_submit_by_national_utility,
    contract_upload_by_district,
    contract_verify,
    requirement_check,
    requirement_create,
    requirement_deactivate,
    requirement_uncheck,
)
from mita.testing.factories import OperatorFactory, member

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DATES = {"signed_on": "2025-01-10", "starts_on": "2025-02-01", "ends_on": "2030-01-31"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def requirements(db):
    """A checklist of three, whatever the migration seeded (a flushed test database has none)."""
    Requirement.objects.update(is_active=False)
    return [Requirement.objects.create(title=f"Requirement {n}", order=n) for n in (1, 2, 3)]


@pytest.fixture
def national_utility_user(regulator):
    return member(Role.NATIONAL_UTILITY_USER, regulator, name="Nadia National")


@pytest.fixture
def district_officer_b(district_b):
    return member(Role.DISTRICT_OFFICER, district_b, name="Dora District-B")


def pdf(name: str = "contract.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def access_of(user) -> WorkspaceAccess:
    workspaces = workspaces_of(user)
    return WorkspaceAccess(user, workspaces, workspaces[0])


def district_contract(operator, district, officer, title: str = "Delegated management contract") -> Contract:
    return contract_upload_by_district(
        operator=operator,
        district=district,
        title=title,
        parties="Bugesera District\nAmazi Alpha Ltd",
        signed_on=datetime.date(2025, 1, 10),
        starts_on=datetime.date(2025, 2, 1),
        ends_on=datetime.date(2030, 1, 31),
        document=pdf(),
        acting_user=officer,
    )


def submitted_contract(operator, user, title: str = "Bulk water supply agreement") -> Contract:
    return contract_submit_by_national_utility(
        operator=operator,
        title=title,
        parties="National utility\nAmazi Alpha Ltd",
        signed_on=datetime.date(2025, 1, 10),
        starts_on=datetime.date(2025, 2, 1),
        ends_on=datetime.date(2027, 1, 31),
        document=pdf(),
        acting_user=user,
    )


def upload_url(district, operator) -> str:
    return reverse("registry:district_contract_upload", args=[district.pk, operator.pk])


def stored_files(media_root) -> list:
    return [path for path in media_root.rglob("*") if path.is_file()]


# -- uploads --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("contract.pdf", b"PK\x03\x04 a word document renamed", "This file is not a PDF"),
        ("contract.pdf", b"", "The submitted file is empty."),
        ("contract.pdf", PDF + b"x" * 2000, "the largest allowed is"),
    ],
)
def test_a_file_that_is_not_an_acceptable_pdf_is_refused_with_a_field_error_and_nothing_is_saved(
    settings, media_root, client_for, district_officer_a, district_a, operator_a, name, content, message
):
    # given a district officer, a contract limit of 1 KB, and a contract already on file
    settings.MITA_CONTRACT_MAX_BYTES = 1024
    existing = district_contract(operator_a, district_a, district_officer_a, title="Earlier contract")
    # when they upload a file that is a word document named .pdf, an empty file, or one too large
    response = client_for(district_officer_a).post(
        upload_url(district_a, operator_a),
        {"title": "New contract", "parties": "District and operator", **DATES, "document": pdf(name, content)},
    )
    # then the page says what is wrong next to the file field, keeps what they typed, and saves nothing new
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert 'class="field invalid required"' in page and 'value="New contract"' in page
    assert list(Contract.objects.values_list("title", flat=True)) == ["Earlier contract"]
    assert stored_files(media_root) == [media_root / existing.document.name]


def test_the_service_refuses_a_non_pdf_with_a_stable_code(district_officer_a, district_a, operator_a):
    with pytest.raises(ContractError) as refused:
        contract_upload_by_district(
            operator=operator_a,
            district=district_a,
            title="Contract",
            parties="District and operator",
            signed_on=datetime.date(2025, 1, 1),
            starts_on=datetime.date(2025, 1, 1),
            ends_on=datetime.date(2026, 1, 1),
            document=pdf(content=b"<html>not a pdf</html>"),
            acting_user=district_officer_a,
        )
    assert refused.value.code == "document_not_pdf"
    assert "document" in refused.value.fields
    assert not Contract.objects.exists()


def test_dates_in_the_wrong_order_are_refused_and_the_officer_is_told_to_choose_the_file_again(
    client_for, district_officer_a, district_a, operator_a
):
    response = client_for(district_officer_a).post(
        upload_url(district_a, operator_a),
        {"title": "Contract", "parties": "Both", **DATES, "ends_on": "2024-12-31", "document": pdf()},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The contract must end on or after the day it starts." in page
    assert 'data-testid="choose-again"' in page
    assert not Contract.objects.exists()


def test_a_district_officer_uploads_a_contract_that_is_in_force_and_stored_under_media_root(
    media_root, client_for, district_officer_a, district_a, operator_a
):
    # when the officer of Bugesera uploads a contract with Amazi Alpha
    response = client_for(district_officer_a).post(
        upload_url(district_a, operator_a),
        {"title": "Delegated management", "parties": "Bugesera\nAmazi Alpha Ltd", **DATES, "document": pdf()},
    )
    # then it is active, in the district, its file is under MEDIA_ROOT, and its page tells its history
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "registry:contract_detail", args=[contract.pk]
    )
    assert (contract.kind, contract.status, contract.district, contract.operator) == (
        Contract.Kind.DISTRICT,
        Contract.Status.ACTIVE,
        district_a,
        operator_a,
    )
    assert (media_root / contract.document.name).read_bytes() == PDF
    page = client_for(district_officer_a).get(response["Location"]).content.decode()
    assert "Delegated management" in page and "contract.uploaded" in page and "Diane District" in page


def test_a_contract_cannot_be_filed_for_an_operator_outside_the_district(district_officer_a, district_a, operator_b):
    with pytest.raises(ContractError) as refused:
        district_contract(operator_b, district_a, district_officer_a)
    assert refused.value.code == "operator_not_in_district"


def test_the_download_serves_the_pdf_bytes_to_those_who_may_read_the_contract(
    client_for, district_officer_a, admin_a, regulator_viewer, district_a, operator_a
):
    contract = district_contract(operator_a, district_a, district_officer_a)
    for reader in (district_officer_a, admin_a, regulator_viewer):
        response = client_for(reader).get(reverse("registry:contract_document", args=[contract.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == PDF


# -- the checklist and clearance ----------------------------------------------------------------------------------


def test_an_operator_is_cleared_only_when_every_active_requirement_is_ticked(
    requirements, district_officer_a, district_a, operator_a
):
    # given two of three requirements ticked
    for requirement in requirements[:2]:
        requirement_check(
            operator=operator_a, district=district_a, requirement=requirement, acting_user=district_officer_a
        )
    assert not operator_cleared_to_operate(operator_a, district_a)
    # when the third is ticked
    requirement_check(
        operator=operator_a, district=district_a, requirement=requirements[2], acting_user=district_officer_a
    )
    # then the operator is cleared in that district
    assert operator_cleared_to_operate(operator_a, district_a)
    # and when the regulator adds a requirement, it is no longer cleared until that one is ticked too
    added = requirement_create(title="Emergency plan filed", acting_user=None)
    assert not operator_cleared_to_operate(operator_a, district_a)
    # and taking it off the checklist clears the operator again
    requirement_deactivate(requirement=added, acting_user=None)
    assert operator_cleared_to_operate(operator_a, district_a)


def test_a_tick_counts_only_in_its_own_district(requirements, district_officer_a, district_a, district_b, operator_a):
    operator_a.districts.add(district_b)
    for requirement in requirements:
        requirement_check(
            operator=operator_a, district=district_a, requirement=requirement, acting_user=district_officer_a
        )
    assert operator_cleared_to_operate(operator_a, district_a)
    assert not operator_cleared_to_operate(operator_a, district_b)


def test_ticking_and_unticking_are_idempotent(requirements, district_officer_a, district_a, operator_a):
    for _ in range(2):
        requirement_check(
            operator=operator_a, district=district_a, requirement=requirements[0], acting_user=district_officer_a
        )
    assert RequirementCheck.objects.count() == 1
    for _ in range(2):
        requirement_uncheck(
            operator=operator_a, district=district_a, requirement=requirements[0], acting_user=district_officer_a
        )
    assert RequirementCheck.objects.count() == 0


def test_the_district_officer_ticks_the_checklist_on_the_operator_page(
    requirements, client_for, district_officer_a, district_a, operator_a
):
    client = client_for(district_officer_a)
    url = reverse("registry:district_operator", args=[district_a.pk, operator_a.pk])
    # when the officer ticks every requirement (plain form posts)
    for requirement in requirements:
        response = client.post(url, {"requirement": requirement.pk, "checked": "1", "note": "seen on site"})
        assert response.status_code == 302
    # then the page says the operator is cleared, 3 of 3
    page = client.get(url).content.decode()
    assert "Cleared to operate" in page and "3 of 3 requirements met" in page and "requirement.checked" in page
    # when one is unticked through htmx, the answer is the checklist alone, not cleared any more
    response = client.post(url, {"requirement": requirements[0].pk, "checked": "0"}, headers={"HX-Request": "true"})
    partial = response.content.decode()
    assert response.status_code == 200
    assert 'id="checklist"' in partial and "<html" not in partial
    assert "Not cleared to operate yet" in partial and "2 of 3 requirements met" in partial


def test_ticking_a_requirement_taken_off_the_checklist_says_to_reload(
    requirements, client_for, district_officer_a, district_a, operator_a
):
    requirement_deactivate(requirement=requirements[0], acting_user=None)
    url = reverse("registry:district_operator", args=[district_a.pk, operator_a.pk])
    response = client_for(district_officer_a).post(url, {"requirement": requirements[0].pk, "checked": "1"})
    assert response.status_code == 400
    assert "no longer on the checklist" in response.content.decode()
    assert not RequirementCheck.objects.exists()


def test_the_district_page_lists_its_operators_with_their_progress(
    requirements, client_for, district_officer_a, district_a, operator_a
):
    # given a second operator in the district, cleared, and operator A with one tick and one contract
    other = OperatorFactory(name="Zulu Water")
    other.districts.add(district_a)
    for requirement in requirements:
        requirement_check(operator=other, district=district_a, requirement=requirement, acting_user=district_officer_a)
    requirement_check(
        operator=operator_a, district=district_a, requirement=requirements[0], acting_user=district_officer_a
    )
    district_contract(operator_a, district_a, district_officer_a)
    client = client_for(district_officer_a)
    # when the officer opens their district, sorted by progress
    response = client.get(reverse("registry:district_home"), follow=True)
    page = client.get(reverse("registry:district_detail", args=[district_a.pk]), {"sort": "-cleared"}).content.decode()
    # then each operator shows whether it is cleared and its progress, the most advanced first
    assert response.status_code == 200 and "Bugesera" in response.content.decode()
    assert page.index("Zulu Water") < page.index("Amazi Alpha Ltd")
    row_a = page[page.index("Amazi Alpha Ltd") :].split("</tr>")[0]
    assert "Not yet" in row_a and "1/3" in row_a and "<td>1</td>" in row_a
    row_other = page[page.index("Zulu Water") :].split("</tr>")[0]
    assert "Yes" in row_other and "3/3" in row_other


# -- another district, another operator ---------------------------------------------------------------------------


def test_the_officer_of_another_district_gets_404_on_the_operator_and_its_contracts(
    requirements, client_for, district_officer_a, district_officer_b, district_a, operator_a
):
    contract = district_contract(operator_a, district_a, district_officer_a)
    client = client_for(district_officer_b)
    for url in (
        reverse("registry:district_detail", args=[district_a.pk]),
        reverse("registry:district_operator", args=[district_a.pk, operator_a.pk]),
        reverse("registry:contract_detail", args=[contract.pk]),
        reverse("registry:contract_document", args=[contract.pk]),
        f"/api/v1/contracts/{contract.pk}",
        f"/api/v1/contracts/{contract.pk}/document",
        f"/api/v1/districts/{district_a.pk}/operators/{operator_a.pk}/checklist",
    ):
        assert client.get(url).status_code == 404, url
    # nor can they tick or upload there
    tick = client.post(
        reverse("registry:district_operator", args=[district_a.pk, operator_a.pk]),
        {"requirement": requirements[0].pk, "checked": "1"},
    )
    upload = client.post(upload_url(district_a, operator_a), {"title": "x", "parties": "y", **DATES, "document": pdf()})
    api_tick = client.post(
        f"/api/v1/districts/{district_a.pk}/operators/{operator_a.pk}/checklist",
        {"requirement_id": requirements[0].pk, "checked": True},
        content_type="application/json",
    )
    assert (tick.status_code, upload.status_code, api_tick.status_code) == (404, 404, 404)
    assert Contract.objects.count() == 1 and not RequirementCheck.objects.exists()


def test_an_officer_acts_only_in_their_own_district_even_for_an_operator_of_both(
    requirements, client_for, district_officer_a, district_officer_b, district_a, district_b, operator_a
):
    # given operator A operating in both districts, with a contract filed in district A
    operator_a.districts.add(district_b)
    contract = district_contract(operator_a, district_a, district_officer_a)
    client = client_for(district_officer_b)
    # then district B's officer sees operator A in district B, but not district A's checklist or contract
    assert client.get(reverse("registry:district_operator", args=[district_b.pk, operator_a.pk])).status_code == 200
    assert client.get(reverse("registry:district_operator", args=[district_a.pk, operator_a.pk])).status_code == 404
    assert client.get(reverse("registry:contract_detail", args=[contract.pk])).status_code == 404
    tick = client.post(
        f"/api/v1/districts/{district_a.pk}/operators/{operator_a.pk}/checklist",
        {"requirement_id": requirements[0].pk, "checked": True},
        content_type="application/json",
    )
    assert tick.status_code == 404 and not RequirementCheck.objects.exists()


def test_operator_b_admin_gets_404_on_operator_a_contract_page_download_and_api(
    client_for, admin_b, district_officer_a, national_utility_user, district_a, operator_a
):
    client = client_for(admin_b)
    for contract in (
        district_contract(operator_a, district_a, district_officer_a),
        submitted_contract(operator_a, national_utility_user),
    ):
        for url in (
            reverse("registry:contract_detail", args=[contract.pk]),
            reverse("registry:contract_document", args=[contract.pk]),
            f"/api/v1/contracts/{contract.pk}",
            f"/api/v1/contracts/{contract.pk}/document",
        ):
            assert client.get(url).status_code == 404, url
    listing = client.get("/api/v1/contracts").json()
    assert listing == {"items": [], "count": 0}
    assert "Amazi Alpha Ltd" not in client.get(reverse("registry:contract_list")).content.decode()


def test_the_operator_admin_reads_their_contracts_and_where_they_are_cleared_but_cannot_tick(
    requirements, client_for, admin_a, district_officer_a, district_a, operator_a
):
    district_contract(operator_a, district_a, district_officer_a)
    for requirement in requirements:
        requirement_check(
            operator=operator_a, district=district_a, requirement=requirement, acting_user=district_officer_a
        )
    client = client_for(admin_a)
    page = client.get(reverse("registry:contract_list")).content.decode()
    clearance = page[page.index(f'data-testid="clearance-{district_a.pk}"') :].split("</tr>")[0]
    assert "Delegated management contract" in page
    assert "Bugesera" in clearance and "Yes" in clearance and "3/3" in clearance
    checklist_url = reverse("registry:district_operator", args=[district_a.pk, operator_a.pk])
    checklist_page = client.get(checklist_url).content.decode()
    assert (
        "Cleared to operate" in checklist_page
        and "Untick" not in checklist_page
        and "Upload a contract" not in checklist_page
    )
    assert client.post(checklist_url, {"requirement": requirements[0].pk, "checked": "0"}).status_code == 403
    assert RequirementCheck.objects.count() == 3


def test_national_utility_users_see_national_utility_contracts_but_not_district_ones(
    client_for, national_utility_user, regulator, district_officer_a, district_a, operator_a
):
    # given a contract a colleague submitted and a district contract
    colleague = member(Role.NATIONAL_UTILITY_USER, regulator, name="Colin Colleague")
    theirs = submitted_contract(operator_a, colleague, title="Colleague's agreement")
    district = district_contract(operator_a, district_a, district_officer_a, title="District-only contract")
    client = client_for(national_utility_user)
    # then the colleague's submission is listed and readable, the district contract is not
    page = client.get(reverse("registry:contract_list")).content.decode()
    assert "Colleague&#x27;s agreement" in page and "District-only contract" not in page
    assert client.get(reverse("registry:contract_detail", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("registry:contract_detail", args=[district.pk])).status_code == 404
    assert client.get(reverse("registry:district_operator", args=[district_a.pk, operator_a.pk])).status_code == 403


# -- verification by the regulator --------------------------------------------------------------------------------


def test_the_national_utility_submits_and_the_regulator_admin_verifies(
    client_for, national_utility_user, regulator_admin, operator_a, operator_b
):
    # when a national utility user submits a contract with operator A through the page
    response = client_for(national_utility_user).post(
        reverse("registry:contract_submit"),
        {"operator": operator_a.pk, "title": "Bulk supply", "parties": "Utility\nAmazi", **DATES, "document": pdf()},
    )
    contract = Contract.objects.get()
    assert response.status_code == 302
    assert (contract.kind, contract.status, contract.district) == (
        Contract.Kind.NATIONAL_UTILITY,
        Contract.Status.PENDING,
        None,
    )
    # then the regulator admin's card counts it and the queue lists it
    admin = client_for(regulator_admin)
    badges = {card.key: badge for card, badge in cards_for(access_of(regulator_admin))}
    assert badges["registry.contracts_to_verify"] == 1
    assert "Bulk supply" in admin.get(reverse("registry:contract_pending_list")).content.decode()
    # when the admin verifies it
    response = admin.post(reverse("registry:contract_verify", args=[contract.pk]))
    # then it is verified, by them, and the queue is empty
    contract.refresh_from_db()
    assert response.status_code == 302
    assert (contract.status, contract.decided_by) == (Contract.Status.VERIFIED, regulator_admin)
    assert "Bulk supply" not in admin.get(reverse("registry:contract_pending_list")).content.decode()
    assert {card.key: badge for card, badge in cards_for(access_of(regulator_admin))}[
        "registry.contracts_to_verify"
    ] == 0


def test_rejecting_needs_a_reason_and_the_national_utility_reads_it(
    client_for, national_utility_user, regulator_admin, operator_a
):
    contract = submitted_contract(operator_a, national_utility_user)
    admin = client_for(regulator_admin)
    url = reverse("registry:contract_reject", args=[contract.pk])
    # when the admin rejects without a reason
    response = admin.post(url, {"reason": "   "})
    # then they are told to give one and the contract still waits
    contract.refresh_from_db()
    assert response.status_code == 400
    assert "Say why the contract is rejected" in response.content.decode()
    assert contract.status == Contract.Status.PENDING
    # when they give one
    response = admin.post(url, {"reason": "The signature page is missing."})
    # then it is rejected and the national utility sees why
    contract.refresh_from_db()
    assert response.status_code == 302 and contract.status == Contract.Status.REJECTED
    page = client_for(national_utility_user).get(reverse("registry:contract_detail", args=[contract.pk])).content
    assert b"The signature page is missing." in page


def test_a_rejected_contract_cannot_be_verified(client_for, national_utility_user, regulator_admin, operator_a):
    contract = submitted_contract(operator_a, national_utility_user)
    contract_reject(contract=contract, reason="Unsigned", acting_user=regulator_admin)
    with pytest.raises(DomainError) as refused:
        contract_verify(contract=contract, acting_user=regulator_admin)
    assert refused.value.code == "contract_not_pending"
    api = client_for(regulator_admin).post(f"/api/v1/contracts/{contract.pk}/verify")
    page = client_for(regulator_admin).post(reverse("registry:contract_verify", args=[contract.pk]), follow=True)
    contract.refresh_from_db()
    assert api.status_code == 409 and api.json()["error"]["code"] == "contract_not_pending"
    assert "Only a contract waiting for verification" in page.content.decode()
    assert contract.status == Contract.Status.REJECTED and contract.rejection_reason == "Unsigned"


def test_a_district_contract_is_not_for_verification(
    client_for, regulator_admin, district_officer_a, district_a, operator_a
):
    contract = district_contract(operator_a, district_a, district_officer_a)
    response = client_for(regulator_admin).post(f"/api/v1/contracts/{contract.pk}/verify")
    assert response.status_code == 409
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE


def test_only_the_regulator_admin_verifies_or_rejects(client_for, regulator_viewer, national_utility_user, operator_a):
    contract = submitted_contract(operator_a, national_utility_user)
    for user in (regulator_viewer, national_utility_user):
        client = client_for(user)
        assert client.post(reverse("registry:contract_verify", args=[contract.pk])).status_code == 403
        assert (
            client.post(
                f"/api/v1/contracts/{contract.pk}/reject", {"reason": "no"}, content_type="application/json"
            ).status_code
            == 403
        )
    # the viewer reads the queue all the same
    assert client_for(regulator_viewer).get(reverse("registry:contract_pending_list")).status_code == 200
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PENDING


# -- the API --------------------------------------------------------------------------------------------------------


def test_the_api_lists_contracts_paginated_and_rejects_with_a_reason(
    client_for, regulator_admin, national_utility_user, operator_a, operator_b
):
    first = submitted_contract(operator_a, national_utility_user, title="First")
    submitted_contract(operator_b, national_utility_user, title="Second")
    client = client_for(regulator_admin)
    listing = client.get("/api/v1/contracts", {"limit": 1, "status": "pending"}).json()
    assert listing["count"] == 2 and len(listing["items"]) == 1
    one = client.get(f"/api/v1/contracts/{first.pk}").json()
    assert one["operator_name"] == "Amazi Alpha Ltd" and one["status"] == "pending"
    assert client.get(one["document_url"]).status_code == 200
    # a reject without a reason is refused with a field error
    blank = client.post(f"/api/v1/contracts/{first.pk}/reject", {"reason": ""}, content_type="application/json")
    assert blank.status_code == 400
    assert blank.json()["error"]["code"] == "reason_required" and "reason" in blank.json()["error"]["fields"]
    broken = client.post(f"/api/v1/contracts/{first.pk}/reject", "{not json", content_type="application/json")
    assert broken.status_code == 422
    rejected = client.post(
        f"/api/v1/contracts/{first.pk}/reject", {"reason": "Wrong operator"}, content_type="application/json"
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["rejection_reason"] == "Wrong operator"


def test_the_api_checklist_ticks_and_reports_clearance(
    requirements, client_for, district_officer_a, regulator_viewer, district_a, operator_a
):
    url = f"/api/v1/districts/{district_a.pk}/operators/{operator_a.pk}/checklist"
    client = client_for(district_officer_a)
    for requirement in requirements:
        answer = client.post(url, {"requirement_id": requirement.pk, "checked": True}, content_type="application/json")
        assert answer.status_code == 200
    assert answer.json()["cleared"] is True and (answer.json()["checked"], answer.json()["total"]) == (3, 3)
    unticked = client.post(
        url, {"requirement_id": requirements[1].pk, "checked": False}, content_type="application/json"
    ).json()
    assert unticked["cleared"] is False and [item["checked"] for item in unticked["items"]] == [True, False, True]
    # the regulator reads it but may not tick
    assert client_for(regulator_viewer).get(url).json()["checked"] == 2
    refused = client_for(regulator_viewer).post(
        url, {"requirement_id": requirements[1].pk, "checked": True}, content_type="application/json"
    )
    assert refused.status_code == 403
    unknown = client.post(url, {"requirement_id": 999999}, content_type="application/json")
    assert unknown.status_code == 422 and "requirement_id" in unknown.json()["error"]["fields"]


def test_the_api_upload_refuses_a_non_pdf_and_accepts_a_pdf(client_for, district_officer_a, district_a, operator_a):
    url = f"/api/v1/districts/{district_a.pk}/operators/{operator_a.pk}/contracts"
    client = client_for(district_officer_a)
    refused = client.post(url, {"title": "C", "parties": "P", **DATES, "document": pdf(content=b"GIF89a")})
    assert refused.status_code == 400
    assert "This file is not a PDF" in refused.json()["error"]["fields"]["document"][0]
    assert not Contract.objects.exists()
    created = client.post(url, {"title": "C", "parties": "P", **DATES, "document": pdf()})
    assert created.status_code == 201 and created.json()["status"] == "active"


def test_the_api_takes_a_national_utility_submission(client_for, national_utility_user, admin_a, operator_a):
    fields = {"operator": operator_a.pk, "title": "Bulk supply", "parties": "Utility\nAmazi", **DATES}
    created = client_for(national_utility_user).post("/api/v1/contracts", {**fields, "document": pdf()})
    assert created.status_code == 201 and created.json()["status"] == "pending"
    assert created.json()["kind"] == "national_utility" and created.json()["district_id"] is None
    # an operator's admin may not submit
    refused = client_for(admin_a).post("/api/v1/contracts", {**fields, "document": pdf()})
    assert refused.status_code == 403 and Contract.objects.count() == 1


# -- the requirement list -------------------------------------------------------------------------------------------


def test_the_regulator_admin_manages_the_requirement_list_and_the_viewer_reads_it(
    requirements, client_for, regulator_admin, regulator_viewer
):
    admin = client_for(regulator_admin)
    blank = admin.post(reverse("registry:requirement_create"), {"title": " ", "order": 5})
    assert blank.status_code == 400 and "This field is required." in blank.content.decode()
    duplicate = admin.post(reverse("registry:requirement_create"), {"title": "requirement 1", "order": 5})
    assert duplicate.status_code == 400 and "already on the checklist" in duplicate.content.decode()
    created = admin.post(
        reverse("registry:requirement_create"), {"title": "Emergency plan filed", "description": "", "order": 5}
    )
    assert created.status_code == 302
    added = Requirement.objects.get(title="Emergency plan filed")
    assert admin.post(reverse("registry:requirement_deactivate", args=[added.pk])).status_code == 302
    added.refresh_from_db()
    assert added.is_active is False
    viewer = client_for(regulator_viewer)
    assert "Emergency plan filed" in viewer.get(reverse("registry:requirement_list")).content.decode()
    assert viewer.get(reverse("registry:requirement_create")).status_code == 403
    assert viewer.post(reverse("registry:requirement_activate", args=[added.pk])).status_code == 403


# -- home cards -----------------------------------------------------------------------------------------------------


def test_the_district_officer_card_counts_operators_not_yet_cleared(
    requirements, client_for, district_officer_a, district_a, operator_a
):
    OperatorFactory(name="Other").districts.add(district_a)
    badges = {card.key: badge for card, badge in cards_for(access_of(district_officer_a))}
    assert badges["registry.district"] == 2
    for requirement in requirements:
        requirement_check(
            operator=operator_a, district=district_a, requirement=requirement, acting_user=district_officer_a
        )
    badges = {card.key: badge for card, badge in cards_for(access_of(district_officer_a))}
    assert badges["registry.district"] == 1
    assert 'data-testid="card-registry.district"' in client_for(district_officer_a).get("/").content.decode()


def test_the_api_documents_the_request_bodies():
    schema = json.loads(Client().get("/api/v1/openapi.json").content)
    reject = schema["paths"]["/api/v1/contracts/{contract_id}/reject"]["post"]
    assert "reason" in json.dumps(reject["requestBody"])


# -- in a real browser ----------------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_district_officer_ticks_the_checklist_and_files_a_contract_in_a_browser(
    page, live_server, tmp_path, requirements, district_officer_a, district_a, operator_a
):
    from playwright.sync_api import expect

    from mita.testing.browser import sign_in
    from mita.testing.factories import DEFAULT_PASSWORD

    # given the officer of Bugesera, signed in, on their district's page
    sign_in(page, district_officer_a.phone, DEFAULT_PASSWORD)
    page.get_by_test_id("card-registry.district").click()
    expect(page.locator("h1")).to_have_text("District of Bugesera")
    page.get_by_role("link", name="Amazi Alpha Ltd").click()
    # when they tick every requirement (htmx swaps the checklist in place)
    for requirement in requirements:
        page.get_by_test_id(f"requirement-{requirement.pk}").get_by_role("button", name="Tick").click()
        expect(
            page.get_by_test_id(f"requirement-{requirement.pk}").get_by_role("button", name="Untick")
        ).to_be_visible()
    # then the operator is cleared to operate
    expect(page.get_by_test_id("progress")).to_have_text("3 of 3 requirements met")
    expect(page.get_by_test_id("cleared")).to_contain_text("Cleared to operate")
    # when they upload a file that is not a PDF
    upload = page.locator("form[enctype='multipart/form-data']")
    upload.locator("input[name=title]").fill("Delegated management")
    upload.locator("textarea[name=parties]").fill("Bugesera District\nAmazi Alpha Ltd")
    for name, value in DATES.items():
        upload.locator(f"input[name={name}]").fill(value)
    not_pdf = tmp_path / "contract.pdf"
    not_pdf.write_bytes(b"PK\x03\x04 a word document")
    upload.locator("input[name=document]").set_input_files(str(not_pdf))
    upload.get_by_role("button", name="Upload").click()
    # then they are told what to fix, and what they typed is still there
    expect(page.get_by_role("alert").filter(has_text="This file is not a PDF")).to_be_visible()
    upload = page.locator("form[enctype='multipart/form-data']")
    expect(upload.locator("input[name=title]")).to_have_value("Delegated management")
    # when they choose the real PDF
    real_pdf = tmp_path / "signed.pdf"
    real_pdf.write_bytes(PDF)
    upload.locator("input[name=document]").set_input_files(str(real_pdf))
    upload.get_by_role("button", name="Upload").click()
    # then the contract's page offers the PDF for download
    expect(page.locator("h1")).to_have_text("Delegated management")
    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    assert download.value.path().read_bytes() == PDF
