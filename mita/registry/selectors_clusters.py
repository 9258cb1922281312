"""Reads of clusters, their assignments and supply systems with the tenancy rules applied, and who may bill a cluster."""

import datetime
from collections.abc import Collection

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from mita.core.access import Access
from mita.core.audit import audit_for
from mita.core.models import AuditEntry
from mita.registry.models import Cluster, ClusterAssignment, Operator, SupplySystem


def in_force_on(on: datetime.date, prefix: str = "") -> Q:
    """Assignments holding the cluster on that day: starts_on <= day <= last_day (ClusterAssignment.last_day in SQL).

    The last day is the day before the cluster moved on (ended_on - 1), or the expiry date, whichever is earlier.
    """
    return Q(**{f"{prefix}starts_on__lte": on, f"{prefix}expires_on__gte": on}) & (
        Q(**{f"{prefix}ended_on__isnull": True}) | Q(**{f"{prefix}ended_on__gt": on})
    )


def cluster_assignment_on(cluster: Cluster, on: datetime.date) -> ClusterAssignment | None:
    """The assignment holding the cluster on that day, if any (assignments of a cluster never overlap)."""
    return (
        ClusterAssignment.objects.filter(in_force_on(on), cluster=cluster)
        .select_related("operator")
        .order_by("-starts_on", "-pk")
        .first()
    )


def cluster_holder(cluster: Cluster, on: datetime.date) -> Operator | None:
    """The operator holding the cluster on that day, or None (not yet assigned, expired, or between holders)."""
    assignment = cluster_assignment_on(cluster, on)
    return assignment.operator if assignment is not None else None


def cluster_billable(cluster: Cluster, on: datetime.date, operator: Operator | None = None) -> bool:
    """May bills be issued for supply in this cluster on that day (by that operator, when given)?

    Only new bills ask: after expiry (or after the cluster moved on) no new bills, but payments against the
    bills issued before are still taken, so payments never call this.
    """
    assignments = ClusterAssignment.objects.filter(in_force_on(on), cluster=cluster)
    if operator is not None:
        assignments = assignments.filter(operator=operator)
    return assignments.exists()


def assignments_visible_to(access: Access) -> QuerySet[ClusterAssignment]:
    """Assignments of the operators this workspace reads (every one for the regulator)."""
    return ClusterAssignment.objects.visible_to(access)


def clusters_visible_to(access: Access) -> QuerySet[Cluster]:
    """The regulator sees every cluster; a district or an operator the clusters ever assigned to an operator it reads."""
    operator_ids = access.operator_ids()
    if operator_ids is None:
        return Cluster.objects.all()
    held = ClusterAssignment.objects.filter(operator_id__in=operator_ids).values("cluster_id")
    return Cluster.objects.filter(pk__in=held)


def cluster_get_for_access(*, access: Access, cluster_id: int) -> Cluster:
    """One cluster the workspace may read, or 404 (another operator's cluster does not exist for them)."""
    try:
        return clusters_visible_to(access).get(pk=cluster_id)
    except Cluster.DoesNotExist:
        raise Http404 from None


def cluster_assignments_for(*, access: Access, cluster: Cluster) -> QuerySet[ClusterAssignment]:
    """The cluster's assignment history the workspace may read, newest first."""
    return (
        assignments_visible_to(access)
        .filter(cluster=cluster)
        .select_related("operator", "created_by")
        .order_by("-starts_on", "-pk")
    )


def clusters_with_holders(access: Access, *, today: datetime.date) -> QuerySet[Cluster]:
    """Visible clusters, each annotated with the visible assignment in force today or, failing that, the latest one
    started (holder_*: its operator, start, expiry, end), the start of the next visible assignment, and its supply
    system count. Read the annotations through holder_in_force, holder_last_day, days_to_expiry, cluster_warning."""
    visible = assignments_visible_to(access).filter(cluster=OuterRef("pk"))
    latest = visible.filter(starts_on__lte=today).order_by("-starts_on", "-pk")
    following = visible.filter(starts_on__gt=today).order_by("starts_on", "pk")
    systems = (
        SupplySystem.objects.filter(cluster=OuterRef("pk")).order_by().values("cluster_id").annotate(n=Count("pk"))
    )
    return clusters_visible_to(access).annotate(
        holder_id=Subquery(latest.values("operator_id")[:1]),
        holder_name=Subquery(latest.values("operator__name")[:1]),
        holder_starts_on=Subquery(latest.values("starts_on")[:1]),
        holder_expires_on=Subquery(latest.values("expires_on")[:1]),
        holder_ended_on=Subquery(latest.values("ended_on")[:1]),
        next_starts_on=Subquery(following.values("starts_on")[:1]),
        supply_system_count=Coalesce(Subquery(systems.values("n")[:1]), 0),
    )


