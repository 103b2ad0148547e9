"""Interest-subsidy pages: simulate and compare, batches on their four-eyes path (run, review, approve,
release, cancel), their beneficiaries, loan lines and payment files, the bank's reconciliation; an
enterprise's "my interest subsidy" and a bank's page of its loans.

Thin: every read goes through ``selectors`` (scoped to the user), every write through ``services``; a
refusal of a service (``DomainError``) is shown on the page it came from, in Chinese and English.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Sum, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiqi.core import jobs
from huiqi.core.errors import DomainError, ValidationFailed
from huiqi.core.models import AuditEvent
from huiqi.core.money import fen_to_yuan
from huiqi.core.pagination import paginate
from huiqi.core.tabular import write_rows
from huiqi.lending import selectors as lending_selectors
from huiqi.lending.selectors import BorrowerKind, mask_borrower_id
from huiqi.registry import selectors as registry_selectors

from . import rules, selectors, services
from .forms import ActionForm, ParamsForm, ReconcileForm, RunForm, SimulateForm
from .models import BATCH_TRANSITIONS, OPEN_STATUSES, BatchStatus, PaymentStatus, SubsidyBatch

mask = mask_borrower_id

# A simulation page lists this many beneficiaries; the export has them all.
SHOWN = 200
# Above this many loans in the ledger a batch is run as a background job, not in the web request.
INLINE_LOANS = getattr(settings, "HUIQI_INLINE_SUBSIDY_LOANS", 50_000)

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
FILES = ("payments.csv", "payments.xlsx", "control.csv")
EXPORT_FORMATS = ("csv", "xlsx")


# --------------------------------------------------------------------------------------------------
# Helpers


def _require(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _english() -> bool:
    return (get_language() or "").startswith("en")


_BILINGUAL = re.compile(r"^(\S*[\u3400-\u9fff]\S*) ([\x20-\x7e]+)$")


def _one_language(label) -> str:
    """A bilingual choice label ('已计算 run') → the part in the page's language; any other label (one
    already translated by gettext) as it is."""
    text = str(label)
    m = _BILINGUAL.match(text)
    if not m:
        return text
    return m.group(2) if _english() else m.group(1)


def _reason(code: str) -> str:
    zh, en = rules.REASONS.get(code, (code, code))
    return en if _english() else zh


def _reasons() -> list[tuple[str, str]]:
    return [(code, _reason(code)) for code in rules.REASONS]


def _get(request, *names) -> dict:
    return {k: request.GET.get(k, "").strip() for k in names}


def _yuan(fen):
    return fen_to_yuan(fen) if fen is not None else None


def _wan_text(fen) -> str:
    """Fen as 万元 text with two decimals, for the charts (display only, never a float)."""
    return str((Decimal(fen or 0) / 1_000_000).quantize(Decimal("0.01")))


def _factor_text(fraction_text: str) -> str:
    """'num/den' → the factor to eight places ('' when the budget was not short)."""
    if not fraction_text:
        return ""
    num, den = fraction_text.split("/")
    return f"{Decimal(num) / Decimal(den):.8f}"


def _export(rows_header, rows, fmt: str, filename: str):
    if fmt not in EXPORT_FORMATS:
        raise Http404
    tmp = Path(tempfile.mkdtemp()) / f"export.{fmt}"
    write_rows(tmp, rows_header, rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(open(tmp, "rb"), as_attachment=True, filename=f"{filename}-{stamp}.{fmt}")


def _district_names() -> dict[str, str]:
    names = {code: (en if _english() else zh) for code, zh, en in registry_selectors.districts().values_list("code", "name",
                                                                                               "name_en")}
    names[""] = _("区未知")
    return names


SIZE_LABELS = dict(registry_selectors.SIZE_CHOICES)


def _relabel(groups: dict) -> dict:
    """District and size-class labels in the page's language (``services.compare`` gives Chinese)."""
    districts = _district_names()
    for row in groups["by_district"]:
        row["label"] = districts.get(row["key"], row["key"])
    for row in groups["by_size_class"]:
        row["label"] = _one_language(SIZE_LABELS.get(row["key"], row["label"]))
    return groups


