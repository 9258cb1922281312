"""Each operator's payment rules: which charges a payment clears first, and whether advances are held without VAT."""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.errors import DomainError
from mita.ledger.models import Charge
from mita.ledger.services import REVENUE_HEADS, STANDARD_CHART
from mita.payments.models import PaymentSettings

# The chart's order of revenue heads: the default order, and where heads not named by the operator go.
CHART_HEADS = [code.removeprefix("revenue:") for code, *_rest in STANDARD_CHART if code.startswith("revenue:")]


def payment_settings_for(*, operator: Any) -> PaymentSettings:
    """The operator's payment settings; an operator that never set them has the defaults (not saved)."""
    return PaymentSettings.objects.filter(operator=operator).first() or PaymentSettings(operator=operator)


def heads_in_order(settings: PaymentSettings) -> list[str]:
    """Every revenue head in the order payments clear them: the operator's list first, then the chart's."""
    named = [head for head in settings.head_order if head in REVENUE_HEADS]
    return named + [head for head in CHART_HEADS if head not in named] + sorted(REVENUE_HEADS - set(CHART_HEADS))


def allocation_key(settings: PaymentSettings) -> Callable[[Charge], tuple[Any, ...]]:
    """The sort key of open charges: due date then head, or head then due date; the oldest charge breaks ties."""
    rank = {head: position for position, head in enumerate(heads_in_order(settings))}
    if settings.allocation_order == PaymentSettings.Order.HEAD_FIRST:
        return lambda charge: (rank.get(charge.head, len(rank)), charge.due_date, charge.pk)
    return lambda charge: (charge.due_date, rank.get(charge.head, len(rank)), charge.pk)


class SettingsError(DomainError):
    pass


@transaction.atomic
def payment_settings_update(
    *, operator: Any, allocation_order: str, head_order: list[str], advance_ex_vat: bool, acting_user: Any
) -> PaymentSettings:
    """Change the operator's payment rules (operator admin); payments already taken keep their allocations."""
    if allocation_order not in PaymentSettings.Order.values:
        raise SettingsError(
            _("Unknown order of allocation %(order)s.") % {"order": allocation_order},
            code="allocation_order_unknown",
            fields={
                "allocation_order": [
                    _("Choose one of: %(orders)s.") % {"orders": ", ".join(PaymentSettings.Order.values)}
                ]
            },
        )
    unknown = [head for head in head_order if head not in REVENUE_HEADS]
    if unknown:
        raise SettingsError(
            _("Unknown revenue heads: %(heads)s.") % {"heads": ", ".join(unknown)},
            code="head_unknown",
            fields={"head_order": [_("Choose among: %(heads)s.") % {"heads": ", ".join(CHART_HEADS)}]},
        )
    if len(set(head_order)) != len(head_order):
        raise SettingsError(
            _("Name each head once in the order of heads."),
            code="head_repeated",
            fields={"head_order": [_("A head appears twice.")]},
        )
    settings = PaymentSettings.objects.select_for_update().filter(operator=operator).first()
    before = None
    if settings is None:
        settings = PaymentSettings(operator=operator)
    else:
        before = {
            "allocation_order": settings.allocation_order,
            "head_order": settings.head_order,
            "advance_ex_vat": settings.advance_ex_vat,
        }
    settings.allocation_order = allocation_order
    settings.head_order = list(head_order)
    settings.advance_ex_vat = advance_ex_vat
    settings.save()
    audit_record(
        actor=acting_user,
        action="payments.settings_changed",
        target=settings,
        before=before,
        after={"allocation_order": allocation_order, "head_order": list(head_order), "advance_ex_vat": advance_ex_vat},
    )
    return settings
