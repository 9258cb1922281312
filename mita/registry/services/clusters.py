"""Writes about clusters: creating them, assigning them to an operator, moving them on, registering supply systems."""

import datetime
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.accounts.models import User
from mita.core.audit import audit_record, snapshot
from mita.core.errors import Conflict, DomainError
from mita.registry.models import Boundary, Cluster, ClusterAssignment, Operator, SupplySystem
from mita.registry.selectors_clusters import cluster_assignment_on

ASSIGNMENT_FIELDS = ["cluster_id", "operator_id", "starts_on", "expires_on", "ended_on"]
SUPPLY_SYSTEM_FIELDS = [
    "cluster_id",
    "kind",
    "name",
    "code",
    "district_id",
    "technology",
    "capacity_m3_per_day",
    "source",
    "capacity_kw",
    "generation_mix",
]


def _require_districts(districts: Sequence[Boundary], field: str) -> None:
    if any(district.type.code != "district" for district in districts):
        raise DomainError(
            _("Choose districts only."), code="not_a_district", fields={field: [_("Choose districts only.")]}
        )


@transaction.atomic
def cluster_create(*, name: str, code: str, districts: Sequence[Boundary], acting_user: User) -> Cluster:
    """Register a cluster in its districts; it belongs to nobody until it is assigned."""
    name, code = name.strip(), code.strip().upper()
    fields: dict[str, list[str]] = {}
    if not name:
        fields["name"] = [_("Give the cluster a name.")]
    if not code:
        fields["code"] = [_("Give the cluster a code.")]
    if fields:
        raise DomainError(_("The cluster is not complete."), code="invalid", fields=fields)
    _require_districts(districts, "districts")
    if Cluster.objects.filter(code__iexact=code).exists():
        raise _code_taken(code)
    try:
        with transaction.atomic():  # a concurrent twin breaks the unique constraint: the same answer as above
            cluster = Cluster.objects.create(name=name, code=code)
    except IntegrityError:
        raise _code_taken(code) from None
    cluster.districts.set(districts)
    audit_record(
        actor=acting_user,
        action="cluster.created",
        target=cluster,
        after={**snapshot(cluster, ["name", "code"]), "districts": sorted(d.name for d in districts)},
    )
    return cluster


def _code_taken(code: str) -> Conflict:
    message = _("Another cluster already has the code %(code)s.") % {"code": code}
    return Conflict(message, code="cluster_code_taken", fields={"code": [message]})


def _check_period(starts_on: datetime.date, expires_on: datetime.date) -> None:
    if expires_on < starts_on:
        message = _("The expiry date must be on or after the start date.")
        raise DomainError(message, code="expires_before_start", fields={"expires_on": [message]})


def _check_operator(operator: Operator, field: str) -> None:
    if not operator.is_active:
        message = _("%(operator)s is not active.") % {"operator": operator}
        raise DomainError(message, code="operator_inactive", fields={field: [message]})


def _refuse_overlap(
    cluster: Cluster, starts_on: datetime.date, expires_on: datetime.date, *, field: str, ignoring: int | None = None
) -> None:
    """An assignment of the cluster that holds any day of [starts_on, expires_on] makes a second holder: refuse."""
    assignments = cluster.assignments.select_related("operator").order_by("starts_on")
    if ignoring is not None:
        assignments = assignments.exclude(pk=ignoring)
    for assignment in assignments:
        last_day = assignment.last_day
        if assignment.starts_on <= last_day and assignment.starts_on <= expires_on and starts_on <= last_day:
            message = _("%(cluster)s is already assigned to %(operator)s from %(starts_on)s to %(last_day)s.") % {
                "cluster": cluster.code,
                "operator": assignment.operator,
                "starts_on": assignment.starts_on.isoformat(),
                "last_day": last_day.isoformat(),
            }
            raise Conflict(message, code="assignment_overlaps", fields={field: [message]})


