"""The bill run's engine: plan the units, then compute, issue and publish them, one transaction per unit.

Every step is `run_until_done`: it takes the units not yet past the step, in order, and does each whole or not at all
(a unit's row is locked and its stage checked inside its transaction), so a run killed at any point and started again
ends with exactly the bills of an uninterrupted run and no gap in the bill numbers (the numbers are taken in the
unit's transaction). Nothing loops over accounts with the ORM: a unit reads its connections, readings and balances in
a few set-based queries, prices in memory (mita.tariffs.pricing) and writes with bulk statements.
"""

import dataclasses
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.billing.charges import charges_of_lines
from mita.billing.errors import BillingError
from mita.billing.lines import lines_for_charges
from mita.billing.models import Bill, BillException, BillRun, BillRunUnit
from mita.billing.writes import BillRow, bills_insert, bills_number
from mita.core import jobs
from mita.core.bulk import collector_paused, id_span, statistics_refresh
from mita.core.models import Job
from mita.core.processes import ProcessFailed, fork_safe, in_processes
from mita.core.sequences import sequence_advance, sequence_claim
from mita.customers.indigent import indigent_customer_ids
from mita.customers.models import Connection
from mita.ledger.models import Account, Balance
from mita.ledger.selectors import holders_balances
from mita.ledger.services_bulk import ChargeSpec, charges_post_many
from mita.metering.models import MeterState, Reading
from mita.metering.readings import BILLED_REGISTERS, average_daily, cycle_consumption, thresholds_of
from mita.registry.models import Cluster
from mita.registry.selectors_clusters import cluster_billable
from mita.tariffs import pricing
from mita.tariffs.selectors import ConnectionFacts, TariffBook, tariff_book, versions_for_period

UNIT_SIZE = 2000  # connections in a block unit (a route larger than this is cut into blocks too)
Progress = Callable[[BillRun, int, int], None]  # (run, units done, units in all)


def _pause() -> None:
    """MITA_BILLRUN_UNIT_PAUSE=seconds slows every unit before it commits (the kill test kills a run mid-way)."""
    seconds = float(os.environ.get("MITA_BILLRUN_UNIT_PAUSE") or 0)
    if seconds > 0:
        time.sleep(seconds)


# Planning ---------------------------------------------------------------------------------------------------------
def scope_filter(run: BillRun) -> Q:
    field = {
        BillRun.Scope.CLUSTER: "cluster_id",
        BillRun.Scope.SUPPLY_SYSTEM: "supply_system_id",
        BillRun.Scope.ROUTE: "route_id",
    }.get(run.scope_kind)  # type: ignore[call-overload]
    return Q(**{field: run.scope_id}) if field else Q()


def plan(run: BillRun, *, unit_size: int = UNIT_SIZE) -> None:
    """Split the run's connections into units (once: a restarted run keeps its plan). The connections are those of
    the scope, active, on the cycle's frequency and not yet billed for the cycle; those in a cluster the operator may
    no longer bill are listed as exceptions instead."""
    with transaction.atomic():
        run = BillRun.objects.select_for_update().get(pk=run.pk)
        if run.units.exists():
            return
        cycle = run.cycle
        billed = (
            Bill.objects.filter(operator_id=run.operator_id, cycle=cycle)
            .exclude(status=Bill.Status.CANCELLED)
            .values("connection_id")
        )
        rows = list(
            Connection.objects.filter(
                scope_filter(run),
                operator_id=run.operator_id,
                status=Connection.Status.ACTIVE,
                billing_cycle=cycle.frequency,
            )
            .exclude(pk__in=billed)
            .values_list("pk", "route_id", "cluster_id")
        )
        expired = {
            cluster.pk: cluster
            for cluster in Cluster.objects.filter(pk__in={cluster_id for _pk, _route, cluster_id in rows if cluster_id})
            if not cluster_billable(cluster, cycle.end, run.operator)
        }
        exceptions = [
            BillException(
                operator_id=run.operator_id,
                run=run,
                connection_id=pk,
                kind=BillException.Kind.CLUSTER_EXPIRED,
                detail=_("Cluster %(code)s is not assigned to the operator on %(day)s.")
                % {"code": expired[cluster_id].code, "day": cycle.end.isoformat()},
            )
            for pk, _route, cluster_id in rows
            if cluster_id in expired
        ]
        BillException.objects.bulk_create(exceptions, batch_size=2000)
        by_route: dict[int, list[int]] = defaultdict(list)
        loose: list[int] = []
        for pk, route_id, cluster_id in rows:
            if cluster_id in expired:
                continue
            (by_route[route_id] if route_id else loose).append(pk)
        units: list[tuple[str, list[int]]] = []
        for route_id in sorted(by_route):
            ids = sorted(by_route[route_id])
            for start in range(0, len(ids), unit_size):
                units.append((f"route:{route_id}", ids[start : start + unit_size]))
        loose.sort()
        for number, start in enumerate(range(0, len(loose), unit_size), start=1):
            units.append((f"block:{number}", loose[start : start + unit_size]))
        BillRunUnit.objects.bulk_create(
            [
                BillRunUnit(run=run, position=position, key=key, connection_ids=ids)
                for position, (key, ids) in enumerate(units, start=1)
            ]
        )
        run.units_total = len(units)
        run.connections = len(rows)
        run.exceptions = len(exceptions)
        run.save(update_fields=["units_total", "connections", "exceptions"])