def _chart(groups: list[dict], amount: str, series: list[tuple[str, str]]) -> dict | None:
    """Bar-chart data (labels, series of 万元 text) of grouped rows; None when there is nothing."""
    if not groups:
        return None
    return {"labels": [str(g["label"]) for g in groups], "unit": _("万元"),
            "series": [{"name": name, "data": [_wan_text(g[side].get(amount, 0)) for g in groups]}
                       for side, name in series]}


# --------------------------------------------------------------------------------------------------
# Simulate and compare


def _params_rows(base: dict, a: dict, b: dict | None) -> list[dict]:
    labels = {"window_start": _("新增贷款窗口起"), "window_end": _("新增贷款窗口止"), "rate": _("贴息比例"),
              "months": _("贴息月数"), "cap": _("每户上限（元）"), "budget": _("总预算（元）"),
              "rationing": _("超预算处理")}
    modes = {"pro_rata": _("按比例分配"), "none": _("全额支付")}
    rows = []
    for name in rules.PARAMETER_NAMES:
        def show(v, name=name):
            return modes.get(v, v) if name == "rationing" else v
        rows.append({"name": name, "label": labels[name], "base": show(base[name]), "a": show(a[name]),
                     "b": show(b[name]) if b else None,
                     "changed": a[name] != base[name] or (b is not None and b[name] != base[name])})
    return rows


def _beneficiary_rows(ra: rules.BatchResult, rb: rules.BatchResult | None) -> list[dict]:
    rows: dict[str, dict] = {}
    for side, result in (("a", ra), ("b", rb)):
        if result is None:
            continue
        for x in result.beneficiaries:
            row = rows.setdefault(x.beneficiary_id, {"id": mask(x.beneficiary_id), "name": x.name,
                                                     "kind": x.kind, "a": None, "b": None})
            row[side] = x
    for row in rows.values():
        kind = row["kind"]
        row["kind"] = _one_language(BorrowerKind(kind).label) if kind in BorrowerKind.values else ""
        pa = row["a"].payable if row["a"] else 0
        pb = row["b"].payable if row["b"] else 0
        row["difference"] = pb - pa
        row["sort"] = max(pa, pb)
    return sorted(rows.values(), key=lambda r: (-r["sort"], r["id"]))


def _reason_rows(ra: rules.BatchResult, rb: rules.BatchResult | None) -> list[dict]:
    counts = {"a": Counter(x.reason or "" for x in ra.loans),
              "b": Counter(x.reason or "" for x in rb.loans) if rb else Counter()}
    rows = [{"code": "", "label": _("计入"), "a": counts["a"][""], "b": counts["b"][""]}]
    for code in rules.REASONS:
        if counts["a"][code] or counts["b"][code]:
            rows.append({"code": code, "label": _reason(code), "a": counts["a"][code],
                         "b": counts["b"][code]})
    return rows


def _simulate_forms(request):
    data = request.GET if "cutoff" in request.GET else None
    form = SimulateForm(data, initial={"cutoff": timezone.localdate()})
    return form, ParamsForm(data, prefix="a"), ParamsForm(data, prefix="b")


def _run_simulations(request, form, a, b):
    cutoff, comparing = form.cleaned_data["cutoff"], form.cleaned_data["compare"]
    ra = services.simulate(request.user, cutoff, a.overrides())
    rb = services.simulate(request.user, cutoff, b.overrides()) if comparing else None
    return cutoff, ra, rb


