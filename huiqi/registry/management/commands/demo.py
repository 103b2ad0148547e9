"""`huiqi demo [--scale small|city] [--seed N]`: build the deterministic demo city into an empty database.

After the registry part it builds the demo bank ledger (``huiqi.lending.demo``: loans, interest payments,
NPLs); the ledger is skipped with a message when the database already holds loans.

Run `huiqi migrate` first. When the database already holds registry data the command says so and exits
0 without changing anything, so a set-up script may run it every time.
"""

from __future__ import annotations

import time
from decimal import Decimal

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import connection

from huiqi.lending import demo as ledger_demo
from huiqi.registry import demo
from huiqi.requests import demo as requests_demo
from huiqi.resumption import demo as resumption_demo


class Command(BaseCommand):
    help = ("Build the deterministic demo city (small ≈ 2,000 enterprises; city = 76,500) with demo log-ins "
            "and a bank ledger (small ≈ 3,000 loans; city = 226,000)")

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(demo.SCALES), default="small",
                            help="small (about 2,000 enterprises, default) or city (76,500, the seed's "
                                 "scale)")
        parser.add_argument("--seed", type=int, default=2020,
                            help="random seed (default 2020); same seed, same city")

    def handle(self, *args, **o):
        if "registry_enterprise" not in connection.introspection.table_names():
            raise CommandError("数据库尚未初始化，请先运行 huiqi migrate"
                               "（the database is not set up: run `huiqi migrate` first）")
        verbose = o["verbosity"] >= 1
        last = {"pct": -1}

        def progress(done, total, message):
            pct = done * 100 // max(total, 1)
            if verbose and pct // 10 != last["pct"] // 10:
                last["pct"] = pct
                self.stderr.write(f"  {pct:3d}%  {message}")

        started = time.monotonic()
        try:
            counts = demo.build_demo(o["scale"], o["seed"], progress=progress)
        except demo.DemoDataExists as exc:
            self.stdout.write(self.style.WARNING(exc.zh))
            self.stdout.write(exc.en)
            return
        elapsed = time.monotonic() - started
        sizes = counts["sizes"]
        self.stdout.write(self.style.SUCCESS(
            f"演示城市已生成 demo city built (scale={o['scale']}, seed={o['seed']}) in {elapsed:.1f} s"))
        self.stdout.write(
            f"  企业 enterprises            {counts['enterprises']:>7,}"
            f"  (企业 companies {counts['companies']:,}, 个体工商户 individual businesses "
            f"{counts['individual_businesses']:,})\n"
            f"  规模 sizes                  large {sizes['large']:,} · medium {sizes['medium']:,} · "
            f"small {sizes['small']:,} · micro {sizes['micro']:,} · unknown {sizes['unknown']:,}\n"
            f"  重点企业 key enterprises     {counts['key_enterprises']:>7,}\n"
            f"  小微企业主 business owners   {counts['owners']:>7,}  ({counts['owner_links']:,} links)\n"
            f"  合作银行 banks               {counts['banks']:>7,}  (入库 onboarded {counts['banks_onboarded']})\n"
            f"  演示账户 demo users          {counts['users']:>7,}"
        )
        self._ledger(o["scale"], o["seed"], progress)
        self.stdout.write(resumption_demo.build_and_describe(o["scale"], o["seed"], progress))
        self.stdout.write(requests_demo.build_and_describe(o["scale"], o["seed"], progress))
        self.stdout.write(f"\n演示账户 demo log-ins — 密码 password: {settings.HUIQI_DEMO_PASSWORD}")
        for username, role, display, _org, _ents in demo.DEMO_USERS:
            self.stdout.write(f"  {username:<12} {role:<12} {display}")

    def _ledger(self, scale, seed, progress):
        """The demo bank ledger (loans, interest payments, NPLs) over the registry just built."""
        started = time.monotonic()
        try:
            c = ledger_demo.build_ledger_demo(scale, seed, progress=progress)
        except ledger_demo.LedgerDataExists as exc:
            self.stdout.write(self.style.WARNING(exc.zh))
            self.stdout.write(exc.en)
            return
        elapsed = time.monotonic() - started
        kinds = c["borrower_kinds"]

        def yi(fen):  # 亿元
            return Decimal(fen).scaleb(-10)

        self.stdout.write(self.style.SUCCESS(f"演示贷款台账已生成 demo ledger built in {elapsed:.1f} s"))
        self.stdout.write(
            f"  贷款 loans                  {c['loans']:>7,}  ({yi(c['principal_fen']):,.1f} 亿元 at "
            f"{c['banks']} banks; 借款人 borrowers {c['borrowers']:,})\n"
            f"  按借款人 by borrower kind   企业 {kinds['enterprise']:,} · 个体工商户 "
            f"{kinds['individual_business']:,} · 小微企业主 {kinds['business_owner']:,}\n"
            f"  疫情期间新增 2020-02..06    {c['window_loans']:>7,}  ({yi(c['window_principal_fen']):,.1f} 亿元, "
            f"{c['window_borrowers']:,} borrowers)\n"
            f"  展期 extensions             {c['extensions']:>7,}  (首贷 first loans {c['first_loans']:,})\n"
            f"  付息记录 interest payments {c['payments']:>8,}  ({yi(c['interest_fen']):,.2f} 亿元)\n"
            f"  不良贷款 NPLs               {c['npls']:>7,}"
        )
