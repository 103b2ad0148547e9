from django.contrib import admin

from huiqi.core import audit

from .models import ChecklistItem


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    """The bureau edits the prevention checklist here: a changed item is a new row with a later start."""

    list_display = ("code", "group", "text", "text_en", "order", "effective_from", "effective_to")
    list_filter = ("group",)

    def has_module_permission(self, request, obj=None):
        return request.user.is_active and request.user.role in ("bureau", "admin")

    has_view_permission = has_change_permission = has_add_permission = has_module_permission

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(ChecklistItem.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit.record(request.user, "update" if change else "create", obj, before=before)
