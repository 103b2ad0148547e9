"""A batch's lines: each beneficiary's payment and each loan's line, filtered, and their files."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from huiqi.core.filters import apply
from huiqi.core.pagination import paginate
from huiqi.lending.selectors import BorrowerKind

from .. import selectors
from ..filters import LoanLineFilter, PaymentFilter
from ..models import PaymentStatus
from .common import batch_or_404, export, mask, outcomes, reason, require, yuan


def line_header() -> list[str]:
    """The columns of a loan-lines file, in the language of the page that asked."""
    return [_("银行机构代码"), _("银行名称"), _("贷款合同编号"), _("借款人证件号码"), _("借款人名称"), _("借款人类型"),
            _("贷款用途"), _("放款日期"), _("是否计入"), _("不计入原因代码"), _("不计入原因"), _("计入利息（元）"),
            _("贴息金额（元）")]


def _payments(request, batch):
    qs, f = apply(PaymentFilter, request, selectors.beneficiary_lines_for(request.user, batch))
    return f, qs.order_by("-payable_fen", "beneficiary_id")


def lines_by_loan(qs):
    return qs.order_by("loan__bank__code", "loan__loan_no")


def line_rows(qs, with_batch=False):
    for x in qs.iterator(chunk_size=5000):
        loan = x.loan
        row = [x.batch_id, x.batch.cutoff] if with_batch else []
        yield row + [loan.bank.code, loan.bank.name, loan.loan_no, mask(x.beneficiary_id), loan.borrower_name,
                     loan.borrower_kind, loan.purpose, loan.start_date,
                     _("是") if x.eligible else _("否"), x.reason,
                     reason(x.reason) if x.reason else "",
                     yuan(x.interest_counted_fen), yuan(x.subsidy_fen)]


@login_required
def beneficiaries(request, pk):
    require(request, "subsidy.view_batches")
    batch = batch_or_404(request, pk)
    f, qs = _payments(request, batch)
    page, query = paginate(request, qs)
    return render(request, "subsidy/beneficiaries.html", {
        "batch": batch, "page": page, "query": query, "f": f, "filtered": any(f.values()),
        "kinds": BorrowerKind.choices, "statuses": PaymentStatus.choices,
    })


@login_required
def beneficiaries_export(request, pk, fmt):
    require(request, "subsidy.view_batches")
    batch = batch_or_404(request, pk)
    _f, qs = _payments(request, batch)
    header = [_("批次"), _("截止日期"), _("受益人证件号码"), _("受益人名称"), _("受益人类型"), _("计入贷款笔数"),
              _("计入利息（元）"), _("封顶前贴息（元）"), _("应享贴息（元）"), _("此前已付（元）"), _("本批应付（元）"),
              _("本批实付（元）"), _("多付待追回（元）"), _("支付状态"), _("对账时间"), _("银行说明")]
    rows = ((batch.pk, batch.cutoff, mask(p.beneficiary_id), p.name, p.kind, p.loans_counted,
             yuan(p.interest_counted_fen), yuan(p.subsidy_before_cap_fen), yuan(p.entitlement_fen),
             yuan(p.paid_before_fen), yuan(p.due_fen), yuan(p.payable_fen), yuan(p.overpayment_fen),
             p.status,
             p.reconciled_at,  # a moment: a date-time cell in Beijing time (core.tabular)
             p.reconcile_note)
            for p in qs.iterator(chunk_size=5000))
    return export(header, rows, fmt, f"subsidy-batch-{batch.pk}-beneficiaries")


@login_required
def loan_lines(request, pk):
    require(request, "subsidy.view_batches")
    batch = batch_or_404(request, pk)
    qs, f = apply(LoanLineFilter, request, selectors.loan_lines_for(request.user, batch))
    page, query = paginate(request, lines_by_loan(qs))
    return render(request, "subsidy/loan_lines.html", {
        "batch": batch, "page": page, "query": query, "f": f, "filtered": any(f.values()),
        "outcomes": outcomes(),
    })


@login_required
def loan_lines_export(request, pk, fmt):
    require(request, "subsidy.view_batches")
    batch = batch_or_404(request, pk)
    qs, _f = apply(LoanLineFilter, request, selectors.loan_lines_for(request.user, batch))
    return export(line_header(), line_rows(lines_by_loan(qs)), fmt, f"subsidy-batch-{batch.pk}-loans")
