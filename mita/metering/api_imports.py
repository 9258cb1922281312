"""API of metering: imports. Upload a file of readings (the answer is its check), confirm it (recorded in the
background), read its report; export a reading book for external handhelds."""

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from mita.core.errors import NotFound
from mita.core.permissions import require_api_roles
from mita.customers.selectors_details import routes_visible_to
from mita.metering.errors import MeteringError
from mita.metering.models import ReadingImport
from mita.metering.reading_books import cycle_clean, reading_book_csv, reading_book_name, reading_book_xlsx
from mita.metering.reading_imports import reading_import_check, reading_import_confirm
from mita.metering.selectors_imports import IMPORT_ROLES, reading_import_get_for_access, reading_import_rows

router = Router(tags=["metering"])
ROWS_RETURNED = 1000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RowProblem(Schema):
    column: str
    message: str


class ReadingImportRowOut(Schema):
    row: int
    connection_number: str
    meter_serial: str
    outcome: str
    code: str
    reading_id: int | None
    errors: list[RowProblem]


class ReadingImportOut(Schema):
    id: int
    file_name: str
    file_format: str
    digest: str
    status: str
    columns: list[str]
    ignored_columns: list[str]
    rows_total: int
    rows_valid: int
    rows_error: int
    rows_blank: int
    rows_created: int
    rows_replayed: int
    rows_refused: int
    rows_review: int
    review_by_anomaly: dict[str, int]
    refused_by_code: dict[str, int]
    progress_done: int
    message: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    rows_to_see: list[ReadingImportRowOut]

    @staticmethod
    def resolve_progress_done(reading_import: ReadingImport) -> int:
        return reading_import.job.done if reading_import.job else 0

    @staticmethod
    def resolve_rows_to_see(reading_import: ReadingImport) -> list[dict[str, Any]]:
        return [
            {
                "row": row.number,
                "connection_number": row.connection_number,
                "meter_serial": row.meter_serial,
                "outcome": row.outcome,
                "code": row.code,
                "reading_id": row.reading_id,
                "errors": row.errors,
            }
            for row in reading_import_rows(reading_import=reading_import)[:ROWS_RETURNED]
        ]


@router.post(
    "/reading-imports",
    response={201: ReadingImportOut},
    summary="Upload a file of readings (CSV or XLSX); the answer is its check, nothing is recorded yet",
)
def reading_import_upload_endpoint(request: HttpRequest, file: File[UploadedFile]) -> Status[Any]:
    access = require_api_roles(request, *IMPORT_ROLES)
    reading_import = reading_import_check(
        operator=access.operator, acting_user=request.user, file_name=file.name or "upload", content=file.read()
    )
    return Status(201, reading_import_get_for_access(access=access, reading_import_id=reading_import.pk))


@router.get(
    "/reading-imports/{reading_import_id}",
    response=ReadingImportOut,
    summary="A file of readings: its counts, progress and the rows that need attention",
)
def reading_import_get(request: HttpRequest, reading_import_id: int) -> ReadingImport:
    access = require_api_roles(request, *IMPORT_ROLES)
    return reading_import_get_for_access(access=access, reading_import_id=reading_import_id)


@router.post(
    "/reading-imports/{reading_import_id}/confirm",
    response={202: ReadingImportOut},
    summary="Record a checked file of readings (in the background; poll the import for its progress)",
)
def reading_import_confirm_endpoint(request: HttpRequest, reading_import_id: int) -> Status[Any]:
    access = require_api_roles(request, *IMPORT_ROLES)
    reading_import = reading_import_get_for_access(access=access, reading_import_id=reading_import_id)
    reading_import_confirm(reading_import=reading_import, acting_user=request.user)
    return Status(202, reading_import_get_for_access(access=access, reading_import_id=reading_import.pk))


class BookQuery(Schema):
    cycle: str
    route: str = ""
    format: str = "csv"


@router.get(
    "/reading-books",
    response={200: None},
    summary="A reading book for external handhelds (route by id or code, empty for every route), CSV or XLSX",
)
def reading_book_endpoint(request: HttpRequest, query: Query[BookQuery]) -> HttpResponse:
    access = require_api_roles(request, *IMPORT_ROLES)
    cycle = cycle_clean(query.cycle)
    route = None
    if query.route:
        routes = routes_visible_to(access=access)
        text = query.route.strip()
        route = (routes.filter(pk=int(text)) if text.isdigit() else routes.filter(code__iexact=text)).first()
        if route is None:
            raise NotFound(_("Your operator has no route %(route)s.") % {"route": text}, code="route_not_found")
    if query.format == "xlsx":
        content: str | bytes = reading_book_xlsx(operator=access.operator, cycle=cycle, route=route)
        content_type = XLSX
    elif query.format == "csv":
        content = reading_book_csv(operator=access.operator, cycle=cycle, route=route)
        content_type = "text/csv; charset=utf-8"
    else:
        raise MeteringError(
            _("Ask for format=csv or format=xlsx."), code="format_invalid", fields={"format": ["csv, xlsx"]}
        )
    response = HttpResponse(content, content_type=content_type)
    name = reading_book_name(cycle=cycle, route=route, file_format=query.format)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
