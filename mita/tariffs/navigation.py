"""The tariffs app's home cards: tariffs (with their versions and simulator) and mini-grid packages."""

from django.utils.translation import gettext_lazy as _

from mita.core.navigation import Card, register_card
from mita.tariffs.selectors import TARIFF_READ_ROLES

register_card(
    Card(
        key="tariffs.tariffs",
        title=_("Tariffs"),
        description=_("Tariffs and their dated versions, where each applies, and a simulator of the bills they make."),
        url_name="tariffs:tariff_list",
        roles=frozenset(TARIFF_READ_ROLES),
        order=55,
    )
)
register_card(
    Card(
        key="tariffs.packages",
        title=_("Packages"),
        description=_("Mini-grid packages: load limit, hours of supply and price."),
        url_name="tariffs:package_list",
        roles=frozenset(TARIFF_READ_ROLES),
        order=56,
        in_menu=False,
    )
)
