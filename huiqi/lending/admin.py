from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _, pgettext_lazy

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
    @admin.display(description=pgettext_lazy("plural", "付息记录"))
    def interest_payments(self, loan):
        if loan.pk is None:
            return "—"
        rows = list(InterestPayment.objects.filter(loan=loan).order_by("accrual_start")[:PAYMENTS_SHOWN + 1])
        if not rows:
            return _("无")
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (p.accrual_start, p.accrual_end, p.paid_date, fen_to_yuan(p.interest_fen))
            for p in rows[:PAYMENTS_SHOWN]))
        more = ""
        if len(rows) > PAYMENTS_SHOWN:
            more = format_html("<p>{}</p>", _("仅显示前 %(n)s 条") % {"n": PAYMENTS_SHOWN})
        return format_html("<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>{}",
                           _("计息起日"), _("计息止日"), _("付息日期"), _("实付利息（元）"), body, more)


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
