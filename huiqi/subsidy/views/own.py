"""An enterprise's "my interest subsidy" and a bank's page of its loans in the released batches."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from huiqi.core.filters import apply
from huiqi.core.pagination import paginate

from .. import selectors
from ..filters import LoanLineFilter
from ..models import PaymentStatus, SubsidyBatch
from .common import export, outcomes, reason, require
from .lines import line_header, line_rows, lines_by_loan


def _chosen(request, batches: list[SubsidyBatch]) -> SubsidyBatch | None:
    wanted = request.GET.get("batch", "")
    for b in batches:
        if str(b.pk) == wanted:
            return b
    return batches[0] if batches else None


def _lines_of(request, lines_all, batch):
    """The chosen batch's lines as the reader filtered them (the batch of the URL is the one chosen)."""
    if batch is None:
        return {"q": "", "outcome": "", "batch": ""}, lines_all.none()
    data = request.GET.copy()
    data["batch"] = str(batch.pk)
    qs, f = apply(LoanLineFilter, request, lines_all, data=data)
    return f, lines_by_loan(qs)


def _outcome_summary(lines) -> dict:
    counts = selectors.outcome_counts(lines)
    return {**counts,
            "reasons": [{"code": code, "label": reason(code), "n": n} for code, n in counts["reasons"]]}


def mine(request):
    """My interest subsidy (enterprise user): each payment of the released batches to the enterprises
    it acts for (entitlement, what was paid and when), and each loan's line: counted interest, the
    subsidy, or why it did not count."""
    payments = selectors.own_payments(request.user)
    lines_all = selectors.loan_lines_for(request.user)
    batches = selectors.batches_of(lines_all, payments)
    batch = _chosen(request, batches)
    f, lines = _lines_of(request, lines_all, batch)
    page, query = paginate(request, lines)
    totals = {s: 0 for s in PaymentStatus.values}
    for p in payments:
        totals[p.status] += p.payable_fen
    latest = {}
    for p in payments:  # newest batch first: the first line of each beneficiary is its entitlement so far
        latest.setdefault(p.beneficiary_id, p)
    return render(request, "subsidy/mine.html", {
        "payments": payments, "batches": batches, "batch": batch, "page": page, "query": query, "f": f,
        "filtered": bool(f["q"] or f["outcome"]), "outcomes": outcomes(), "totals": totals,
        "entitled_fen": sum(p.entitlement_fen for p in latest.values()),
        "summary": _outcome_summary(lines_all.filter(batch=batch)) if batch else None,
    })


@login_required
def mine_export(request, fmt):
    require(request, "subsidy.view_own")
    qs = selectors.own_loan_lines(request.user)
    return export([_("批次"), _("截止日期"), *line_header()], line_rows(qs, with_batch=True), fmt,
                  "my-interest-subsidy")


def _bank_lines(request):
    lines_all = selectors.loan_lines_for(request.user)
    batches = selectors.batches_of(lines_all)
    batch = _chosen(request, batches)
    f, lines = _lines_of(request, lines_all, batch)
    return lines_all, batches, batch, f, lines


def bank(request):
    """A bank's loans in the released batches: counted or why not, and the subsidy of each."""
    lines_all, batches, batch, f, lines = _bank_lines(request)
    page, query = paginate(request, lines)
    return render(request, "subsidy/bank.html", {
        "batches": batches, "batch": batch, "page": page, "query": query, "f": f,
        "filtered": bool(f["q"] or f["outcome"]), "outcomes": outcomes(),
        "summary": _outcome_summary(lines_all.filter(batch=batch)) if batch else None,
    })


@login_required
def bank_export(request, fmt):
    require(request, "subsidy.view_bank")
    _all, _batches, batch, _f, lines = _bank_lines(request)
    name = f"subsidy-batch-{batch.pk}-our-loans" if batch else "subsidy-our-loans"
    return export([_("批次"), _("截止日期"), *line_header()], line_rows(lines, with_batch=True), fmt, name)
