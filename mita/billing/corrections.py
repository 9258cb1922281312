"""Correcting an issued bill: cancel it (its charges and the penalties levied on it reversed, what was paid towards
them made credit) and rebill it (a corrected bill for the same connection and cycle, priced again from the accepted
readings and the tariff by the bill run's own code, numbered and posted). Both audited (docs/billing-corrections.md).
"""

import datetime
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.billing.charges import charges_of_lines
from mita.billing.errors import BillingError
from mita.billing.lines import lines_for_charges
from mita.billing.models import Bill, BillCancellation, BillException, BillRun, BillRunUnit, Penalty
from mita.billing.run import bill_number, compute_unit
from mita.core.audit import audit_record
from mita.core.errors import Conflict
from mita.core.sequences import sequence_advance, sequence_claim
from mita.ledger.models import Charge
from mita.ledger.selectors import holders_balances
from mita.ledger.services import holder_accounts_ensure
from mita.ledger.services_bulk import ChargeSpec, charges_post_many
from mita.metering.adjustments import adjustments_mark_rebilled as metering_adjustments_mark_rebilled
from mita.metering.selectors_review import adjustments_needing_rebill
from mita.payments.corrections import charge_cancel_posting

ZERO = Decimal(0)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BillingError(
            _("Say why the bill is cancelled."), code="reason_required", fields={"reason": [_("A reason is required.")]}
        )
    return reason[:500]


