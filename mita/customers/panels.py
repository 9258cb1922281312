"""The customer 360 page's panels: each app registers its own from its AppConfig.ready(), the page shows those the
user's roles see, in order, with the headline counts they contribute. Apps that land later (metering, billing,
servicing) add panels here without touching the page (docs/customers.md, "The customer 360 page")."""

import dataclasses
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from mita.core.access import Access
from mita.customers.models import Customer

StrOrPromise = str | Promise


@dataclasses.dataclass(frozen=True)
class Panel:
    key: str  # "payments.history"
    title: StrOrPromise  # lazy translation
    template: str  # rendered with context(access, customer)
    context: Callable[[Access, Customer], dict[str, Any]]
    roles: frozenset[str]  # roles that see it (checked with access.has_role)
    order: int = 100
    counts: Callable[[Access, Customer], dict[str, int]] | None = None  # headline counts for the top strip
    lazy: bool = False  # True: loaded by htmx after the page (for heavy panels)


_panels: dict[str, Panel] = {}
_panel_data: dict[str, Callable[[Access, Customer], dict[str, Any]]] = {}

# Labels of the headline counts, in the order of the strip. A count no app contributes is not shown; an app may add
# a label for a count of its own with register_count_label().
_count_labels: dict[str, StrOrPromise] = {
    "open_requests": _("Open requests"),
    "anomalies": _("Anomalies"),
    "unpaid_bills": _("Unpaid bills"),
}


def register_panel(panel: Panel) -> None:
    """Add a panel to every customer's 360 page. A key is registered once (a second, different panel under the same
    key is a programming error); registering the very same panel again is harmless."""
    known = _panels.get(panel.key)
    if known is not None and known != panel:
        raise ValueError(f"A different panel is already registered as {panel.key!r}")
    _panels[panel.key] = panel


def unregister_panel(key: str) -> None:
    """Take a panel off the page (tests that register a panel of their own clean up with it)."""
    _panels.pop(key, None)
    _panel_data.pop(key, None)


def register_panel_data(key: str, data: Callable[[Access, Customer], dict[str, Any]]) -> None:
    """What a panel gives the API's overview (`GET /api/v1/customers/{id}/overview`): JSON-ready values only
    (decimals as strings, dates as ISO text). Shown to the roles that see the panel of the same key."""
    _panel_data[key] = data


def register_count_label(key: str, label: StrOrPromise) -> None:
    """The label of a headline count an app contributes under a key of its own."""
    _count_labels.setdefault(key, label)


def panels_for(access: Access, customer: Customer) -> list[Panel]:
    """The panels the user's roles see on this customer's page, in order."""
    visible = [panel for panel in _panels.values() if access.has_role(*panel.roles)]
    return sorted(visible, key=lambda panel: (panel.order, panel.key))


def panel_get(access: Access, customer: Customer, key: str) -> Panel:
    """One panel the user sees, or 404 (an unknown key and a panel their roles do not see look the same)."""
    for panel in panels_for(access, customer):
        if panel.key == key:
            return panel
    raise Http404


@dataclasses.dataclass(frozen=True)
class HeadlineCount:
    key: str
    label: StrOrPromise
    value: int


def headline_counts(access: Access, customer: Customer, panels: list[Panel] | None = None) -> list[HeadlineCount]:
    """The counts of the top strip, from the panels the user sees: known labels first in their order, then others
    by key. Two panels giving the same count add up."""
    totals: dict[str, int] = {}
    for panel in panels if panels is not None else panels_for(access, customer):
        if panel.counts is None:
            continue
        for key, value in panel.counts(access, customer).items():
            totals[key] = totals.get(key, 0) + int(value)
    order = list(_count_labels)
    ranked = sorted(totals, key=lambda key: (order.index(key) if key in order else len(order), key))
    return [
        HeadlineCount(key=key, label=_count_labels.get(key, key.replace("_", " ").capitalize()), value=totals[key])
        for key in ranked
    ]


def overview_for(access: Access, customer: Customer) -> dict[str, Any]:
    """The 360 page as JSON: the headline counts and the data of each panel the user sees that has some."""
    panels = panels_for(access, customer)
    return {
        "counts": {count.key: count.value for count in headline_counts(access, customer, panels)},
        "panels": {panel.key: _panel_data[panel.key](access, customer) for panel in panels if panel.key in _panel_data},
    }


# Rendering -------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RenderedPanel:
    panel: Panel
    dom_id: str  # the section's id, e.g. "panel-payments-charges": what an htmx form in the panel targets
    html: SafeString | None  # None: a lazy panel, loaded by htmx after the page


def panel_dom_id(key: str) -> str:
    return "panel-" + key.replace(".", "-").replace("_", "-")


def panel_render(request: HttpRequest, panel: Panel, context: dict[str, Any] | None) -> RenderedPanel:
    """A panel's body rendered with its context; no context: a lazy panel, left for htmx to load."""
    html = SafeString(render_to_string(panel.template, context, request=request)) if context is not None else None
    return RenderedPanel(panel=panel, dom_id=panel_dom_id(panel.key), html=html)


def panel_response(
    request: HttpRequest, customer: Customer, panel: Panel, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """One panel: alone for htmx (it swaps the panel's section), inside a page of its own otherwise (a browser
    without scripts, or a form sent back with its errors)."""
    rendered = panel_render(request, panel, context | {"customer": customer})
    template = "customers/panels/_panel.html" if getattr(request, "htmx", False) else "customers/panel_page.html"
    return render(request, template, {"customer": customer, "item": rendered}, status=status)
