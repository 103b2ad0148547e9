"""The demo city's use of the policy hub in March 2020, made through the program's own services on fixed days
before the demo's day (2020-04-02), drawn from the seed: item pages viewed by a few hundred enterprises (and
anonymously), SMS consent given by some, a digest pushed for a few items (new matches, inbox and SMS), some
messages opened, and online applications of the department ``handler``'s items in every state — some still
open past their due day — so the funnel, the department's queue, the enterprises' inbox and 我的政策申报 show
figures on the demo's day. Applications of enterprises without a demo log-in are made by one enterprise
account that cannot sign in (``AGENT``)."""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core import clock
from huiqi.core.errors import AlreadyBuilt, DomainError
from huiqi.registry import selectors as registry

from . import push, selectors, services
from .models import Application, PolicyItem, PushMessage

HANDLER = "handler"
AGENT = "demo_agent"
# The handler's agency's items taken online (prefilled and application), and the items pushed on PUSH_DAY.
APPLIED = ("SZ-2020-16", "SZ-2020-24", "NS-2020-01", "FT-2020-01")
PUSHED = ("SZ-2020-16", "NS-2020-01", "FT-2020-01")
MARCH = (dt.date(2020, 3, 2), dt.date(2020, 3, 31))
PUSH_DAY = dt.date(2020, 3, 17)  # triggers recorded the day before; the digest of this day sends them
LAST_DAY = dt.date(2020, 4, 1)   # the day before the demo's: every move is made by then
# Per scale: enterprises the agent acts for (and applies for), enterprises viewing item pages.
SIZES = {"small": (240, 300), "city": (2400, 3000)}
SMS_SHARE, OPEN_SHARE, APPLY_SHARE = 0.3, 0.45, 0.5
# Where each application stops: submitted, accepted, rejected, approved, paid (weights).
ENDS = (("submitted", 2), ("accepted", 2), ("rejected", 2), ("approved", 2), ("paid", 3))
OWN_ENDS = ("paid", "accepted", "submitted")


class ActivityExists(AlreadyBuilt):
    """The database already holds online applications (or lacks the demo's log-ins)."""


def _users():
    people = {u.username: u for u in accounts_selectors.demo_users()}
    if HANDLER not in people:
        raise ActivityExists("demo.policy_activity_people", _("缺少演示账户 %(missing)s，演示政策申报未生成。"),
                             missing=HANDLER)
    return people


def _agent(enterprises):
    from huiqi.accounts.services import create_user

    return create_user(None, username=AGENT, password=None, role="enterprise", display_name="演示代办（不可登录）",
                       enterprises=enterprises, check_password=False)


