"""Licences from the licensing system: fetched over real HTTP from the fake CLMS on loopback, kept, re-synced daily.

Every failure of CLMS leaves the licence as it was at its last good sync.
"""

import dataclasses
import datetime
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mita.core.audit import audit_for
from mita.core.errors import Conflict
from mita.core.schedule import periodic_tasks
from mita.integrations.clms.fake import FakeClms
from mita.registry.licensing import LicenceRecord, LicensingError, licensing_system
from mita.registry.models import Licence, LicenceEvent
from mita.registry.services.licences import (
    licence_sync,
    licence_upsert_from_record,
    licences_sync_all,
)

TOKEN = "registry-test-clms-token"
AMAZI = "RURA/WSS/2024/017"
IZUBA = "RURA/MG/2023/004"
UMUCYO = "RURA/WSS/2025/050"


@pytest.fixture
def clms(settings: Any) -> Iterator[FakeClms]:
    """Mita configured to ask the licensing system, which is the fake CLMS on a free loopback port."""
    with FakeClms(token=TOKEN) as fake:
        settings.MITA_CLMS_BASE_URL = fake.base_url
        settings.MITA_CLMS_TOKEN = TOKEN
        settings.MITA_CLMS_TIMEOUT_SECONDS = 0.5
        yield fake


def fetched(number: str, **kwargs: Any) -> Licence:
    """The licence as Mita keeps it after fetching it from CLMS (as onboarding does)."""
    return licence_upsert_from_record(record=licensing_system().fetch(number), **kwargs)


def kept(licence: Licence) -> dict[str, Any]:
    """Everything Mita holds about a licence, to compare before and after a failed sync."""
    row = Licence.objects.get(pk=licence.pk)
    values = {field.name: getattr(row, field.name) for field in Licence._meta.concrete_fields}
    values["districts"] = sorted(row.districts.values_list("code", flat=True))
    values["events"] = list(row.events.values_list("pk", flat=True))
    return values


# Fetching


def test_a_licence_is_fetched_over_http_with_every_field(clms, db):
    record = licensing_system().fetch(IZUBA)
    assert record.number == IZUBA
    assert (record.holder_name, record.tin, record.email, record.phone) == (
        "Izuba Mini-Grids",
        "108765432",
        "hello@izuba.example",
        "+250788400000",
    )
    assert record.status == "valid"
    assert (record.issued_on, record.expires_on) == (datetime.date(2023, 12, 16), datetime.date(2026, 12, 15))
    assert record.services == ["electricity_generation", "electricity_distribution"]
    assert (record.district_codes, record.district_names) == (["RW-47", "RW-54"], ["Nyaruguru", "Nyamasheke"])
    assert record.raw["licence_number"] == IZUBA


def test_the_settings_are_read_at_each_fetch(clms, settings, db):
    system = licensing_system()
    settings.MITA_CLMS_TOKEN = "changed-since"
    with pytest.raises(LicensingError) as raised:
        system.fetch(AMAZI)
    assert raised.value.code == "refused"


def test_a_first_fetch_keeps_the_licence_with_its_districts_and_a_first_event(clms, operator_a):
    # when the regulator onboards Amazi Meza by its licence number
    licence = fetched(AMAZI, operator=operator_a)
    # then Mita keeps the licence as CLMS reported it, attached to the operator
    licence.refresh_from_db()
    assert (licence.number, licence.holder_name, licence.tin, licence.status) == (
        AMAZI,
        "Amazi Meza Ltd",
        "102345678",
        "valid",
    )
    assert (licence.email, licence.phone) == ("info@amazimeza.example", "+250788300000")
    assert (licence.issued_on, licence.expires_on) == (datetime.date(2024, 7, 1), datetime.date(2027, 6, 30))
    assert licence.services == ["water_supply"]
    assert licence.operator == operator_a
    assert licence.source["holder"]["tin"] == "102345678"
    assert licence.fetched_at is not None
    # and the districts are Mita's own, matched by code
    assert sorted(licence.districts.values_list("code", flat=True)) == ["RW-21", "RW-27"]
    # and the history starts with the licence first seen, and the audit log says so
    [event] = licence.events.all()
    assert (event.old_status, event.new_status, event.detail) == ("", "valid", {"first_seen": True})
    assert {entry.action for entry in audit_for(licence)} == {"licence.fetched", "licence.attached"}
    assert audit_for(licence).first().operator_id == operator_a.pk


