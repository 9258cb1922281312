"""factory_boy factories for the platform's models."""

import itertools

import factory

from mita.accounts.models import Membership, User
from mita.accounts.roles import ROLE_SCOPE
from mita.registry.models import Boundary, BoundaryType, Operator, Regulator

_phones = itertools.count(1)
DEFAULT_PASSWORD = "correct horse battery"  # noqa: S105 - test personas only


def next_phone() -> str:
    return f"+25078{next(_phones):07d}"


class RegulatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Regulator
        django_get_or_create = ("singleton",)

    name = "Test Regulatory Authority"
    short_name = "TRA"
    country_code = "RW"
    singleton = True


class BoundaryTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BoundaryType
        django_get_or_create = ("code",)

    code = "district"
    name = "District"
    depth = 2


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Boundary

    type = factory.SubFactory(BoundaryTypeFactory)
    name = factory.Sequence(lambda n: f"District {n}")
    code = factory.Sequence(lambda n: f"T-D{n:03d}")


class OperatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Operator

    name = factory.Sequence(lambda n: f"Operator {n}")
    kind = Operator.Kind.PRIVATE_OPERATOR
    utility = Operator.Utility.WATER
    prefix = factory.Sequence(lambda n: f"T{n:03d}")
    country_code = "RW"
    currency = "RWF"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.LazyFunction(next_phone)
    name = factory.Sequence(lambda n: f"Person {n}")
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            self.save()


def member(role: str, organisation: object, **user_fields: object) -> User:
    """A user holding one role at one organisation."""
    user = UserFactory(**user_fields)
    scope = ROLE_SCOPE[role]
    Membership.objects.create(user=user, role=role, **{scope: organisation})
    return user