@transaction.atomic
def bill_cancel(*, bill: Bill, reason: str, acting_user: Any) -> BillCancellation:
    """Cancel an issued bill: every charge it posted and every penalty levied on it is cancelled as payments cancels
    a charge (transfers reversed, what was paid towards it moved to the customer's credit, that credit used on the
    account's other open charges); the bill's status becomes cancelled, which frees its connection and cycle for a
    rebill. The readings stay as they are."""
    reason = _reason(reason)
    bill = Bill.objects.select_for_update().select_related("operator").get(pk=bill.pk)
    if bill.status == Bill.Status.CANCELLED:
        raise Conflict(_("This bill is already cancelled."), code="already_cancelled")
    if bill.status != Bill.Status.ISSUED:
        raise BillingError(
            _("Only an issued bill can be cancelled; a draft goes with its run."), code="not_issued", status=409
        )
    references = [bill.ledger_reference] if bill.ledger_reference else []
    references += list(Penalty.objects.filter(bill=bill).values_list("reference", flat=True))
    charges = list(
        Charge.objects.filter(operator=bill.operator, reference__in=references, cancellation__isnull=True)
        .select_related("operator")
        .order_by("pk")
    )
    moved = ZERO
    for charge in charges:  # the penalties after the bill's own charges: the order they were posted in
        cancellation = charge_cancel_posting(charge=charge, reason=reason, acting_user=acting_user, approved_by=None)
        moved += cancellation.moved_to_credit
    bill.status = Bill.Status.CANCELLED
    bill.save(update_fields=["status"])
    cancelled = BillCancellation.objects.create(
        operator=bill.operator,
        bill=bill,
        reason=reason,
        moved_to_credit=moved,
        cancelled_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    audit_record(
        actor=acting_user,
        action="billing.bill_cancelled",
        target=bill,
        operator=bill.operator,
        detail={
            "number": bill.number,
            "total": bill.total,
            "reason": reason,
            "charges": [charge.pk for charge in charges],
            "moved_to_credit": moved,
        },
    )
    return cancelled


def rebill_due_on(bill: Bill, today: datetime.date) -> datetime.date:
    """A corrected bill gives the customer the cycle's usual time to pay from the day it is issued, never less than
    the cycle's own due date (a rebill must not be late, and penalised, the day it is issued)."""
    cycle = bill.cycle
    return max(cycle.due_on, today + (cycle.due_on - cycle.bill_on))


def _issue(run: BillRun, unit: BillRunUnit, *, due_on: datetime.date, today: datetime.date, acting_user: Any) -> Bill:
    """Number the rebill's draft (the operator's gapless bill numbers), post its charges as a run's unit posts them,
    record the arrears and credit at issue, and issue it with its own due date."""
    operator, cycle = run.operator, run.cycle
    draft = Bill.objects.select_for_update().get(run=run, unit=unit, status=Bill.Status.DRAFT)
    lines = lines_for_charges(draft.lines)
    holder_accounts_ensure(operator=operator, holders=[draft.account], purpose="receivable")
    owed, credit = holders_balances(operator=operator, holders=[draft.account]).get(draft.account, (ZERO, ZERO))
    year = cycle.bill_on.year
    sequence = sequence_claim(operator_id=operator.pk, name=f"bill-{year}")
    assert sequence is not None
    number = bill_number(prefix=operator.prefix, year=year, value=sequence_advance(sequence, 1))
    reference = f"bill:{number}"
    charges_post_many(
        operator=operator,
        charges=[
            ChargeSpec(holder=draft.account, head=head, net=net, vat=vat, reference=reference)
            for head, net, vat in charges_of_lines(lines)
        ],
        due_date=due_on,
        value_date=today,
        acting_user=acting_user,
    )
    draft.number, draft.status, draft.ledger_reference = number, Bill.Status.ISSUED, reference
    draft.arrears, draft.credit, draft.due_on, draft.issued_at = owed, credit, due_on, timezone.now()
    draft.save(update_fields=["number", "status", "ledger_reference", "arrears", "credit", "due_on", "issued_at"])
    return draft


@transaction.atomic
def bill_rebill(*, bill: Bill, acting_user: Any) -> Bill:
    """Issue the corrected bill of a cancelled one: same connection and cycle, priced by the bill run's own compute
    step (a run of one unit, labelled "rebill <number>") from the accepted readings and the tariff as they are now,
    a new gapless number, posted to the ledger. The adjustments of the cycle's readings waiting for it are marked
    handled. Refused, with the reason a run would list, when the connection cannot be billed."""
    bill = Bill.objects.select_related("operator", "cycle").get(pk=bill.pk)
    cancellation = BillCancellation.objects.select_for_update().filter(bill=bill).first()
    if bill.status != Bill.Status.CANCELLED or cancellation is None:
        raise BillingError(_("Cancel the bill before rebilling it."), code="not_cancelled", status=409)
    if cancellation.rebill_id:
        raise Conflict(
            _("This bill was already rebilled as %(number)s.") % {"number": cancellation.rebill.number},
            code="already_rebilled",
        )
    if Bill.objects.filter(connection_id=bill.connection_id, cycle=bill.cycle).exclude(status="cancelled").exists():
        raise Conflict(_("The connection already has a bill for this cycle."), code="already_billed")
    operator, cycle = bill.operator, bill.cycle
    user = acting_user if getattr(acting_user, "pk", None) else None
    now, today = timezone.now(), timezone.localdate()
    # A run of its own (the bill needs one): scope "operator" with the cancelled bill's id, so that it is never taken
    # for the operator's run of the cycle (`mita billrun` resumes runs with no scope id).
    run = BillRun.objects.create(
        operator=operator,
        cycle=cycle,
        scope_kind=BillRun.Scope.OPERATOR,
        scope_id=bill.pk,
        scope_label=f"rebill {bill.number}"[:120],
        created_by=user,
        approved_by=user,
        approved_at=now,
    )
    unit = BillRunUnit.objects.create(run=run, position=1, key=f"rebill:{bill.pk}", connection_ids=[bill.connection_id])
    run.operator, run.cycle = operator, cycle
    compute_unit(run, unit.pk)
    refused = BillException.objects.filter(run=run).exclude(kind__in=BillException.WARNINGS).first()
    if refused is not None or not Bill.objects.filter(run=run, unit=unit).exists():
        detail = refused.detail if refused is not None else ""
        raise BillingError(
            _("The connection cannot be billed again: %(why)s") % {"why": detail or _("nothing to bill")},
            code="rebill_refused",
            status=409,
        )
    new = _issue(run, unit, due_on=rebill_due_on(bill, today), today=today, acting_user=acting_user)
    BillRunUnit.objects.filter(pk=unit.pk).update(stage=BillRunUnit.Stage.ISSUED, bills=1, total=new.total)
    BillRun.objects.filter(pk=run.pk).update(
        status=BillRun.Status.ISSUED,
        units_total=1,
        connections=1,
        bills=1,
        total=new.total,
        exceptions=BillException.objects.filter(run=run).count(),
        computed_at=now,
        issued_at=now,
    )
    cancellation.rebill, cancellation.rebilled_by, cancellation.rebilled_at = new, user, now
    cancellation.save(update_fields=["rebill", "rebilled_by", "rebilled_at"])
    handled = adjustments_mark_rebilled(bill=bill, when=now)
    audit_record(
        actor=acting_user,
        action="billing.bill_rebilled",
        target=new,
        operator=operator,
        detail={
            "replaces": bill.number,
            "replaces_id": bill.pk,
            "number": new.number,
            "total": new.total,
            "was": bill.total,
            "due_on": new.due_on,
            "adjustments": handled,
        },
    )
    return new


@transaction.atomic
def bill_cancel_and_rebill(*, bill: Bill, reason: str, acting_user: Any) -> Bill:
    """Both in one transaction: if the rebill is refused, the bill stays issued as it was."""
    bill_cancel(bill=bill, reason=reason, acting_user=acting_user)
    return bill_rebill(bill=bill, acting_user=acting_user)


# Index adjustments (metering) --------------------------------------------------------------------------------------
def _month_span(month: str) -> tuple[datetime.date, datetime.date]:
    year, number = (int(part) for part in month.split("-"))
    first = datetime.date(year, number, 1)
    following = datetime.date(year + (number == 12), number % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


def adjustments_cover(adjustment: Any) -> Q:
    """The bills of the adjustment's connection whose cycle includes one of the months it changed."""
    spans = Q(pk__in=[])
    for month in adjustment.cycles or []:
        try:
            first, last = _month_span(str(month))
        except ValueError:
            continue
        spans |= Q(cycle__start__lte=last, cycle__end__gte=first)
    return Q(connection_id=adjustment.connection_id) & spans


def adjustments_mark_rebilled(*, bill: Bill, when: datetime.datetime) -> list[int]:
    """Mark handled the adjustments waiting for a rebill that the corrected bill of this connection and cycle covers."""
    return metering_adjustments_mark_rebilled(
        operator_id=bill.operator_id, connection_id=bill.connection_id, months=bill.cycle.months, when=when
    )


def bills_flagged_for_rebill(*, operator: Any, limit: int = 500) -> list[dict[str, Any]]:
    """The operator's issued bills whose cycle's readings were adjusted since ("flagged for cancel and rebill"), each
    with the adjustments that flag it, oldest adjustment first; and the adjustments that flag no issued bill."""
    adjustments = list(adjustments_needing_rebill(operator)[:limit])
    if not adjustments:
        return []
    covers = Q(pk__in=[])
    for adjustment in adjustments:
        covers |= adjustments_cover(adjustment)
    bills = list(
        Bill.objects.filter(covers, operator=operator, status=Bill.Status.ISSUED)
        .select_related("cycle", "connection__customer")
        .order_by("pk")
    )
    flags: dict[int, list[Any]] = defaultdict(list)
    for bill in bills:
        months = set(bill.cycle.months)
        for adjustment in adjustments:
            if adjustment.connection_id == bill.connection_id and months & set(map(str, adjustment.cycles or [])):
                flags[bill.pk].append(adjustment)
    rows = [{"bill": bill, "adjustments": flags[bill.pk]} for bill in bills if flags[bill.pk]]
    return sorted(rows, key=lambda row: (row["adjustments"][0].adjusted_at, row["bill"].pk))


def adjustment_reason(adjustments: list[Any]) -> str:
    """The cancellation reason the flagged list gives: the adjustments' own reasons."""
    return "; ".join(
        _("index adjusted from %(before)s to %(after)s: %(reason)s")
        % {"before": a.index_before, "after": a.index_after, "reason": a.reason}
        for a in adjustments
    )[:500]
