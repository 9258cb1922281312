"""The servicing app's home cards: requests, my tasks (with the badge of what waits), work orders, fees, terms."""

from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.core.navigation import Card, register_card
from mita.servicing.selectors import (
    ADMIN_ROLES,
    FEE_READ_ROLES,
    REQUEST_READ_ROLES,
    TASK_ROLES,
    WORK_ORDER_ROLES,
    tasks_waiting_count,
    work_orders_waiting_for,
)


def _work_orders_badge(access: Access) -> int | None:
    return work_orders_waiting_for(access=access).count() if access.operator is not None else None


register_card(
    Card(
        key="servicing.tasks",
        title=_("My tasks"),
        description=_("Requests waiting for you and the work orders assigned to you."),
        url_name="servicing:my_tasks",
        roles=frozenset(TASK_ROLES),
        order=30,
        badge=tasks_waiting_count,
    )
)
register_card(
    Card(
        key="servicing.requests",
        title=_("Service requests"),
        description=_("New connections and complaints: their states, fees, work orders and history."),
        url_name="servicing:request_list",
        roles=frozenset(REQUEST_READ_ROLES),
        order=31,
    )
)
register_card(
    Card(
        key="servicing.work_orders",
        title=_("Work orders"),
        description=_("Surveys and installations: record what was found and fitted."),
        url_name="servicing:work_order_list",
        roles=frozenset(WORK_ORDER_ROLES),
        order=32,
        badge=_work_orders_badge,
    )
)
register_card(
    Card(
        key="servicing.fees",
        title=_("Service fees"),
        description=_("The fee schedule: connection and other fees by utility and property type."),
        url_name="servicing:fee_list",
        roles=frozenset(FEE_READ_ROLES),
        order=33,
        in_menu=False,
    )
)
register_card(
    Card(
        key="servicing.terms",
        title=_("Terms and conditions"),
        description=_("The versions of the terms applicants accept."),
        url_name="servicing:terms_list",
        roles=frozenset(ADMIN_ROLES),
        order=34,
        in_menu=False,
    )
)