@login_required
def simulate(request):
    """A batch as it would be now, recorded nowhere; with ``compare`` a second parameter set beside it."""
    _require(request, "subsidy.simulate")
    form, a, b = _simulate_forms(request)
    ctx = {"form": form, "a": a, "b": b, "sets": [(a, "A"), (b, "B")], "query": request.GET.urlencode()}
    status = 200
    if form.is_bound and all(f.is_valid() for f in (form, a, b)):
        try:
            cutoff, ra, rb = _run_simulations(request, form, a, b)
        except DomainError as exc:
            ctx["error"], status = exc, exc.status
        else:
            cmp = _relabel(services.compare(ra, rb or ra))
            beneficiaries = _beneficiary_rows(ra, rb)
            series = [("a", "A")] + ([("b", "B")] if rb else [])
            ctx.update({
                "result": True, "comparing": rb is not None, "cutoff": cutoff, "cmp": cmp,
                "factor_a": _factor_text(cmp["a"]["rationing_factor"]),
                "factor_b": _factor_text(cmp["b"]["rationing_factor"]),
                "params": _params_rows(services.current_params(cutoff).as_mapping(), ra.params.as_mapping(),
                                       rb.params.as_mapping() if rb else None),
                "beneficiaries": beneficiaries[:SHOWN], "beneficiary_count": len(beneficiaries),
                "shown": SHOWN, "reasons": _reason_rows(ra, rb),
                "chart_district": _chart(cmp["by_district"], "payable_fen", series),
                "chart_bank": _chart(cmp["by_bank"], "subsidy_fen", series),
            })
    elif form.is_bound:
        status = 400
    return render(request, "subsidy/simulate.html", ctx, status=status)


@login_required
def simulate_export(request, fmt):
    """The simulation of the page's query as a file: ``what=beneficiaries`` (default) or ``loans``;
    side by side (A then B) when comparing. Without a cutoff, today's."""
    _require(request, "subsidy.simulate")
    if fmt not in EXPORT_FORMATS:
        raise Http404
    data = request.GET.copy()
    data.setdefault("cutoff", timezone.localdate().isoformat())
    form, a, b = SimulateForm(data), ParamsForm(data, prefix="a"), ParamsForm(data, prefix="b")
    if not all(f.is_valid() for f in (form, a, b)):
        bad = next(f for f in (form, a, b) if not f.is_valid())
        field, problems = next(iter(bad.errors.items()))
        raise ValidationFailed("subsidy.simulate_form", f"测算条件有误：{field} {problems[0]}",
                               f"the simulation's inputs are wrong: {field} {problems[0]}", field=field)
    cutoff, ra, rb = _run_simulations(request, form, a, b)
    sides = [ra] + ([rb] if rb else [])
    names = ("A", "B")
    if request.GET.get("what") == "loans":
        header = ["银行机构代码", "贷款合同编号", "受益人证件号码"]
        for i, _r in enumerate(sides):
            p = f"{names[i]} " if rb else ""
            header += [f"{p}是否计入", f"{p}不计入原因代码", f"{p}不计入原因", f"{p}计入利息（元）", f"{p}贴息金额（元）"]
        by_key = [{(x.bank_code, x.loan_no): x for x in r.loans} for r in sides]
        keys = sorted(set().union(*by_key))

        def loan_rows():
            for key in keys:
                lines = [d.get(key) for d in by_key]
                first = next(x for x in lines if x is not None)
                row = [key[0], key[1], mask(first.beneficiary_id)]
                for x in lines:
                    if x is None:
                        row += ["", "", "", None, None]
                    else:
                        row += ["是" if x.eligible else "否", x.reason or "",
                                rules.REASONS[x.reason][0] if x.reason else "",
                                _yuan(x.interest_counted_fen), _yuan(x.subsidy_fen)]
                yield row

        return _export(header, loan_rows(), fmt, f"subsidy-simulation-{cutoff}-loans")
    header = ["受益人证件号码", "受益人名称", "受益人类型"]
    for i, _r in enumerate(sides):
        p = f"{names[i]} " if rb else ""
        header += [f"{p}计入贷款笔数", f"{p}计入利息（元）", f"{p}封顶前贴息（元）", f"{p}应享贴息（元）",
                   f"{p}此前已付（元）", f"{p}本批应付（元）", f"{p}本批实付（元）"]

    def beneficiary_rows():
        for row in sorted(_beneficiary_rows(ra, rb), key=lambda r: r["id"]):
            out = [row["id"], row["name"], row["kind"]]
            for side in ("a", "b")[:len(sides)]:
                x = row[side]
                out += ([x.loans_counted, _yuan(x.interest_counted_fen), _yuan(x.subsidy_before_cap),
                         _yuan(x.entitlement), _yuan(x.paid_before), _yuan(x.due), _yuan(x.payable)]
                        if x else [None] * 7)
            yield out

    return _export(header, beneficiary_rows(), fmt, f"subsidy-simulation-{cutoff}")