def build_activity_demo(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    if Application.objects.exists():
        raise ActivityExists("demo.policy_activity_exists", _("数据库中已有政策申报，演示政策申报未生成。"))
    people = _users()
    rng = random.Random(seed + 20)
    acting, viewing = SIZES.get(scale, SIZES["small"])
    own = {e.pk: u for u in people.values() if u.role == "enterprise" for e in u.enterprises.all()}
    ids = [pk for pk in registry.enterprises().order_by("id").values_list("pk", flat=True) if pk not in own]
    chosen = sorted(rng.sample(ids, min(acting, len(ids))))
    agent = _agent(list(registry.enterprises().filter(pk__in=chosen)))
    actor_of = {**{pk: agent for pk in chosen}, **own}
    enterprises = {e.pk: e for e in registry.enterprises().filter(pk__in=list(actor_of))}
    items = {i.code: i for i in PolicyItem.objects.filter(code__in=APPLIED + PUSHED)}
    made = {"views": 0, "consents": 0, "opened": 0, "applications": 0}

    # Item pages viewed over March: signed-in enterprises (each view counted under the enterprise) and anonymous.
    all_items = list(PolicyItem.objects.order_by("code"))
    viewers = rng.sample(ids, min(viewing, len(ids))) + list(own)
    span = (MARCH[1] - MARCH[0]).days
    for ent in viewers:
        for _k in range(rng.randint(1, 3)):
            item = items[rng.choice(APPLIED)] if rng.random() < 0.7 else rng.choice(all_items)
            push.record_view(item, [ent], MARCH[0] + dt.timedelta(days=rng.randrange(span + 1)))
            made["views"] += 1
    for _k in range(len(viewers) // 2):
        push.record_view(rng.choice(all_items), [], MARCH[0] + dt.timedelta(days=rng.randrange(span + 1)))
        made["views"] += 1
    if progress:
        progress(1, 4, "政策页面浏览 item page views")

    # SMS consent given in early March; the digest of PUSH_DAY for the items re-announced the day before.
    with clock.fixed(dt.date(2020, 3, 5)):
        for pk in sorted(actor_of):
            if pk in own or rng.random() < SMS_SHARE:
                push.give_consent(actor_of[pk], enterprises[pk], "sms", f"13{rng.randrange(10 ** 9):09d}")
                made["consents"] += 1
    before = PUSH_DAY - dt.timedelta(days=1)
    with clock.fixed(before):
        for code in PUSHED:
            push.record_trigger(selectors.published_version(code, before), None)
    # Due on ``before`` or, recorded after the digest's time, on PUSH_DAY: this digest sends them either way. The
    # console SMS gateway's line per message is not the demo's output.
    logging.disable(logging.INFO)
    try:
        with clock.fixed(PUSH_DAY):
            push.run(PUSH_DAY)
    finally:
        logging.disable(logging.NOTSET)
    if progress:
        progress(2, 4, "推送 pushes")
    messages = (PushMessage.objects.filter(channel="inbox", enterprise_id__in=list(actor_of), day__lte=PUSH_DAY)
                .order_by("pk"))
    for message in messages:
        if message.enterprise_id in own or rng.random() < OPEN_SHARE:
            with clock.fixed(message.day + dt.timedelta(days=rng.randrange(1, 6))):
                push.open_message(actor_of[message.enterprise_id], message)
            made["opened"] += 1
    if progress:
        progress(3, 4, "打开推送 opened messages")

    # Online applications over March, each moved by the handler to where it stops; the open ones submitted
    # early are past their due day on the demo's day.
    handler = people[HANDLER]
    ends = [name for name, weight in ENDS for _k in range(weight)]
    steps = ("accept", "approve", "pay")
    for pk in sorted(actor_of):
        if pk not in own and rng.random() >= APPLY_SHARE:
            continue
        day = MARCH[0] + dt.timedelta(days=rng.randrange(span))
        app = None
        # A demo log-in's enterprise applies for the first item it may; another for one item, if it may.
        for code in rng.sample(APPLIED, len(APPLIED)) if pk in own else [rng.choice(APPLIED)]:
            try:
                with clock.fixed(day):
                    app = services.submit_application(actor_of[pk], enterprise=enterprises[pk], code=code,
                                                      statement="受疫情影响，经营困难，申请享受本项政策。", day=day)
                break
            except DomainError:
                continue  # not met, unknown, or excluded: not this item
        if app is None:
            continue
        made["applications"] += 1
        # A demo log-in's enterprises: one paid, one with the department, one just sent.
        end = OWN_ENDS[sorted(own).index(pk) % len(OWN_ENDS)] if pk in own else rng.choice(ends)
        path = {"submitted": (), "accepted": steps[:1], "approved": steps[:2], "paid": steps,
                "rejected": ("accept", "reject")}[end]
        amount = rng.randrange(20, 500) * 100_00  # whole hundreds of yuan, in fen
        for action in path:
            day = day + dt.timedelta(days=rng.randint(1, 6))
            if day > LAST_DAY:
                break
            with clock.fixed(day):
                services.move_application(handler, app, action, day=day,
                                          note="材料不齐，经告知未补正。" if action == "reject" else "",
                                          amount_fen=amount if action in ("approve", "pay") else None)
    if progress:
        progress(4, 4, "在线申报 online applications")
    return made


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    made = build_activity_demo(scale, seed, progress)
    return (f"演示政策使用已生成 demo policy activity made: 页面浏览 {made['views']} 次，短信推送同意 {made['consents']} 家，"
            f"打开推送 {made['opened']} 条，在线申报 {made['applications']} 件（{HANDLER} 办理）")
