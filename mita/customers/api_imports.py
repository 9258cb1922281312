"""API for the bulk import: upload a file (the answer is its preview), start its import, read its state."""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from mita.customers.imports import (
    import_batch_get_for_access,
    import_batch_queue,
    import_preview,
    import_rows_to_fix,
)
from mita.customers.models import ImportBatch
from mita.customers.selectors import CUSTOMER_WRITE_ROLES

router = Router(tags=["customers"])
ROWS_RETURNED = 1000


def _access(request: HttpRequest) -> Any:
    access = request.access  # type: ignore[attr-defined]
    if not access.has_role(*CUSTOMER_WRITE_ROLES):
        raise PermissionDenied
    return access


class RowProblem(Schema):
    column: str
    message: str


class ImportRowOut(Schema):
    row: int
    connection_number: str
    outcome: str
    errors: list[RowProblem]


class ImportOut(Schema):
    id: int
    file_name: str
    file_format: str
    status: str
    columns: list[str]
    rows_total: int
    rows_new: int
    rows_unchanged: int
    rows_conflict: int
    rows_error: int
    rows_imported: int
    customers_created: int
    progress_done: int
    message: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    rows_to_fix: list[ImportRowOut]

    @staticmethod
    def resolve_progress_done(batch: ImportBatch) -> int:
        return batch.job.done if batch.job else 0

    @staticmethod
    def resolve_rows_to_fix(batch: ImportBatch) -> list[dict[str, Any]]:
        return [
            {
                "row": row.number,
                "connection_number": row.connection_number,
                "outcome": row.outcome,
                "errors": row.errors,
            }
            for row in import_rows_to_fix(batch=batch)[:ROWS_RETURNED]
        ]


@router.post(
    "/customer-imports",
    response={201: ImportOut},
    summary="Upload customers and connections (CSV or XLSX); the answer is the preview, nothing is imported yet",
)
def import_upload_endpoint(request: HttpRequest, file: File[UploadedFile]) -> Status[Any]:
    access = _access(request)
    batch = import_preview(
        operator=access.operator, acting_user=request.user, file_name=file.name or "upload", content=file.read()
    )
    return Status(201, batch)


@router.post("/customer-imports/{import_id}/run", response={202: ImportOut}, summary="Import a previewed file")
def import_run_endpoint(request: HttpRequest, import_id: int) -> Status[Any]:
    access = _access(request)
    batch = import_batch_get_for_access(access=access, import_id=import_id)
    batch = import_batch_queue(batch=batch, acting_user=request.user)
    return Status(202, import_batch_get_for_access(access=access, import_id=batch.pk))


@router.get(
    "/customer-imports/{import_id}", response=ImportOut, summary="An import: its counts, progress and rows to fix"
)
def import_get(request: HttpRequest, import_id: int) -> ImportBatch:
    return import_batch_get_for_access(access=_access(request), import_id=import_id)