# --------------------------------------------------------------------------------------------------
# Batches


@login_required
def index(request):
    """The program's page for each reader, like the ledger's: the batches for the bureau, auditors and
    administrators; "my interest subsidy" for an enterprise user; its loans for a bank's staff."""
    if request.method == "POST" or request.user.has_perm("subsidy.view_batches"):
        _require(request, "subsidy.run" if request.method == "POST" else "subsidy.view_batches")
        return _batch_list(request)
    if request.user.has_perm("subsidy.view_own"):
        return _mine(request)
    if request.user.has_perm("subsidy.view_bank"):
        return _bank(request)
    raise PermissionDenied


def _batch_list(request):
    """Every batch with its totals; bureau staff run a new one here (one open batch at a time)."""
    form = RunForm(request.POST if request.method == "POST" else None,
                   initial={"cutoff": timezone.localdate()})
    error = None
    if request.method == "POST" and form.is_valid():
        cutoff, note = form.cleaned_data["cutoff"], form.cleaned_data["note"]
        try:
            if lending_selectors.loans().count() > INLINE_LOANS:
                job = jobs.enqueue("subsidy.run_batch", {"cutoff": cutoff.isoformat(), "note": note},
                                   user=request.user, title=f"计算贴息批次（截至 {cutoff}）")
                return redirect("core:job_detail", pk=job.pk)
            batch = services.run_batch(request.user, cutoff, note=note)
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("贴息批次 #%(pk)s 已计算，请由另一人复核。") % {"pk": batch.pk})
            return redirect("subsidy:batch_detail", pk=batch.pk)
    f = _get(request, "status")
    qs = selectors.batches_for(request.user).select_related("created_by", "reviewed_by", "approved_by",
                                                            "released_by")
    if f["status"] in BatchStatus.values:
        qs = qs.filter(status=f["status"])
    page, query = paginate(request, qs)
    open_batch = selectors.batches_for(request.user).filter(status__in=OPEN_STATUSES).order_by("id").first()
    status = error.status if error else (400 if form.errors else 200)
    return render(request, "subsidy/batch_list.html", {
        "page": page, "query": query, "f": f, "statuses": BatchStatus.choices, "form": form, "error": error,
        "open_batch": open_batch, "filtered": any(f.values()),
    }, status=status)


def _batch(request, pk) -> SubsidyBatch:
    return get_object_or_404(selectors.batches_for(request.user).select_related(
        "created_by", "reviewed_by", "approved_by", "released_by", "cancelled_by"), pk=pk)


