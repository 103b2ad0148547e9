"""`huiqi demo [--scale small|city] [--seed N]`: build the deterministic demo city into an empty database.

Each app adds its part (``DEMO`` in its ``site.py``): the registry and the demo log-ins first, then the
bank ledger, return to work, enterprise requests… A part whose tables already hold data says so and is
skipped; when the registry is there already nothing else runs, so a set-up script may run the command
every time (it exits 0).

Run `huiqi migrate` first.
"""

from __future__ import annotations

from django.core.management import BaseCommand, CommandError
from django.db import connection

from huiqi.core import clock
from huiqi.core.errors import AlreadyBuilt
from huiqi.site import discovery

SCALES = ("small", "city")


class Command(BaseCommand):
    help = ("Build the deterministic demo city (small ≈ 2,000 enterprises; city = 76,500, the seed's scale) "
            "with demo log-ins and every program's demo data")

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=SCALES, default="small",
                            help="small (about 2,000 enterprises, default) or city (76,500, the seed's scale)")
        parser.add_argument("--seed", type=int, default=2020, help="random seed (default 2020); same seed, same city")

    def handle(self, *args, **o):
        if "core_parameter" not in connection.introspection.table_names():
            raise CommandError("数据库尚未初始化，请先运行 huiqi migrate"
                               "（the database is not set up: run `huiqi migrate` first）")
        verbose = o["verbosity"] >= 1
        last = {"pct": -1}

        def progress(done, total, message):
            pct = done * 100 // max(total, 1)
            if verbose and pct // 10 != last["pct"] // 10:
                last["pct"] = pct
                self.stderr.write(f"  {pct:3d}%  {message}")

        # The demo city's records (a batch run, a pending extension) are made on the day it is shown on.
        with clock.fixed(clock.demo_today() or clock.DEMO_CITY_TODAY):
            for step in discovery.demo_steps():
                try:
                    text = step.build(o["scale"], o["seed"], progress)
                except AlreadyBuilt as exc:
                    self.stdout.write(self.style.WARNING(exc.zh))
                    self.stdout.write(exc.en)
                    if exc.stop:
                        return
                    continue
                if text:
                    first, _, rest = text.partition("\n")
                    self.stdout.write(self.style.SUCCESS(first))
                    if rest:
                        self.stdout.write(rest)
