"""The demo's review work on an operator's readings (step "metering.review", after the year of readings)."""

from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from mita.core.errors import DomainError
from mita.metering.adjustments import index_adjust
from mita.metering.estimation import estimates_make
from mita.metering.models import IndexAdjustment, MeterState, Reading
from mita.metering.review import reading_accept, reading_correct, reading_reject
from mita.metering.validation import cycle_of

DECISIONS = 8  # readings decided per operator; the rest stay in the queue
LEFT_IN_QUEUE = 4


def _at_head(reading: Reading) -> bool:
    state = MeterState.objects.filter(connection_id=reading.connection_id, register=reading.register).first()
    return (
        state is not None
        and state.installation_id == reading.installation_id
        and state.last_read_on <= reading.read_on
        and state.last_index == reading.previous_index
    )


def _decide(reading: Reading, user: Any) -> str:
    if not _at_head(reading):
        reading_reject(reading=reading, note="Covered by the next reading counted: nothing is lost.", acting_user=user)
        return "rejected"
    if reading.anomaly in (Reading.Anomaly.BACKWARDS, Reading.Anomaly.REVERSED):
        reading_correct(
            reading=reading,
            current_index=reading.previous_index + Decimal(12),
            note="Reader swapped two digits; index checked on the photo.",
            acting_user=user,
        )
        return "corrected"
    if reading.anomaly == Reading.Anomaly.READER_CODE:
        return ""
    reading_accept(reading=reading, note="Checked with the customer.", acting_user=user)
    return "accepted"


def review_demo_operator(*, operator: Any, officer: Any, admin: Any) -> str:
    """Estimate, decide on a few readings, adjust one index; returns what was done (empty when nothing to do)."""
    user = officer or admin
    if not Reading.objects.filter(operator=operator).exists():
        return ""
    this_cycle = cycle_of(timezone.localdate())
    estimated = 0
    cycles = (
        Reading.objects.filter(operator=operator, status=Reading.Status.REVIEW, anomaly=Reading.Anomaly.READER_CODE)
        .exclude(cycle__gt=this_cycle)
        .values_list("cycle", flat=True)
        .distinct()
        .order_by("cycle")
    )
    for cycle in list(cycles):
        made = estimates_make(operator=operator, cycle=cycle, acting_user=user)
        estimated += made.estimated + made.reader_codes
    waiting = list(
        Reading.objects.filter(operator=operator, status=Reading.Status.REVIEW)
        .exclude(anomaly=Reading.Anomaly.READER_CODE)
        .order_by("read_on", "pk")
    )
    done: dict[str, int] = {}
    for reading in waiting[: max(min(DECISIONS, len(waiting) - LEFT_IN_QUEUE), 0)]:
        try:
            outcome = _decide(reading, user)
        except DomainError:
            continue
        if outcome:
            done[outcome] = done.get(outcome, 0) + 1
    adjusted = _adjust_one(operator=operator, admin=admin, this_cycle=this_cycle)
    parts = [f"{estimated} estimated", *[f"{count} {outcome}" for outcome, count in sorted(done.items())]]
    if adjusted:
        parts.append("1 index adjusted")
    return ", ".join(parts)


def _adjust_one(*, operator: Any, admin: Any, this_cycle: str) -> bool:
    """Adjust one past reading that a later one follows, to halfway between its previous and current index."""
    if admin is None or IndexAdjustment.objects.filter(operator=operator).exists():
        return False
    candidates = (
        Reading.objects.filter(
            operator=operator,
            status=Reading.Status.ACCEPTED,
            source__in=[Reading.Source.MANUAL, Reading.Source.FIELD, Reading.Source.IMPORT],
            cycle__lt=this_cycle,
            rollover=False,
            true_up=False,
            current_index__gt=F("previous_index") + 2,
        )
        .select_related("connection")
        .order_by("-read_on", "pk")
    )
    for reading in candidates[:20]:
        assert reading.current_index is not None
        middle = ((reading.previous_index + reading.current_index) / 2).quantize(Decimal("1"))
        try:
            index_adjust(
                reading=reading,
                current_index=middle,
                reason="The reader wrote the neighbour's index; the photo shows this one.",
                acting_user=admin,
            )
        except DomainError:
            continue
        return True
    return False
