"""The stock app's home card: the materials catalogue."""

from django.utils.translation import gettext_lazy as _

from mita.core.navigation import Card, register_card
from mita.stock.selectors import MATERIAL_READ_ROLES

register_card(
    Card(
        key="stock.materials",
        title=_("Materials"),
        description=_("The catalogue of materials with units and unit prices that surveys quote from."),
        url_name="stock:material_list",
        roles=frozenset(MATERIAL_READ_ROLES),
        order=60,
    )
)
