from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from huiqi.core.admin import AuditedAdmin

from .models import User


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "display_name", "role", "district", "agency", "bank", "institution", "is_active",
                    "locked_until"]
    list_filter = ["role", "is_active", "district"]
    fieldsets = BaseUserAdmin.fieldsets + (
        ("角色与机构 role and organisation", {"fields": ("role", "display_name", "phone", "district", "agency",
                                                  "bank", "institution", "failed_logins", "locked_until")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        ("角色与机构 role and organisation", {"fields": ("role", "district", "agency", "bank", "institution")}),
    )

    def has_module_permission(self, request):
        return request.user.has_perm("accounts.manage_users")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("accounts.manage_users")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("accounts.manage_users")

    def has_add_permission(self, request):
        return request.user.has_perm("accounts.manage_users")

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("accounts.manage_users")
