"""Reads of core records with the tenancy rules applied."""

from django.db.models import Q, QuerySet

from mita.core.access import Access
from mita.core.models import Job


def jobs_visible_to(access: Access) -> QuerySet[Job]:
    """An operator's jobs to its users; jobs of no operator to the regulator and to whoever started them."""
    operator_ids = access.operator_ids()
    if operator_ids is None:
        return Job.objects.all()
    return Job.objects.filter(Q(operator_id__in=operator_ids) | Q(operator__isnull=True, created_by=access.user.pk))
