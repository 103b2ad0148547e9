from django.contrib import admin

from huiqi.core.admin import AuditedAdmin
from huiqi.registry.admin import AdminOnly

from .models import InterestPayment, LedgerUpload, Loan, NonPerformingLoan


@admin.register(Loan)
class LoanAdmin(AdminOnly, AuditedAdmin):
    list_display = ["bank", "loan_no", "borrower_name", "borrower_kind", "purpose", "principal_fen", "start_date"]
    list_filter = ["bank", "borrower_kind", "purpose"]
    search_fields = ["loan_no", "borrower_name", "borrower_id"]
    list_select_related = ["bank"]


@admin.register(InterestPayment)
class InterestPaymentAdmin(AdminOnly, AuditedAdmin):
    list_display = ["loan", "accrual_start", "accrual_end", "paid_date", "interest_fen"]
    raw_id_fields = ["loan"]


@admin.register(NonPerformingLoan)
class NonPerformingLoanAdmin(AdminOnly, AuditedAdmin):
    list_display = ["loan", "npl_date", "outstanding_principal_fen", "recovered_fen"]
    raw_id_fields = ["loan"]


@admin.register(LedgerUpload)
class LedgerUploadAdmin(AdminOnly, admin.ModelAdmin):
    list_display = ["id", "kind", "bank", "file_name", "status", "rows_total", "error_count", "uploaded_at"]
    list_filter = ["kind", "status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