def _batch_groups(batch: SubsidyBatch) -> dict:
    """The batch's money by district and size class (of the beneficiary, or of the enterprise a small-
    business owner owns: the one its first loan names) and by bank, in the shape of ``services.compare``."""
    owned = (lending_selectors.loans().filter(borrower_id=OuterRef("beneficiary_id"),
                                 borrower_kind=BorrowerKind.BUSINESS_OWNER)
             .exclude(owner_of="").order_by("bank__code", "loan_no").values("owner_of")[:1])
    registry = registry_selectors.enterprises().filter(uscc=OuterRef("registered_as"))
    payments = (batch.payments.order_by()
                .annotate(registered_as=Case(When(kind=BorrowerKind.BUSINESS_OWNER, then=Subquery(owned)),
                                             default=F("beneficiary_id")))
                .annotate(district=Subquery(registry.values("district_id")[:1]),
                          size=Subquery(registry.values("size_class")[:1])))

    def grouped(field, unknown):
        rows = (payments.values(field).annotate(beneficiaries=Count("id"), due_fen=Sum("due_fen"),
                                                payable_fen=Sum("payable_fen")).order_by(field))
        out: dict[str, dict] = {}
        for r in rows:
            key = r[field] or unknown
            acc = out.setdefault(key, {"beneficiaries": 0, "due_fen": 0, "payable_fen": 0})
            for k in acc:
                acc[k] += r[k] or 0
        return [{"key": k, "label": k, "a": v} for k, v in sorted(out.items())]

    banks = (batch.loan_lines.filter(eligible=True).order_by().values("loan__bank__code", "loan__bank__name")
             .annotate(loans_counted=Count("id"), subsidy_fen=Sum("subsidy_fen"))
             .order_by("loan__bank__code"))
    return _relabel({
        "by_district": grouped("district", ""),
        "by_size_class": grouped("size", "unknown"),
        "by_bank": [{"key": r["loan__bank__code"], "label": r["loan__bank__name"],
                     "a": {"loans_counted": r["loans_counted"], "subsidy_fen": r["subsidy_fen"] or 0}}
                    for r in banks],
    })


def _control_totals(batch: SubsidyBatch) -> dict | None:
    if batch.status != BatchStatus.RELEASED or not batch.output_dir:
        return None
    path = Path(batch.output_dir) / "control.csv"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows[0] if rows else None


def _files(batch: SubsidyBatch) -> list[str]:
    if batch.status != BatchStatus.RELEASED or not batch.output_dir:
        return []
    return [name for name in FILES if (Path(batch.output_dir) / name).is_file()]


def _actions_for(user, batch: SubsidyBatch) -> list[tuple[str, str]]:
    # The one who ran a batch is not offered its review (services.review refuses it too).
    return [(name, label) for name, (to, label) in ACTIONS.items()
            if (batch.status, to) in BATCH_TRANSITIONS and user.has_perm(f"subsidy.{name}")
            and not (name == "review" and batch.created_by_id == user.pk)]


@login_required
def batch_detail(request, pk):
    _require(request, "subsidy.view_batches")
    batch = _batch(request, pk)
    groups = _batch_groups(batch)
    payment_status = {s: {"n": 0, "amount": 0} for s in PaymentStatus.values}
    for r in batch.payments.order_by().values("status").annotate(n=Count("id"), amount=Sum("payable_fen")):
        payment_status[r["status"]] = {"n": r["n"], "amount": r["amount"] or 0}
    reasons = Counter(dict(batch.loan_lines.order_by().values_list("reason").annotate(n=Count("id"))))
    history = AuditEvent.objects.filter(model=SubsidyBatch._meta.label,
                                        object_id=str(batch.pk)).order_by("at", "id")
    return render(request, "subsidy/batch_detail.html", {
        "batch": batch, "groups": groups, "factor": _factor_text(batch.rationing_factor),
        "payment_status": [(s, label, payment_status[s]) for s, label in PaymentStatus.choices],
        "reasons": [{"code": "", "label": _("计入"), "n": reasons.get("", 0)}]
        + [{"code": c, "label": _reason(c), "n": reasons[c]} for c in rules.REASONS if reasons.get(c)],
        "history": history, "files": _files(batch), "control": _control_totals(batch),
        "actions": _actions_for(request.user, batch),
        "ran_or_reviewed": request.user.pk in (batch.created_by_id, batch.reviewed_by_id),
        "chart_district": _chart(groups["by_district"], "payable_fen", [("a", _("本批实付"))]),
        "chart_bank": _chart(groups["by_bank"], "subsidy_fen", [("a", _("贴息金额"))]),
        "can_reconcile": batch.status == BatchStatus.RELEASED and request.user.has_perm("subsidy.reconcile"),
    })


