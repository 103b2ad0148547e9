"""`huiqi resumption report|rollup`: return to work, headless.

    huiqi resumption report --date 2020-03-02 --out report.pdf [--district 440305] [--xlsx tables.xlsx]
    huiqi resumption rollup [--from 2020-02-03] [--to 2020-04-02]

``report`` writes the day's analysis report (PDF, and its tables as XLSX when asked) for the city or a
district. ``rollup`` rebuilds the dashboard's daily rollup from the raw daily checks, set-based.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management import BaseCommand, CommandError
from huiqi.core import formats
from huiqi.registry import selectors as registry_selectors


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"日期 {text!r} 不是 YYYY-MM-DD 格式 the date {text!r} is not YYYY-MM-DD") from None
    if not dt.date(2000, 1, 1) <= day <= dt.date(2099, 12, 31):
        raise CommandError(f"日期 {text} 须在 2000 至 2099 年之间 the date {text} must be within 2000–2099")
    return day


class Command(BaseCommand):
    help = "Return to work: write the analysis report of a day (PDF/XLSX), or rebuild the daily rollup"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rep = sub.add_parser("report", help="write the analysis report of a day")
        rep.add_argument("--date", required=True, help="YYYY-MM-DD")
        rep.add_argument("--out", required=True, help="the PDF to write")
        rep.add_argument("--xlsx", help="also write the report's tables to this XLSX file")
        rep.add_argument("--district", default="", help="a district code (default: the city)")
        roll = sub.add_parser("rollup", help="rebuild the daily rollup from the daily checks")
        roll.add_argument("--from", dest="start")
        roll.add_argument("--to", dest="end")

    def handle(self, *args, **o):
        if o["action"] == "rollup":
            from huiqi.resumption.services import rebuild_rollup

            rows = rebuild_rollup(None, _date(o.get("start")), _date(o.get("end")))
            self.stdout.write(f"排查日汇总已重建 rollup rebuilt: {formats.count(rows)} rows")
            return
        from huiqi.resumption import report
        from huiqi.resumption.selectors import Filters, Scope

        day = _date(o["date"])
        if o["district"] and not registry_selectors.districts().filter(code=o["district"]).exists():
            raise CommandError(f"没有代码为 {o['district']} 的区 no district {o['district']}")
        scope = Scope(district=o["district"], filters=Filters(district=o["district"]))
        data = report.build(scope, day)
        out = Path(o["out"])
        report.write_pdf(data, out)
        self.stdout.write(f"{data['title']}\n  PDF  {out}")
        if o.get("xlsx"):
            report.write_xlsx(data, Path(o["xlsx"]))
            self.stdout.write(f"  XLSX {o['xlsx']}")
