"""Pages of the reading imports: the files imported, upload (which checks), an import's report with its progress
polled by htmx and its confirmation, the report's rows as CSV, and the reading book export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.permissions import request_access, require_roles
from mita.customers.selectors_details import routes_visible_to
from mita.metering.forms_imports import ReadingBookForm, ReadingFileForm
from mita.metering.reading_books import reading_book_csv, reading_book_name, reading_book_xlsx
from mita.metering.reading_files import COLUMNS, MAX_ROWS
from mita.metering.reading_imports import reading_import_check, reading_import_confirm, reading_import_report_csv
from mita.metering.selectors_imports import (
    IMPORT_ROLES,
    reading_import_earlier,
    reading_import_get_for_access,
    reading_import_rows,
    reading_imports_visible_to,
)

ROWS_SHOWN = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(content: str | bytes, *, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_roles(*IMPORT_ROLES)
def reading_import_list(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    page = Paginator(reading_imports_visible_to(access=access), 50).get_page(request.GET.get("page"))
    return render(request, "metering/imports/import_list.html", {"page": page})


@login_required
@require_roles(*IMPORT_ROLES)
def reading_import_upload(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    form = ReadingFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            reading_import = reading_import_check(
                operator=access.operator, acting_user=request.user, file_name=upload.name, content=upload.read()
            )
        except DomainError as error:
            form.add_error("file", str(error.message))
        else:
            return redirect("metering:reading_import_detail", reading_import_id=reading_import.pk)
    return render(
        request,
        "metering/imports/import_upload.html",
        {"form": form, "columns": COLUMNS, "max_rows": MAX_ROWS},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_roles(*IMPORT_ROLES)
def reading_import_detail(request: HttpRequest, reading_import_id: int) -> HttpResponse:
    access = request_access(request)
    reading_import = reading_import_get_for_access(access=access, reading_import_id=reading_import_id)
    context = {
        "reading_import": reading_import,
        "earlier": reading_import_earlier(reading_import=reading_import),
        "rows": reading_import_rows(reading_import=reading_import)[:ROWS_SHOWN],
        "rows_shown": ROWS_SHOWN,
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "metering/imports/import_detail.html#status", context)
    return render(request, "metering/imports/import_detail.html", context)


@login_required
@require_roles(*IMPORT_ROLES)
@require_POST
def reading_import_confirm_view(request: HttpRequest, reading_import_id: int) -> HttpResponse:
    access = request_access(request)
    reading_import = reading_import_get_for_access(access=access, reading_import_id=reading_import_id)
    try:
        reading_import_confirm(reading_import=reading_import, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The readings are being recorded; this page shows the progress."))
    return redirect("metering:reading_import_detail", reading_import_id=reading_import.pk)


@login_required
@require_roles(*IMPORT_ROLES)
def reading_import_report(request: HttpRequest, reading_import_id: int) -> HttpResponse:
    access = request_access(request)
    reading_import = reading_import_get_for_access(access=access, reading_import_id=reading_import_id)
    return _attachment(
        reading_import_report_csv(reading_import=reading_import),
        name=f"reading-import-{reading_import.pk}-report.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_roles(*IMPORT_ROLES)
def reading_book_export(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    routes = routes_visible_to(access=access)
    initial = {"cycle": timezone.localdate().strftime("%Y-%m"), "file_format": "csv"}
    form = ReadingBookForm(request.GET or None, routes=routes, initial=initial)
    if request.GET and form.is_valid():
        route, cycle = form.cleaned_data["route"], form.cleaned_data["cycle"]
        file_format = form.cleaned_data["file_format"]
        name = reading_book_name(cycle=cycle, route=route, file_format=file_format)
        if file_format == "xlsx":
            content = reading_book_xlsx(operator=access.operator, cycle=cycle, route=route)
            return _attachment(content, name=name, content_type=XLSX)
        return _attachment(
            reading_book_csv(operator=access.operator, cycle=cycle, route=route),
            name=name,
            content_type="text/csv; charset=utf-8",
        )
    return render(request, "metering/imports/book_export.html", {"form": form}, status=400 if request.GET else 200)