def _advanced(run: BillRun) -> None:
    """Count a unit done on the run's job, after the unit's transaction: inside it, the job's row stayed locked until
    the unit committed, and a worker finishing its unit waited for the other's commit. (A run killed between the two
    counts the unit when it starts again: run_until_done sets the job's count from the units' stages.)"""
    if run.job_id:
        jobs.job_advance(job_id=run.job_id)


# Computing (the preview) --------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Pricer:
    """What a run prices with, built once per process and run: the tariff book and each tariff's versions over the
    cycle, and a memory of quotes (pricing is pure: the same tariff and usage always give the same quote)."""

    run: BillRun
    book: TariffBook
    versions: dict[int, list[Any]] = dataclasses.field(default_factory=dict)
    quotes: dict[tuple[Any, ...], pricing.Quote | pricing.TariffInvalid] = dataclasses.field(default_factory=dict)
    assessed: dict[tuple[int, Decimal | None], Decimal] = dataclasses.field(default_factory=dict)
    indigent: set[int] = dataclasses.field(default_factory=set)  # customers on the register on the cycle's last day

    def versions_of(self, tariff: Any) -> list[Any]:
        if tariff.pk not in self.versions:
            cycle = self.run.cycle
            self.versions[tariff.pk] = versions_for_period(tariff, cycle.start, cycle.end)
        return self.versions[tariff.pk]

    def assessed_quantity(self, version: Any, per_period: Decimal | None) -> Decimal:
        """A non-metered connection's bulk demand over the cycle: its own figure, else its tariff version's
        "assessed_usage", per the tariff's period, times the periods in the cycle (pricing.assessed_quantity)."""
        key = (version.pk, per_period)
        if key not in self.assessed:
            cycle = self.run.cycle
            usage = pricing.Usage(period_start=cycle.start, period_end=cycle.end)
            self.assessed[key] = pricing.assessed_quantity(version.definition, usage, per_period)
        return self.assessed[key]

    def quote(self, tariff: Any, facts: ConnectionFacts, quantity: Decimal, *, indigent: bool = False) -> pricing.Quote:
        key = (tariff.pk, quantity, facts.property_type, facts.connection_type, indigent)
        if key not in self.quotes:
            versions = self.versions_of(tariff)
            cycle = self.run.cycle
            usage = pricing.Usage(
                quantity=quantity,
                property_type=facts.property_type,
                connection_type=facts.connection_type,
                indigent=indigent,
                period_start=cycle.start,
                period_end=cycle.end,
            )
            try:
                self.quotes[key] = pricing.quote_period(versions, usage)
            except pricing.TariffInvalid as error:
                self.quotes[key] = error
        found = self.quotes[key]
        if isinstance(found, pricing.TariffInvalid):
            raise found
        return found


# One run's pricer per process, keyed by the run's id and creation time: an id alone may name another run after a
# rolled-back transaction (SQLite gives a freed id again), whose tariffs and register would be the wrong ones.
_PRICERS: dict[tuple[int, Any], _Pricer] = {}


def _pricer(run: BillRun) -> _Pricer:
    key = (run.pk, run.created_at)
    if key not in _PRICERS:
        _PRICERS.clear()
        _PRICERS[key] = _Pricer(
            run=run,
            book=tariff_book(operator=run.operator_id, on=run.cycle.end),
            indigent=indigent_customer_ids(operator_id=run.operator_id, on=run.cycle.end),
        )
    return _PRICERS[key]


