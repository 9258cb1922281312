"""Pages for entering a reading (find the connection by meter serial or connection number, enter each register's
index) and for a reader's own records of the last five days."""

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from mita.core.errors import DomainError
from mita.core.forms import form_add_domain_error
from mita.core.permissions import require_roles
from mita.metering.errors import MeteringError
from mita.metering.forms_readings import ConnectionFindForm, ReadingEntryForm
from mita.metering.models import Reading
from mita.metering.reading_entry import form_key_of, readings_enter
from mita.metering.readings import ReadingInput
from mita.metering.selectors_readings import (
    READER_ROLES,
    READING_ENTRY_ROLES,
    READING_READ_ROLES,
    RECENT_DAYS,
    connections_for_reading,
    operator_of,
    reading_get_for_access,
    reading_sheet,
    readings_of_reader,
    recent_since,
)


def _sources(access: Any) -> list[tuple[str, Any]]:
    """Readers and admins record what they read or what a customer told them; customer care only the latter."""
    customer = (Reading.Source.CUSTOMER.value, Reading.Source.CUSTOMER.label)
    if access.has_role(*READER_ROLES):
        return [(Reading.Source.MANUAL.value, Reading.Source.MANUAL.label), customer]
    return [customer]


def _connection_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("connection", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404
    return int(raw)


@login_required
@require_roles(*READING_ENTRY_ROLES)
def reading_enter_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    operator = operator_of(access)
    connection_id = _connection_id(request)
    find = ConnectionFindForm(request.GET or None)
    context: dict[str, Any] = {"find": find, "matches": None, "sheet": None, "form": None}
    if connection_id is None:
        query = find.cleaned_data.get("q", "") if find.is_valid() else ""
        if query:
            matches = connections_for_reading(access=access, query=query)
            if len(matches) == 1 and matches[0].meter is not None:
                return redirect(f"{reverse('metering:reading_enter')}?connection={matches[0].connection.pk}")
            context["matches"] = matches
        return render(request, "metering/readings/enter.html", context, status=400 if request.method == "POST" else 200)
    sheet = reading_sheet(access=access, connection_id=connection_id)
    context["sheet"] = sheet
    if sheet.installation is None:
        return render(request, "metering/readings/enter.html", context, status=400 if request.method == "POST" else 200)
    form = ReadingEntryForm(
        request.POST or None, request.FILES or None, registers=sheet.registers, sources=_sources(access)
    )
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        rows = [
            ReadingInput(
                connection_id=sheet.connection.pk,
                current_index=index,
                read_on=data["read_on"],
                register=register,
                reader_code=data["reader_code"] or "",
                key=form_key_of(data["form_key"], register),
                reader_id=request.user.pk,
                meter_id=sheet.installation.meter_id,
                note=data["note"],
            )
            for register, index in form.indexes()
        ]
        try:
            results = readings_enter(
                operator=operator,
                rows=rows,
                source=data["source"],
                acting_user=request.user,
                photo=form.photo_content,
            )
        except DomainError as error:
            if error.code == "key_reused":
                # The same form sent again with other values: nothing changed. A fresh key lets the reader send these
                # values as another reading once they have checked them.
                data = request.POST.copy()
                data["form_key"] = str(uuid.uuid4())
                form.data = data
                error = MeteringError(
                    _(
                        "This form was already sent with other values, and nothing was changed. Check the values and "
                        "send them again to record another reading."
                    ),
                    code=error.code,
                )
            form_add_domain_error(form, error)
        else:
            units = {standing.code: standing.unit for standing in sheet.registers}
            readings = [result.reading for result in results if result.reading is not None]
            outcomes = [{"reading": reading, "unit": units.get(reading.register, "")} for reading in readings]
            return render(
                request,
                "metering/readings/result.html",
                {
                    "sheet": sheet,
                    "outcomes": outcomes,
                    "replayed": all(result.outcome == "replayed" for result in results),
                    "in_review": any(reading.status == Reading.Status.REVIEW for reading in readings),
                },
            )
    return render(request, "metering/readings/enter.html", context, status=400 if request.method == "POST" else 200)


@login_required
@require_roles(*READING_ENTRY_ROLES)
def my_readings_view(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    readings = list(readings_of_reader(access=access, reader=request.user)[:1000])
    return render(
        request,
        "metering/readings/mine.html",
        {
            "readings": readings,
            "since": recent_since(),
            "days": RECENT_DAYS,
            "in_review": sum(reading.status == Reading.Status.REVIEW for reading in readings),
        },
    )


PHOTO_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@login_required
@require_roles(*READING_READ_ROLES)
def reading_photo_view(request: HttpRequest, reading_id: int) -> HttpResponse:
    """A reading's photo of the dial (404 for another operator's reading, or a reading without a photo)."""
    reading = reading_get_for_access(access=request.access, reading_id=reading_id)  # type: ignore[attr-defined]
    if not reading.photo:
        raise Http404
    content_type = PHOTO_TYPES.get(reading.photo.name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    with reading.photo.open("rb") as stored:  # at most 5 MB, checked when it was taken
        response = HttpResponse(stored.read(), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
