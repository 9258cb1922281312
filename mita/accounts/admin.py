"""Django admin for users and their roles (site staff only)."""

from django.contrib import admin

from mita.accounts.models import Membership, User
from mita.core.admin import AuditedModelAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["role", "regulator", "district", "operator", "is_active"]
    raw_id_fields = ["district", "operator"]


@admin.register(User)
class UserAdmin(AuditedModelAdmin):
    list_display = ["phone", "name", "email", "language", "is_active", "last_login"]
    search_fields = ["phone", "name", "email"]
    list_filter = ["is_active", "is_staff", "language"]
    fields = ["phone", "name", "email", "language", "is_active", "is_staff", "is_superuser"]
    inlines = [MembershipInline]