def _indexes(operator_id: int, ids: list[int], months: list[str]) -> dict[int, tuple[Decimal, Decimal | None]]:
    """Each connection's first previous index and last current index among its accepted readings of the cycle."""
    found: dict[int, tuple[Decimal, Decimal | None]] = {}
    rows = (
        Reading.objects.filter(
            id_span("connection_id", ids),
            operator_id=operator_id,
            cycle__in=months,
            register__in=BILLED_REGISTERS,
            status="accepted",
        )
        .order_by("connection_id", "read_on", "pk")
        .values_list("connection_id", "previous_index", "current_index")
    )
    wanted = set(ids)
    for connection_id, previous, current in rows:
        if connection_id not in wanted:
            continue
        first = found.get(connection_id)
        found[connection_id] = (first[0] if first else previous, current)
    return found


def _baselines(run: BillRun, ids: list[int]) -> dict[int, Decimal]:
    """What each connection usually consumes in a cycle: the average of its earlier issued bills, else its meter's
    average daily consumption times the cycle's days."""
    wanted = set(ids)
    baselines = {
        connection_id: average
        for connection_id, average, count in Bill.objects.filter(
            id_span("connection_id", ids), status=Bill.Status.ISSUED, metered=True
        )
        .exclude(cycle=run.cycle)
        .values("connection_id")
        .annotate(average=Avg("consumption"), count=Count("pk"))
        .values_list("connection_id", "average", "count")
        if count and connection_id in wanted
    }
    missing = [pk for pk in ids if pk not in baselines]
    if missing:
        unknown = set(missing)  # the range may hold connections that have their baseline already
        for connection_id, history in (
            MeterState.objects.filter(id_span("connection_id", missing), register__in=BILLED_REGISTERS)
            .order_by()
            .values_list("connection_id", "history")
        ):
            if connection_id not in unknown:
                continue
            daily = average_daily(history or [])
            if daily is not None:
                baselines[connection_id] = daily * run.cycle.days
    return {pk: Decimal(value) for pk, value in baselines.items()}


