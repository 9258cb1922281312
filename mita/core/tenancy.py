"""The tenant is the operator: the base for operator-owned rows and the 404-across-tenants lookups."""

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

from mita.core.access import Access

M = TypeVar("M", bound=models.Model)


class OperatorQuerySet(models.QuerySet[M]):
    def for_operator(self, operator: Any) -> "OperatorQuerySet[M]":
        return self.filter(operator=operator)

    def visible_to(self, access: Access) -> "OperatorQuerySet[M]":
        operator_ids = access.operator_ids()
        if operator_ids is None:
            return self
        return self.filter(operator_id__in=operator_ids)


class OperatorManager(models.Manager.from_queryset(OperatorQuerySet)):  # type: ignore[misc]
    """The manager of operator-owned rows: Model.objects.for_operator(...) and .visible_to(access)."""


class OperatorOwned(models.Model):
    """Every operator-owned row carries operator_id: the tenancy key, and the future sharding key."""

    operator = models.ForeignKey("registry.Operator", on_delete=models.PROTECT, related_name="+")

    objects = OperatorManager()

    class Meta:
        abstract = True


def get_for_access_or_404(queryset: models.QuerySet[M], access: Access, **lookup: Any) -> M:
    """Fetch one operator-owned object the user may read, or 404 (never 403: another tenant's ids don't exist)."""
    operator_ids = access.operator_ids()
    if operator_ids is not None:
        queryset = queryset.filter(operator_id__in=operator_ids)
    try:
        return queryset.get(**lookup)
    except ObjectDoesNotExist:
        raise Http404 from None