def _locked(cluster: Cluster) -> Cluster:
    """Lock the cluster's row: assignments of one cluster are checked and written one transaction at a time."""
    return Cluster.objects.select_for_update().get(pk=cluster.pk)


@transaction.atomic
def cluster_assign(
    *,
    cluster: Cluster,
    operator: Operator,
    starts_on: datetime.date,
    expires_on: datetime.date,
    acting_user: User,
) -> ClusterAssignment:
    """Assign the cluster to an operator from starts_on to expires_on (both days included)."""
    cluster = _locked(cluster)
    _check_period(starts_on, expires_on)
    _check_operator(operator, "operator")
    _refuse_overlap(cluster, starts_on, expires_on, field="starts_on")
    assignment = ClusterAssignment.objects.create(
        cluster=cluster, operator=operator, starts_on=starts_on, expires_on=expires_on, created_by=acting_user
    )
    audit_record(
        actor=acting_user,
        action="cluster.assigned",
        target=cluster,
        operator=operator,
        after=snapshot(assignment, ASSIGNMENT_FIELDS),
        detail={"assignment_id": assignment.pk, "operator": operator.name},
    )
    return assignment


@transaction.atomic
def cluster_move(
    *,
    cluster: Cluster,
    to_operator: Operator,
    on: datetime.date,
    expires_on: datetime.date,
    acting_user: User,
) -> ClusterAssignment:
    """Move the cluster to another operator from `on`: the holder's assignment ends (its last day is the day
    before), a new one starts that day; both stay in the history."""
    cluster = _locked(cluster)
    _check_period(on, expires_on)
    _check_operator(to_operator, "to_operator")
    current = cluster_assignment_on(cluster, on)
    if current is None:
        message = _("Nobody holds %(cluster)s on %(day)s: assign it instead of moving it.") % {
            "cluster": cluster.code,
            "day": on.isoformat(),
        }
        raise DomainError(message, code="cluster_not_held", fields={"on": [message]})
    if current.operator_id == to_operator.pk:
        message = _("%(operator)s already holds %(cluster)s.") % {"operator": to_operator, "cluster": cluster.code}
        raise DomainError(message, code="same_operator", fields={"to_operator": [message]})
    _refuse_overlap(cluster, on, expires_on, field="expires_on", ignoring=current.pk)
    before = snapshot(current, ASSIGNMENT_FIELDS)
    current.ended_on = on
    current.save(update_fields=["ended_on"])
    assignment = ClusterAssignment.objects.create(
        cluster=cluster, operator=to_operator, starts_on=on, expires_on=expires_on, created_by=acting_user
    )
    audit_record(
        actor=acting_user,
        action="cluster.moved",
        target=cluster,
        operator=to_operator,
        before=before,
        after=snapshot(assignment, ASSIGNMENT_FIELDS),
        detail={
            "from_operator": current.operator.name,
            "to_operator": to_operator.name,
            "ended_assignment_id": current.pk,
            "assignment_id": assignment.pk,
        },
    )
    return assignment


def _supply_system_code_taken(code: str) -> Conflict:
    message = _("Another supply system already has the code %(code)s.") % {"code": code}
    return Conflict(message, code="supply_system_code_taken", fields={"code": [message]})


