"""`huiqi demo [--scale small|city] [--seed N]`: build the deterministic demo city into an empty database.

Run `huiqi migrate` first. When the database already holds registry data the command says so and exits
0 without changing anything, so a set-up script may run it every time.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import connection

from huiqi.registry import demo


class Command(BaseCommand):
    help = "Build the deterministic demo city (small ≈ 2,000 enterprises; city = 76,500) with demo log-ins"

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
        self.stdout.write(f"\n演示账户 demo log-ins — 密码 password: {settings.HUIQI_DEMO_PASSWORD}")
        for username, role, display, _org, _ents in demo.DEMO_USERS:
            self.stdout.write(f"  {username:<12} {role:<12} {display}")
