"""Back office: parameters (dated, audited), the audit log (read-only), jobs."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit, params
from .errors import DomainError
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


class ParameterForm(forms.ModelForm):
    """The back office checks a value against its parameter's schema, as the service does."""

    class Meta:
        model = Parameter
        fields = "__all__"

    def clean(self):
        data = super().clean()
        if data.get("key") and "value" in data:
            try:
                params.validate(data["key"], data["value"])
            except DomainError as exc:
                for error in getattr(exc, "errors", [exc]):
                    self.add_error("value", f"{error.field}: {error.zh}（{error.en}）")
        return data


@admin.register(Parameter)
class ParameterAdmin(AuditedAdmin):
    form = ParameterForm
    list_display = ["key", "program", "effective_from", "short_value", "description", "created_at"]
    list_filter = ["program"]
    search_fields = ["key", "description"]
    date_hierarchy = "effective_from"
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description=_("取值"))
    def short_value(self, obj):
        text = str(obj.value)
        return text if len(text) < 80 else text[:77] + "…"

    def has_change_permission(self, request, obj=None):
        # A value in force before today is history: it is corrected by a new dated row.
        if obj is not None and obj.effective_from < timezone.localdate():
            return False
        return request.user.has_perm("core.edit_parameters")

    def has_add_permission(self, request):
        return request.user.has_perm("core.edit_parameters")

    def has_delete_permission(self, request, obj=None):
        # A value once in force is history: correct it with a new dated row instead.
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("core.view_parameters")

    def has_module_permission(self, request):
        return request.user.has_perm("core.view_parameters")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


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
