"""Django admin for site staff: every change made there is audited like any other; the audit log is read-only."""

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest

from mita.core.audit import audit_record
from mita.core.models import AuditEntry, Job


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes write audit entries (admin.<model>.changed / .deleted)."""

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"admin.{obj._meta.model_name}.{'changed' if change else 'created'}",
            target=obj,
            after={name: str(form.cleaned_data.get(name)) for name in form.changed_data},
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit_record(actor=request.user, action=f"admin.{obj._meta.model_name}.deleted", target=obj)
        super().delete_model(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "operator", "action", "target_repr", "request_id"]
    list_filter = ["action"]
    search_fields = ["action", "target_repr", "request_id"]
    date_hierarchy = "at"


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["title", "operator", "status", "done", "total", "created_at"]
    list_filter = ["status", "kind"]
