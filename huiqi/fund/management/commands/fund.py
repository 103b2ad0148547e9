"""`huiqi fund funnel --as-of YYYY-MM-DD --out DIR`, `huiqi fund schedule APP --out DIR` and
`huiqi fund rebuild-funnel`, headless.

``funnel`` writes DIR/funnel.csv (scopes hti, sgg, fund; amounts in 元 with two decimals) and prints the
seed's Chinese line from the figures; ``schedule`` writes DIR/schedule.csv of one application (by its
number): its interest periods, balance-days, interest, paid date and days late
(``shared/specs/stable-fund.md``, its last section). Both record nothing. ``rebuild-funnel`` makes the
funnel's daily roll-up again from the applications: after a bulk load around the services, or once the
registry has moved enterprises between districts or industries (the roll-up keeps each enterprise where it
was at the fund's last write for it).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core.errors import DomainError
from huiqi.core.headless import parse_day


class Command(BaseCommand):
    help = ("Stable-development fund: `fund funnel --as-of YYYY-MM-DD --out DIR` | `fund schedule APP --out DIR` | "
            "`fund rebuild-funnel`")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        funnel = sub.add_parser("funnel", help="applications, decisions and disbursements as of a day")
        funnel.add_argument("--as-of", required=True, dest="as_of", help="YYYY-MM-DD")
        funnel.add_argument("--out", required=True, type=Path, help="folder for funnel.csv")
        schedule = sub.add_parser("schedule", help="one application's repayment schedule")
        schedule.add_argument("application", help="the application's number, e.g. SGG-000003")
        schedule.add_argument("--out", required=True, type=Path, help="folder for schedule.csv")
        sub.add_parser("rebuild-funnel", help="make the funnel's daily roll-up again from the applications")

    def handle(self, *args, action, out=None, **options):
        from huiqi.fund import rules, selectors, services

        if action == "rebuild-funnel":
            self.stdout.write(f"{services.rebuild_funnel()} 条日汇总 daily group rows")
            return
        try:
            if action == "funnel":
                as_of = parse_day(options["as_of"], "截至日期", "the as-of date")
                rows = selectors.funnel(as_of)
                path = services.write_funnel_csv(rows, out)
                self.stdout.write(rules.funnel_line(as_of, rows[-1]))
            else:
                application = selectors.application_numbered(options["application"])
                path = services.write_schedule_csv(application, out)
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc
        self.stdout.write(f"  {path}")