def holder_last_day(cluster: Cluster) -> datetime.date | None:
    """ClusterAssignment.last_day of the assignment annotated by clusters_with_holders."""
    expires_on: datetime.date | None = getattr(cluster, "holder_expires_on", None)
    ended_on: datetime.date | None = getattr(cluster, "holder_ended_on", None)
    if expires_on is None:
        return None
    if ended_on is not None:
        return min(ended_on - datetime.timedelta(days=1), expires_on)
    return expires_on


def holder_in_force(cluster: Cluster, *, today: datetime.date) -> bool:
    last_day = holder_last_day(cluster)
    return last_day is not None and today <= last_day


def days_to_expiry(cluster: Cluster, *, today: datetime.date) -> int | None:
    """Days until today's holder's last day (0 on that day itself); None when nobody holds the cluster today."""
    last_day = holder_last_day(cluster)
    if last_day is None or today > last_day:
        return None
    return (last_day - today).days


def cluster_warning(cluster: Cluster, *, today: datetime.date) -> tuple[str, int | None] | None:
    """What the regulator must look at: ("expiring", days) when today's holder's last day is within the warning
    window and no assignment takes over the next day; ("expired", None) when nobody holds a cluster that was held."""
    last_day = holder_last_day(cluster)
    if last_day is None:
        return None
    next_starts_on: datetime.date | None = getattr(cluster, "next_starts_on", None)
    if today <= last_day:
        if next_starts_on == last_day + datetime.timedelta(days=1):
            return None  # renewed or moved on without a gap
        days = (last_day - today).days
        return ("expiring", days) if days <= settings.MITA_EXPIRY_WARNING_DAYS else None
    if getattr(cluster, "holder_ended_on", None) is not None:
        return None  # moved on to an operator this workspace does not read: not an expiry
    return ("expired", None)


def assignments_in_force(*, operator_id: int, on: datetime.date) -> QuerySet[ClusterAssignment]:
    """The operator's assignments holding a cluster on that day."""
    return ClusterAssignment.objects.filter(in_force_on(on), operator_id=operator_id)


def clusters_needing_attention(access: Access, *, today: datetime.date) -> list[Cluster]:
    """Visible clusters with a cluster_warning: expiring within the window with nobody taking over, or expired."""
    horizon = today + datetime.timedelta(days=settings.MITA_EXPIRY_WARNING_DAYS)
    # Narrowed in SQL (not moved on before today, expiring by the horizon), decided exactly by cluster_warning.
    candidates = clusters_with_holders(access, today=today).filter(
        (Q(holder_ended_on__isnull=True) | Q(holder_ended_on__gt=today)) & Q(holder_expires_on__lte=horizon)
    )
    return [cluster for cluster in candidates.order_by("code") if cluster_warning(cluster, today=today)]


def clusters_expiring(access: Access, *, today: datetime.date) -> list[Cluster]:
    """Visible clusters whose holder's last day is within the warning window with nobody taking over after it."""
    return [
        cluster
        for cluster in clusters_needing_attention(access, today=today)
        if (warning := cluster_warning(cluster, today=today)) and warning[0] == "expiring"
    ]


def supply_systems_visible_to(access: Access) -> QuerySet[SupplySystem]:
    """Supply systems under the clusters the workspace may read."""
    return SupplySystem.objects.filter(cluster__in=clusters_visible_to(access)).select_related("cluster", "district")


def supply_system_get_for_access(*, access: Access, supply_system_id: int) -> SupplySystem:
    try:
        return supply_systems_visible_to(access).get(pk=supply_system_id)
    except SupplySystem.DoesNotExist:
        raise Http404 from None


def cluster_audit_for(*, access: Access, target: Cluster | SupplySystem) -> QuerySet[AuditEntry]:
    """The audit trail of a cluster or supply system: all of it for the regulator, otherwise the entries about the
    operators the workspace reads (a cluster moved between operators must not show one the other's dealings)."""
    entries = audit_for(target)
    operator_ids: Collection[int] | None = access.operator_ids()
    return entries if operator_ids is None else entries.filter(operator_id__in=operator_ids)
