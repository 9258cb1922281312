"""Registrations of metering: review — the home card "Readings to review" (with its count), the settings card and the
demo step that works through the demo's queue (estimates, decisions, one index adjustment)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from mita.accounts.roles import Role
from mita.core.demo import DemoContext, register_demo_step
from mita.core.navigation import Card, register_card
from mita.metering.selectors_review import REVIEW_ROLES, SETTINGS_ROLES, review_count

register_card(
    Card(
        key="metering.review",
        title=_("Readings to review"),
        description=_(
            "Readings the checks found implausible and meters not read: accept, correct, estimate or reject."
        ),
        url_name="metering:review_queue",
        roles=frozenset(REVIEW_ROLES),
        order=45,
        badge=review_count,
    )
)
register_card(
    Card(
        key="metering.settings",
        title=_("Metering settings"),
        description=_("Thresholds of the reading checks, the reading window and the zero rule."),
        url_name="metering:metering_settings",
        roles=frozenset(SETTINGS_ROLES),
        order=95,
        in_menu=False,
    )
)


def _staff(ctx: DemoContext, operator: Any, role: str) -> Any:
    return ctx.objects.get("users", {}).get(f"{role}@{operator}")


def review_demo(ctx: DemoContext) -> None:
    """For each demo operator with readings: estimate the meters not read, decide on a few readings waiting for
    review (accept the plausible-looking, correct the backwards ones), leave the rest in the queue, and make one index
    adjustment of a past reading."""
    from mita.metering.demo_review import review_demo_operator

    for key, operator in sorted((k, v) for k, v in ctx.objects.items() if k.startswith("operator:")):
        officer = _staff(ctx, operator, Role.BILLING_OFFICER)
        admin = _staff(ctx, operator, Role.OPERATOR_ADMIN)
        summary = review_demo_operator(operator=operator, officer=officer, admin=admin)
        if summary:
            ctx.log(f"  {key}: {summary}")


register_demo_step(60, "metering.review", review_demo)
