"""The operator's billing calendar: a year's cycles of one frequency, with reading windows and due dates."""

import calendar
import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mita.billing.errors import BillingError
from mita.billing.models import BillingCycle

MONTHS_PER_CYCLE: dict[str, int] = {
    BillingCycle.Frequency.MONTHLY: 1,
    BillingCycle.Frequency.BIMONTHLY: 2,
    BillingCycle.Frequency.QUARTERLY: 3,
    BillingCycle.Frequency.HALF_YEARLY: 6,
    BillingCycle.Frequency.YEARLY: 12,
}
_LETTER: dict[str, str] = {
    BillingCycle.Frequency.BIMONTHLY: "B",
    BillingCycle.Frequency.QUARTERLY: "Q",
    BillingCycle.Frequency.HALF_YEARLY: "H",
}


def cycle_code(*, frequency: str, year: int, index: int) -> str:
    """The code of the index-th (from 1) cycle of a year: 2026-10, 2026-B5, 2026-Q4, 2026-H2, 2026-Y."""
    if frequency == BillingCycle.Frequency.MONTHLY:
        return f"{year:04d}-{index:02d}"
    if frequency == BillingCycle.Frequency.YEARLY:
        return f"{year:04d}-Y"
    return f"{year:04d}-{_LETTER[frequency]}{index}"


@transaction.atomic
def cycles_generate(
    *,
    operator: Any,
    year: int,
    frequency: str = BillingCycle.Frequency.MONTHLY,
    due_days: int = 15,
    window_before: int = 5,
    window_after: int = 10,
) -> list[BillingCycle]:
    """A year's cycles of one frequency (idempotent: the cycles already there are kept as they are).

    Each cycle's meters are read from `window_before` days before its last day to `window_after` days after; its
    bills are issued the day after the window closes and are due `due_days` days later.
    """
    problems: dict[str, list[str]] = {}
    if frequency not in MONTHS_PER_CYCLE:
        problems["frequency"] = [_("Choose monthly, bimonthly, quarterly, half_yearly or yearly.")]
    if not 2000 <= year <= 2100:
        problems["year"] = [_("Give a year between 2000 and 2100.")]
    for name, value, most in (("due_days", due_days, 120), ("window_before", window_before, 27)):
        if not 0 <= value <= most:
            problems[name] = [_("Between 0 and %(most)d days.") % {"most": most}]
    if not 0 <= window_after <= 27:
        problems["window_after"] = [_("Between 0 and %(most)d days.") % {"most": 27}]
    if problems:
        raise BillingError(
            _("The calendar cannot be made; correct the fields."), code="cycles_invalid", fields=problems
        )
    months = MONTHS_PER_CYCLE[frequency]
    existing = {
        cycle.code: cycle for cycle in BillingCycle.objects.filter(operator=operator, code__startswith=f"{year:04d}-")
    }
    wanted = []
    for index in range(1, 12 // months + 1):
        code = cycle_code(frequency=frequency, year=year, index=index)
        if code in existing:
            wanted.append(existing[code])
            continue
        first_month = (index - 1) * months + 1
        last_month = first_month + months - 1
        start = datetime.date(year, first_month, 1)
        end = datetime.date(year, last_month, calendar.monthrange(year, last_month)[1])
        read_to = end + datetime.timedelta(days=window_after)
        bill_on = read_to + datetime.timedelta(days=1)
        wanted.append(
            BillingCycle.objects.create(
                operator=operator,
                code=code,
                frequency=frequency,
                start=start,
                end=end,
                read_from=end - datetime.timedelta(days=window_before),
                read_to=read_to,
                bill_on=bill_on,
                due_on=bill_on + datetime.timedelta(days=due_days),
            )
        )
    return wanted
