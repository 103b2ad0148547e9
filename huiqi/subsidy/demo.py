"""The demo city's interest subsidy, made through the program's own services by the three bureau log-ins:
a first batch up to the end of March 2020, run by ``bureau``, reviewed by ``bureau2``, approved by
``bureau3`` and released (its payment file written); then a second one, up to the demo's day, run by
``bureau`` and waiting for its reviewer, so the walk run → review → approve → release can be made on the
pages. Enterprise users then find their payments under "我的贴息", banks their loans' lines.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core import clock, formats
from huiqi.core.errors import AlreadyBuilt

FIRST_CUTOFF = dt.date(2020, 3, 31)
RUNNER, REVIEWER, APPROVER = "bureau", "bureau2", "bureau3"


class SubsidyDataExists(AlreadyBuilt):
    """The database already holds subsidy batches (or lacks the demo's bureau log-ins)."""


def build_subsidy_demo(progress=None) -> dict:
    """Run, review, approve and release the first batch; run the second. Refuses (nothing changed) when a
    batch exists or a bureau log-in is missing."""
    from . import services
    from .models import SubsidyBatch

    found = SubsidyBatch.objects.count()
    if found:
        raise SubsidyDataExists(
            "demo.subsidy_exists", _("数据库中已有 %(found)s 个贴息批次，演示贴息批次未生成。"), found=found)
    people = {u.username: u for u in accounts_selectors.demo_users().filter(role="bureau")}
    missing = [name for name in (RUNNER, REVIEWER, APPROVER) if name not in people]
    if missing:
        raise SubsidyDataExists(
            "demo.subsidy_people", _("缺少演示账户 %(missing)s，演示贴息批次未生成。"), missing=", ".join(missing))
    runner, reviewer, approver = people[RUNNER], people[REVIEWER], people[APPROVER]
    with clock.fixed(clock.demo_today() or clock.DEMO_CITY_TODAY):
        first = services.run_batch(runner, FIRST_CUTOFF, note="一季度贴息（演示）")
        services.review(reviewer, first, note="已核对参数、合计和抽查明细")
        services.approve(approver, first, note="同意拨付")
        services.release(runner, first)
        second = services.run_batch(runner, clock.DEMO_CITY_TODAY, note="截至演示日的贴息（演示），待复核")
    if progress:
        progress(1, 1, "完成 done")
    first.refresh_from_db()
    return {"released": first, "waiting": second}


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    """What `huiqi demo` prints for this part."""
    import time


    started = time.monotonic()
    made = build_subsidy_demo(progress)
    first, second = made["released"], made["waiting"]
    return (f"演示贴息批次已生成 demo subsidy batches made in {time.monotonic() - started:.1f} s\n"
            f"  #{first.pk} 截至 {first.cutoff}  已拨付 released   受益人 {formats.count(first.beneficiaries)}  "
            f"{formats.yuan(first.payable_total_fen)} 元 ({RUNNER} → {REVIEWER} → {APPROVER})\n"
            f"  #{second.pk} 截至 {second.cutoff}  待复核 waiting for {REVIEWER}'s review   受益人 "
            f"{formats.count(second.beneficiaries)}")