@login_required
def batch_action(request, pk, action):
    """Review, approve, release or cancel: a confirmation page (GET), then the service (POST)."""
    if action not in ACTIONS:
        raise Http404
    _require(request, f"subsidy.{action}")
    batch = _batch(request, pk)
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
        "form": form, "error": error, "factor": _factor_text(batch.rationing_factor),
        "allowed": (batch.status, ACTIONS[action][0]) in BATCH_TRANSITIONS,
        "ran_or_reviewed": request.user.pk in (batch.created_by_id, batch.reviewed_by_id),
    }, status=status)


@login_required
def batch_file(request, pk, name):
    """A released batch's payment file (CSV, XLSX) or control totals, as written on release."""
    _require(request, "subsidy.view_batches")
    batch = _batch(request, pk)
    if name not in _files(batch):
        raise Http404
    return FileResponse(open(Path(batch.output_dir) / name, "rb"), as_attachment=True,
                        filename=f"subsidy-batch-{batch.pk}-{name}")


# --- beneficiaries of a batch


PAYMENT_FILTERS = ("q", "kind", "status")


def _payments(request, batch):
    f = _get(request, *PAYMENT_FILTERS)
    qs = selectors.beneficiary_lines_for(request.user, batch)
    if f["q"]:
        qs = qs.filter(Q(beneficiary_id__icontains=f["q"]) | Q(name__icontains=f["q"]))
    if f["kind"] in BorrowerKind.values:
        qs = qs.filter(kind=f["kind"])
    if f["status"] in PaymentStatus.values:
        qs = qs.filter(status=f["status"])
    return f, qs.order_by("-payable_fen", "beneficiary_id")


@login_required
def beneficiaries(request, pk):
    _require(request, "subsidy.view_batches")
    batch = _batch(request, pk)
    f, qs = _payments(request, batch)
    page, query = paginate(request, qs)
    return render(request, "subsidy/beneficiaries.html", {
        "batch": batch, "page": page, "query": query, "f": f, "filtered": any(f.values()),
        "kinds": [(k, _one_language(label)) for k, label in BorrowerKind.choices],
        "statuses": [(k, _one_language(label)) for k, label in PaymentStatus.choices],
    })


@login_required
def beneficiaries_export(request, pk, fmt):
    _require(request, "subsidy.view_batches")
    batch = _batch(request, pk)
    _f, qs = _payments(request, batch)
    header = ["批次", "截止日期", "受益人证件号码", "受益人名称", "受益人类型", "计入贷款笔数", "计入利息（元）",
              "封顶前贴息（元）", "应享贴息（元）", "此前已付（元）", "本批应付（元）", "本批实付（元）", "多付待追回（元）",
              "支付状态", "对账时间", "银行说明"]
    rows = ((batch.pk, batch.cutoff, mask(p.beneficiary_id), p.name, p.kind, p.loans_counted,
             _yuan(p.interest_counted_fen), _yuan(p.subsidy_before_cap_fen), _yuan(p.entitlement_fen),
             _yuan(p.paid_before_fen), _yuan(p.due_fen), _yuan(p.payable_fen), _yuan(p.overpayment_fen),
             p.status,
             timezone.localtime(p.reconciled_at).strftime("%Y-%m-%d %H:%M") if p.reconciled_at else "",
             p.reconcile_note)
            for p in qs.iterator(chunk_size=5000))
    return _export(header, rows, fmt, f"subsidy-batch-{batch.pk}-beneficiaries")


# --- loan lines


LINE_FILTERS = ("q", "bank", "outcome")


def _filter_lines(qs, f):
    if f["q"]:
        qs = qs.filter(Q(loan__loan_no__icontains=f["q"]) | Q(beneficiary_id__icontains=f["q"])
                       | Q(loan__borrower_name__icontains=f["q"]))
    if f.get("bank"):
        qs = qs.filter(loan__bank__code__iexact=f["bank"])
    if f["outcome"] == "eligible":
        qs = qs.filter(eligible=True)
    elif f["outcome"] == "ineligible":
        qs = qs.filter(eligible=False)
    elif f["outcome"] in rules.REASONS:
        qs = qs.filter(reason=f["outcome"])
    return qs.order_by("loan__bank__code", "loan__loan_no")


