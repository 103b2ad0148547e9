"""Back office of the request channel: categories, routing rules, response templates and department
heads are data the bureau edits here (audited); requests and their history are read-only."""

from __future__ import annotations

from django.contrib import admin

from huiqi.core.admin import AuditedAdmin

from .models import (
    Category,
    DepartmentHead,
    EnterpriseRequest,
    Notification,
    RequestEvent,
    ResponseTemplate,
    RoutingRule,
)


class BureauEdits(AuditedAdmin):
    def has_module_permission(self, request):
        return request.user.has_perm("core.edit_parameters")

    has_view_permission = has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.has_perm("core.edit_parameters"))


@admin.register(Category)
class CategoryAdmin(BureauEdits):
    list_display = ["order", "code", "name", "default_agency", "accept_days", "answer_days", "active"]
    list_editable = ["accept_days", "answer_days", "active"]
    list_display_links = ["code"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(BureauEdits):
    list_display = ["order", "name", "category", "district", "keywords", "size_class", "industry_section",
                    "key_enterprise", "agency", "handler", "active"]
    list_editable = ["active"]
    list_display_links = ["name"]
    list_filter = ["active", "category", "agency"]


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(BureauEdits):
    list_display = ["category", "title", "active"]
    list_filter = ["category"]


@admin.register(DepartmentHead)
class DepartmentHeadAdmin(BureauEdits):
    list_display = ["agency", "user"]


class EventInline(admin.TabularInline):
    model = RequestEvent
    fields = ["at", "actor_label", "action", "from_status", "to_status", "internal", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class BureauReads(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.has_perm("requests.supervise")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("requests.supervise")

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EnterpriseRequest)
class EnterpriseRequestAdmin(BureauReads):
    list_display = ["number", "title", "category", "channel", "status", "agency", "due_date", "escalation_level"]
    list_filter = ["status", "channel", "category", "escalation_level", "supervised"]
    search_fields = ["number", "title"]
    inlines = [EventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in EnterpriseRequest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(BureauReads):
    list_display = ["created_at", "recipient", "channel", "subject", "state", "attempts", "last_error"]
    list_filter = ["channel", "state"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False
