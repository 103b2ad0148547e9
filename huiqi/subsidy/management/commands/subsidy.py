"""`huiqi subsidy simulate|run|files`: the interest-subsidy batch, headless.

    huiqi subsidy simulate --cutoff 2020-12-31 [--params overrides.json] --out DIR
    huiqi subsidy run --cutoff 2020-12-31 --out DIR --as USERNAME
    huiqi subsidy files --batch ID --out DIR --as USERNAME

``simulate`` and ``run`` write beneficiaries.csv and loans.csv into DIR and print the totals.
``simulate`` records nothing; ``run`` records a batch as the user it names (who must hold
``subsidy.run``; the batch then waits for review and approval by two other people, as on the pages).
Run again after it crashed past the record (the batch recorded, its files not written), ``run`` finds
that user's batch of that cutoff, not yet reviewed, and writes its files from the record instead of
computing again. ``files`` writes a recorded batch's files again from the record, and its payment file
and control totals too once it is released.
The overrides file is a JSON object with the spec's parameter names, numbers read exactly
(``{"budget": "500000.00"}`` or ``{"budget": 500000.00}``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core import formats
from huiqi.core.errors import DomainError
from huiqi.core.headless import parse_day, read_overrides


def _date(text: str) -> dt.date:
    return parse_day(text, "截止日期", "the cutoff")


def _totals(outcome) -> list[tuple[str, str]]:
    """The figures to print, from a simulation's result or a recorded batch."""
    from huiqi.subsidy.models import SubsidyBatch
    from huiqi.subsidy.rules import fen_str
    from huiqi.subsidy.services import fraction_text

    if isinstance(outcome, SubsidyBatch):
        figures = (outcome.beneficiaries, outcome.loans_counted, outcome.due_total_fen, outcome.payable_total_fen,
                   outcome.overpayment_total_fen, outcome.budget_left_fen, outcome.rationing_factor,
                   outcome.unspent_fen, outcome.over_budget)
    else:
        figures = (len(outcome.beneficiaries), sum(1 for x in outcome.loans if x.eligible), outcome.due_total,
                   outcome.payable_total, outcome.overpayment_total, outcome.budget_left,
                   fraction_text(outcome.rationing_factor), outcome.unspent, outcome.over_budget)
    n, loans, due, payable, over, left, factor, unspent, over_budget = figures
    return [
        ("受益人 beneficiaries", str(n)),
        ("计入贷款 loans counted", str(loans)),
        ("应付合计 due", fen_str(due)),
        ("实付合计 payable", fen_str(payable)),
        ("多付待追回 overpayment", fen_str(over)),
        ("剩余预算 budget left", fen_str(left)),
        ("分配系数 rationing factor", factor or "—"),
        ("结余 unspent", fen_str(unspent)),
        ("超预算 over budget", "是 yes" if over_budget else "否 no"),
    ]


class Command(BaseCommand):
    help = ("Interest subsidy: `subsidy simulate --cutoff YYYY-MM-DD [--params FILE.json] --out DIR` "
            "or `subsidy run --cutoff YYYY-MM-DD --out DIR --as USERNAME`")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        simulate = sub.add_parser("simulate", help="compute a batch without recording it")
        run = sub.add_parser("run", help="compute and record a batch, as the user named by --as")
        for p in (simulate, run):
            p.add_argument("--cutoff", required=True, help="YYYY-MM-DD: payments paid on or before it count")
            p.add_argument("--out", required=True, type=Path, help="folder for beneficiaries.csv and loans.csv")
        simulate.add_argument("--params", type=Path, help="JSON object of parameter overrides")
        run.add_argument("--as", dest="acting_user", required=True, metavar="USERNAME",
                         help="the user who runs the batch (needs subsidy.run; may then neither review nor "
                              "approve it)")
        files = sub.add_parser("files", help="write a recorded batch's files again, from the record")
        files.add_argument("--batch", required=True, type=int, help="the batch's number")
        files.add_argument("--out", required=True, type=Path, help="folder for the batch's files")
        files.add_argument("--as", dest="acting_user", required=True, metavar="USERNAME",
                           help="the user who asks for them (needs subsidy.view_batches)")

    def handle(self, *args, action, out, cutoff=None, params=None, acting_user=None, batch=None, **options):
        from huiqi.subsidy import services

        if action == "files":
            return self._files(batch, out, acting_user)
        day = _date(cutoff)
        overrides = read_overrides(params) if params is not None else None
        try:
            if action == "simulate":
                result = services.simulate(None, day, overrides)
                paths = services.write_outputs(result, out)
                totals = _totals(result)
                self.stdout.write(f"模拟，未记录 simulation, nothing recorded: 截至 cutoff {day}")
            else:
                user = services.acting_user(acting_user, "subsidy.run")
                recorded = services.recorded_run(user, day)
                batch = recorded or services.run_batch(user, day)
                paths = services.write_outputs(batch, out)
                totals = _totals(batch)
                if recorded is None:
                    self.stdout.write(f"已记录贴息批次 recorded subsidy batch #{batch.pk}: 截至 cutoff {day}，"
                                      f"计算人 run by {user.get_username()}，待他人复核 awaiting review by someone else")
                else:
                    at = formats.beijing(batch.created_at, "second")
                    self.stdout.write(
                        f"贴息批次 #{batch.pk}（截至 {day}）已于 {at} 由 {user.get_username()} 计算并记录，待复核："
                        f"未重新计算，结果文件按记录重写；如需重新计算，请先作废该批次 "
                        f"subsidy batch #{batch.pk} (cutoff {day}) was recorded by {user.get_username()} at {at} "
                        "and awaits review: nothing recomputed, its files written again from the record; "
                        "cancel it first to compute again")
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc
        for label, value in totals:
            self.stdout.write(f"  {label}: {value}")
        for path in paths.values():
            self.stdout.write(f"  → {path}")

    def _files(self, pk: int, out: Path, acting_user: str):
        from huiqi.subsidy import selectors, services

        try:
            user = services.acting_user(acting_user, "subsidy.view_batches")
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc
        batch = selectors.batch_for(user, pk)
        if batch is None:
            raise CommandError(f"没有编号为 {pk} 的贴息批次 there is no subsidy batch #{pk}")
        paths = services.write_outputs(batch, out)
        paths.update(services.write_payment_files(batch, out) if batch.status == "released" else {})
        self.stdout.write(f"贴息批次 #{batch.pk}（截至 {batch.cutoff}，{batch.get_status_display()}）的文件已按记录写出 "
                          f"the files of subsidy batch #{batch.pk} written from the record")
        for path in paths.values():
            self.stdout.write(f"  → {path}")