def test_districts_unknown_by_code_are_matched_by_name_and_the_rest_noted(clms, db):
    clms.change(
        UMUCYO,
        districts=[
            {"code": "GIS", "name": "gisagara"},
            {"code": "", "name": "Huye"},
            {"code": "XX-99", "name": "Atlantis"},
        ],
    )
    licence = fetched(UMUCYO)
    assert sorted(licence.districts.values_list("name", flat=True)) == ["Gisagara", "Huye"]
    assert audit_for(licence).get(action="licence.fetched").detail == {"unmatched_districts": ["XX-99 Atlantis"]}


def test_a_phone_written_with_spaces_is_kept_in_e164(clms, db):
    clms.change(UMUCYO, holder={"name": "Umucyo Water Ltd", "phone": "+250 788 610 050"})
    assert fetched(UMUCYO).phone == "+250788610050"


def test_clms_spelling_a_number_in_another_case_is_still_the_same_licence(clms, operator_a):
    licence = fetched(AMAZI, operator=operator_a)
    again = fetched(AMAZI.lower())
    assert again.pk == licence.pk
    assert Licence.objects.count() == 1


def test_a_licence_held_by_one_operator_is_not_given_to_another(clms, operator_a, operator_b):
    licence = fetched(AMAZI, operator=operator_a)
    before = kept(licence)
    with pytest.raises(Conflict) as raised:
        fetched(AMAZI, operator=operator_b)
    assert raised.value.code == "licence_taken"
    assert kept(licence) == before


def test_a_value_too_long_to_keep_is_an_invalid_response(clms, db):
    clms.change(UMUCYO, holder={"name": "Umucyo Water Ltd", "tin": "1" * 31})
    with pytest.raises(LicensingError) as raised:
        licensing_system().fetch(UMUCYO)
    assert raised.value.code == "invalid_response"
    assert not Licence.objects.exists()


# When CLMS fails, nothing changes


def _closed_port(clms: FakeClms, settings: Any) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        settings.MITA_CLMS_BASE_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"


FAILURES = {
    "closed port": ("unreachable", _closed_port),
    "server error": ("unreachable", lambda clms, settings: clms.fail("http500")),
    "no answer in time": ("unreachable", lambda clms, settings: clms.fail("timeout", delay=3.0)),
    "licence gone": ("not_found", lambda clms, settings: clms.remove(AMAZI)),
    "wrong token": ("refused", lambda clms, settings: setattr(settings, "MITA_CLMS_TOKEN", "not-the-token")),
    "garbage": ("invalid_response", lambda clms, settings: clms.fail("garbage")),
    "wrong shape": ("invalid_response", lambda clms, settings: clms.fail("wrong_shape")),
    "bad date": ("invalid_response", lambda clms, settings: clms.change(AMAZI, expiry_date="30/06/2027")),
    "unknown status": ("invalid_response", lambda clms, settings: clms.change(AMAZI, status="cancelled")),
}

MESSAGES = {
    "unreachable": "did not answer; try again later. Nothing was changed.",
    "not_found": "has no licence numbered RURA/WSS/2024/017",
    "refused": "refused Mita's access token",
    "invalid_response": "gave an answer Mita cannot read",
}


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_a_failed_sync_says_why_and_keeps_the_previous_licence(clms, settings, operator_a, failure):
    # given Amazi Meza's licence was synced yesterday, and CLMS has renewed it since
    licence = fetched(AMAZI, operator=operator_a)
    before = kept(licence)
    clms.change(AMAZI, expiry_date="2032-06-30", holder={"name": "Amazi Meza Group Ltd"})
    # when CLMS fails in one way or another at today's sync
    code, break_clms = FAILURES[failure]
    break_clms(clms, settings)
    with pytest.raises(LicensingError) as raised:
        licence_sync(licence=licence)
    # then the error names the kind of failure and tells the user what to do
    assert raised.value.code == code
    assert MESSAGES[code] in str(raised.value)
    # and the licence keeps every value of its last good sync, with no new event
    assert kept(licence) == before


def test_onboarding_a_licence_clms_cannot_give_creates_nothing(clms, db):
    clms.fail("garbage")
    with pytest.raises(LicensingError):
        fetched(UMUCYO)
    assert not Licence.objects.exists()
    assert not LicenceEvent.objects.exists()


# Sync


def test_a_status_change_at_sync_is_kept_and_recorded_as_an_event(clms, operator_a):
    licence = fetched(AMAZI, operator=operator_a)
    # given the regulator suspended the licence in CLMS
    suspended = {**clms.licences[[entry["licence_number"] for entry in clms.licences].index(AMAZI)]}
    suspended["status"] = "suspended"
    assert httpx.post(clms.base_url + "/__licences", json=suspended).status_code == 200
    # when Mita syncs the licence
    licence = licence_sync(licence=licence)
    # then Mita now holds it as suspended, with the change in its history and the audit log
    licence.refresh_from_db()
    assert licence.status == Licence.Status.SUSPENDED
    latest = licence.events.first()
    assert (latest.old_status, latest.new_status) == ("valid", "suspended")
    assert latest.detail == {"changes": {"status": ["valid", "suspended"]}}
    update = audit_for(licence).get(action="licence.updated")
    assert (update.before, update.after) == ({"status": "valid"}, {"status": "suspended"})


