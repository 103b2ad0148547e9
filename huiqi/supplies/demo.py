"""The demo city's producers directory (生产企业目录), built through the real services by the bureau: sixty
enterprises (six hundred at city scale) of the supply industries (textiles, chemicals, pharmaceuticals, rubber
and plastics, special and electrical equipment), each listed on its own day from the level-I response
(2020-01-24) into March with the products its industry makes and a daily capacity, some of them converted
production (转产, the demo enterprise log-in's own firm among them); a few suspended for a week, some removed
in late March, all before the demo's day. Drawn from a ``random.Random`` seeded from the seed alone, so the
same city each time. The fund's demo, which follows, gives these producers priority from the directory as of
each received date."""

from __future__ import annotations

import datetime as dt
import random

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts
from huiqi.core import clock
from huiqi.core.errors import AlreadyBuilt
from huiqi.registry import selectors as registry

from . import services
from .models import Producer

PRODUCERS = {"small": 60, "city": 600}
LISTED = (dt.date(2020, 1, 24), dt.date(2020, 3, 15))
# A converted firm going back to its own products, before the demo's day (2020-04-02).
REMOVED_ON = (dt.date(2020, 3, 16), dt.date(2020, 3, 31))
# What an industry (GB/T 4754 division) makes, with a daily capacity range in the product's unit.
MAKES = {
    "C17": [("GOWN-MED", 2_000, 20_000), ("GOWN-ISO", 3_000, 30_000), ("MELTBLOWN", 1, 8)],
    "C18": [("GOWN-MED", 1_000, 10_000), ("GOWN-ISO", 2_000, 20_000), ("MASK-DISP", 50_000, 400_000)],
    "C26": [("DISINF", 5, 60), ("HAND-SAN", 2, 30), ("ALCOHOL", 3, 40)],
    "C27": [("TEST-KIT", 5_000, 100_000), ("ALCOHOL", 2, 20), ("MASK-SURG", 50_000, 500_000),
            ("MASK-N95", 10_000, 150_000)],
    "C29": [("GLOVES", 20_000, 300_000), ("GOGGLES", 2_000, 30_000)],
    "C35": [("VENTILATOR", 5, 80), ("THERMO-IR", 500, 10_000), ("MASK-SURG", 100_000, 800_000)],
    "C38": [("THERMO-IR", 1_000, 20_000), ("GOGGLES", 1_000, 10_000)],
}
CONVERTED = [("MASK-SURG", 20_000, 200_000), ("MASK-DISP", 50_000, 300_000), ("HAND-SAN", 1, 10)]


def _capacity(rng, low: int, high: int) -> int:
    """A daily capacity in [low, high]: whole hundreds for the products counted in thousands."""
    n = rng.randint(low, high)
    return n if high < 1000 else n // 100 * 100


class DirectoryExists(AlreadyBuilt):
    """The database already holds a producers directory."""


def build_directory(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    """List the demo city's producers; returns how many were listed, converted, suspended and removed."""
    from django.db import transaction

    found = Producer.objects.count()
    if found:
        raise DirectoryExists("demo.supplies_exists", _("数据库中已有 %(found)s 家生产企业，演示生产企业目录未生成。"),
                              found=found)
    rng = random.Random(f"huiqi-supplies-{scale}-{seed}")
    bureau = accounts.demo_users().filter(role="bureau").order_by("username").first()
    candidates = [(uscc, industry) for uscc, industry in registry.enterprises().filter(kind="enterprise")
                  .order_by("uscc").values_list("uscc", "industry_id") if industry[:3] in MAKES]
    chosen = rng.sample(candidates, min(PRODUCERS.get(scale, PRODUCERS["small"]), len(candidates)))
    own = accounts.demo_users().filter(role="enterprise").order_by("username").first()
    own_firm = own.enterprises.order_by("uscc").values_list("uscc", "industry_id").first() if own else None
    if own_firm and own_firm[0] not in {u for u, _i in chosen}:
        chosen.append(own_firm)
    made = {"listed": 0, "converted": 0, "suspended": 0, "removed": 0}
    span = (LISTED[1] - LISTED[0]).days
    with transaction.atomic():
        for n, (uscc, industry) in enumerate(sorted(chosen)):
            makes = MAKES.get(industry[:3])
            converted = makes is None or rng.random() < 0.2
            listed = LISTED[0] + dt.timedelta(days=rng.randrange(span + 1) if not converted else
                                              rng.randrange(7, span + 1))
            offer = CONVERTED if converted else makes
            lines = [services.ProductLine(code, _capacity(rng, low, high))
                     for code, low, high in rng.sample(offer, rng.randint(1, min(2, len(offer))))]
            with clock.fixed(listed):
                producer = services.list_producer(bureau, uscc, listed, converted=converted,
                                                  contact_name=rng.choice("陈林黄张李王刘吴") + rng.choice(("先生", "女士")),
                                                  contact_phone=f"0755-{rng.randrange(2000_0000, 8999_9999)}",
                                                  products=lines)
            made["listed"] += 1
            made["converted"] += converted
            if rng.random() < 0.05 and listed < dt.date(2020, 3, 1):  # suspended and resumed by the demo's day
                start = listed + dt.timedelta(days=rng.randrange(3, 20))
                with clock.fixed(start):
                    services.suspend(bureau, producer, start, "停产整改：原料供应中断")
                resume_on = start + dt.timedelta(days=rng.randrange(5, 12))
                with clock.fixed(resume_on):
                    services.resume(bureau, producer, resume_on)
                made["suspended"] += 1
            elif converted and rng.random() < 0.5 and uscc != (own_firm or ("",))[0]:
                last = REMOVED_ON[0] + dt.timedelta(days=rng.randrange((REMOVED_ON[1] - REMOVED_ON[0]).days))
                with clock.fixed(last):
                    services.update_producer(bureau, producer, active_from=listed, active_to=last, converted=True,
                                             contact_name=producer.contact_name, contact_phone=producer.contact_phone,
                                             removal_reason="疫情缓解，恢复原产品生产")
                made["removed"] += 1
            if progress:
                progress(n + 1, len(chosen), "生产企业 producers")
    return made


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    """What `huiqi demo` prints for this part."""
    import time

    started = time.monotonic()
    made = build_directory(scale, seed, progress)
    return (f"演示防疫物资生产企业目录已生成 demo producers directory made in {time.monotonic() - started:.1f} s\n"
            f"  列入 {made['listed']} 家（转产 {made['converted']} 家），暂停后恢复 {made['suspended']} 家，"
            f"疫情缓解后移出 {made['removed']} 家 listed {made['listed']} (converted {made['converted']}), "
            f"suspended and resumed {made['suspended']}, removed {made['removed']}")
