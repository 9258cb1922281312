"""Bulk import pages: the list of files imported, upload (which previews), the preview with its errors, the
import in the background with its progress polled by htmx, and the downloads (template, errors)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from mita.core.errors import DomainError
from mita.core.permissions import require_roles
from mita.customers.imports import (
    IMPORT_COLUMNS,
    MAX_ROWS,
    import_batch_get_for_access,
    import_batch_queue,
    import_batches_visible_to,
    import_errors_csv,
    import_preview,
    import_rows_to_fix,
    import_template_csv,
    import_template_xlsx,
)
from mita.customers.selectors import CUSTOMER_WRITE_ROLES

ROWS_SHOWN = 200

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8, comma or semicolon) or XLSX, one row per connection."),
    )


def _attachment(content: str | bytes, *, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def import_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    page = Paginator(import_batches_visible_to(access=access), 50).get_page(request.GET.get("page"))
    return render(request, "customers/imports/import_list.html", {"page": page})


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def import_upload(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_preview(
                operator=access.operator, acting_user=request.user, file_name=upload.name, content=upload.read()
            )
        except DomainError as error:
            form.add_error("file", str(error.message))
        else:
            return redirect("customers:import_detail", import_id=batch.pk)
    return render(
        request,
        "customers/imports/import_upload.html",
        {"form": form, "columns": IMPORT_COLUMNS, "max_rows": MAX_ROWS},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    batch = import_batch_get_for_access(access=access, import_id=import_id)
    context = {"batch": batch, "rows": import_rows_to_fix(batch=batch)[:ROWS_SHOWN], "rows_shown": ROWS_SHOWN}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/imports/import_detail.html#status", context)
    return render(request, "customers/imports/import_detail.html", context)


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
@require_POST
def import_run(request: HttpRequest, import_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    batch = import_batch_get_for_access(access=access, import_id=import_id)
    try:
        import_batch_queue(batch=batch, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The import has started; this page shows its progress."))
    return redirect("customers:import_detail", import_id=batch.pk)


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def import_errors(request: HttpRequest, import_id: int) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    batch = import_batch_get_for_access(access=access, import_id=import_id)
    return _attachment(
        import_errors_csv(batch=batch), name=f"import-{batch.pk}-errors.csv", content_type="text/csv; charset=utf-8"
    )


@login_required
@require_roles(*CUSTOMER_WRITE_ROLES)
def import_template(request: HttpRequest, file_format: str) -> HttpResponse:
    if file_format == "xlsx":
        return _attachment(import_template_xlsx(), name="mita-customers-import.xlsx", content_type=XLSX)
    return _attachment(import_template_csv(), name="mita-customers-import.csv", content_type="text/csv; charset=utf-8")
