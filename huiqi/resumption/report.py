"""The analysis report (分析研判报告) of a day, in Chinese: its content, its PDF and its XLSX.

``build`` reads through the selectors (so a district officer's report is its district's); ``write_pdf``
renders the page template with WeasyPrint and a CJK font embedded; ``write_xlsx`` writes its tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from . import charts, rules, selectors
from .selectors import Scope
from huiqi.registry import selectors as registry_selectors

# Fonts tried in order for the PDF; HUIQI_CJK_FONT names another file.
FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
]
BOLD = {"NotoSansCJK-Regular.ttc": "NotoSansCJK-Bold.ttc"}

HEADLINES = [
    ("resumption_rate", "复工率", "%"),
    ("open", "已开工企业", "家"),
    ("workers_rate", "员工返岗率", "%"),
    ("staff_returned", "已返岗员工", "人"),
    ("avg_capacity", "平均产能恢复", "%"),
    ("reporting_rate", "排查填报率", "%"),
    ("on_time_rate", "按时填报率", "%"),
]


def cjk_font() -> tuple[str | None, str | None]:
    """(regular, bold) font files for the PDF, or (None, None) to let fontconfig choose."""
    import os

    wanted = os.environ.get("HUIQI_CJK_FONT")
    for path in ([wanted] if wanted else []) + FONT_CANDIDATES:
        if path and Path(path).is_file():
            bold = Path(path).with_name(BOLD.get(Path(path).name, Path(path).name))
            return path, str(bold if bold.is_file() else path)
    return None, None


def missing_system_parts() -> list[str]:
    """What the PDF report lacks on this machine, each as a sentence saying how to install it."""
    import shutil
    import subprocess

    missing = []
    try:
        import weasyprint  # noqa: F401 - loads Pango through its C bindings
    except OSError as exc:
        missing.append(f"Pango, which WeasyPrint draws the PDF report with, cannot be loaded ({exc}); "
                       "on Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    if cjk_font() == (None, None):
        listed = ""
        if shutil.which("fc-list"):
            listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True,
                                    check=False).stdout.strip()
        if not listed:
            missing.append("no Chinese (CJK) font is installed, so the PDF report would print empty boxes; "
                           "on Debian or Ubuntu: apt-get install fonts-noto-cjk (or set HUIQI_CJK_FONT to a font file)")
    return missing


def title_for(scope: Scope, day: dt.date) -> str:
    where = "深圳市"
    if scope.district:
        where = registry_selectors.districts().filter(code=scope.district).values_list("name", flat=True).first() or scope.district
    return f"{where}企业复工复产分析研判报告（{day.year}年{day.month}月{day.day}日）"


def _fmt(value, unit) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value}%"
    return f"{value:,}{unit}"


def _delta(value, unit) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ""
    if unit == "%":
        return f"{sign}{value}个百分点"
    return f"{sign}{value:,}{unit}"


def build(scope: Scope, day: dt.date) -> dict:
    """Everything the report says about ``day`` within ``scope``."""
    with translation.override("zh-hans"):
        return _build(scope, day)


def _build(scope: Scope, day: dt.date) -> dict:
    cur = selectors.figures_for(scope, day)
    prev = selectors.figures_for(scope, day - dt.timedelta(days=1))
    week = selectors.figures_for(scope, day - dt.timedelta(days=7))
    headline = [{"key": key, "label": label, "unit": unit, "value": cur[key], "text": _fmt(cur[key], unit),
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
        [("复工率", [t["resumption_rate"] for t in trend]), ("员工返岗率", [t["workers_rate"] for t in trend])],
        y_max=100)
    groups = by_district or by_industry
    group_chart = charts.bar_chart([g["label"] for g in groups], [g["resumption_rate"] or 0 for g in groups],
                                   reference=cur["resumption_rate"], reference_label="全市" if by_district else "合计")
    summary = _summary(cur, prev, week, lag_districts, lag_industries, difficulties, help_total)
    return {"title": title_for(scope, day), "day": day, "figures": cur, "headline": headline,
            "summary": summary, "by_district": by_district, "by_industry": by_industry, "by_size": by_size,
            "lag_districts": lag_districts, "lag_industries": lag_industries, "difficulties": difficulties,
            "help_requests": help_rows, "help_total": help_total,
            "all_help_requests": selectors.help_requests(scope, day, limit=None),  # the XLSX lists them all
            "trend": trend, "trend_chart": trend_chart, "group_chart": group_chart,
            "group_chart_title": "各区复工率" if by_district else "各行业复工率"}


def _summary(cur, prev, week, lag_districts, lag_industries, difficulties, helps) -> list[str]:
    out = [
        f"纳入统计企业 {cur['in_scope']:,} 家，当日填报 {cur['reports']:,} 家（填报率 {_fmt(cur['reporting_rate'], '%')}），"
        f"已开工 {cur['open']:,} 家，复工率 {_fmt(cur['resumption_rate'], '%')}，"
        f"较前一日{_delta(rules.change(cur['resumption_rate'], prev['resumption_rate']), '%')}，"
        f"较上周同日{_delta(rules.change(cur['resumption_rate'], week['resumption_rate']), '%')}。",
        f"已返岗员工 {cur['staff_returned']:,} 人，返岗率 {_fmt(cur['workers_rate'], '%')}；"
        f"已开工企业平均产能恢复 {_fmt(cur['avg_capacity'], '%')}。",
    ]
    if lag_districts:
        out.append("复工率低于全市水平的区：" + "、".join(f"{g['label']}（{g['resumption_rate']}%）" for g in lag_districts)
                   + "。")
    if lag_industries:
        out.append("复工率偏低的行业：" + "、".join(f"{g['label']}（{g['resumption_rate']}%）" for g in lag_industries) + "。")
    if difficulties:
        out.append("企业反映最多的困难：" + "、".join(f"{d['label'].split()[0]} {d['count']:,} 家" for d in difficulties[:3])
                   + f"；申请协调解决的 {helps:,} 项，已转各区跟进。")
    return out


def render_html(data: dict, *, for_pdf: bool) -> str:
    regular, bold = cjk_font() if for_pdf else (None, None)
    return render_to_string("resumption/report_document.html",
                            {**data, "font_regular": Path(regular).as_uri() if regular else "",
                             "font_bold": Path(bold).as_uri() if bold else "", "for_pdf": for_pdf})


def write_pdf(data: dict, path: Path) -> Path:
    """The report as PDF, the CJK font embedded (subset) so every character shows anywhere."""
    from weasyprint import HTML

    with translation.override("zh-hans"):
        html = render_html(data, for_pdf=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(str(path))
    return path


def tables(data: dict) -> list[tuple[str, list[str], list[list]]]:
    """The report's tables: (sheet name, header, rows)."""
    group_header = ["分组", "纳入企业", "填报", "已开工", "复工率(%)", "员工总数", "已返岗", "返岗率(%)", "平均产能(%)"]

    def group_rows(groups):
        return [[g["label"], g["in_scope"], g["reports"], g["open"], g["resumption_rate"], g["staff_total"],
                 g["staff_returned"], g["workers_rate"], g["avg_capacity"]] for g in groups]

    out = [("主要指标", ["指标", "当日", "较前一日", "较上周同日"],
            [[h["label"], h["text"], h["day_change"], h["week_change"]] for h in data["headline"]])]
    if data["by_district"]:
        out.append(("分区", group_header, group_rows(data["by_district"])))
    out.append(("分行业", group_header, group_rows(data["by_industry"])))
    out.append(("分规模", group_header, group_rows(data["by_size"])))
    out.append(("近两周走势", ["日期", "填报", "已开工", "复工率(%)", "已返岗", "返岗率(%)", "平均产能(%)"],
                [[t["day"], t["reports"], t["open"], t["resumption_rate"], t["staff_returned"], t["workers_rate"],
                  t["avg_capacity"]] for t in data["trend"]]))
    out.append(("主要困难", ["困难类型", "企业数", "申请协调"],
                [[d["label"].split()[0], d["count"], d["help"]] for d in data["difficulties"]]))
    out.append(("申请协调企业", ["区", "企业", "统一社会信用代码", "困难类型", "说明"],
                [[h.district.name, h.enterprise.name, h.enterprise.uscc, h.get_kind_display().split()[0], h.note]
                 for h in data.get("all_help_requests", data["help_requests"])]))
    return out


def write_xlsx(data: dict, path: Path) -> Path:
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False})
    bold = wb.add_format({"bold": True})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, header, rows in tables(data):
        ws = wb.add_worksheet(name[:31])
        ws.write_row(0, 0, header, bold)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date)
                elif v is None:
                    ws.write_blank(r, c, None)
                elif isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                    ws.write_number(r, c, float(v))
                else:
                    ws.write_string(r, c, str(v))
    wb.close()
    return path
