"""Index adjustment: an operator admin changes the index of a counted reading, with a reason, audited.

The reading adjusted is SUPERSEDED by a reading of source ADJUSTMENT (same date and cycle, the new index). When a
later reading of the same meter was counted, it is re-based: superseded by a copy whose previous index is the new
one, so that the consumption moves between the two cycles and their total stays the meter's advance. The register's
state moves when the reading adjusted was the last one counted. An IndexAdjustment row records it all; when a cycle
touched is in the past, bills may exist: `rebill_needed`, and the `index_adjusted` signal tells billing after commit.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import Conflict
from mita.metering.errors import MeteringError
from mita.metering.models import IndexAdjustment, MeterState, Reading, Register
from mita.metering.readings import thresholds_of
from mita.metering.review import index_parse
from mita.metering.signals import index_adjusted
from mita.metering.validation import Dial, cycle_of, reading_check

BACKWARDS = ("backwards", "reversed")


def _dial(reading: Reading) -> Dial:
    meter_model = reading.installation.meter.meter_model
    multiplier = (
        Register.objects.filter(meter_model=meter_model, code=reading.register).values_list("multiplier", flat=True)
    ).first()
    return Dial(digits=meter_model.dial_digits, reversible=meter_model.reversible, multiplier=multiplier or Decimal(1))


def _next_counted(reading: Reading) -> Reading | None:
    """The next counted reading of the same meter and register after this one."""
    return (
        Reading.objects.select_for_update(of=("self",))
        .filter(
            installation_id=reading.installation_id,
            register=reading.register,
            status=Reading.Status.ACCEPTED,
        )
        .filter(Q(read_on__gt=reading.read_on) | Q(read_on=reading.read_on, pk__gt=reading.pk))
        .order_by("read_on", "pk")
        .first()
    )


def _copy(reading: Reading, **changes: Any) -> Reading:
    fields = {
        field.attname: getattr(reading, field.attname)
        for field in Reading._meta.concrete_fields
        if field.attname not in ("id", "key", "body_digest", "created_at", "reviewed_by_id", "reviewed_at")
    }
    fields.update(changes)
    return Reading.objects.create(**fields)


def _last_history(state: MeterState, consumption: Decimal) -> None:
    if state.history:
        days, _consumption = state.history[-1]
        state.history = [*state.history[:-1], [days, str(consumption)]]


@transaction.atomic
def index_adjust(*, reading: Reading, current_index: Any, reason: str, acting_user: Any) -> IndexAdjustment:
    """Change the index of a counted reading (an operator admin's decision; the caller checks the role)."""
    reason = (reason or "").strip()[:500]
    if not reason:
        raise MeteringError(
            _("Write the reason for the adjustment."), code="reason_required", fields={"reason": [_("Say why.")]}
        )
    index = index_parse(current_index)
    reading = (
        Reading.objects.select_for_update(of=("self",))
        .select_related("installation__meter__meter_model", "connection__operator")
        .get(pk=reading.pk)
    )
    done = IndexAdjustment.objects.filter(reading=reading).first()
    if done is not None:
        if done.index_after == index and done.reason == reason:
            return done  # the same adjustment sent again
        raise Conflict(
            _("This reading was already adjusted to %(index)s: adjust the reading that replaced it.")
            % {"index": done.index_after},
            code="already_adjusted",
        )
    if reading.status != Reading.Status.ACCEPTED:
        raise MeteringError(
            _("Only a counted reading can be adjusted; a reading waiting for review is corrected in the review queue."),
            code="not_counted",
        )
    if reading.source == Reading.Source.REMOVAL:
        raise MeteringError(
            _("A final index at a meter's removal is not adjusted here."), code="removal_not_adjustable"
        )
    if index == reading.current_index:
        raise MeteringError(
            _("The new index is the same as the reading's."),
            code="index_unchanged",
            fields={"current_index": [_("Unchanged.")]},
        )
    thresholds, _settings = thresholds_of(reading.connection.operator)
    dial = _dial(reading)
    check = reading_check(
        previous=reading.previous_index,
        current=index,
        dial=dial,
        thresholds=thresholds,
        last_actual=Decimal(0) if reading.true_up else None,
        active=False,
    )
    if check.anomaly in BACKWARDS:
        raise MeteringError(
            _("The new index is below the reading's previous index (%(previous)s).")
            % {"previous": reading.previous_index},
            code="index_backwards",
            fields={"current_index": [_("At least %(previous)s.") % {"previous": reading.previous_index}]},
        )
    following = _next_counted(reading)
    following_is_last = following is not None and _next_counted(following) is None
    rebased_check = None
    if following is not None:
        assert following.current_index is not None
        rebased_check = reading_check(
            previous=index,
            current=following.current_index,
            dial=dial,
            thresholds=thresholds,
            last_actual=Decimal(0) if reading.source == Reading.Source.ESTIMATED or following.true_up else None,
            active=False,
        )
        if rebased_check.anomaly in BACKWARDS:
            raise MeteringError(
                _(
                    "The next reading (%(index)s on %(day)s) would then go backwards: adjust that one first, or give "
                    "an index of at most %(index)s."
                )
                % {"index": following.current_index, "day": following.read_on},
                code="next_backwards",
                fields={"current_index": [_("At most %(index)s.") % {"index": following.current_index}]},
            )
    user = acting_user if getattr(acting_user, "pk", None) else None
    now = timezone.now()
    adjusted = _copy(
        reading,
        current_index=index,
        consumption=check.consumption,
        rollover=check.rollover,
        true_up=check.true_up,
        source=Reading.Source.ADJUSTMENT,
        anomaly="",
        supersedes_id=reading.pk,
        note=reason,
        created_by_id=getattr(user, "pk", None),
        reviewed_by=user,
        reviewed_at=now,
        review_note=reason,
    )
    rebased = None
    if following is not None and rebased_check is not None:
        rebased = _copy(
            following,
            previous_index=index,
            consumption=rebased_check.consumption,
            rollover=rebased_check.rollover,
            true_up=rebased_check.true_up,
            supersedes_id=following.pk,
            created_by_id=getattr(user, "pk", None),
            review_note=_("Re-based on an index adjustment."),
        )
        following.status, following.review_note = Reading.Status.SUPERSEDED, _("Re-based on an index adjustment.")
        following.save(update_fields=["status", "review_note"])
    reading.status, reading.review_note = Reading.Status.SUPERSEDED, reason
    reading.reviewed_by, reading.reviewed_at = user, now
    reading.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    _state_follow(
        reading=reading, adjusted=adjusted, rebased=rebased, following=following, following_is_last=following_is_last
    )
    cycles = sorted({reading.cycle, *([following.cycle] if following is not None else [])})
    adjustment = IndexAdjustment.objects.create(
        operator_id=reading.operator_id,
        connection_id=reading.connection_id,
        register=reading.register,
        reading=reading,
        adjustment_reading=adjusted,
        rebased_reading=rebased,
        index_before=reading.current_index,
        index_after=index,
        consumption_before=reading.consumption,
        consumption_after=check.consumption,
        reason=reason,
        cycles=cycles,
        rebill_needed=any(cycle < cycle_of(timezone.localdate()) for cycle in cycles),
        adjusted_by=user,
    )
    audit_record(
        actor=acting_user,
        action="reading.index_adjusted",
        target=adjustment,
        before={"reading": reading.pk, "index": reading.current_index, "consumption": reading.consumption},
        after={
            "reading": adjusted.pk,
            "index": index,
            "consumption": check.consumption,
            "rebased": getattr(rebased, "pk", None),
        },
        detail={"reason": reason, "cycles": cycles, "rebill_needed": adjustment.rebill_needed},
    )
    transaction.on_commit(lambda: index_adjusted.send(sender=IndexAdjustment, adjustment=adjustment))
    return adjustment


def _state_follow(
    *,
    reading: Reading,
    adjusted: Reading,
    rebased: Reading | None,
    following: Reading | None,
    following_is_last: bool,
) -> None:
    """Move the register's state when the adjustment touched the last reading counted on the meter installed."""
    state = (
        MeterState.objects.select_for_update(of=("self",))
        .filter(connection_id=reading.connection_id, register=reading.register)
        .first()
    )
    if state is None or state.installation_id != reading.installation_id:
        return  # the meter was removed since: its final index stands, the state is the new meter's
    assert adjusted.current_index is not None and adjusted.consumption is not None
    counts_in_history = reading.source not in (Reading.Source.ESTIMATED, Reading.Source.REMOVAL)
    if following is None:  # the reading adjusted was the last one counted
        state.last_index = adjusted.current_index
        if not state.last_estimated:
            state.last_actual_index = adjusted.current_index
        if counts_in_history:
            _last_history(state, adjusted.consumption)
    else:
        if state.last_actual_index == reading.current_index and reading.source != Reading.Source.ESTIMATED:
            state.last_actual_index = adjusted.current_index
        assert rebased is not None and rebased.consumption is not None
        if following_is_last and following.source not in (
            Reading.Source.ESTIMATED,
            Reading.Source.REMOVAL,
        ):
            _last_history(state, rebased.consumption)
    state.save(update_fields=["last_index", "last_actual_index", "history"])


def adjustments_mark_rebilled(
    *, operator_id: int, connection_id: int, months: Iterable[str], when: datetime.datetime
) -> list[int]:
    """Billing has corrected the bills of these months of a connection: the adjustments that flagged them for a rebill
    are handled (`rebilled_at` set). Returns their ids."""
    wanted = set(months)
    waiting = IndexAdjustment.objects.filter(
        operator_id=operator_id, connection_id=connection_id, rebill_needed=True, rebilled_at__isnull=True
    )
    ids = [adjustment.pk for adjustment in waiting if wanted & {str(month) for month in adjustment.cycles or []}]
    if ids:
        IndexAdjustment.objects.filter(pk__in=ids).update(rebilled_at=when)
    return ids