def _number(value: Any) -> decimal.Decimal | None:
    """A JSON number as a Decimal (booleans and text are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        return None
    number = decimal.Decimal(str(value))
    return number if number.is_finite() else None


def generation_mix_clean(mix: Mapping[str, Any]) -> tuple[dict[str, int | float], list[str]]:
    """A generation mix as stored ({"solar": 90, "diesel": 10}) and what is wrong with it: every share is a number
    from 0 to 100, and the shares add up to 100."""
    problems: list[str] = []
    cleaned: dict[str, int | float] = {}
    total = decimal.Decimal(0)
    for source, share in mix.items():
        name = str(source).strip().lower()
        number = _number(share)
        if not name:
            problems.append(_("Name every source of the generation mix."))
            continue
        if number is None or not 0 <= number <= 100:
            problems.append(_("The share of %(source)s must be a number from 0 to 100.") % {"source": name})
            continue
        total += number
        cleaned[name] = int(number) if number == number.to_integral_value() else float(number)
    if cleaned and not problems and total != 100:
        problems.append(_("The shares of the generation mix add up to %(total)s, not 100.") % {"total": total})
    return cleaned, problems


@transaction.atomic
def supply_system_register(
    *,
    cluster: Cluster,
    kind: str,
    name: str,
    code: str,
    district: Boundary | None = None,
    technology: str = "",
    capacity_m3_per_day: decimal.Decimal | None = None,
    source: str = "",
    capacity_kw: decimal.Decimal | None = None,
    generation_mix: Mapping[str, Any] | None = None,
    acting_user: User,
) -> SupplySystem:
    """Register a water supply system (technology, capacity, source) or a mini-grid plant (kW, generation mix)."""
    cluster = _locked(cluster)
    name, code, source = name.strip(), code.strip().upper(), source.strip()
    fields: dict[str, list[str]] = {}

    def problem(field: str, message: str) -> None:
        fields.setdefault(field, []).append(message)

    if kind not in SupplySystem.Kind.values:
        problem("kind", _("Choose a water supply system or a mini-grid plant."))
    if not name:
        problem("name", _("Give the supply system a name."))
    if not code:
        problem("code", _("Give the supply system a code."))
    if district is not None:
        cluster_districts = list(cluster.districts.all())
        if district.type.code != "district":
            problem("district", _("Choose districts only."))
        elif cluster_districts and district not in cluster_districts:
            problem("district", _("Choose one of the cluster's districts."))
    mix: dict[str, int | float] = {}
    if kind == SupplySystem.Kind.WATER:
        if technology not in SupplySystem.Technology.values:
            problem("technology", _("A water supply system needs its technology."))
        if capacity_m3_per_day is not None and capacity_m3_per_day <= 0:
            problem("capacity_m3_per_day", _("The capacity must be more than zero."))
        if capacity_kw is not None:
            problem("capacity_kw", _("A water supply system has no capacity in kW: leave it empty."))
        if generation_mix:
            problem("generation_mix", _("A water supply system has no generation mix: leave it empty."))
    elif kind == SupplySystem.Kind.MINI_GRID:
        if capacity_kw is None:
            problem("capacity_kw", _("A mini-grid plant needs its capacity in kW."))
        elif capacity_kw <= 0:
            problem("capacity_kw", _("The capacity must be more than zero."))
        mix, mix_problems = generation_mix_clean(generation_mix or {})
        for message in mix_problems:
            problem("generation_mix", message)
        if technology:
            problem("technology", _("The pumping technology is for water supply systems: leave it empty."))
        if capacity_m3_per_day is not None:
            problem("capacity_m3_per_day", _("The capacity in m³/day is for water supply systems: leave it empty."))
        if source:
            problem("source", _("The water source is for water supply systems: leave it empty."))
    if fields:
        raise DomainError(_("The supply system is not complete."), code="invalid_supply_system", fields=fields)
    if SupplySystem.objects.filter(code__iexact=code).exists():
        raise _supply_system_code_taken(code)
    try:
        with transaction.atomic():  # a concurrent twin breaks the unique constraint: the same answer as above
            supply_system = SupplySystem.objects.create(
                cluster=cluster,
                kind=kind,
                name=name,
                code=code,
                district=district,
                technology=technology,
                capacity_m3_per_day=capacity_m3_per_day,
                source=source,
                capacity_kw=capacity_kw,
                generation_mix=mix,
            )
    except IntegrityError:
        raise _supply_system_code_taken(code) from None
    holder = cluster_assignment_on(cluster, timezone.localdate())
    audit_record(
        actor=acting_user,
        action="supply_system.registered",
        target=supply_system,
        operator=holder.operator if holder is not None else None,
        after=snapshot(supply_system, SUPPLY_SYSTEM_FIELDS),
        detail={"cluster": cluster.code},
    )
    return supply_system
