"""The demo city's policy hub: the catalogue of ``catalogue.py`` (documents and 44 relief items, each with its
criteria and test cases) drafted by ``bureau`` and reviewed and published by ``bureau2`` through the
program's services, and the facts the criteria read from outside the registry for every demo enterprise
(founding day, the credit extract, the fund's approvals), drawn deterministically; the supplies directory is
the supplies program's own (its demo step runs before this one)."""

from __future__ import annotations

import datetime as dt
import random

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core import clock
from huiqi.core.errors import AlreadyBuilt
from huiqi.registry import selectors as registry

from . import catalogue, services
from .models import Article, EnterpriseFacts, PolicyItem

AUTHOR, REVIEWER = "bureau", "bureau2"
# Of the registry: the share not in the latest credit extract (unknown), and of those in it the share on the
# blacklist; the share whose founding day the register extract lacks.
NOT_IN_EXTRACT, BLACKLISTED, NO_FOUNDING_DAY = 0.05, 0.02, 0.06


class PoliciesDataExists(AlreadyBuilt):
    """The database already holds policy items (or lacks the demo's bureau log-ins)."""


def build_policies_demo(seed: int = 2020, progress=None) -> dict:
    """Register and publish the demo catalogue and the enterprises' other facts. Refuses (nothing changed)
    when items exist or a bureau log-in is missing."""
    found = PolicyItem.objects.count()
    if found:
        raise PoliciesDataExists("demo.policies_exist", _("数据库中已有 %(found)s 个政策事项，演示政策目录未生成。"),
                                 found=found)
    people = {u.username: u for u in accounts_selectors.demo_users().filter(role="bureau")}
    missing = [name for name in (AUTHOR, REVIEWER) if name not in people]
    if missing:
        raise PoliciesDataExists("demo.policies_people", _("缺少演示账户 %(missing)s，演示政策目录未生成。"),
                                 missing=", ".join(missing))
    author, reviewer = people[AUTHOR], people[REVIEWER]
    facts = build_facts(seed)
    documents = {}
    for key, issuer, number, title, issued, start, end in catalogue.DOCUMENTS:
        doc = services.register_document(author, {"issuer": issuer, "number": number, "title": title,
                                                  "issued_on": issued, "effective_from": start,
                                                  "effective_to": end, "full_text": title})
        services.move_document(author, doc, "submit")
        services.move_document(reviewer, doc, "publish")
        documents[key] = doc
    items = 0
    for entry in catalogue.ITEMS:
        content = {k: v for k, v in entry.items() if k not in ("code", "document", "department", "status",
                                                              "test_cases")}
        department = registry.organisation("agency", entry["department"])
        version = services.save_draft(author, entry["code"], content, document=documents[entry["document"]],
                                      department=department)
        services.set_test_cases(author, version.item, entry["test_cases"])
        services.submit(author, version)
        services.publish(reviewer, version, dt.date.fromisoformat(entry["opens"]))
        items += 1
        if progress:
            progress(items, len(catalogue.ITEMS), "政策事项 policy items")
    articles = build_articles(seed)
    return {"documents": len(documents), "items": items, "facts": facts, "articles": articles}


def build_facts(seed: int = 2020) -> int:
    """Every registry enterprise's facts from other sources, drawn from ``seed`` (the same city each time)."""
    rng = random.Random(seed)
    rows = []
    for pk, kind in registry.enterprises().order_by("id").values_list("id", "kind"):
        established = None
        if rng.random() >= NO_FOUNDING_DAY:
            first = dt.date(2019, 1, 1) if kind == "individual_business" and rng.random() < 0.5 else dt.date(1995, 1, 1)
            established = first + dt.timedelta(days=rng.randrange((dt.date(2020, 1, 15) - first).days))
        in_extract = rng.random() >= NOT_IN_EXTRACT
        rows.append(EnterpriseFacts(
            enterprise_id=pk, established_on=established,
            credit_blacklisted=(rng.random() < BLACKLISTED) if in_extract else None,
            fund_approved=kind == "enterprise" and rng.random() < 0.003, updated_at=clock.now()))
    EnterpriseFacts.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return len(rows)


# Articles per channel from the campaign's start to the reply of 2020-06-04 (the seed: 70+ WeChat articles
# with 300,000+ views, 30+ media reports; 74 × at least 4,100 views); views are the channels' statistics as of that day.
ARTICLES = {"wechat": 74, "website": 41, "wechat_group": 63, "newspaper": 14, "tv": 7, "radio": 5,
            "online_media": 8, "association": 16}
CAMPAIGN = (dt.date(2020, 1, 24), dt.date(2020, 6, 3))
VIEWS_AS_OF = dt.date(2020, 6, 4)
KINDS = ("政策解读｜", "一图读懂｜", "操作指引｜", "最新！", "划重点｜")


def build_articles(seed: int = 2020) -> int:
    """The publicity articles of the campaign, each presenting one or two catalogue items."""
    from zoneinfo import ZoneInfo

    rng = random.Random(seed + 1)
    items = list(PolicyItem.objects.prefetch_related("versions").order_by("code"))
    span = (CAMPAIGN[1] - CAMPAIGN[0]).days
    made = []
    for channel, n in ARTICLES.items():
        for k in range(n):
            item = items[(k * 7 + len(made)) % len(items)] if items else None
            title = item.versions.all()[0].title if item else "惠企政策"
            day = CAMPAIGN[0] + dt.timedelta(days=rng.randrange(span + 1))
            at = dt.datetime.combine(day, dt.time(rng.randrange(8, 21), rng.randrange(60)), tzinfo=ZoneInfo("Asia/Shanghai"))
            views = rng.randrange(4100, 6500) if channel == "wechat" else (
                rng.randrange(200, 3000) if channel in ("website", "online_media") else None)
            article = Article(title=f"{KINDS[k % len(KINDS)]}{title}", channel=channel, published_at=at,
                              views=views, views_as_of=VIEWS_AS_OF if views is not None else None)
            made.append((article, item))
    Article.objects.bulk_create([a for a, _item in made])
    Article.items.through.objects.bulk_create(
        Article.items.through(article_id=a.pk, policyitem_id=i.pk) for a, i in made if i is not None)
    return len(made)


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    """What `huiqi demo` prints for this part."""
    made = build_policies_demo(seed, progress)
    return (f"演示政策目录已生成 demo policy catalogue made: 政策文件 {made['documents']} 件，"
            f"政策事项 {made['items']} 项（{AUTHOR} 起草 → {REVIEWER} 审核发布）；"
            f"企业政策信息 {made['facts']} 条；宣传文章 {made['articles']} 篇")
