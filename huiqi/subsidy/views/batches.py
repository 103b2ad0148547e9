"""Batches on their four-eyes path: the list (where bureau staff run a new one), a batch's page with
its groups, history and files, the actions (review, approve, release, cancel) and the bank's
reconciliation. ``index`` is the program's page for every reader."""

from __future__ import annotations

import csv
import tempfile

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError
from huiqi.core.filters import apply
from huiqi.core.pagination import paginate

from .. import rules, selectors, services
from ..filters import BatchFilter
from ..forms import ActionForm, ReconcileForm, RunForm
from ..models import BATCH_TRANSITIONS, BatchStatus, PaymentStatus, ReconciliationStatus, SubsidyBatch
from . import own
from .common import batch_or_404, chart, factor_text, mask, reason, relabel, require

# action → (status it leads to, button label)
ACTIONS = {
    "review": (BatchStatus.REVIEWED, gettext_lazy("复核")),
    "approve": (BatchStatus.APPROVED, gettext_lazy("审批")),
    "release": (BatchStatus.RELEASED, gettext_lazy("拨付")),
    "cancel": (BatchStatus.CANCELLED, gettext_lazy("作废")),
}
ACTION_TEXT = {
    "review": (gettext_lazy("复核贴息批次"),
               gettext_lazy("请确认已核对本批次的参数、合计、受益人和贷款明细。复核后须由计算人和复核人以外的第三人审批。")),
    "approve": (gettext_lazy("审批贴息批次"),
                gettext_lazy("审批人必须是计算人和复核人以外的人。审批后即可拨付。")),
    "release": (gettext_lazy("拨付贴息批次"),
                gettext_lazy("拨付将生成支付文件（CSV、XLSX）和控制合计文件，本批次的支付随即计为已付。此操作不可撤销：如有差错，只能在下一批次中更正。")),
    "cancel": (gettext_lazy("作废贴息批次"),
               gettext_lazy("作废后本批次不支付任何款项，也不能恢复；之后可重新计算。请说明作废原因。")),
}
ACTION_DONE = {
    "review": gettext_lazy("贴息批次 #%(pk)s 已复核。"),
    "approve": gettext_lazy("贴息批次 #%(pk)s 已审批。"),
    "release": gettext_lazy("贴息批次 #%(pk)s 已拨付，支付文件已生成。"),
    "cancel": gettext_lazy("贴息批次 #%(pk)s 已作废。"),
}


@login_required
def index(request):
    """The program's page for each reader, like the ledger's: the batches for the bureau, auditors and
    administrators; "my interest subsidy" for an enterprise user; its loans for a bank's staff."""
    if request.method == "POST" or request.user.has_perm("subsidy.view_batches"):
        require(request, "subsidy.run" if request.method == "POST" else "subsidy.view_batches")
        return _batch_list(request)
    if request.user.has_perm("subsidy.view_own"):
        return own.mine(request)
    if request.user.has_perm("subsidy.view_bank"):
        return own.bank(request)
    raise PermissionDenied


def _batch_list(request):
    """Every batch with its totals; bureau staff run a new one here (one open batch at a time)."""
    form = RunForm(request.POST if request.method == "POST" else None,
                   initial={"cutoff": services.default_cutoff()})
    error = None
    if request.method == "POST" and form.is_valid():
        cutoff, note = form.cleaned_data["cutoff"], form.cleaned_data["note"]
        try:
            job = services.start_batch_run(request.user, cutoff, note=note)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("贴息批次正在后台计算，完成后由另一人复核。"))
            return redirect("core:job_detail", pk=job.pk)
    qs, f = apply(BatchFilter, request, selectors.batches_with_people(request.user))
    page, query = paginate(request, qs)
    status = error.status if error else (400 if form.errors else 200)
    return render(request, "subsidy/batch_list.html", {
        "page": page, "query": query, "f": f, "statuses": BatchStatus.choices, "form": form, "error": error,
        "open_batch": selectors.open_batch(request.user), "filtered": any(f.values()),
    }, status=status)


def _control_totals(batch: SubsidyBatch) -> dict | None:
    """The control totals of a released batch, from ``control.csv`` (written again from the record if it
    was lost)."""
    try:
        path = services.payment_files(batch, ["control.csv"]).get("control.csv")
    except OSError:  # the release's folder cannot be written here: the page shows the batch without them
        return None
    if path is None:
        return None
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows[0] if rows else None


