"""Django admin (``/django-admin/``): the audit trail, to read only."""

from __future__ import annotations

from django.contrib import admin

from inbox.models import AdminAction


@admin.register(AdminAction)
class AdminActionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "username", "action", "detail"]
    list_filter = ["action", "created_at"]
    search_fields = ["username", "detail"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "user", "username", "action", "detail"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
