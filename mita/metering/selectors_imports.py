"""Reads of the reading imports for the pages and the API: the operator's imports, one import (404 across operators),
its rows that need attention, and the earlier import of the same file."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from mita.accounts.roles import Role
from mita.metering.models import ReadingImport, ReadingImportRow

# Billing officers read meters and bring the handhelds' files; operator admins oversee them.
IMPORT_ROLES = (Role.BILLING_OFFICER, Role.OPERATOR_ADMIN)


def reading_imports_visible_to(*, access: Any) -> QuerySet[ReadingImport]:
    """The imports of the user's operator, newest first, without their files (none outside an operator)."""
    if access.operator is None:
        return ReadingImport.objects.none()
    return (
        ReadingImport.objects.filter(operator=access.operator)
        .defer("content")
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def reading_import_get_for_access(*, access: Any, reading_import_id: int) -> ReadingImport:
    """One import of the user's operator, or 404 (another operator's import does not exist for them)."""
    reading_import = (
        reading_imports_visible_to(access=access).filter(pk=reading_import_id).select_related("job", "run_by").first()
    )
    if reading_import is None:
        raise Http404
    return reading_import


def reading_import_rows(*, reading_import: ReadingImport, outcome: str = "") -> QuerySet[ReadingImportRow]:
    rows = ReadingImportRow.objects.filter(reading_import=reading_import)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows.order_by("number")


def reading_import_earlier(*, reading_import: ReadingImport) -> ReadingImport | None:
    """The latest import of the very same file (same bytes) before this one, if any."""
    return (
        ReadingImport.objects.filter(operator_id=reading_import.operator_id, digest=reading_import.digest)
        .filter(pk__lt=reading_import.pk)
        .defer("content")
        .order_by("-pk")
        .first()
    )
