"""The pool's lists beyond the claims: the registered loans (a bank's own: each loan, whether it is in the
pool and why not, its ratio and its claim), the ledger's, the banks' and the scorecard's exports. Each list
filters by the URL, searches, pages and exports what it shows (CSV or XLSX)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from huiqi.core import clock, filters
from huiqi.core.downloads import file_download
from huiqi.core.errors import NotFound
from huiqi.core.money import fen_to_yuan
from huiqi.core.pagination import paginate
from huiqi.core.permissions import require_page as _require
from huiqi.core.tabular import write_rows

from . import rules, selectors, services
from .filters import OUTCOMES, EntryFilter, RegistrationFilter
from .models import PoolEntry


def _format(fmt: str) -> str:
    if fmt not in ("csv", "xlsx"):
        raise NotFound("pool.format", _("只能导出 CSV 或 XLSX"))
    return fmt


def _reason(code: str) -> str:
    return str(rules.OUTCOME_REASONS.get(code, code)) if code else ""


def _registrations(request):
    qs = selectors.registrations_for(request.user).order_by("-registered_date", "-id")
    return filters.apply(RegistrationFilter, request, qs)


def _with_claims(user, registrations):
    """Each registration with its loan's latest claim (one query for the page)."""
    loans = [r.loan_id for r in registrations]
    latest = {}
    for claim in selectors.claims_for_loans(user, loans):
        latest.setdefault(claim.loan_id, claim)
    for r in registrations:
        r.claim = latest.get(r.loan_id)
        r.reason_label = _reason(r.reason)
    return registrations


@login_required
def loans(request):
    """The loans registered in the pool, as the reader may see them: a bank's own, each with whether it is
    covered and, if not, why; the ratio and cap fixed at registration (or re-pricing); its claim."""
    _require(request, "pool.view")
    qs, f = _registrations(request)
    page, query = paginate(request, qs)
    _with_claims(request.user, page.object_list)
    return render(request, "pool/loans.html", {"page": page, "query": query, "f": f, "outcomes": OUTCOMES,
                                               "banks": selectors.banks_for(request.user)})


@login_required
def loans_export(request, fmt):
    _require(request, "pool.view")
    qs, _f = _registrations(request)
    headers = [_("银行"), _("贷款合同编号"), _("借款人"), _("贷款金额（元）"), _("放款日期"), _("入库日期"), _("是否入库"),
               _("未入库原因"), _("补偿比例"), _("补偿比例上限"), _("适用规则"), _("重新定价时间")]
    rows = ((r.loan.bank.code, r.loan.loan_no, r.loan.borrower_name, fen_to_yuan(r.loan.principal_fen),
             r.loan.start_date, r.registered_date, not r.reason, _reason(r.reason), r.ratio, r.cap, r.row,
             r.repriced_at) for r in qs.iterator(chunk_size=2000))
    return file_download(lambda path: write_rows(path, headers, rows), f"pool-loans.{_format(fmt)}")


@login_required
def ledger_export(request, fmt):
    _require(request, "pool.view")
    qs, _f = filters.apply(EntryFilter, request, selectors.entries_for(request.user).order_by("on", "id"))
    headers = [_("日期"), _("类型"), _("金额（元）"), _("银行"), _("补偿申请"), _("贷款合同编号"), _("说明")]
    kinds = dict(PoolEntry.Kind.choices)
    rows = ((e.on, str(kinds[e.kind]), fen_to_yuan(e.amount_fen), e.bank.code if e.bank else "",
             e.claim_id or "", e.claim.loan.loan_no if e.claim else "", e.note) for e in qs.iterator(chunk_size=2000))
    return file_download(lambda path: write_rows(path, headers, rows), f"pool-ledger.{_format(fmt)}")


def bank_rows(request) -> tuple[list[dict], dict]:
    """The banks the reader may see with their state today, filtered by ``q`` (part of the code or name)
    and ``state``."""
    on = clock.today()
    days = selectors.BankDays(selectors.banks_for(request.user))
    q, state = (request.GET.get(k, "").strip() for k in ("q", "state"))
    rows = []
    for b in days.banks.values():
        now = days.state(b.code, on)
        if state in services.BANK_STATES and now != state:
            continue
        if q and q.casefold() not in b.code.casefold() and q.casefold() not in b.name.casefold():
            continue
        rows.append({"bank": b, "state": now, "state_label": services.BANK_STATES[now],
                     "events": days.events.get(b.pk, [])})
    return rows, {"q": q, "state": state if state in services.BANK_STATES else ""}


@login_required
def banks_export(request, fmt):
    _require(request, "pool.view")
    rows, _f = bank_rows(request)
    headers = [_("银行代码"), _("银行"), _("签约日期"), _("入库日期"), _("今日状态"), _("其他事项")]
    out = ((r["bank"].code, r["bank"].name, r["bank"].signed_date, r["bank"].onboarded_date, str(r["state_label"]),
            "; ".join(f"{e.on.isoformat()} {e.get_kind_display()}" for e in r["events"])) for r in rows)
    return file_download(lambda path: write_rows(path, headers, out), f"pool-banks.{_format(fmt)}")


@login_required
def scorecard_export(request, fmt):
    from .views_report import _report_day

    _require(request, "pool.view")
    on = _report_day(request)
    cards = selectors.scorecard(request.user, on)
    if request.GET.get("suspend") == "1":
        cards = [s for s in cards if s["propose_suspension"]]
    headers = [_("银行代码"), _("银行"), _("入库贷款（笔）"), _("不良贷款（笔）"), _("不良率"), _("补偿申请（笔）"), _("批准率"),
               _("不良至申请（天）"), _("申请至拨付（天）"), _("追偿返还率"), _("建议暂停")]
    rows = ((s["bank"].code, s["bank"].name, s["registered"], s["npls"], s["npl_rate"], s["claims"],
             s["approval_rate"], s["days_to_claim"], s["days_to_pay"], s["recovery_rate"], s["propose_suspension"])
            for s in cards)
    return file_download(lambda path: write_rows(path, headers, rows), f"pool-scorecard-{on}.{_format(fmt)}")
