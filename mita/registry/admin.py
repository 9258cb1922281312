"""Django admin for organisations and boundaries (site staff only)."""

from django.contrib import admin

from mita.core.admin import AuditedModelAdmin
from mita.registry.models import Boundary, BoundaryType, Operator, Regulator


@admin.register(Regulator)
class RegulatorAdmin(AuditedModelAdmin):
    list_display = ["name", "short_name", "country_code"]


@admin.register(BoundaryType)
class BoundaryTypeAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "depth"]


@admin.register(Boundary)
class BoundaryAdmin(AuditedModelAdmin):
    list_display = ["name", "code", "type", "parent"]
    list_filter = ["type"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent"]


@admin.register(Operator)
class OperatorAdmin(AuditedModelAdmin):
    list_display = ["name", "prefix", "kind", "utility", "country_code", "is_active"]
    list_filter = ["kind", "utility", "is_active"]
    search_fields = ["name", "prefix"]
    filter_horizontal = ["districts"]