def test_a_sync_with_nothing_changed_records_no_event_but_the_time_it_checked(clms, operator_a):
    licence = fetched(AMAZI, operator=operator_a)
    first_checked = licence.fetched_at
    events, audit_entries = licence.events.count(), audit_for(licence).count()
    licence = licence_sync(licence=licence)
    assert licence.events.count() == events
    assert audit_for(licence).count() == audit_entries
    assert licence.fetched_at > first_checked


def test_a_renewal_is_an_event_with_the_new_expiry_date(clms, operator_a):
    licence = fetched(IZUBA, operator=operator_a)
    clms.change(IZUBA, expiry_date="2031-12-15")
    licence = licence_sync(licence=licence)
    assert licence.expires_on == datetime.date(2031, 12, 15)
    latest = licence.events.first()
    assert (latest.old_status, latest.new_status) == ("valid", "valid")
    assert latest.detail == {"changes": {"expires_on": ["2026-12-15", "2031-12-15"]}}


def test_a_change_of_districts_and_contacts_is_audited_without_an_event(clms, operator_a):
    licence = fetched(AMAZI, operator=operator_a)
    clms.change(
        AMAZI,
        holder={"name": "Amazi Meza Ltd", "tin": "102345678", "email": "new@amazimeza.example"},
        districts=[{"code": "RW-21", "name": "Bugesera"}],
    )
    licence = licence_sync(licence=licence)
    assert licence.events.count() == 1  # only the first sight
    update = audit_for(licence).get(action="licence.updated")
    assert update.after == {"districts": ["RW-21"], "email": "new@amazimeza.example", "phone": ""}
    assert list(licence.districts.values_list("code", flat=True)) == ["RW-21"]


def test_syncing_all_licences_goes_past_one_that_fails(clms, operator_a, operator_b, db):
    # given three onboarded licences and one that no operator holds
    amazi = fetched(AMAZI, operator=operator_a)
    izuba = fetched(IZUBA, operator=operator_b)
    umucyo = fetched(UMUCYO, operator=operator_b)
    stray = fetched("RURA/WSS/2022/031")
    # and since then CLMS suspended Izuba, lost Amazi's licence and revoked the stray one
    clms.change(IZUBA, status="suspended")
    clms.remove(AMAZI)
    clms.change("RURA/WSS/2022/031", status="revoked")
    amazi_before = kept(amazi)
    # when the daily sync runs
    counts = licences_sync_all()
    # then the failure did not stop the others
    assert counts == {"synced": 2, "changed": 1, "failed": 1}
    assert Licence.objects.get(pk=izuba.pk).status == "suspended"
    assert Licence.objects.get(pk=umucyo.pk).status == "valid"
    assert kept(amazi) == amazi_before
    # and a licence no operator holds is left alone
    assert Licence.objects.get(pk=stray.pk).status == "expired"


def test_the_daily_sync_is_a_registered_periodic_task(clms, operator_a):
    from mita.registry.tasks import licences_sync

    [periodic] = [p for p in periodic_tasks() if p.name == "registry.licences_sync"]
    assert periodic.every == datetime.timedelta(days=1)
    assert periodic.task is licences_sync
    # and the task syncs the licences (the test settings run tasks at once)
    fetched(AMAZI, operator=operator_a)
    clms.change(AMAZI, status="revoked")
    result = licences_sync.enqueue()
    assert result.return_value == {"synced": 1, "changed": 1, "failed": 0}
    assert Licence.objects.get(number=AMAZI).status == "revoked"


def test_a_record_is_kept_as_given_when_it_does_not_come_from_clms(db):
    # the service takes any LicensingSystem's record, not only CLMS's
    record = LicenceRecord(
        number="TEST/1",
        holder_name="Test Holder",
        tin="",
        email="",
        phone="",
        status="valid",
        issued_on=datetime.date(2025, 1, 1),
        expires_on=datetime.date(2026, 1, 1),
        services=["water_supply", "water_supply"],
        district_codes=["RW-41"],
        district_names=["Gisagara"],
        raw={},
    )
    licence = licence_upsert_from_record(record=record)
    assert licence.services == ["water_supply"]
    renewed = licence_upsert_from_record(record=dataclasses.replace(record, expires_on=datetime.date(2027, 1, 1)))
    assert renewed.pk == licence.pk
    assert renewed.events.count() == 2
