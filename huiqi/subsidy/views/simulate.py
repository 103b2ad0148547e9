"""Simulate and compare: a batch as it would be now, recorded nowhere, with a second parameter set
beside it when asked; the page and its file."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _, gettext_lazy

from huiqi.core.errors import DomainError, ValidationFailed
from huiqi.lending.selectors import BorrowerKind

from .. import rules, services
from ..forms import ParamsForm, SimulateForm
from .common import (
    EXPORT_FORMATS,
    chart,
    export,
    factor_text,
    mask,
    reason,
    relabel,
    require,
    yuan,
)

# A simulation page lists this many beneficiaries; the export has them all.
SHOWN = 200


def _params_rows(base: dict, a: dict, b: dict | None) -> list[dict]:
    labels, modes = rules.PARAMETER_LABELS, rules.RATIONING_LABELS
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
        row["kind"] = BorrowerKind(kind).label if kind in BorrowerKind.values else ""
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
            rows.append({"code": code, "label": reason(code), "a": counts["a"][code],
                         "b": counts["b"][code]})
    return rows


def _simulate_forms(request):
    data = request.GET if "cutoff" in request.GET else None
    form = SimulateForm(data, initial={"cutoff": services.default_cutoff()})
    return form, ParamsForm(data, prefix="a"), ParamsForm(data, prefix="b")


def _run_simulations(request, form, a, b):
    cutoff, comparing = form.cleaned_data["cutoff"], form.cleaned_data["compare"]
    ra = services.simulate(request.user, cutoff, a.overrides())
    rb = services.simulate(request.user, cutoff, b.overrides()) if comparing else None
    return cutoff, ra, rb


@login_required
def simulate(request):
    """A batch as it would be now, recorded nowhere; with ``compare`` a second parameter set beside it."""
    require(request, "subsidy.simulate")
    form, a, b = _simulate_forms(request)
    ctx = {"form": form, "a": a, "b": b, "sets": [(a, "A"), (b, "B")], "query": request.GET.urlencode()}
    status = 200
    if form.is_bound and all(f.is_valid() for f in (form, a, b)):
        try:
            cutoff, ra, rb = _run_simulations(request, form, a, b)
        except DomainError as exc:
            ctx["error"], status = exc, exc.status
        else:
            cmp = relabel(services.compare(ra, rb or ra))
            beneficiaries = _beneficiary_rows(ra, rb)
            series = [("a", "A")] + ([("b", "B")] if rb else [])
            ctx.update({
                "result": True, "comparing": rb is not None, "cutoff": cutoff, "cmp": cmp,
                "factor_a": factor_text(cmp["a"]["rationing_factor"]),
                "factor_b": factor_text(cmp["b"]["rationing_factor"]),
                "params": _params_rows(services.current_params(cutoff).as_mapping(), ra.params.as_mapping(),
                                       rb.params.as_mapping() if rb else None),
                "beneficiaries": beneficiaries[:SHOWN], "beneficiary_count": len(beneficiaries),
                "shown": SHOWN, "reasons": _reason_rows(ra, rb),
                "chart_district": chart(cmp["by_district"], "payable_fen", series),
                "chart_bank": chart(cmp["by_bank"], "subsidy_fen", series),
            })
    elif form.is_bound:
        status = 400
    return render(request, "subsidy/simulate.html", ctx, status=status)


@login_required
def simulate_export(request, fmt):
    """The simulation of the page's query as a file: ``what=beneficiaries`` (default) or ``loans``;
    side by side (A then B) when comparing. Without a cutoff, today's (the program's end once passed)."""
    require(request, "subsidy.simulate")
    if fmt not in EXPORT_FORMATS:
        raise Http404
    data = request.GET.copy()
    data.setdefault("cutoff", services.default_cutoff().isoformat())
    form, a, b = SimulateForm(data), ParamsForm(data, prefix="a"), ParamsForm(data, prefix="b")
    if not all(f.is_valid() for f in (form, a, b)):
        bad = next(f for f in (form, a, b) if not f.is_valid())
        field, problems = next(iter(bad.errors.items()))
        label = bad.fields[field].label if field in bad.fields else field
        raise ValidationFailed("subsidy.simulate_form", gettext_lazy("测算条件有误：%(label)s %(problem)s"),
                               field=field, label=label, problem=problems[0])
    cutoff, ra, rb = _run_simulations(request, form, a, b)
    sides = [ra] + ([rb] if rb else [])
    names = ("A", "B")
    if request.GET.get("what") == "loans":
        header = [_("银行机构代码"), _("贷款合同编号"), _("受益人证件号码")]
        for i, _r in enumerate(sides):
            p = f"{names[i]} " if rb else ""
            header += [p + _("是否计入"), p + _("不计入原因代码"), p + _("不计入原因"), p + _("计入利息（元）"), p + _("贴息金额（元）")]
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
                        row += [_("是") if x.eligible else _("否"), x.reason or "",
                                reason(x.reason) if x.reason else "",
                                yuan(x.interest_counted_fen), yuan(x.subsidy_fen)]
                yield row

        return export(header, loan_rows(), fmt, f"subsidy-simulation-{cutoff}-loans")
    header = [_("受益人证件号码"), _("受益人名称"), _("受益人类型")]
    for i, _r in enumerate(sides):
        p = f"{names[i]} " if rb else ""
        header += [p + _("计入贷款笔数"), p + _("计入利息（元）"), p + _("封顶前贴息（元）"), p + _("应享贴息（元）"),
                   p + _("此前已付（元）"), p + _("本批应付（元）"), p + _("本批实付（元）")]

    def beneficiary_rows():
        for row in sorted(_beneficiary_rows(ra, rb), key=lambda r: r["id"]):
            out = [row["id"], row["name"], row["kind"]]
            for side in ("a", "b")[:len(sides)]:
                x = row[side]
                out += ([x.loans_counted, yuan(x.interest_counted_fen), yuan(x.subsidy_before_cap),
                         yuan(x.entitlement), yuan(x.paid_before), yuan(x.due), yuan(x.payable)]
                        if x else [None] * 7)
            yield out

    return export(header, beneficiary_rows(), fmt, f"subsidy-simulation-{cutoff}")