def _line_rows(qs, with_batch=False):
    for x in qs.iterator(chunk_size=5000):
        loan = x.loan
        row = [x.batch_id, x.batch.cutoff] if with_batch else []
        yield row + [loan.bank.code, loan.bank.name, loan.loan_no, mask(x.beneficiary_id), loan.borrower_name,
                     loan.borrower_kind, loan.purpose, loan.start_date, "是" if x.eligible else "否", x.reason,
                     rules.REASONS[x.reason][0] if x.reason in rules.REASONS else x.reason,
                     _yuan(x.interest_counted_fen), _yuan(x.subsidy_fen)]


LINE_HEADER = ["银行机构代码", "银行名称", "贷款合同编号", "借款人证件号码", "借款人名称", "借款人类型", "贷款用途", "放款日期",
               "是否计入", "不计入原因代码", "不计入原因", "计入利息（元）", "贴息金额（元）"]


def _outcomes():
    return [("eligible", _("计入")), ("ineligible", _("不计入（全部原因）"))] + _reasons()


@login_required
def loan_lines(request, pk):
    _require(request, "subsidy.view_batches")
    batch = _batch(request, pk)
    f = _get(request, *LINE_FILTERS)
    page, query = paginate(request, _filter_lines(selectors.loan_lines_for(request.user, batch), f))
    return render(request, "subsidy/loan_lines.html", {
        "batch": batch, "page": page, "query": query, "f": f, "filtered": any(f.values()),
        "outcomes": _outcomes(),
    })


@login_required
def loan_lines_export(request, pk, fmt):
    _require(request, "subsidy.view_batches")
    batch = _batch(request, pk)
    qs = _filter_lines(selectors.loan_lines_for(request.user, batch), _get(request, *LINE_FILTERS))
    return _export(LINE_HEADER, _line_rows(qs), fmt, f"subsidy-batch-{batch.pk}-loans")


# --- reconciliation


@login_required
def reconcile(request, pk):
    """Upload the bank's reconciliation of a released batch: each payment paid or failed; failed ones
    are owed again in the next batch. The file applies whole or not at all."""
    _require(request, "subsidy.reconcile")
    batch = _batch(request, pk)
    posted = request.method == "POST"
    form = ReconcileForm(request.POST if posted else None, request.FILES if posted else None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            counts = services.reconcile(request.user, batch, form.cleaned_data["file"])
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("对账完成：已支付 %(paid)s 笔，失败 %(failed)s 笔，无变化 %(unchanged)s 笔，"
                                        "仍待对账 %(pending)s 笔。") % counts)
            return redirect("subsidy:batch_detail", pk=batch.pk)
    counts = {s: 0 for s in PaymentStatus.values}
    counts.update(dict(batch.payments.order_by().values_list("status").annotate(n=Count("id"))))
    status = error.status if error else (400 if form.errors else 200)
    return render(request, "subsidy/reconcile.html", {
        "batch": batch, "form": form, "error": error, "row_errors": getattr(error, "errors", None),
        "counts": [(s, _one_language(label), counts[s]) for s, label in PaymentStatus.choices],
        "released": batch.status == BatchStatus.RELEASED,
    }, status=status)


# --------------------------------------------------------------------------------------------------
# An enterprise's own page, a bank's page


def _visible_batches(lines_qs, *more) -> list[SubsidyBatch]:
    ids = set(lines_qs.order_by().values_list("batch_id", flat=True).distinct())
    for qs in more:
        ids |= set(qs.order_by().values_list("batch_id", flat=True).distinct())
    return list(SubsidyBatch.objects.filter(pk__in=ids).order_by("-cutoff", "-id"))


def _chosen(request, batches: list[SubsidyBatch]) -> SubsidyBatch | None:
    wanted = request.GET.get("batch", "")
    for b in batches:
        if str(b.pk) == wanted:
            return b
    return batches[0] if batches else None


