"""Reads of tariffs: lists and lookups that 404 across operators, the tariff in force for a connection on a day
(the most specific applicable tariff, docs/tariff-versions.md) and the versions in force over a billing period."""

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from mita.accounts.roles import OPERATOR_ROLES, Role
from mita.core.access import Access
from mita.tariffs.models import Package, Tariff, TariffVersion

# Every operator's staff read their tariffs; the regulator and districts read those of the operators they oversee.
TARIFF_READ_ROLES = (*sorted(OPERATOR_ROLES), Role.REGULATOR_ADMIN, Role.REGULATOR_VIEWER, Role.DISTRICT_OFFICER)
TARIFF_WRITE_ROLES = (Role.OPERATOR_ADMIN, Role.BILLING_OFFICER)

PUBLISHED = TariffVersion.Status.PUBLISHED


# Lists and lookups ----------------------------------------------------------------------------------------------------
def _in_force_on(on: datetime.date, field: str) -> Subquery:
    """The value of `field` of the tariff's published version in force on that day (for list annotations)."""
    return Subquery(
        TariffVersion.objects.filter(tariff=OuterRef("pk"), status=PUBLISHED, effective_from__lte=on)
        .order_by("-effective_from", "-pk")
        .values(field)[:1]
    )


def with_version_in_force(tariffs: QuerySet[Tariff], *, on: datetime.date) -> QuerySet[Tariff]:
    """Tariffs annotated with their version in force that day: in_force_id, in_force_from (None without one)."""
    return tariffs.annotate(in_force_id=_in_force_on(on, "pk"), in_force_from=_in_force_on(on, "effective_from"))


def tariffs_visible_to(
    *, access: Access, search: str = "", utility: str = "", kind: str = "", active: bool | None = None
) -> QuerySet[Tariff]:
    """The tariffs of the operators this workspace reads (its own operator's only, for operator staff)."""
    tariffs = Tariff.objects.visible_to(access).select_related("operator")
    if utility:
        tariffs = tariffs.filter(utility=utility)
    if kind:
        tariffs = tariffs.filter(kind=kind)
    if active is not None:
        tariffs = tariffs.filter(active=active)
    if term := search.strip():
        tariffs = tariffs.filter(Q(code__istartswith=term) | Q(name__icontains=term))
    return tariffs.order_by("operator__name", "code")


def tariff_get_for_access(*, access: Access, tariff_id: int) -> Tariff:
    """One tariff the workspace may read, or 404 (another operator's tariff does not exist for them)."""
    tariff = Tariff.objects.visible_to(access).select_related("operator").filter(pk=tariff_id).first()
    if tariff is None:
        raise Http404
    return tariff


