"""The personas every test suite uses: the regulator, operator A (admin, staff) and operator B (the outsider)."""

import pytest
from django.test import Client

from mita.accounts.models import User
from mita.accounts.roles import Role
from mita.registry.models import Operator, Regulator
from mita.testing.factories import DEFAULT_PASSWORD, DistrictFactory, OperatorFactory, RegulatorFactory, member


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def regulator(db) -> Regulator:  # type: ignore[no-untyped-def]
    return RegulatorFactory()


@pytest.fixture
def district_a(db):  # type: ignore[no-untyped-def]
    return DistrictFactory(name="Bugesera")


@pytest.fixture
def district_b(db):  # type: ignore[no-untyped-def]
    return DistrictFactory(name="Nyaruguru")


@pytest.fixture
def operator_a(db, district_a) -> Operator:  # type: ignore[no-untyped-def]
    operator = OperatorFactory(name="Amazi Alpha Ltd", prefix="AAL")
    operator.districts.add(district_a)
    return operator


@pytest.fixture
def operator_b(db, district_b) -> Operator:  # type: ignore[no-untyped-def]
    operator = OperatorFactory(name="Bravo Water Co", prefix="BWC")
    operator.districts.add(district_b)
    return operator


@pytest.fixture
def regulator_admin(regulator) -> User:  # type: ignore[no-untyped-def]
    return member(Role.REGULATOR_ADMIN, regulator, name="Regina Regulator")


@pytest.fixture
def regulator_viewer(regulator) -> User:  # type: ignore[no-untyped-def]
    return member(Role.REGULATOR_VIEWER, regulator, name="Victor Viewer")


@pytest.fixture
def district_officer_a(district_a) -> User:  # type: ignore[no-untyped-def]
    return member(Role.DISTRICT_OFFICER, district_a, name="Diane District")


@pytest.fixture
def admin_a(operator_a) -> User:  # type: ignore[no-untyped-def]
    return member(Role.OPERATOR_ADMIN, operator_a, name="Alice Admin")


@pytest.fixture
def staff_a(operator_a) -> User:  # type: ignore[no-untyped-def]
    return member(Role.BILLING_OFFICER, operator_a, name="Sam Staff")


@pytest.fixture
def admin_b(operator_b) -> User:  # type: ignore[no-untyped-def]
    return member(Role.OPERATOR_ADMIN, operator_b, name="Bob Outsider")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="mita.accounts.backends.PhoneBackend")
    return client


@pytest.fixture
def client_for():  # type: ignore[no-untyped-def]
    """client_for(user) gives a test client signed in as that user."""
    return signed_in
