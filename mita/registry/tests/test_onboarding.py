"""Onboarding from a licence, prefixes, grace periods, and whether an operator may bill."""

import dataclasses
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from mita.accounts.models import Membership, User
from mita.accounts.roles import Role
from mita.core.errors import DomainError
from mita.notifications.models import OutboxMessage
from mita.registry.licensing import LicenceRecord, LicensingError
from mita.registry.models import Licence, Operator, OperatorPrefix
from mita.registry.selectors import operator_billing_permission, operator_may_bill
from mita.registry.services.onboarding import (
    grace_period_grant,
    operator_logo_set,
    operator_onboard,
    operator_prefix_reserve,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def record(**changes) -> LicenceRecord:
    base = LicenceRecord(
        number="RURA/WSS/2025/050",
        holder_name="Umucyo Water Ltd",
        tin="102345678",
        email="admin@umucyo.example",
        phone="+250788610050",
        status="valid",
        issued_on=TODAY - datetime.timedelta(days=300),
        expires_on=TODAY + datetime.timedelta(days=400),
        services=["water_supply"],
        district_codes=[""],
        district_names=["Gisagara"],
        raw={},
    )
    return dataclasses.replace(base, **changes)


class StaticLicensing:
    """The licensing interface answering from memory (the HTTP path is tested against the fake CLMS)."""

    def __init__(self, *records: LicenceRecord, error: LicensingError | None = None) -> None:
        self.records = {r.number: r for r in records}
        self.error = error

    def fetch(self, number: str) -> LicenceRecord:
        if self.error:
            raise self.error
        if number not in self.records:
            raise LicensingError(f"No licence {number}", code="not_found")
        return self.records[number]


def onboard(system, regulator_admin, **changes):
    fields = {
        "licence_number": "RURA/WSS/2025/050",
        "kind": Operator.Kind.PRIVATE_OPERATOR,
        "utility": Operator.Utility.WATER,
        "currency": "RWF",
        "country_code": "RW",
    } | changes
    return operator_onboard(acting_user=regulator_admin, system=system, **fields)


def test_onboarding_a_valid_licence_creates_operator_prefix_and_invited_admin_in_one_step(regulator_admin):
    operator = onboard(StaticLicensing(record()), regulator_admin)
    assert operator.name == "Umucyo Water Ltd"
    assert operator.prefix == "UMU" and OperatorPrefix.objects.get(prefix="UMU").operator == operator
    admin = User.objects.get(phone="+250788610050")
    assert Membership.objects.filter(user=admin, role=Role.OPERATOR_ADMIN, operator=operator).exists()
    assert admin.email == "admin@umucyo.example" and not admin.has_usable_password()
    sms = OutboxMessage.objects.get(to="+250788610050", template="accounts.invitation")
    assert "/accounts/invitation/" in sms.body and sms.operator == operator
    assert Licence.objects.get(number="RURA/WSS/2025/050").operator == operator


@pytest.mark.parametrize("status", ["expired", "revoked", "suspended"])
def test_a_licence_that_is_not_valid_is_refused_and_nothing_is_created(regulator_admin, status):
    with pytest.raises(DomainError) as refusal:
        onboard(StaticLicensing(record(status=status)), regulator_admin)
    assert refusal.value.code == "licence_not_valid"
    assert "grace period" in str(refusal.value.message)
    assert not Operator.objects.exists() and not OperatorPrefix.objects.exists()
    assert not User.objects.filter(phone="+250788610050").exists()
    # the licence is kept, so the regulator can grant a grace period on it
    assert Licence.objects.get(number="RURA/WSS/2025/050").operator is None


def test_a_licence_past_its_expiry_date_is_refused_even_if_marked_valid(regulator_admin):
    stale = record(expires_on=TODAY - datetime.timedelta(days=1))
    with pytest.raises(DomainError, match="Onboarding needs a valid licence"):
        onboard(StaticLicensing(stale), regulator_admin)


def test_a_grace_period_covering_today_lets_an_expired_licence_be_onboarded(regulator_admin):
    expired = record(status="expired", expires_on=TODAY - datetime.timedelta(days=10))
    system = StaticLicensing(expired)
    with pytest.raises(DomainError):
        onboard(system, regulator_admin)
    licence = Licence.objects.get(number=expired.number)
    grace_period_grant(
        licence=licence,
        starts_on=TODAY - datetime.timedelta(days=1),
        ends_on=TODAY + datetime.timedelta(days=60),
        reason="Renewal filed",
        acting_user=regulator_admin,
    )
    operator = onboard(system, regulator_admin)
    assert operator_may_bill(operator, TODAY)


def test_the_licensing_system_being_down_is_a_clear_error_and_changes_nothing(regulator_admin):
    down = StaticLicensing(error=LicensingError("The licensing system did not answer.", code="unreachable"))
    with pytest.raises(DomainError) as refusal:
        onboard(down, regulator_admin)
    assert refusal.value.code == "licensing_unreachable" and refusal.value.status == 502
    assert not Licence.objects.exists() and not Operator.objects.exists()


def test_a_licence_is_onboarded_once(regulator_admin):
    system = StaticLicensing(record())
    onboard(system, regulator_admin)
    with pytest.raises(DomainError) as refusal:
        onboard(system, regulator_admin)
    assert refusal.value.code == "licence_already_onboarded" and refusal.value.status == 409
    assert Operator.objects.count() == 1


def test_prefixes_are_readable_unique_and_never_reused():
    first = operator_prefix_reserve(name="Umucyo Water Ltd")
    second = operator_prefix_reserve(name="Umucyo Water Ltd")
    third = operator_prefix_reserve(name="Amazi ya Gisagara Co")
    assert first == "UMU" and second != first and len(second) <= 4
    assert third == "AYG"
    OperatorPrefix.objects.filter(prefix=first).update(operator=None)  # its operator gone: still not reissued
    assert operator_prefix_reserve(name="Umucyo Water Ltd") not in {first, second}


# operator_may_bill across its boundaries --------------------------------------------------------------------


def _licensed(operator, *, status="valid", issued_on, expires_on):
    return Licence.objects.create(
        number=f"L-{operator.pk}",
        operator=operator,
        holder_name=operator.name,
        status=status,
        issued_on=issued_on,
        expires_on=expires_on,
        fetched_at=timezone.now(),
    )


def test_billing_is_allowed_through_the_expiry_day_and_refused_the_day_after(operator_a):
    expiry = datetime.date(2026, 6, 30)
    _licensed(operator_a, issued_on=datetime.date(2024, 7, 1), expires_on=expiry)
    assert operator_may_bill(operator_a, datetime.date(2024, 7, 1))
    assert not operator_may_bill(operator_a, datetime.date(2024, 6, 30))
    assert operator_may_bill(operator_a, expiry)
    refusal = operator_billing_permission(operator_a, expiry + datetime.timedelta(days=1))
    assert not refusal.allowed
    assert "no grace period covers that day" in refusal.reason and "2026-06-30" in refusal.reason


def test_a_grace_period_covers_its_first_and_last_day_only(operator_a, regulator_admin):
    licence = _licensed(
        operator_a, status="expired", issued_on=datetime.date(2023, 1, 1), expires_on=datetime.date(2025, 12, 31)
    )
    grace_period_grant(
        licence=licence,
        starts_on=datetime.date(2026, 1, 10),
        ends_on=datetime.date(2026, 3, 31),
        reason="Renewal under review",
        acting_user=regulator_admin,
    )
    assert not operator_may_bill(operator_a, datetime.date(2026, 1, 9))
    assert operator_may_bill(operator_a, datetime.date(2026, 1, 10))
    assert operator_may_bill(operator_a, datetime.date(2026, 3, 31))
    assert not operator_may_bill(operator_a, datetime.date(2026, 4, 1))


def test_a_revoked_licence_refuses_billing_even_inside_its_dates(operator_a):
    _licensed(operator_a, status="revoked", issued_on=datetime.date(2025, 1, 1), expires_on=datetime.date(2027, 1, 1))
    assert not operator_may_bill(operator_a, datetime.date(2026, 1, 1))


def test_an_operator_without_a_licence_may_not_bill(operator_a):
    permission = operator_billing_permission(operator_a, TODAY)
    assert not permission.allowed and "no licence" in permission.reason


def test_a_grace_period_needs_a_reason_and_an_end_after_its_start(operator_a, regulator_admin):
    licence = _licensed(
        operator_a, status="expired", issued_on=datetime.date(2023, 1, 1), expires_on=datetime.date(2025, 12, 31)
    )
    with pytest.raises(DomainError) as refusal:
        grace_period_grant(
            licence=licence,
            starts_on=datetime.date(2026, 3, 1),
            ends_on=datetime.date(2026, 2, 1),
            reason=" ",
            acting_user=regulator_admin,
        )
    assert set(refusal.value.fields) == {"ends_on", "reason"}
    assert not licence.grace_periods.exists()


# Logos ----------------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>'


@pytest.mark.parametrize(
    ("name", "content"), [("logo.png", PNG), ("logo.svg", SVG), ("logo.jpg", b"\xff\xd8\xff\xe0" + b"0" * 20)]
)
def test_a_logo_is_accepted_by_its_content(settings, tmp_path, operator_a, admin_a, name, content):
    settings.MEDIA_ROOT = tmp_path
    operator_logo_set(operator=operator_a, upload=SimpleUploadedFile(name, content), acting_user=admin_a)
    operator_a.refresh_from_db()
    assert operator_a.logo.read() == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("logo.png", b"GIF89a not a png"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("logo.svg", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("logo.png", b""),
    ],
)
def test_a_logo_that_is_not_a_clean_image_is_refused(settings, tmp_path, operator_a, admin_a, name, content):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(DomainError) as refusal:
        operator_logo_set(operator=operator_a, upload=SimpleUploadedFile(name, content), acting_user=admin_a)
    assert refusal.value.code == "logo_invalid" and "logo" in refusal.value.fields
    operator_a.refresh_from_db()
    assert not operator_a.logo


def test_a_logo_over_the_size_limit_is_refused(settings, tmp_path, operator_a, admin_a):
    settings.MEDIA_ROOT = tmp_path
    settings.MITA_LOGO_MAX_BYTES = 100
    with pytest.raises(DomainError) as refusal:
        operator_logo_set(
            operator=operator_a, upload=SimpleUploadedFile("l.png", PNG + b"0" * 100), acting_user=admin_a
        )
    assert refusal.value.code == "logo_too_large"
