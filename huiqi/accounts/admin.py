from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from huiqi.core.admin import AuditedAdmin

from . import services
from .models import ApiToken, User


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ["username", "display_name", "role", "district", "agency", "bank", "institution", "is_active",
                    "locked_until"]
    list_filter = ["role", "is_active", "district"]
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("角色与机构"), {"fields": ("role", "display_name", "phone", "district", "agency",
                                                  "bank", "institution", "failed_logins", "locked_until")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("角色与机构"), {"fields": ("role", "district", "agency", "bank", "institution")}),
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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see every user's API tokens (never a key: only its first characters) and revoke them;
    a token is issued by its user (account page, API) or by ``huiqi createuser --token``."""

    list_display = ["prefix", "user", "name", "created_at", "expires_at", "revoked_at", "revoked_by"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["=prefix", "user__username", "name"]
    list_select_related = ["user", "revoked_by"]
    readonly_fields = list_display
    fields = list_display
    actions = ["revoke"]

    def has_module_permission(self, request):
        return request.user.has_perm("accounts.manage_users")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("accounts.manage_users")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a revoked token stays, for the record

    @admin.action(description=_("撤销所选令牌"))
    def revoke(self, request, queryset):
        revoked = sum(services.revoke_token(request.user, token) for token in queryset.select_related("user"))
        self.message_user(request, f"已撤销 {revoked} 个令牌 revoked {revoked} token(s)")