def compute_unit(run: BillRun, unit_id: int) -> bool:
    """Price one unit and write its draft bills, lines and exceptions in one transaction; False if already done."""
    pricer = _pricer(run)
    cycle = run.cycle
    with transaction.atomic():
        unit = BillRunUnit.objects.select_for_update().get(pk=unit_id)
        if unit.stage != BillRunUnit.Stage.PLANNED:
            return False
        ids = list(unit.connection_ids)
        wanted = set(ids)
        connections = list(
            Connection.objects.filter(id_span("pk", ids), operator_id=run.operator_id)
            .order_by("pk")
            .values(
                "pk",
                "number",
                "utility",
                "property_type",
                "connection_type",
                "supply_system_id",
                "package",
                "metered",
                "customer_id",
                "assessed_usage",
            )
        )
        connections = [row for row in connections if row["pk"] in wanted]
        billed = (
            set(
                Bill.objects.filter(id_span("connection_id", ids), cycle=cycle)
                .exclude(status=Bill.Status.CANCELLED)
                .order_by()  # no Meta.ordering: its joins and sort cost a unit more than the rows
                .values_list("connection_id", flat=True)
            )
            & wanted
        )
        metered = [row["pk"] for row in connections if row["metered"] and row["pk"] not in billed]
        consumption: dict[int, Decimal] = {}
        for month in cycle.months:
            for connection_id, quantity in cycle_consumption(
                operator=run.operator_id, connection_ids=metered, cycle=month
            ).items():
                consumption[connection_id] = consumption.get(connection_id, Decimal(0)) + quantity
        indexes = _indexes(run.operator_id, metered, cycle.months) if metered else {}
        waiting = set(
            Reading.objects.filter(
                id_span("connection_id", ids), operator_id=run.operator_id, cycle__in=cycle.months, status="review"
            )
            .order_by()
            .values_list("connection_id", flat=True)
        ) & set(metered)
        baselines = _baselines(run, metered) if metered else {}
        thresholds, _settings = thresholds_of(run.operator)
        bills: list[BillRow] = []
        quotes: list[pricing.Quote] = []
        exceptions: list[BillException] = []

        def listed(connection_id: int, kind: str, detail: str) -> None:
            exceptions.append(
                BillException(
                    operator_id=run.operator_id, run=run, connection_id=connection_id, kind=kind, detail=detail
                )
            )

        for row in connections:
            pk = row["pk"]
            if pk in billed:
                continue
            if row["metered"]:
                if pk in waiting:
                    listed(pk, BillException.Kind.REVIEW_PENDING, _("A reading of the cycle waits for review."))
                    continue
                if pk not in consumption:
                    listed(pk, BillException.Kind.MISSING_READING, _("No accepted reading in the cycle."))
                    continue
                quantity = consumption[pk]
                if quantity < 0:
                    listed(pk, BillException.Kind.NEGATIVE, _("Consumption %(q)s is negative.") % {"q": quantity})
                    continue
            else:
                quantity = Decimal(0)  # without a meter: its assessed usage, once its tariff is known (below)
            facts = ConnectionFacts(
                pk=pk,
                utility=row["utility"],
                property_type=row["property_type"] or "",
                connection_type=row["connection_type"] or "",
                supply_system_id=row["supply_system_id"],
                package=row["package"] or "",
            )
            matched = pricer.book.match(facts)
            if matched is None:
                listed(pk, BillException.Kind.NO_TARIFF, _("No tariff in force applies to this connection."))
                continue
            tariff, version = matched
            if not row["metered"]:
                quantity = pricer.assessed_quantity(version, row["assessed_usage"])
            try:
                quote = pricer.quote(tariff, facts, quantity, indigent=row["customer_id"] in pricer.indigent)
            except pricing.TariffInvalid as error:
                listed(pk, BillException.Kind.TARIFF_ERROR, str(error)[:500])
                continue
            if quote.total < 0:
                listed(pk, BillException.Kind.NEGATIVE, _("The bill's total %(t)s is negative.") % {"t": quote.total})
                continue
            if row["metered"] and quantity == 0:
                listed(pk, BillException.Kind.ZERO, _("Nothing consumed in the cycle."))
            baseline = baselines.get(pk)
            if (
                baseline is not None
                and quantity > baseline * thresholds.high_factor
                and quantity - baseline >= thresholds.min_units
            ):
                listed(
                    pk,
                    BillException.Kind.VERY_HIGH,
                    _("%(q)s against %(usual)s usually.") % {"q": quantity, "usual": round(baseline, 3)},
                )
            previous, current = indexes.get(pk, (None, None))
            round_off = sum((line.amount for line in quote.lines if line.kind == "round_off"), Decimal(0))
            bills.append(
                BillRow(
                    connection_id=pk,
                    account=row["number"],
                    metered=row["metered"],
                    consumption=quantity,
                    previous_index=previous,
                    current_index=current,
                    tariff_version_id=version.pk,
                    currency=quote.currency,
                    net=quote.total - quote.vat_total - round_off,
                    vat=quote.vat_total,
                    round_off=round_off,
                    total=quote.total,
                )
            )
            quotes.append(quote)
        bills_insert(run=run, unit=unit, bills=bills, quotes=quotes)
        BillException.objects.bulk_create(exceptions, batch_size=2000)
        unit.stage = BillRunUnit.Stage.COMPUTED
        unit.bills = len(bills)
        unit.exceptions = len(exceptions)
        unit.total = sum((bill.total for bill in bills), Decimal(0))
        unit.save(update_fields=["stage", "bills", "exceptions", "total"])
        _pause()
    _advanced(run)
    return True


# Issuing --------------------------------------------------------------------------------------------------------------
def bill_number(*, prefix: str, year: int, value: int) -> str:
    return f"{prefix}-B-{year}-{value:06d}"


def _numbers_reserve(run: BillRun, unit_id: int) -> None:
    """Reserve the bill numbers of a unit's drafts, in a short transaction of its own: the operator's bill sequence
    is locked only while it advances, not while the unit posts to the ledger, so that workers issue units side by
    side instead of queueing on the sequence. A unit keeps its reservation: if its issue fails or the run is killed,
    the unit is issued again with the same numbers (a run is finished before anything else is done with it), so the
    numbers stay gapless once the run is done, with no number given twice."""
    with transaction.atomic():
        unit = BillRunUnit.objects.select_for_update().get(pk=unit_id)
        if unit.stage != BillRunUnit.Stage.COMPUTED or unit.number_first is not None:
            return
        count = Bill.objects.filter(run=run, unit=unit, status=Bill.Status.DRAFT).count()
        if count:
            sequence = sequence_claim(operator_id=run.operator_id, name=f"bill-{run.cycle.bill_on.year}")
            assert sequence is not None
            unit.number_first = sequence_advance(sequence, count)
        unit.number_count = count
        unit.save(update_fields=["number_first", "number_count"])


