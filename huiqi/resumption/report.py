"""The analysis report (分析研判报告) of a day, in the reader's language: its content, its PDF and its XLSX.

``build`` reads through the selectors (so a district officer's report is its district's); ``write_pdf``
renders the page template with WeasyPrint and a CJK font embedded; ``write_xlsx`` writes its tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huiqi.core import formats, letterhead, pdf
from huiqi.core.i18n import localized, pick
from huiqi.registry import selectors as registry_selectors

from . import charts, rules, selectors
from .selectors import Scope

# (figure, label, unit): "%" for rates, else a count of enterprises or of people.
HEADLINES = [
    ("resumption_rate", gettext_lazy("复工率"), "%"),
    ("open", gettext_lazy("已开工企业"), "enterprises"),
    ("workers_rate", gettext_lazy("员工返岗率"), "%"),
    ("staff_returned", gettext_lazy("已返岗员工"), "people"),
    ("avg_capacity", gettext_lazy("平均产能恢复"), "%"),
    ("reporting_rate", gettext_lazy("排查填报率"), "%"),
    ("on_time_rate", gettext_lazy("按时填报率"), "%"),
]
RATE_PLACES = 1  # the rates are kept to one decimal place (rules.ratio)
_COUNTS = {"enterprises": gettext_lazy("%(n)s 家"), "people": gettext_lazy("%(n)s 人")}


def title_for(scope: Scope, day: dt.date) -> str:
    where = _("深圳市")
    if scope.district:
        district = registry_selectors.districts().filter(code=scope.district).first()
        where = localized(district) if district else scope.district
    return _("%(where)s企业复工复产分析研判报告（%(day)s）") % {"where": where, "day": formats.long_date(day)}


def _fmt(value, unit) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return formats.pct(value, RATE_PLACES)
    return _COUNTS[unit] % {"n": formats.count(value)}


def _delta(value, unit) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return _("%(change)s 个百分点") % {"change": formats.number(value, RATE_PLACES, signed=True)}
    return _COUNTS[unit] % {"n": formats.count(value, signed=True)}


def build(scope: Scope, day: dt.date, language: str | None = None) -> dict:
    """Everything the report says about ``day`` within ``scope``, in ``language`` (else the active one)."""
    with translation.override(language or translation.get_language()):
        data = _build(scope, day)
    data["language"] = language or translation.get_language()
    return data


def _build(scope: Scope, day: dt.date) -> dict:
    cur = selectors.figures_for(scope, day)
    prev = selectors.figures_for(scope, day - dt.timedelta(days=1))
    week = selectors.figures_for(scope, day - dt.timedelta(days=7))
    headline = [{"key": key, "label": str(label), "unit": unit, "value": cur[key], "text": _fmt(cur[key], unit),
                 "day_change": _delta(rules.change(cur[key], prev[key]), unit),
                 "week_change": _delta(rules.change(cur[key], week[key]), unit)}
                for key, label, unit in HEADLINES]
    by_district = [] if scope.district else selectors.groups_for(scope, day, "district")
    by_industry = [g for g in selectors.groups_for(scope, day, "industry") if g["in_scope"]]
    by_size = [g for g in selectors.groups_for(scope, day, "size") if g["in_scope"]]
    lag_districts = rules.lagging(by_district, cur["resumption_rate"])
    lag_industries = rules.lagging(by_industry, cur["resumption_rate"])
    difficulties = selectors.top_difficulties(scope, day)
    help_rows = list(selectors.help_requests(scope, day))
    # Every kind is in ``difficulties`` (seven at most), so their sum is the day's whole count; the list
    # below it stops at the selector's limit.
    help_total = sum(d["help"] for d in difficulties)
    trend = selectors.trend_for(scope, day - dt.timedelta(days=13), day)
    trend_chart = charts.line_chart(
        [f"{t['day'].month}/{t['day'].day}" for t in trend],
        [(_("复工率"), [t["resumption_rate"] for t in trend]), (_("员工返岗率"), [t["workers_rate"] for t in trend])],
        y_max=100)
    groups = by_district or by_industry
    group_chart = charts.bar_chart([g["label"] for g in groups], [g["resumption_rate"] or 0 for g in groups],
                                   reference=cur["resumption_rate"], reference_label=_("全市") if by_district else _("合计"))
    summary = _summary(cur, prev, week, lag_districts, lag_industries, difficulties, help_total)
    return {"title": title_for(scope, day), "day": day, "figures": cur, "headline": headline,
            "summary": summary, "by_district": by_district, "by_industry": by_industry, "by_size": by_size,
            "lag_districts": lag_districts, "lag_industries": lag_industries, "difficulties": difficulties,
            "help_requests": help_rows, "help_total": help_total,
            "all_help_requests": selectors.help_requests(scope, day, limit=None),  # the XLSX lists them all
            "trend": trend, "trend_chart": trend_chart, "group_chart": group_chart,
            "group_chart_title": _("各区复工率") if by_district else _("各行业复工率"),
            "letterhead": letterhead.header()}  # the issuing office and the day of issue, in this language


def _groups(groups) -> str:
    return pick("、", ", ").join(_("%(group)s（%(rate)s）") % {"group": g["label"], "rate": formats.pct(g["resumption_rate"], RATE_PLACES)}
                                for g in groups)


def _summary(cur, prev, week, lag_districts, lag_industries, difficulties, helps) -> list[str]:
    out = [
        _("纳入统计企业 %(in_scope)s 家，当日填报 %(reports)s 家（填报率 %(reporting_rate)s），已开工 %(open)s 家，"
          "复工率 %(resumption_rate)s，较前一日%(day_change)s，较上周同日%(week_change)s。") % {
            "in_scope": formats.count(cur["in_scope"]), "reports": formats.count(cur["reports"]),
            "reporting_rate": _fmt(cur["reporting_rate"], "%"), "open": formats.count(cur["open"]),
            "resumption_rate": _fmt(cur["resumption_rate"], "%"),
            "day_change": _delta(rules.change(cur["resumption_rate"], prev["resumption_rate"]), "%"),
            "week_change": _delta(rules.change(cur["resumption_rate"], week["resumption_rate"]), "%")},
        _("已返岗员工 %(staff_returned)s 人，返岗率 %(workers_rate)s；已开工企业平均产能恢复 %(avg_capacity)s。") % {
            "staff_returned": formats.count(cur["staff_returned"]), "workers_rate": _fmt(cur["workers_rate"], "%"),
            "avg_capacity": _fmt(cur["avg_capacity"], "%")},
    ]
    if lag_districts:
        out.append(_("复工率低于全市水平的区：%(groups)s。") % {"groups": _groups(lag_districts)})
    if lag_industries:
        out.append(_("复工率偏低的行业：%(groups)s。") % {"groups": _groups(lag_industries)})
    if difficulties:
        top = pick("、", ", ").join(_("%(kind)s %(n)s 家") % {"kind": d["label"], "n": formats.count(d["count"])}
                                    for d in difficulties[:3])
        out.append(_("企业反映最多的困难：%(top)s；申请协调解决的 %(helps)s 项，已转各区跟进。")
                   % {"top": top, "helps": formats.count(helps)})
    return out


def render_html(data: dict, *, for_pdf: bool) -> str:
    return render_to_string("resumption/report_document.html", {**data, **pdf.document_context(for_pdf=for_pdf)})


def write_pdf(data: dict, path: Path) -> Path:
    """The report as PDF (``core.pdf``), in the language it was built in."""
    with translation.override(data.get("language") or translation.get_language()):
        html = render_html(data, for_pdf=True)
    return pdf.write(html, path)


def tables(data: dict) -> list[tuple[str, list[str], list[list]]]:
    """The report's tables: (sheet name, header, rows), in the active language."""
    group_header = [_("分组"), _("纳入企业"), _("填报"), _("已开工"), _("复工率(%)"), _("员工总数"), _("已返岗"),
                    _("返岗率(%)"), _("平均产能(%)")]

    def group_rows(groups):
        return [[g["label"], g["in_scope"], g["reports"], g["open"], g["resumption_rate"], g["staff_total"],
                 g["staff_returned"], g["workers_rate"], g["avg_capacity"]] for g in groups]

    out = [(_("主要指标"), [_("指标"), _("当日"), _("较前一日"), _("较上周同日")],
            [[h["label"], h["text"], h["day_change"], h["week_change"]] for h in data["headline"]])]
    if data["by_district"]:
        out.append((_("分区"), group_header, group_rows(data["by_district"])))
    out.append((_("分行业"), group_header, group_rows(data["by_industry"])))
    out.append((_("分规模"), group_header, group_rows(data["by_size"])))
    out.append((_("近两周走势"), [_("日期"), _("填报"), _("已开工"), _("复工率(%)"), _("已返岗"), _("返岗率(%)"),
                                  _("平均产能(%)")],
                [[t["day"], t["reports"], t["open"], t["resumption_rate"], t["staff_returned"], t["workers_rate"],
                  t["avg_capacity"]] for t in data["trend"]]))
    out.append((_("主要困难"), [_("困难类型"), _("企业数"), _("申请协调")],
                [[d["label"], d["count"], d["help"]] for d in data["difficulties"]]))
    out.append((_("申请协调企业"), [_("区"), _("企业"), _("统一社会信用代码"), _("困难类型"), _("说明")],
                [[localized(h.district), h.enterprise.name, h.enterprise.uscc, h.get_kind_display(), h.note]
                 for h in data.get("all_help_requests", data["help_requests"])]))
    return out


def write_xlsx(data: dict, path: Path) -> Path:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    bold = wb.add_format({"bold": True})
    date = wb.add_format({"num_format": formats.XLSX_DATE})
    count = wb.add_format({"num_format": formats.XLSX_COUNT})
    rate = wb.add_format({"num_format": formats.xlsx_number_format(RATE_PLACES)})
    for name, header, rows in tables(data):
        ws = wb.add_worksheet(name[:31])
        ws.write_row(0, 0, header, bold)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date)
                elif v is None:
                    ws.write_blank(r, c, None)
                elif isinstance(v, (int, Decimal)) and not isinstance(v, bool):
                    ws.write_number(r, c, float(v), rate if isinstance(v, Decimal) else count)
                else:
                    ws.write_string(r, c, str(v))
    wb.close()
    return path
