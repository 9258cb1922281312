"""The operator every benchmark bills, reads or pays for in its scratch database (`mita bench ...`)."""

from mita.registry.models import Boundary, Operator
from mita.registry.services.organisations import operator_create


def bench_operator(*, districts: int = 1) -> Operator:
    """A Rwandan water operator, "Bench Water Ltd" (prefix BEN), in the first `districts` districts."""
    return operator_create(
        name="Bench Water Ltd",
        kind=Operator.Kind.PRIVATE_OPERATOR,
        utility=Operator.Utility.WATER,
        prefix="BEN",
        country_code="RW",
        currency="RWF",
        districts=list(Boundary.objects.districts()[:districts]),
        acting_user=None,
    )