def version_get_for_access(*, access: Access, version_id: int) -> TariffVersion:
    version = (
        TariffVersion.objects.visible_to(access)
        .select_related("tariff", "tariff__operator", "created_by", "published_by")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise Http404
    return version


def versions_of(*, tariff: Tariff) -> QuerySet[TariffVersion]:
    """A tariff's versions, the latest effective first (drafts among them)."""
    return tariff.versions.select_related("created_by", "published_by").order_by("-effective_from", "-pk")


def packages_visible_to(*, access: Access, active: bool | None = None) -> QuerySet[Package]:
    packages = Package.objects.visible_to(access).select_related("operator", "tariff")
    if active is not None:
        packages = packages.filter(active=active)
    return packages.order_by("operator__name", "load_limit_w", "code")


def packages_with_prices(*, access: Access, on: datetime.date) -> QuerySet[Package]:
    """The packages the workspace reads, each with the definition of its price in force that day (price_definition,
    None before its first price): one query for the list."""
    in_force = Subquery(
        TariffVersion.objects.filter(tariff=OuterRef("tariff_id"), status=PUBLISHED, effective_from__lte=on)
        .order_by("-effective_from", "-pk")
        .values("definition")[:1]
    )
    return packages_visible_to(access=access).annotate(price_definition=in_force)


def package_get_for_access(*, access: Access, package_id: int) -> Package:
    package = packages_visible_to(access=access).filter(pk=package_id).first()
    if package is None:
        raise Http404
    return package


def tariff_history(*, tariff: Tariff, limit: int = 50) -> list[Any]:
    """The audit entries of a tariff, its versions and its package, newest first."""
    from mita.core.models import AuditEntry

    version_ids = [str(pk) for pk in tariff.versions.values_list("pk", flat=True)]
    about = Q(target_type="tariffs.tariff", target_id=str(tariff.pk)) | Q(
        target_type="tariffs.tariffversion", target_id__in=version_ids
    )
    package_id = Package.objects.filter(tariff=tariff).values_list("pk", flat=True).first()
    if package_id is not None:
        about |= Q(target_type="tariffs.package", target_id=str(package_id))
    return list(
        AuditEntry.objects.filter(about, operator_id=tariff.operator_id)
        .select_related("actor")
        .order_by("-at", "-pk")[:limit]
    )


def version_in_force(*, tariff: Tariff, on: datetime.date) -> TariffVersion | None:
    """The published version in force on that day: the latest effective on or before it."""
    return tariff.versions.filter(status=PUBLISHED, effective_from__lte=on).order_by("-effective_from", "-pk").first()


def versions_for_period(
    tariff: Tariff, start: datetime.date, end: datetime.date
) -> list[tuple[datetime.date, dict[str, Any]]]:
    """The published versions in force over start..end (inclusive), oldest first, as pricing.quote_period takes
    them: the one in force on the first day, then each that takes effect inside the period. Empty when no version
    is in force on any day of it (a tariff whose first version starts after the period)."""
    if end < start:
        raise ValueError("The period ends before it starts.")
    published = tariff.versions.filter(status=PUBLISHED)
    first = published.filter(effective_from__lte=start).order_by("-effective_from", "-pk").first()
    inside = published.filter(effective_from__gt=start, effective_from__lte=end).order_by("effective_from")
    versions = ([first] if first is not None else []) + list(inside)
    return [(version.effective_from, version.definition) for version in versions]


# Which tariff applies -------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ConnectionFacts:
    """What applicability reads of a connection (a bill run passes these from one query for many connections)."""

    pk: int
    utility: str
    property_type: str = ""
    connection_type: str = ""
    supply_system_id: int | None = None
    package: str = ""

    @classmethod
    def of(cls, connection: Any) -> "ConnectionFacts":
        return cls(
            pk=connection.pk,
            utility=connection.utility,
            property_type=connection.property_type or "",
            connection_type=connection.connection_type or "",
            supply_system_id=connection.supply_system_id,
            package=getattr(connection, "package", "") or "",
        )


@dataclasses.dataclass(frozen=True)
class _Candidate:
    tariff: Tariff
    version: TariffVersion
    connection_ids: frozenset[int]
    supply_system_ids: frozenset[int]
    connection_types: frozenset[str]
    property_types: frozenset[str]

    def specificity(self) -> tuple[bool, bool, bool, bool, int]:
        return (
            bool(self.connection_ids),
            bool(self.supply_system_ids),
            bool(self.connection_types),
            bool(self.property_types),
            self.tariff.priority,
        )

    def applies_to(self, facts: ConnectionFacts) -> bool:
        if self.tariff.utility != facts.utility:
            return False
        if self.connection_ids and facts.pk not in self.connection_ids:
            return False
        if self.supply_system_ids and facts.supply_system_id not in self.supply_system_ids:
            return False
        if self.connection_types and facts.connection_type.casefold() not in self.connection_types:
            return False
        return not self.property_types or facts.property_type in self.property_types


class TariffBook:
    """An operator's tariffs in force on one day, in memory: answers tariff_for for many connections without a query
    each (a bill run builds one per period day it prices, then matches every connection of a unit against it)."""

    def __init__(self, candidates: Iterable[_Candidate], packages: dict[str, _Candidate | None]) -> None:
        # Most specific first; among equals the higher priority, then the older tariff (a stable, documented order).
        self._candidates = sorted(candidates, key=lambda c: (c.specificity(), -c.tariff.pk), reverse=True)
        self._packages = packages

    def match(self, facts: ConnectionFacts) -> tuple[Tariff, TariffVersion] | None:
        """The tariff and version that price this connection, or None (nothing applies: billing lists it)."""
        if facts.package and facts.package.upper() in self._packages:
            # A connection on a package is priced by its package only (also one no longer offered to new customers);
            # a package without a price in force that day is a gap to fix, not a reason to bill at another tariff.
            candidate = self._packages[facts.package.upper()]
            if candidate is None or candidate.tariff.utility != facts.utility:
                return None
            return candidate.tariff, candidate.version
        for candidate in self._candidates:
            if candidate.applies_to(facts):
                return candidate.tariff, candidate.version
        return None


def tariff_book(*, operator: Any, on: datetime.date) -> TariffBook:
    """The operator's active tariffs with a published version in force on that day (four queries in all)."""
    operator_id = getattr(operator, "pk", operator)
    in_force = TariffVersion.objects.filter(status=PUBLISHED, effective_from__lte=on).order_by("-effective_from", "-pk")
    # Standard tariffs apply while active; a package prices the connections on it even when no longer offered.
    tariffs = (
        Tariff.objects.filter(Q(active=True) | Q(kind=Tariff.Kind.PACKAGE), operator_id=operator_id)
        .prefetch_related(Prefetch("versions", queryset=in_force, to_attr="in_force"))
        .order_by("pk")
    )
    supply_systems: dict[int, set[int]] = defaultdict(set)
    for tariff_id, supply_system_id in Tariff.supply_systems.through.objects.filter(
        tariff__operator_id=operator_id
    ).values_list("tariff_id", "supplysystem_id"):
        supply_systems[tariff_id].add(supply_system_id)
    named: dict[int, set[int]] = defaultdict(set)
    for tariff_id, connection_id in Tariff.connections.through.objects.filter(
        tariff__operator_id=operator_id
    ).values_list("tariff_id", "connection_id"):
        named[tariff_id].add(connection_id)
    candidates: list[_Candidate] = []
    packages: dict[str, _Candidate | None] = {}
    for tariff in tariffs:
        versions = tariff.in_force
        if not versions:
            if tariff.kind == Tariff.Kind.PACKAGE:
                packages[tariff.code.upper()] = None  # a known package without a price that day
            continue  # not yet in force that day: the next less specific tariff applies
        candidate = _Candidate(
            tariff=tariff,
            version=versions[0],
            connection_ids=frozenset(named[tariff.pk]),
            supply_system_ids=frozenset(supply_systems[tariff.pk]),
            connection_types=frozenset(str(value).casefold() for value in tariff.connection_types),
            property_types=frozenset(tariff.property_types),
        )
        if tariff.kind == Tariff.Kind.PACKAGE:
            packages[tariff.code.upper()] = candidate
        else:
            candidates.append(candidate)
    return TariffBook(candidates, packages)


def tariff_for(connection: Any, on: datetime.date) -> tuple[Tariff, TariffVersion] | None:
    """The tariff and its version that price this connection on that day, or None when none applies.

    Rules (docs/tariff-versions.md): a connection whose package (Connection.package) is one of the operator's packages
    is priced by that package's tariff only (None when it has no price that day). Otherwise
    among the operator's active tariffs of the connection's utility with a version in force that day, those whose
    every criterion matches apply, and the most specific wins: named connections > supply systems > connection types
    > property types > no criterion (the utility's default); then the higher priority; then the older tariff.
    """
    return tariff_book(operator=connection.operator_id, on=on).match(ConnectionFacts.of(connection))


def tariff_conflicts(
    *,
    operator: Any,
    utility: str,
    property_types: list[str],
    connection_types: list[str],
    supply_system_ids: list[int],
    connection_ids: list[int],
    priority: int,
    exclude_pk: int | None = None,
) -> list[Tariff]:
    """Active standard tariffs that would tie with this applicability for some connection: the same criteria set,
    overlapping values in each, and the same priority (neither would win; the service refuses that)."""
    others = (
        Tariff.objects.filter(
            operator=operator, utility=utility, kind=Tariff.Kind.STANDARD, active=True, priority=priority
        )
        .prefetch_related("supply_systems", "connections")
        .order_by("code")
    )
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    mine: tuple[set[Any], ...] = (
        set(connection_ids),
        set(supply_system_ids),
        {t.casefold() for t in connection_types},
        set(property_types),
    )
    clashes = []
    for other in others:
        theirs: tuple[set[Any], ...] = (
            {c.pk for c in other.connections.all()},
            {s.pk for s in other.supply_systems.all()},
            {str(t).casefold() for t in other.connection_types},
            set(other.property_types),
        )
        if all(bool(a) == bool(b) and (not a or a & b) for a, b in zip(mine, theirs, strict=True)):
            clashes.append(other)
    return clashes


def supply_system_choices(*, operator: Any) -> QuerySet[Any]:
    """The supply systems under the clusters ever assigned to the operator (a tariff may name them)."""
    from mita.registry.models import SupplySystem

    return SupplySystem.objects.filter(cluster__assignments__operator=operator).distinct().order_by("code")


def connections_by_number(*, operator: Any, numbers: list[str]) -> dict[str, int]:
    """The operator's connections among these numbers, whatever their case: {NUMBER (upper case): id}."""
    from django.db.models.functions import Upper

    from mita.customers.models import Connection

    wanted = {number.strip().upper() for number in numbers if number.strip()}
    if not wanted:
        return {}
    found = (
        Connection.objects.filter(operator=operator)
        .annotate(upper_number=Upper("number"))
        .filter(upper_number__in=wanted)
        .values_list("upper_number", "pk")
    )
    return dict(found)


def connection_numbers_of(*, tariff: Tariff) -> list[str]:
    return list(tariff.connections.order_by("number").values_list("number", flat=True))
