"""The per-policy funnel (政策转化漏斗) as a page with a chart and as a workbook, for a period in the URL."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from huiqi.core import clock
from huiqi.core.downloads import file_download
from huiqi.core.money import fen_to_yuan
from huiqi.core.permissions import require_page
from huiqi.core.tabular import write_rows

from . import rules, selectors, selectors_funnel
from .models import Mode


def _day(request, name: str, default: dt.date, errors: list) -> dt.date:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(name)
        return default


def _query(request) -> dict:
    """The period (``from``, ``to``: ISO days, by default from the campaign's start to today), one item
    (``code``) and a mode (``mode``) from the URL; a day that cannot be read is named and left out."""
    today = clock.today()
    errors: list[str] = []
    start = _day(request, "from", selectors.params_on(today).campaign_start, errors)
    end = _day(request, "to", today, errors)
    if end < start:
        errors.append("to")
        end = today if today >= start else start
    mode = request.GET.get("mode", "").strip()
    mode = mode if mode in Mode.values else ""
    rows, total = selectors_funnel.funnel(request.user, start, end, code=request.GET.get("code", "").strip()[:40],
                                          mode=mode)
    return {"start": start, "end": end, "rows": rows, "total": total, "errors": errors, "mode": mode,
            "code": request.GET.get("code", "").strip()[:40]}


def _labels():
    return {"views": _("浏览企业"), "pushes": _("推送企业"), "opens": _("打开企业"), "applications": _("申报企业"),
            "approvals": _("获批企业")}


@login_required
def funnel(request):
    """Per item: views → pushes → opens → applications → approvals → money, distinct enterprises at each step
    and each step's rate over the one before (half-up to 0.1 %)."""
    require_page(request, "policies.view_funnel")
    q = _query(request)
    labels = _labels()
    chosen = q["rows"][0] if q["code"] and q["rows"] else q["total"]
    chart = {"labels": [labels[s] for s in rules.FUNNEL_STEPS], "unit": _("家"),
             "series": [{"name": chosen.title or _("全部事项"), "data": [getattr(chosen, s) for s in rules.FUNNEL_STEPS]}]}
    items = selectors_funnel.funnel_items(request.user)
    return render(request, "policies/funnel.html", {
        **q, "labels": labels, "chart": chart, "steps": rules.FUNNEL_STEPS, "modes": Mode.choices,
        "items": sorted(((c, t) for c, (t, _m) in items.items()), key=lambda x: x[0]),
        "error_fields": [{"from": _("开始日期"), "to": _("截止日期")}[e] for e in dict.fromkeys(q["errors"])]})


@login_required
def funnel_export(request):
    """The funnel of the period as a workbook, in the reader's language."""
    require_page(request, "policies.view_funnel")
    q = _query(request)
    labels = _labels()
    header = [_("事项编码"), _("事项名称"), _("办理方式"), labels["views"], _("匿名浏览次数"), labels["pushes"],
              labels["opens"], labels["applications"], labels["approvals"], _("兑付金额（元）"),
              *(_("%(step)s转化率（%%）") % {"step": labels[s]} for s in rules.FUNNEL_STEPS[1:])]
    modes = dict(Mode.choices)

    def line(r, code, title, mode):
        return (code, title, mode, r.views, r.anonymous_views, r.pushes, r.opens, r.applications, r.approvals,
                fen_to_yuan(r.paid_fen), *(r.rates[s] for s in rules.FUNNEL_STEPS[1:]))

    rows = [line(r, r.code, r.title, str(modes.get(r.mode, r.mode))) for r in q["rows"]]
    rows.append(line(q["total"], "", _("合计"), ""))
    return file_download(lambda path: write_rows(path, header, rows),
                         f"policy-funnel-{q['start']}-{q['end']}.xlsx")