def _actions_for(user, batch: SubsidyBatch) -> list[tuple[str, str]]:
    # The one who ran a batch is not offered its review (services.review refuses it too).
    return [(name, label) for name, (to, label) in ACTIONS.items()
            if (batch.status, to) in BATCH_TRANSITIONS and user.has_perm(f"subsidy.{name}")
            and not (name == "review" and batch.created_by_id == user.pk)]


@login_required
def batch_detail(request, pk):
    require(request, "subsidy.view_batches")
    batch = batch_or_404(request, pk)
    groups = relabel(selectors.batch_groups(batch))
    payment_status = selectors.payment_totals(batch)
    reasons = selectors.reason_counts(batch)
    return render(request, "subsidy/batch_detail.html", {
        "batch": batch, "groups": groups, "factor": factor_text(batch.rationing_factor),
        "params_used": rules.describe_params(batch.params),
        "payment_status": [(s, label, payment_status[s]) for s, label in PaymentStatus.choices],
        "reasons": [{"code": "", "label": _("计入"), "n": reasons.get("", 0)}]
        + [{"code": c, "label": reason(c), "n": reasons[c]} for c in rules.REASONS if reasons.get(c)],
        "history": selectors.batch_history(batch), "result_files": services.RESULT_FILES,
        "files": [name for name in services.file_names(batch) if name in services.PAYMENT_FILES],
        "control": _control_totals(batch),
        "actions": _actions_for(request.user, batch),
        "ran_or_reviewed": request.user.pk in (batch.created_by_id, batch.reviewed_by_id),
        "chart_district": chart(groups["by_district"], "payable_fen", [("a", _("本批实付"))]),
        "chart_bank": chart(groups["by_bank"], "subsidy_fen", [("a", _("贴息金额"))]),
        "can_reconcile": batch.status == BatchStatus.RELEASED and request.user.has_perm("subsidy.reconcile"),
    })


@login_required
def batch_action(request, pk, action):
    """Review, approve, release or cancel: a confirmation page (GET), then the service (POST)."""
    if action not in ACTIONS:
        raise Http404
    require(request, f"subsidy.{action}")
    batch = batch_or_404(request, pk)
    form = ActionForm(request.POST if request.method == "POST" else None, note_required=action == "cancel")
    error = None
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        try:
            getattr(services, action)(request.user, batch, note=note)
        except DomainError as exc:
            error = exc
            batch.refresh_from_db()
        else:
            messages.success(request, ACTION_DONE[action] % {"pk": batch.pk})
            return redirect("subsidy:batch_detail", pk=batch.pk)
    title, text = ACTION_TEXT[action]
    status = error.status if error else (400 if form.errors else 200)
    return render(request, "subsidy/batch_action.html", {
        "batch": batch, "action": action, "label": ACTIONS[action][1], "title": title, "text": text,
        "form": form, "error": error, "factor": factor_text(batch.rationing_factor),
        "allowed": (batch.status, ACTIONS[action][0]) in BATCH_TRANSITIONS,
        "ran_or_reviewed": request.user.pk in (batch.created_by_id, batch.reviewed_by_id),
    }, status=status)


@login_required
def batch_file(request, pk, name):
    """One of a batch's files: its result files (``beneficiaries.csv``, ``loans.csv``) written from the
    record for each download; once released, its payment file (CSV, XLSX) and control totals as its
    release wrote them, written again from the record if they were lost."""
    require(request, "subsidy.view_batches")
    batch = batch_or_404(request, pk)
    if name not in services.file_names(batch):
        raise Http404
    if name in services.RESULT_FILES:
        with tempfile.TemporaryDirectory() as folder:
            handle = open(services.write_outputs(batch, folder, [name])[name], "rb")  # read after removal
    else:
        handle = open(services.payment_files(batch, [name])[name], "rb")
    return FileResponse(handle, as_attachment=True, filename=f"subsidy-batch-{batch.pk}-{name}")


