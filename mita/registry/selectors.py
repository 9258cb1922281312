"""Reads of organisations with the tenancy rules applied."""

from django.db.models import QuerySet

from mita.core.access import Access
from mita.registry.models import Boundary, Operator


def operators_visible_to(access: Access) -> QuerySet[Operator]:
    operator_ids = access.operator_ids()
    operators = Operator.objects.all()
    return operators if operator_ids is None else operators.filter(pk__in=operator_ids)


def districts() -> QuerySet[Boundary]:
    return Boundary.objects.districts().select_related("parent")
