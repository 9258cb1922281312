"""Paginated, sortable tables for list pages: the view names its columns, the template draws them."""

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: Any
    order_by: str | None = None  # the queryset ordering for this column; None: not sortable
    value: Callable[[Any], Any] | None = None
    link: Callable[[Any], str] | None = None

    def cell(self, row: Any) -> Any:
        if self.value is not None:
            return self.value(row)
        value: Any = row
        for part in self.key.split("__"):
            value = getattr(value, part, None)
            if callable(value):
                value = value()
        return value


@dataclasses.dataclass
class Table:
    columns: Sequence[Column]
    page: Page
    sort: str
    query: dict[str, str]

    def rows(self) -> list[list[tuple[Any, str | None]]]:
        return [
            [(column.cell(row), column.link(row) if column.link else None) for column in self.columns]
            for row in self.page.object_list
        ]

    def header(self) -> list[dict[str, Any]]:
        cells = []
        for column in self.columns:
            cell: dict[str, Any] = {"label": column.label, "url": None, "direction": None}
            if column.order_by:
                direction = "asc" if self.sort == column.key else "desc" if self.sort == f"-{column.key}" else None
                next_sort = f"-{column.key}" if direction == "asc" else column.key
                cell["url"] = "?" + urlencode({**self.query, "sort": next_sort, "page": 1})
                cell["direction"] = direction
            cells.append(cell)
        return cells

    def page_url(self, number: int) -> str:
        return "?" + urlencode({**self.query, "sort": self.sort, "page": number})

    @property
    def previous_url(self) -> str | None:
        return self.page_url(self.page.previous_page_number()) if self.page.has_previous() else None

    @property
    def next_url(self) -> str | None:
        return self.page_url(self.page.next_page_number()) if self.page.has_next() else None


def table(
    request: HttpRequest,
    queryset: QuerySet[Any],
    columns: Sequence[Column],
    *,
    default_sort: str,
    per_page: int = 25,
) -> Table:
    """Sort by ?sort=<column key> (a leading '-' reverses) and paginate by ?page=N; bad values fall back."""
    sortable = {column.key: column.order_by for column in columns if column.order_by}
    sort = request.GET.get("sort", default_sort)
    key = sort.removeprefix("-")
    if key not in sortable:
        sort, key = default_sort, default_sort.removeprefix("-")
    order_by = sortable.get(key) or key
    descending = sort.startswith("-")
    queryset = queryset.order_by(f"-{order_by}" if descending else order_by, "-pk" if descending else "pk")
    paginator = Paginator(queryset, per_page)
    page = paginator.get_page(request.GET.get("page"))
    query = {k: str(v) for k, v in request.GET.items() if k not in {"sort", "page"}}
    return Table(columns=columns, page=page, sort=sort, query=query)
