"""Background work of billing corrections: the daily penalty run of every operator with an active penalty rule."""

import datetime

from django_tasks import task

from mita.core.schedule import register_periodic


@task()
def penalties_daily() -> int:
    """Levy today's penalties for every operator with an active rule; returns how many were levied. Safe to run
    again: a bill is penalised once per rule."""
    from mita.billing.models import PenaltyRule
    from mita.billing.penalties import penalties_apply
    from mita.registry.models import Operator

    operators = Operator.objects.filter(pk__in=PenaltyRule.objects.filter(active=True).values("operator_id")).order_by(
        "pk"
    )
    return sum(penalties_apply(operator=operator, acting_user=None).levied for operator in operators)


register_periodic("billing.penalties_daily", datetime.timedelta(days=1), penalties_daily)
