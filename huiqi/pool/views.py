"""The pool's pages: the bureau's dashboard and a bank's "本行风险补偿", claims (list, export, filing with
its guide and confirmation, the detail with the actions the reader may take now), banks and the ledger."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from huiqi.core import clock, formats
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError, NotFound
from huiqi.core.formpages import Confirmation, confirmation, guide_context
from huiqi.core.money import fen_to_yuan
from huiqi.core.forms import add_domain_error
from huiqi.core.pagination import paginate
from huiqi.core.tabular import write_rows
from huiqi.core.permissions import require_page as _require
from huiqi.registry import selectors as registry

from . import charts, rules, selectors, services
from .forms import (BankStepForm, ClaimForm, ClawbackForm, DecideForm, EvidenceForm, NewClaimForm, RecoveryForm,
                    ReviewForm, TopUpForm)
from .models import Claim, PoolEntry
from .services import OUTCOME_REASONS, ClaimInput


def _reason(code: str) -> str:
    return str(OUTCOME_REASONS.get(code, code)) if code else ""


def _catch_up(request) -> None:
    """Register what the ledger added since: at once when it is little, else as a background job (the page
    says so)."""
    pending = services.unregistered().count()
    if not pending or not request.user.has_perm("pool.view_all"):
        return
    if pending <= services.REGISTER_CHUNK:
        services.register_loans(request.user)
    else:
        job = services.start_registration(request.user)
        messages.info(request, _("新报送的 %(n)s 笔贷款正在后台入库筛查（任务 #%(job)s），完成后数据随之更新。")
                      % {"n": formats.count(pending), "job": job.pk})


@login_required
def index(request):
    _require(request, "pool.view")
    _catch_up(request)
    on = clock.today()
    user = request.user
    context = {"figures": selectors.figures(user, on), "is_bank": not user.has_perm("pool.view_all"),
               "to_review": selectors.claims_to_review(user)[:10], "to_decide": selectors.claims_to_decide(user)[:10],
               "returned": selectors.claims_returned(user)[:10],
               "recent": selectors.claims_for(user).order_by("-filed_at")[:10],
               **charts.dashboard(user, on)}
    if context["is_bank"]:  # 本行风险补偿: its loans, its claims with why, what was paid and returned
        mine = selectors.registrations_for(user)
        context["bank_loans"] = {"covered": mine.filter(reason="").count(), "screened": mine.exclude(reason="").count()}
        context["bank_claims"] = selectors.claims_for(user).order_by("-filed_at", "-id")[:20]
    return render(request, "pool/index.html", context)


def _claims(request):
    qs = selectors.claims_for(request.user)
    status, q, bank = (request.GET.get(k, "").strip() for k in ("status", "q", "bank"))
    if status in Claim.Status.values:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(loan__loan_no__icontains=q) | qs.filter(loan__borrower_name__icontains=q)
    if bank:
        qs = qs.filter(bank__code=bank)
    to_decide = request.GET.get("to_decide") == "1"
    if to_decide:  # what waits for this reader's decision: never a claim they reviewed
        qs = qs.filter(status="reviewed").exclude(reviewed_by=request.user)
    awaiting = request.GET.get("evidence") == "missing"
    if awaiting:  # filed by file, the bank's evidence still to come
        qs = qs.filter(pk__in=selectors.claims_awaiting_evidence(request.user).values("pk"))
    return qs.order_by("-filed_at", "-id"), {"status": status, "q": q, "bank": bank, "to_decide": to_decide,
                                             "evidence": "missing" if awaiting else ""}


@login_required
def claim_list(request):
    _require(request, "pool.view")
    qs, f = _claims(request)
    page, query = paginate(request, qs)
    return render(request, "pool/claim_list.html", {
        "page": page, "query": query, "f": f, "statuses": Claim.Status.choices,
        "banks": selectors.banks_for(request.user)})


CLAIM_COLUMNS = ("id", "bank_code", "loan_no", "borrower", "npl_date", "filed_on", "status", "reason", "loss",
                 "ratio", "compensation", "approved", "paid", "returned")


@login_required
def claim_export(request, fmt):
    _require(request, "pool.view")
    if fmt not in ("csv", "xlsx"):
        raise NotFound("pool.format", _("只能导出 CSV 或 XLSX"))
    qs, _f = _claims(request)
    headers = [_("编号"), _("银行"), _("贷款合同编号"), _("借款人"), _("不良认定日期"), _("申请日期"), _("状态"), _("原因"),
               _("损失（元）"), _("补偿比例"), _("应补偿（元）"), _("核定（元）"), _("已拨付（元）"), _("已返还（元）")]
    rows = ((c.pk, c.bank.code, c.loan.loan_no, c.loan.borrower_name, c.npl_date, c.filed_on, c.get_status_display(),
             _reason(c.reason), fen_to_yuan(c.loss_fen), c.ratio, fen_to_yuan(c.compensation_fen),
             fen_to_yuan(c.approved_fen), fen_to_yuan(c.paid_fen), fen_to_yuan(c.returned_fen))
            for c in qs.iterator())
    return file_download(lambda path: write_rows(path, headers, rows), f"pool-claims.{fmt}")


@login_required
def claim_new(request):
    """A bank files a claim: the guide first, the form, then the confirmation."""
    _require(request, "pool.file_claim")
    from .site import GUIDES

    loan_no = request.GET.get("loan", "").strip()
    form = NewClaimForm(request.POST or None, initial={"loan_no": loan_no, "idempotency_key": uuid.uuid4().hex,
                                                       "npl_date": selectors.reported_npl_date(request.user, loan_no)})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                claim = services.file_claim(request.user, ClaimInput(
                    getattr(getattr(request.user, "bank", None), "code", ""), d["loan_no"].strip(), d["outstanding_principal"], d["recovered"], d["evidence"],
                    d["idempotency_key"], d["npl_date"]))
                return redirect("pool:claim_filed", pk=claim.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    return render(request, "pool/claim_form.html",
                  {"form": form, **guide_context(GUIDES["pool.claim"], form)}, status=status)


@login_required
def claim_filed(request, pk):
    _require(request, "pool.file_claim")
    claim = selectors.claim_for(request.user, pk)
    done = Confirmation(
        title=_("补偿申请已提交"), reference=f"#{claim.pk}",
        view_url=reverse("pool:claim_detail", args=[claim.pk]), view_label=_("查看申请和办理进度"),
        facts=[(_("贷款合同编号"), claim.loan.loan_no), (_("借款人"), claim.loan.borrower_name),
               (_("损失（元）"), formats.yuan(claim.loss_fen)), (_("应补偿（元）"), formats.yuan(claim.compensation_fen))]
        + ([(_("不符合条件"), _reason(claim.reason))] if claim.reason else []),
        next=[_("市工业和信息化局审核材料，由另一位工作人员审批。"),
              _("批准后按批准顺序从资金池拨付；余额不足的部分在资金池补充后支付。"),
              _("如材料需要补正，申请会退回本行，补正后可重新提交。")])
    return confirmation(request, done)


def _actions(user, claim: Claim) -> dict:
    """The actions the reader may take on the claim now, each with its form."""
    out = {}
    if claim.status == "submitted" and user.has_perm("pool.review"):
        out["review"] = ReviewForm()
    if claim.status == "reviewed" and user.has_perm("pool.approve") and claim.reviewed_by_id != user.pk:
        out["decide"] = DecideForm()
    own = getattr(user, "bank_id", None) == claim.bank_id
    if claim.status in ("submitted", "returned") and claim.upload_id and own and user.has_perm("pool.file_claim"):
        out["evidence"] = EvidenceForm(initial={"evidence": claim.evidence})
    if claim.status == "returned" and own and user.has_perm("pool.file_claim"):
        out["resubmit"] = ClaimForm(initial={"loan_no": claim.loan.loan_no, "evidence": claim.evidence})
    if claim.paid_fen > 0 and user.has_perm("pool.report_recovery") and (own or user.has_perm("pool.view_all")):
        out["recovery"] = RecoveryForm()
    if claim.paid_fen > claim.returned_fen + claim.clawed_back_fen and user.has_perm("pool.claw_back"):
        out["clawback"] = ClawbackForm()
    return out


@login_required
def claim_detail(request, pk):
    _require(request, "pool.view")
    claim = selectors.claim_for(request.user, pk)
    actions = _actions(request.user, claim)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in actions:
            raise PermissionDenied
        form = type(actions[action])(request.POST)
        actions[action] = form
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                if action == "review":
                    services.review(request.user, claim, d["outcome"], amount_fen=d["amount"], reason=d["reason"],
                                    note=d["note"])
                elif action == "decide":
                    services.decide(request.user, claim, d["agree"], d["note"])
                elif action == "resubmit":
                    services.resubmit(request.user, claim, ClaimInput(claim.bank.code, claim.loan.loan_no,
                                                                      d["outstanding_principal"], d["recovered"], d["evidence"]))
                elif action == "evidence":
                    services.add_evidence(request.user, claim, d["evidence"])
                elif action == "recovery":
                    services.report_recovery(request.user, claim, d["recovery"], note=d["note"])
                elif action == "clawback":
                    services.claw_back(request.user, claim, d["amount"], d["reason"], repaid=d["repaid"])
                messages.success(request, _("已办理。"))
                return redirect("pool:claim_detail", pk=claim.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    from huiqi.core.models import AuditEvent

    history = AuditEvent.objects.filter(model="pool.Claim", object_id=str(claim.pk)).select_related("actor")
    return render(request, "pool/claim_detail.html", {
        "claim": claim, "actions": actions, "reason": _reason(claim.reason), "history": history.order_by("at"),
        "entries": claim.entries.order_by("on", "id"),
        "classifications": selectors.classifications_for(request.user).filter(loan=claim.loan).order_by("on"),
        "history_npl_date": selectors.classification_history(claim.loan_id).npl_date}, status=status)


@login_required
def banks(request):
    """Partner banks with their state in the pool on a day; the bureau records their steps."""
    _require(request, "pool.view")
    on = clock.today()
    days = selectors.BankDays(selectors.banks_for(request.user))
    form = BankStepForm(request.POST or None) if request.user.has_perm("pool.manage_banks") else None
    status = 200
    if request.method == "POST":
        _require(request, "pool.manage_banks")
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            bank = registry.banks().filter(code=d["bank"]).first()
            try:
                if bank is None:
                    raise NotFound("pool.bank_unknown", _("没有这家银行"))
                services.move_bank(request.user, bank, d["kind"], d["on"], agreement_version=d["agreement_version"],
                                   note=d["note"])
                messages.success(request, _("已记录。"))
                return redirect("pool:banks")
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    from .views_lists import bank_rows

    rows, f = bank_rows(request)
    return render(request, "pool/banks.html", {"rows": rows, "f": f, "states": services.BANK_STATES.items(),
                                               "all_banks": days.banks.values(), "form": form, "on": on,
                                               "query": request.GET.urlencode()}, status=status)


@login_required
def ledger(request):
    """The pool's ledger: every top-up, payout, return, clawback and offset, and the balance; the bureau
    tops the pool up here."""
    _require(request, "pool.view")
    form = TopUpForm(request.POST or None) if request.user.has_perm("pool.top_up") else None
    status = 200
    if request.method == "POST":
        _require(request, "pool.top_up")
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.top_up(request.user, d["amount"], d["on"], d["note"])
                messages.success(request, _("注资已入账。"))
                return redirect("pool:ledger")
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    from huiqi.core import filters

    from .filters import EntryFilter

    entries, f = filters.apply(EntryFilter, request, selectors.entries_for(request.user).order_by("-on", "-id"))
    page, query = paginate(request, entries)
    balance = selectors.balance_fen() if request.user.has_perm("pool.view_all") else None
    return render(request, "pool/ledger.html", {"page": page, "query": query, "form": form, "balance": balance,
                                                "f": f, "kinds": PoolEntry.Kind.choices,
                                                "banks": selectors.banks_for(request.user)}, status=status)


@login_required
def what_if(request):
    """Another ratio table before it takes effect: a change waiting for its second person, or a value dated
    later, set beside the table in force — the contingent liability and the unclaimed NPLs settled under each."""
    _require(request, "pool.simulate")
    from huiqi.core import selectors as core_selectors
    from huiqi.core.models import Parameter

    today = clock.today()
    options = [(f"p{p.pk}", _("待审批的修改 #%(pk)s（%(day)s 起）") % {"pk": p.pk, "day": p.effective_from.isoformat()},
                p.value) for p in core_selectors.parameter_proposals(request.user, "pool.params", pending_only=True)]
    options += [(f"r{r.pk}", _("%(day)s 起生效的取值") % {"day": r.effective_from.isoformat()}, r.value)
                for r in Parameter.objects.filter(key="pool.params", effective_from__gt=today).order_by("effective_from")]
    chosen = next((o for o in options if o[0] == request.GET.get("table")), options[0] if options else None)
    result = None
    if chosen is not None:
        try:
            proposed = rules.Params.from_mapping(chosen[2])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            now, then = services.simulate(), services.simulate(chosen[2])
            result = {
                "label": chosen[1],
                "liability_now": selectors.contingent_liability(request.user, today)["total_fen"],
                "liability_then": selectors.contingent_liability(request.user, today, what_if=proposed)["total_fen"],
                "now": now, "then": then,
            }
    return render(request, "pool/what_if.html", {"options": options, "chosen": chosen, "result": result})