def issue_unit(run: BillRun, unit_id: int) -> bool:
    """Number the unit's drafts (gapless, in connection order, from the numbers reserved for the unit), post them to
    the ledger (one charge per revenue head of each bill, with the tariff's own VAT, all in a few statements:
    ledger.services_bulk; the ledger applies the customers' credit) and mark them issued, in one transaction."""
    operator = run.operator
    cycle = run.cycle
    _numbers_reserve(run, unit_id)
    with transaction.atomic():
        unit = BillRunUnit.objects.select_for_update().get(pk=unit_id)
        if unit.stage != BillRunUnit.Stage.COMPUTED:
            return False
        # Bills priced alike have the same lines, made into charges once
        drafts = list(
            Bill.objects.filter(run=run, unit=unit, status=Bill.Status.DRAFT)
            .order_by("connection_id")
            .values_list("pk", "account", "lines")
        )
        if drafts:
            charges: dict[str, list[tuple[str, Decimal, Decimal]]] = {}
            for _pk, _account, text in drafts:
                if text not in charges:
                    charges[text] = charges_of_lines(lines_for_charges(text))
            holders = [account for _pk, account, _text in drafts]
            balances = holders_balances(operator=operator, holders=holders)
            year = cycle.bill_on.year
            if unit.number_count != len(drafts) or unit.number_first is None:  # the drafts cannot change once computed
                raise RuntimeError(
                    f"Unit {unit.pk} has {len(drafts)} drafts but {unit.number_count} bill numbers reserved."
                )
            first = unit.number_first
            issued = []
            specs: list[ChargeSpec] = []
            for offset, (bill_id, account, text) in enumerate(drafts):
                number = bill_number(prefix=operator.prefix, year=year, value=first + offset)
                reference = f"bill:{number}"
                owed, credit = balances.get(account, (Decimal(0), Decimal(0)))
                specs.extend(
                    ChargeSpec(holder=account, head=head, net=net, vat=vat, reference=reference)
                    for head, net, vat in charges[text]
                )
                issued.append((bill_id, number, owed, credit, reference))
            charges_post_many(
                operator=operator,
                charges=specs,
                due_date=cycle.due_on,
                value_date=cycle.bill_on,
                acting_user=run.approved_by,
                balances=balances,
            )
            bills_number(issued=issued, status=str(Bill.Status.ISSUED), at=timezone.now())
        unit.stage = BillRunUnit.Stage.ISSUED
        unit.save(update_fields=["stage"])
        _pause()
    _advanced(run)
    return True


# Publishing ---------------------------------------------------------------------------------------------------------
def publish_unit(run: BillRun, unit_id: int) -> bool:
    """Queue the bill SMS of every issued bill of the unit not yet published, once (published_at marks it)."""
    from mita.billing.messages import bills_sms_queue

    with transaction.atomic():
        unit = BillRunUnit.objects.select_for_update().get(pk=unit_id)
        if unit.stage != BillRunUnit.Stage.ISSUED:
            return False
        bills = list(
            Bill.objects.filter(run=run, unit=unit, status=Bill.Status.ISSUED, published_at__isnull=True)
            .select_related("connection__customer", "operator", "cycle")
            .order_by("pk")
        )
        bills_sms_queue(bills=bills)
        Bill.objects.filter(pk__in=[bill.pk for bill in bills]).update(published_at=timezone.now())
        unit.stage = BillRunUnit.Stage.PUBLISHED
        unit.save(update_fields=["stage"])
        _pause()
    _advanced(run)
    return True


# The steps ------------------------------------------------------------------------------------------------------------
STEPS: dict[str, tuple[str, Callable[[BillRun, int], bool], str, str]] = {
    # status while running: (unit stage it takes, the unit's work, status when done, job title)
    BillRun.Status.COMPUTING: (BillRunUnit.Stage.PLANNED, compute_unit, BillRun.Status.PREVIEW, "compute"),
    BillRun.Status.ISSUING: (BillRunUnit.Stage.COMPUTED, issue_unit, BillRun.Status.ISSUED, "issue"),
    BillRun.Status.PUBLISHING: (BillRunUnit.Stage.ISSUED, publish_unit, BillRun.Status.PUBLISHED, "publish"),
}


