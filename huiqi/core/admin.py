"""Back office: parameters (read-only: they change on their page), the audit log (read-only), jobs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import audit
from .i18n import stored
from .models import AuditEvent, CalendarDay, Job, Parameter


class AdminOnly:
    """Reference data and ledgers are edited by administrators; other staff may view them."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_add_permission = lambda self, request: request.user.is_active and request.user.is_superuser  # noqa: E731

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class AuditedAdmin(admin.ModelAdmin):
    """Every save and delete through the back office leaves an audit record, before and after."""

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            before = audit.snapshot(type(obj).objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        audit.record(request.user, "update" if change else "create", obj, before=before, note=stored(_("后台")))

    def delete_model(self, request, obj):
        before = audit.snapshot(obj)
        pk, label, text = obj.pk, obj._meta.label, str(obj)
        super().delete_model(request, obj)
        audit.record(request.user, "delete", None, before=before, model=label, object_id=pk, object_repr=text,
                     note=stored(_("后台")))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Parameter)
class ParameterAdmin(admin.ModelAdmin):
    """Read-only here: parameters are changed on their page (``core:parameter_detail``), with typed fields,
    a preview and a second person's approval for money, never as raw JSON."""

    list_display = ["key", "program", "effective_from", "short_value", "description", "created_at", "page"]
    list_filter = ["program"]
    search_fields = ["key", "description"]
    date_hierarchy = "effective_from"

    @admin.display(description=_("取值"))
    def short_value(self, obj):
        text = str(obj.value)
        return text if len(text) < 80 else text[:77] + "…"

    @admin.display(description=_("修改"))
    def page(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("core:parameter_detail", args=[obj.key]), _("参数页面"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("core.view_parameters")

    def has_module_permission(self, request):
        return request.user.has_perm("core.view_parameters")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "model", "object_id", "object_repr"]
    list_filter = ["action", "model"]
    search_fields = ["object_id", "object_repr", "actor_label"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("core.view_audit")

    def has_module_permission(self, request):
        return request.user.has_perm("core.view_audit")


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "status", "progress_done", "progress_total", "created_by", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    """The bureau enters next year's State Council holiday notice here (holidays and make-up days)."""

    list_display = ["date", "is_working_day", "name", "note"]
    list_filter = ["is_working_day", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def has_module_permission(self, request):
        return request.user.has_perm("core.view_parameters")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("core.view_parameters")

    def has_add_permission(self, request):
        return request.user.has_perm("core.edit_parameters")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("core.edit_parameters")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("core.edit_parameters")