def _outcome_summary(lines) -> dict:
    rows = lines.order_by().values("eligible", "reason").annotate(n=Count("id"), subsidy=Sum("subsidy_fen"))
    out = {"loans": 0, "eligible": 0, "subsidy_fen": 0, "reasons": []}
    for r in rows:
        out["loans"] += r["n"]
        if r["eligible"]:
            out["eligible"] += r["n"]
            out["subsidy_fen"] += r["subsidy"] or 0
        else:
            out["reasons"].append({"code": r["reason"], "label": _reason(r["reason"]), "n": r["n"]})
    order = list(rules.REASONS)
    out["reasons"].sort(key=lambda r: order.index(r["code"]) if r["code"] in order else len(order))
    return out


def _mine(request):
    """My interest subsidy (enterprise user): each payment of the released batches to the enterprises
    it acts for (entitlement, what was paid and when), and each loan's line: counted interest, the
    subsidy, or why it did not count."""
    payments = selectors.beneficiary_lines_for(request.user).select_related("batch").order_by(
        "-batch__cutoff", "-batch_id", "beneficiary_id")
    lines_all = selectors.loan_lines_for(request.user)
    batches = _visible_batches(lines_all, payments)
    batch = _chosen(request, batches)
    f = {**_get(request, "q", "outcome"), "batch": str(batch.pk) if batch else ""}
    lines = _filter_lines(lines_all.filter(batch=batch), f) if batch else lines_all.none()
    page, query = paginate(request, lines)
    totals = {s: 0 for s in PaymentStatus.values}
    for p in payments:
        totals[p.status] += p.payable_fen
    latest = {}
    for p in payments:  # newest batch first: the first line of each beneficiary is its entitlement so far
        latest.setdefault(p.beneficiary_id, p)
    return render(request, "subsidy/mine.html", {
        "payments": payments, "batches": batches, "batch": batch, "page": page, "query": query, "f": f,
        "filtered": bool(f["q"] or f["outcome"]), "outcomes": _outcomes(), "totals": totals,
        "entitled_fen": sum(p.entitlement_fen for p in latest.values()),
        "summary": _outcome_summary(lines_all.filter(batch=batch)) if batch else None,
    })


@login_required
def mine_export(request, fmt):
    _require(request, "subsidy.view_own")
    qs = selectors.loan_lines_for(request.user).order_by("-batch__cutoff", "loan__bank__code",
                                                         "loan__loan_no")
    return _export(["批次", "截止日期", *LINE_HEADER], _line_rows(qs, with_batch=True), fmt, "my-interest-subsidy")


def _bank_lines(request):
    lines_all = selectors.loan_lines_for(request.user)
    batches = _visible_batches(lines_all)
    batch = _chosen(request, batches)
    f = {**_get(request, "q", "outcome"), "batch": str(batch.pk) if batch else ""}
    lines = _filter_lines(lines_all.filter(batch=batch), f) if batch else lines_all.none()
    return lines_all, batches, batch, f, lines


def _bank(request):
    """A bank's loans in the released batches: counted or why not, and the subsidy of each."""
    lines_all, batches, batch, f, lines = _bank_lines(request)
    page, query = paginate(request, lines)
    return render(request, "subsidy/bank.html", {
        "batches": batches, "batch": batch, "page": page, "query": query, "f": f,
        "filtered": bool(f["q"] or f["outcome"]), "outcomes": _outcomes(),
        "summary": _outcome_summary(lines_all.filter(batch=batch)) if batch else None,
    })


@login_required
def bank_export(request, fmt):
    _require(request, "subsidy.view_bank")
    _all, _batches, batch, _f, lines = _bank_lines(request)
    name = f"subsidy-batch-{batch.pk}-our-loans" if batch else "subsidy-our-loans"
    return _export(["批次", "截止日期", *LINE_HEADER], _line_rows(lines, with_batch=True), fmt, name)

