"""Back office: subsidy batches, their lines and reconciliation files, read-only. A batch moves only
through the services (pages, API, command line), so that every step is checked and audited."""

from django.contrib import admin

from .models import SubsidyBatch, SubsidyLoanLine, SubsidyPayment, SubsidyReconciliation


class ReadOnly(admin.ModelAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SubsidyBatch)
class SubsidyBatchAdmin(ReadOnly):
    list_display = ["id", "cutoff", "status", "beneficiaries", "loans_counted", "payable_total_fen",
                    "created_by", "reviewed_by", "approved_by", "released_at"]
    list_filter = ["status"]


@admin.register(SubsidyPayment)
class SubsidyPaymentAdmin(ReadOnly):
    list_display = ["batch", "beneficiary_id", "name", "entitlement_fen", "due_fen", "payable_fen", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["beneficiary_id", "name"]
    list_select_related = ["batch"]


@admin.register(SubsidyLoanLine)
class SubsidyLoanLineAdmin(ReadOnly):
    list_display = ["batch", "loan", "beneficiary_id", "eligible", "reason", "subsidy_fen"]
    list_filter = ["eligible", "reason"]
    search_fields = ["beneficiary_id", "loan__loan_no"]
    raw_id_fields = ["loan"]
    list_select_related = ["batch", "loan"]


@admin.register(SubsidyReconciliation)
class SubsidyReconciliationAdmin(ReadOnly):
    list_display = ["id", "batch", "status", "file_name", "paid", "failed", "prepared_by", "decided_by",
                    "decided_at"]
    list_filter = ["status"]
    list_select_related = ["batch", "prepared_by", "decided_by"]
