"""The shell's own pages: home with the role's cards, global search, the audit log, job progress, health."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mita.core.models import AuditEntry
from mita.core.navigation import cards_for
from mita.core.permissions import require_roles
from mita.core.search import search
from mita.core.selectors import jobs_visible_to
from mita.core.tables import Column, table

AUDIT_ROLES = ("regulator_admin", "operator_admin")


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    return render(request, "core/home.html", {"cards": cards_for(access)})


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    hits = search(request.access, query)  # type: ignore[attr-defined]
    template = "core/search.html#results" if request.htmx else "core/search.html"  # type: ignore[attr-defined]
    return render(request, template, {"query": query, "hits": hits})


@login_required
@require_roles(*AUDIT_ROLES)
def audit_list(request: HttpRequest) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    entries = AuditEntry.objects.visible_to(access).select_related("actor", "operator")
    q = request.GET.get("q", "").strip()
    if q:
        entries = entries.filter(
            Q(action__istartswith=q)
            | Q(target_repr__icontains=q)
            | Q(actor__phone__startswith=q)
            | Q(actor__name__icontains=q)
            | Q(request_id=q)
        )
    if since := parse_date(request.GET.get("since", "") or ""):
        entries = entries.filter(at__date__gte=since)
    if until := parse_date(request.GET.get("until", "") or ""):
        entries = entries.filter(at__date__lte=until)
    columns = [
        Column("at", _("When"), order_by="at"),
        Column("actor", _("Who"), order_by="actor__name"),
        Column("operator", _("Operator"), order_by="operator__name"),
        Column("action", _("Action"), order_by="action"),
        Column("target_repr", _("Object")),
        Column("request_id", _("Request")),
    ]
    audit_table = table(request, entries, columns, default_sort="-at", per_page=50)
    return render(request, "core/audit_list.html", {"table": audit_table, "q": q})


@login_required
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    access = request.access  # type: ignore[attr-defined]
    job = get_object_or_404(jobs_visible_to(access), pk=job_id)
    template = "core/job_detail.html#progress" if request.htmx else "core/job_detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})