def run_until_done(
    run: BillRun, *, progress: Progress | None = None, unit_size: int = UNIT_SIZE, workers: int = 1
) -> BillRun:
    """Do the run's current step on every unit not yet past it; then move the run to the next status. `workers` > 1
    on PostgreSQL shares the units among that many processes (each unit is still one transaction, taken under its
    row's lock, so the result is the same; the bills' numbers stay gapless but follow the order units finish in)."""
    run = BillRun.objects.select_related("operator", "cycle", "approved_by").get(pk=run.pk)
    if run.status not in STEPS:
        return run
    stage, work, done_status, _title = STEPS[run.status]
    if run.status == BillRun.Status.COMPUTING:
        plan(run, unit_size=unit_size)
        run.refresh_from_db()
    units = BillRunUnit.objects.filter(run=run)
    total = units.count()
    pending = list(units.filter(stage=stage).order_by("position").values_list("pk", flat=True))
    if run.job_id:
        jobs.job_start(job_id=run.job_id, total=total)
        Job.objects.filter(pk=run.job_id).update(done=total - len(pending))
    if run.status == BillRun.Status.ISSUING and _bills_of(units.filter(stage=stage)) >= STATISTICS_AFTER:
        statistics_refresh(Bill, Account, Balance)
    done = total - len(pending)
    if progress:
        progress(run, done, total)
    try:
        # Forked workers only from a process of one thread (core.processes.fork_safe): a threaded web worker running
        # the task at once does the units itself.
        if workers > 1 and len(pending) > 1 and db_connection.vendor == "postgresql" and fork_safe():
            for _unit_id in _in_processes(run, pending, workers):
                done += 1
                if progress:
                    progress(run, done, total)
        else:
            for unit_id in pending:
                with collector_paused():
                    work(run, unit_id)
                done += 1
                if progress:
                    progress(run, done, total)
    except Exception as error:
        if run.job_id:
            jobs.job_fail(job_id=run.job_id, message=str(error))
        BillRun.objects.filter(pk=run.pk).update(message=str(error)[:500])
        raise
    return _finish_step(run, done_status)


# A run of this many bills or more refreshes PostgreSQL's statistics of the tables its preview filled before it
# issues: computing a million drafts adds a million bills and about five million lines, and until the planner knows,
# the issue step's look-ups by unit and by account code are planned for the tables as they were (a scan of every
# bill, or of every account of the operator, per unit). Autovacuum does the same in time, when it is on.
STATISTICS_AFTER = 20_000


def _bills_of(units: Any) -> int:
    """The drafts the units' preview made (counted on each unit as it was computed)."""
    return int(units.aggregate(total=Sum("bills"))["total"] or 0)


def _in_processes(run: BillRun, pending: list[int], workers: int) -> Iterator[int]:
    """Do the units in `workers` forked processes (core.processes: unit k to process k mod workers); yields each unit
    done as it is reported. A process that fails stops its own share; the others finish theirs; then the first error
    is raised."""
    work = STEPS[run.status][1]

    def unit_do(unit_id: int) -> int:
        with collector_paused():
            work(run, unit_id)
        return unit_id

    try:
        for _position, unit_id in in_processes(unit_do, pending, workers):
            yield unit_id
    except ProcessFailed as error:
        raise BillingError(str(error), code="unit_failed") from None


def _finish_step(run: BillRun, done_status: str) -> BillRun:
    with transaction.atomic():
        run = BillRun.objects.select_for_update().get(pk=run.pk)
        if run.status not in STEPS or STEPS[run.status][2] != done_status:
            return run
        totals = Bill.objects.filter(run=run).exclude(status=Bill.Status.CANCELLED)
        now = timezone.now()
        run.bills = totals.count()
        run.total = totals.aggregate(total=Sum("total"))["total"] or Decimal(0)
        run.exceptions = BillException.objects.filter(run=run).count()
        run.status = done_status
        run.message = ""
        fields = ["status", "bills", "total", "exceptions", "message"]
        stamp = {
            BillRun.Status.PREVIEW: "computed_at",
            BillRun.Status.ISSUED: "issued_at",
            BillRun.Status.PUBLISHED: "published_at",
        }[done_status]  # type: ignore[index]
        setattr(run, stamp, now)
        fields.append(stamp)
        run.save(update_fields=fields)
        if run.job_id:
            jobs.job_finish(job_id=run.job_id)
    return run