@login_required
def reconcile(request, pk):
    """The bank's reconciliation of a released batch, by two people: one uploads the file (checked whole;
    a bad one is refused with its rows named, a good one waits and changes nothing), another confirms it
    (``reconciliation_decide``): only then is each payment paid or failed, and failed ones are owed again
    in the next batch."""
    require(request, "subsidy.reconcile")
    batch = batch_or_404(request, pk)
    posted = request.method == "POST"
    form = ReconcileForm(request.POST if posted else None, request.FILES if posted else None)
    error = None
    if posted and form.is_valid():
        try:
            rec = services.prepare_reconciliation(request.user, batch, form.cleaned_data["file"])
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("对账文件 #%(pk)s 已核对无误：将标记已支付 %(paid)s 笔、失败 %(failed)s 笔，"
                                        "无变化 %(unchanged)s 笔。须由另一人确认后才生效。") % {
                "pk": rec.pk, "paid": rec.paid, "failed": rec.failed, "unchanged": rec.unchanged})
            return redirect("subsidy:reconcile", pk=batch.pk)
    return _reconcile_page(request, batch, form, ActionForm(), error)


@login_required
def reconciliation_template(request, lang, fmt):
    """The reconciliation file's upload template (an example row, instructions, the statuses' list)."""
    require(request, "subsidy.reconcile")
    if lang not in ("zh", "en") or fmt not in ("csv", "xlsx"):
        raise Http404
    return file_download(lambda path: services.write_reconciliation_template(path, lang),
                         f"reconciliation-template-{lang}.{fmt}")


SHOWN_CHANGES = 200


def _reconcile_page(request, batch: SubsidyBatch, form, decide_form, error):
    counts = selectors.payment_status_counts(batch)
    waiting = selectors.waiting_reconciliation(batch)
    changes = [(row, mask(beneficiary), PaymentStatus(status).label, note)
               for beneficiary, status, note, row in (waiting.changes[:SHOWN_CHANGES] if waiting else [])]
    status = error.status if error else (400 if form.errors or decide_form.errors else 200)
    return render(request, "subsidy/reconcile.html", {
        "batch": batch, "form": form, "decide_form": decide_form, "error": error,
        "row_errors": getattr(error, "errors", None),
        "counts": [(s, label, counts[s]) for s, label in PaymentStatus.choices],
        "released": batch.status == BatchStatus.RELEASED, "waiting": waiting, "changes": changes,
        "more_changes": max(0, len(waiting.changes) - SHOWN_CHANGES) if waiting else 0,
        "may_confirm": waiting is not None and waiting.prepared_by_id != request.user.pk,
        "past": selectors.reconciliations_for(request.user).filter(batch=batch)
        .exclude(status=ReconciliationStatus.PREPARED),
    }, status=status)


@login_required
@require_POST
def reconciliation_decide(request, pk, rid, decision):
    """Confirm a waiting reconciliation file (someone other than its uploader: the payments change then)
    or send it back (anyone, its uploader included: nothing changes)."""
    if decision not in ("confirm", "reject"):
        raise Http404
    require(request, "subsidy.reconcile")
    batch = batch_or_404(request, pk)
    rec = selectors.reconciliations_for(request.user).filter(batch=batch, pk=rid).first()
    if rec is None:
        raise Http404
    form = ActionForm(request.POST)
    if not form.is_valid():
        return _reconcile_page(request, batch, ReconcileForm(), form, None)
    note = form.cleaned_data["note"]
    try:
        if decision == "confirm":
            services.confirm_reconciliation(request.user, rec, note=note)
        else:
            services.reject_reconciliation(request.user, rec, note=note)
    except DomainError as exc:
        return _reconcile_page(request, batch, ReconcileForm(), form, exc)
    if decision == "reject":
        messages.success(request, _("对账文件 #%(pk)s 已退回，未做任何更改。") % {"pk": rec.pk})
        return redirect("subsidy:reconcile", pk=batch.pk)
    counts = selectors.payment_status_counts(batch)
    rec.refresh_from_db()
    messages.success(request, _("对账完成：已支付 %(paid)s 笔，失败 %(failed)s 笔，无变化 %(unchanged)s 笔，"
                                "仍待对账 %(pending)s 笔。") % {"paid": rec.paid, "failed": rec.failed,
                                                          "unchanged": rec.unchanged,
                                                          "pending": counts[PaymentStatus.PENDING]})
    return redirect("subsidy:batch_detail", pk=batch.pk)
