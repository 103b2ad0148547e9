from django.contrib import admin
from django.utils.html import format_html, format_html_join

from huiqi.core.admin import AdminOnly, AuditedAdmin
from huiqi.core.money import fen_to_yuan

from .models import InterestPayment, LedgerUpload, Loan, NonPerformingLoan


@admin.register(Loan)
class LoanAdmin(AdminOnly, AuditedAdmin):
    list_display = ["bank", "loan_no", "borrower_name", "borrower_kind", "purpose", "principal_fen", "start_date"]
    list_filter = ["bank", "borrower_kind", "purpose"]
    search_fields = ["loan_no", "borrower_name", "borrower_id"]
    list_select_related = ["bank"]
    readonly_fields = ["interest_payments"]

    # A payment's primary key is (loan, accrual_start): Django's admin takes no model with a composite
    # key, so a loan's payments are shown here, as the banks' files stored them (they change by upload).
    @admin.display(description="付息记录 interest payments")
    def interest_payments(self, loan):
        if loan.pk is None:
            return "—"
        rows = list(InterestPayment.objects.filter(loan=loan).order_by("accrual_start")[:PAYMENTS_SHOWN + 1])
        if not rows:
            return "无 none"
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (p.accrual_start, p.accrual_end, p.paid_date, fen_to_yuan(p.interest_fen))
            for p in rows[:PAYMENTS_SHOWN]))
        more = format_html("<p>仅显示前 {} 条 the first {} only</p>", PAYMENTS_SHOWN, PAYMENTS_SHOWN) \
            if len(rows) > PAYMENTS_SHOWN else ""
        return format_html("<table><tr><th>计息起日 start</th><th>计息止日 end</th><th>付息日期 paid on</th>"
                           "<th>实付利息（元） interest (yuan)</th></tr>{}</table>{}", body, more)


PAYMENTS_SHOWN = 120


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
