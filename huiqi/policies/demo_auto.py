"""The demo city's first 免申即享 list: the interest subsidy's released batch (``subsidy.demo``'s first one)
compiled into the list of item SZ-2020-17 by ``bureau``, reviewed by ``bureau2`` and publicised on the
demo's day, its objection period running on the working-day calendar."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core import clock, formats
from huiqi.core.errors import AlreadyBuilt
from huiqi.subsidy import selectors as subsidy

from . import selectors_auto, services_auto
from .models import AutoList

ITEM = "SZ-2020-17"
AUTHOR, REVIEWER = "bureau", "bureau2"


class ListsExist(AlreadyBuilt):
    """The database already holds 免申即享 lists, or lacks what the first one is made of."""


def build_auto_list_demo(progress=None) -> AutoList:
    if AutoList.objects.exists():
        raise ListsExist("demo.auto_lists_exist", _("数据库中已有免申即享名单，演示名单未生成。"))
    people = {u.username: u for u in accounts_selectors.demo_users().filter(role="bureau")}
    if AUTHOR not in people or REVIEWER not in people:
        raise ListsExist("demo.auto_lists_people", _("缺少演示账户 %(missing)s，演示名单未生成。"),
                         missing=f"{AUTHOR}, {REVIEWER}")
    author, reviewer = people[AUTHOR], people[REVIEWER]
    batch = subsidy.batches_for(author).filter(status="released").order_by("cutoff", "id").first()
    if batch is None:
        raise ListsExist("demo.auto_lists_no_batch", _("没有已拨付的贴息批次，演示名单未生成。"))
    with clock.fixed(clock.demo_today() or clock.DEMO_CITY_TODAY):
        made = services_auto.compile_subsidy_list(author, ITEM, batch.pk)
        services_auto.review_list(reviewer, made)
        services_auto.publish_list(author, made)
    if progress:
        progress(1, 1, "完成 done")
    return made


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    made = build_auto_list_demo(progress)
    totals = selectors_auto.list_totals(made)
    return (f"演示免申即享名单已生成 demo no-application list made: #{made.pk} {ITEM} 贴息批次 #{made.subsidy_batch_id}，"
            f"{formats.count(totals['listed'])} 个受益人，合计 {formats.yuan(totals['listed_fen'])} 元；"
            f"{made.published_on} 起公示，异议至 {made.objections_until}")
