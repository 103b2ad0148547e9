"""`huiqi pool simulate [--params FILE.json] --out DIR`: the risk-compensation pool's claims, headless; and
`huiqi pool report --date YYYY-MM-DD --out FILE.pdf [--xlsx FILE.xlsx] --as USERNAME`: its report at a day,
as that user reads it (a bank's staff: their bank's).

Settles, recording nothing, every NPL held that has no claim yet, as claims approved in the order
(npl_date, bank_code, loan_no), against the balance left (pool_size less what recorded claims were paid),
and writes DIR/claims.csv (``shared/specs/risk-compensation.md``, its last section). ``--params`` overrides
parameters by the spec's names, amounts and ratios as strings (``{"pool_size": "700000.00"}``); overridden
ratios apply as if the loans had been registered under them; recorded claims are untouched.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core.errors import DomainError
from huiqi.core.headless import read_overrides


class Command(BaseCommand):
    help = "Risk-compensation pool: `pool simulate [--params FILE.json] --out DIR`"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        simulate = sub.add_parser("simulate", help="settle every unclaimed NPL without recording anything")
        simulate.add_argument("--out", required=True, type=Path, help="folder for claims.csv")
        simulate.add_argument("--params", type=Path, help="JSON object of parameter overrides")
        report = sub.add_parser("report", help="the pool's report at a day as PDF (and XLSX)")
        report.add_argument("--date", required=True, help="YYYY-MM-DD")
        report.add_argument("--out", required=True, type=Path, help="the PDF file")
        report.add_argument("--xlsx", type=Path, help="also its tables as a workbook")
        report.add_argument("--as", dest="username", required=True, help="the user whose figures these are")

    def handle(self, *args, action, out, params=None, **options):
        from huiqi.pool import rules, services

        if action == "report":
            return self._report(out, options["date"], options.get("xlsx"), options["username"])

        overrides = read_overrides(params) if params is not None else None
        try:
            result = services.simulate(overrides)
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc
        path = services.write_claims_csv(result, out)
        self.stdout.write("模拟，未记录 simulation, nothing recorded")
        for label, value in (
            ("申请 claims", str(len(result.lines))),
            ("符合条件 eligible", str(result.eligible)),
            ("可用余额 balance", rules.fen_str(result.balance_fen)),
            ("拨付 paid", rules.fen_str(result.paid_fen)),
            ("尚欠 owed", rules.fen_str(result.owed_fen)),
            ("余额 left", rules.fen_str(result.left_fen)),
        ):
            self.stdout.write(f"  {label}: {value}")
        self.stdout.write(f"  {path}")

    def _report(self, out: Path, day: str, xlsx: Path | None, username: str) -> None:
        import datetime as dt

        from django.contrib.auth import get_user_model

        from huiqi.core.tabular import write_sheets
        from huiqi.pool import report

        try:
            on = dt.date.fromisoformat(day)
        except ValueError:
            raise CommandError(f"--date 须为 YYYY-MM-DD must be YYYY-MM-DD: {day!r}") from None
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.has_perm("pool.view"):
            raise CommandError(f"用户 {username} 不存在或无权查看风险补偿资金池 "
                               f"no user {username} who may read the pool")
        data = report.build(user, on)
        report.write_pdf(data, out)
        self.stdout.write(f"{data['title']}\n  PDF  {out}")
        if xlsx is not None:
            write_sheets(xlsx, report.sheets(data))
            self.stdout.write(f"  XLSX {xlsx}")
