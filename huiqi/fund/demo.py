"""The demo city's stable-development fund as the seed's figures stand on 2020-05-15 — 709 enterprises applied,
190 decided for 25.99 亿元, 179 received 23.15 亿元 — made through the real services: the bureau sets the
channels' base rates (``core.params.set_value``), the registry records each applicant's ownership and the
dishonest-debtor listings (``registry.services``), each channel registers its applications, moves them through
due diligence, and a maker proposes and a checker approves each decision; contracts, tranches and repayments
follow, each on its own day (``core.clock.fixed``). Nothing is inserted around them.

Applications are left in every state: pre-check failed (state-controlled, on the 失信 list, cap exhausted),
waiting for the ownership figure, pre-checked, in due diligence (some paused for the enterprise), proposals
waiting for the checker (the channels' demo log-ins see them among their to-dos), rejected, withdrawn and
transferred to the other channel, approved, contracted, disbursing, disbursed and closed. Everything is drawn
from a ``random.Random`` seeded from the seed alone.
"""

from __future__ import annotations

import datetime as dt
import random

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core import clock, formats
from huiqi.core import params as core_params
from huiqi.core.errors import AlreadyBuilt
from huiqi.core.workdays import Calendar
from huiqi.registry import selectors as registry

from . import rules

SHOWN_ON = dt.date(2020, 5, 15)
WAN = 1_000_000  # fen in 1 万元
APPLIED, DECIDED, DISBURSED = 709, 190, 179
DECIDED_WAN, DISBURSED_WAN = 259_900, 231_500  # 25.99 亿元, 23.15 亿元
BASE_RATES = {"base_rate_hti": "0.0600", "base_rate_sgg": "0.0550"}  # the spec's example (assumption)
# How the 709 - 190 enterprises without an approval by SHOWN_ON stand.
OTHERS = {"not_private": 12, "credit_blacklisted": 9, "ownership_unknown": 6, "rejected": 64, "withdrawn": 18,
          "transferred": 6, "prechecked": 60, "due_diligence": 0, "decision_waiting": 24, "decision": 40}
CLOSED = 2  # of the disbursed: short loans repaid in full by SHOWN_ON


class FundDataExists(AlreadyBuilt):
    """The database already holds fund applications."""


def _staff():
    """A maker and a checker at each channel: the demo's own institution log-in where it has one, new demo
    users for the rest."""
    from django.conf import settings

    from huiqi.accounts.services import create_user

    made, staff = [], {}
    existing = {}
    for user in accounts_selectors.demo_users().filter(role="institution").select_related("institution"):
        existing.setdefault(user.institution.code, []).append(user)
    for code, (name, institution_code) in rules.CHANNELS.items():
        people = list(existing.get(institution_code, []))
        institution = registry.organisation("institution", institution_code)
        while len(people) < 2:
            user = create_user(None, username=f"fund_{code}_{len(people) + 1}", password=settings.HUIQI_DEMO_PASSWORD,
                               role="institution", display_name=f"{name} 基金经办 {len(people) + 1}",
                               institution=institution, is_demo=True, check_password=False)
            people.append(user)
            made.append(user)
        # The demo's own log-in is the checker: proposals wait for it.
        staff[code] = (people[1], people[0]) if people[0] in existing.get(institution_code, []) else tuple(people)
    return staff, made


def _amounts(rng, n: int, total_wan: int, low: int = 200, high: int = 3000) -> list[int]:
    """``n`` amounts in whole 万元 within [low, high] adding up to ``total_wan`` exactly."""
    amounts = [rng.randint(low, high) for _ in range(n)]
    diff = total_wan - sum(amounts)
    while diff:
        i = rng.randrange(n)
        step = min(diff, high - amounts[i]) if diff > 0 else max(diff, low - amounts[i])
        amounts[i] += step
        diff -= step
    return amounts


def build_fund_demo(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    """Build the fund's demo part; returns the funnel at ``SHOWN_ON`` and the channel log-ins it added."""
    from django.db import transaction

    from huiqi.registry import services as registry_services

    from . import selectors, services
    from .apps import PARAMS_EFFECTIVE_FROM, PARAMS_KEY
    from .models import Application

    found = Application.objects.count()
    if found:
        raise FundDataExists("demo.fund_exists", _("数据库中已有 %(found)s 件基金申请，演示平稳发展基金数据未生成。"),
                             found=found)
    rng = random.Random(f"huiqi-fund-{scale}-{seed}")
    calendar = Calendar.load()
    candidates = list(registry.enterprises().filter(kind="enterprise", size_class__in=rules.SME_SIZES)
                      .order_by("uscc").values_list("uscc", flat=True))
    if len(candidates) < APPLIED:
        raise RuntimeError(f"the registry has {len(candidates)} small and medium enterprises, the fund needs {APPLIED}")
    applicants = rng.sample(candidates, APPLIED)
    others = applicants[DECIDED:]
    plan = []  # (uscc, what)
    i = 0
    for what, n in OTHERS.items():
        plan += [(u, what) for u in others[i:i + n]]
        i += n
    plan += [(u, "prechecked") for u in others[i:]]

    def wd(day, n):
        return calendar.add_working_days(day, n)

    with transaction.atomic():
        staff, made = _staff()
        bureau = accounts_selectors.demo_users().filter(role="bureau").order_by("username").first()
        core_params.set_value(bureau, PARAMS_KEY, "fund",
                              {**rules.DEFAULTS, **core_params.value(PARAMS_KEY, PARAMS_EFFECTIVE_FROM), **BASE_RATES},
                              PARAMS_EFFECTIVE_FROM, today=PARAMS_EFFECTIVE_FROM,
                              note="演示：渠道基准利率（示例取值，上线前须确认）")
        by_uscc = {e.uscc: e for e in registry.enterprises().filter(uscc__in=applicants)}
        ownership = {u: {"not_private": "state_controlled", "ownership_unknown": "unknown"}.get(what, "private")
                     for u, what in plan}
        for uscc in applicants:
            registry_services.set_ownership(bureau, by_uscc[uscc], ownership.get(uscc, "private"))
        for uscc, what in plan:
            if what == "credit_blacklisted":
                registry_services.list_dishonest(bureau, uscc, dt.date(2019, 12, 2), source="最高人民法院失信被执行人名单（演示）")
        if progress:
            progress(1, 4, "登记库 registry facts")

        def register(uscc, channel, received, wan, term):
            with clock.fixed(received):
                return services.register(staff[channel][0], services.ApplicationInput(
                    uscc=uscc, channel=channel, requested_fen=wan * WAN, term_months=term, received_date=received,
                    impact="疫情期间订单取消、停工停产，应收账款回收放缓，工资和租金支出压力大",
                    purpose="支付工资、租金和原材料款"))

        def to_decision(app, received, fast=False):
            maker = staff[app.channel][0]
            dd_on = wd(received, 1 if fast else 2)
            app = services.advance(maker, app, "due_diligence", day=dd_on)
            return services.advance(maker, app, "decision", day=wd(dd_on, rng.randint(3, 6) if fast else rng.randint(4, 9))), dd_on

        # --- the 190 approved by SHOWN_ON, 179 of them paid by then ---------------------------------------
        # The first reaches the cap at once: its later application fails the pre-check.
        approved_wan = [3000, *_amounts(rng, DECIDED - 1, DECIDED_WAN - 3000)]
        order = list(range(DECIDED))
        rng.shuffle(order)
        paid_idx, unpaid_idx = order[:DISBURSED], order[DISBURSED:]
        short = sum(approved_wan[k] for k in paid_idx) - DISBURSED_WAN  # left for later tranches
        if short < 0:
            raise RuntimeError("the demo's amounts cannot land the disbursed figure")
        closed = set(sorted(paid_idx)[1:CLOSED + 1])  # among the earliest received: repaid by SHOWN_ON
        partial = {}
        for k in sorted(set(paid_idx) - closed, key=lambda k: -approved_wan[k]):
            if short <= 0:
                break
            rest = min(short, approved_wan[k] // 2)
            partial[k] = rest
            short -= rest
        applied_days = sorted(dt.date(2020, 2, 10) + dt.timedelta(days=rng.randint(0, 70)) for _ in range(DECIDED))
        for k in range(DECIDED):
            uscc = applicants[k]
            channel = "hti" if k % 2 == 0 else "sgg"
            received = applied_days[k]
            term = 2 if k in closed else rng.choice([6, 9, 12])
            requested = min(3000, approved_wan[k] + rng.choice([0, 0, 100, 300]))
            app = register(uscc, channel, received, requested, term)
            if k % 17 == 0:
                services.set_priority(bureau, app, "transport_or_sale", "承担防疫物资运输任务")
            app, _dd = to_decision(app, received, fast=app.priority)
            decide_on = wd(app.stages.get(stage="decision").entered, rng.randint(1, 3))
            decide_on = min(decide_on, dt.date(2020, 5, 14))
            maker, checker = staff[channel]
            with clock.fixed(decide_on):
                services.propose_decision(maker, app, outcome="approve", amount_fen=approved_wan[k] * WAN,
                                          term_months=term)
                app = services.confirm_decision(checker, app, day=decide_on)
            if k in unpaid_idx and k % 2:
                continue  # approved, contract not yet signed
            contract_on = min(wd(decide_on, rng.randint(1, 2)), SHOWN_ON)
            app = services.sign_contract(maker, app, day=contract_on)
            if k in unpaid_idx:
                continue
            first_on = min(wd(contract_on, rng.randint(1, 2)), SHOWN_ON)
            first_wan = approved_wan[k] - partial.get(k, 0)
            services.add_tranche(maker, app, day=first_on, amount_fen=first_wan * WAN)
            if k in closed:
                app.refresh_from_db()
                schedule = selectors.schedule_of(app)
                for period in schedule.periods:
                    services.record_repayment(maker, app, day=period.due, kind="interest", amount_fen=period.interest_fen)
                services.record_repayment(maker, app, day=app.maturity_date, kind="principal",
                                          amount_fen=first_wan * WAN)
                app.refresh_from_db()
                services.close(maker, app, day=app.maturity_date)
        if progress:
            progress(2, 4, "批准与放款 approvals and tranches")

        # --- the others ---------------------------------------------------------------------------------
        for n, (uscc, what) in enumerate(plan):
            channel = "hti" if n % 2 else "sgg"
            received = dt.date(2020, 2, 17) + dt.timedelta(days=rng.randint(0, 87))
            wan = rng.randint(2, 30) * 100
            app = register(uscc, channel, received, wan, rng.choice([6, 12]))
            maker, checker = staff[channel]
            if what == "rejected":
                app, _dd = to_decision(app, received)
                day = min(wd(app.stages.get(stage="decision").entered, 2), SHOWN_ON)
                with clock.fixed(day):
                    services.propose_decision(maker, app, outcome="reject", reason=rng.choice(
                        ["repayment_capacity_insufficient", "guarantee_insufficient", "not_epidemic_affected",
                         "credit_record_adverse", "documents_incomplete"]))
                    services.confirm_decision(checker, app, day=day)
            elif what == "withdrawn":
                services.withdraw(maker, app, day=min(wd(received, 3), SHOWN_ON), note="企业已获银行贷款，申请撤回")
            elif what == "transferred":
                services.transfer(maker, app, channel="hti" if channel == "sgg" else "sgg",
                                  received_date=min(wd(received, 2), SHOWN_ON), note="企业改选另一渠道")
            elif what in ("decision", "decision_waiting"):
                app, _dd = to_decision(app, received)
                if what == "decision_waiting":
                    with clock.fixed(app.stages.get(stage="decision").entered):
                        services.propose_decision(maker, app, outcome="approve", amount_fen=min(wan, 1000) * WAN,
                                                  term_months=12)
            elif what == "prechecked" and n % 3 == 0 and app.state == "prechecked":
                services.advance(maker, app, "due_diligence", day=min(wd(received, 2), SHOWN_ON))
                if n % 2 == 0:
                    services.pause(maker, app, day=min(wd(received, 4), SHOWN_ON), note="补充2019年度财务报表")
        # A further application of the enterprise whose approval took its whole cap.
        register(applicants[0], "sgg", SHOWN_ON, 500, 6)
        if progress:
            progress(3, 4, "其他申请 the other applications")
    funnel = selectors.funnel(SHOWN_ON)
    if progress:
        progress(4, 4, "完成 done")
    return {"funnel": funnel, "logins": made}


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    """What `huiqi demo` prints for this part."""
    import time

    started = time.monotonic()
    made = build_fund_demo(scale, seed, progress)
    line = rules.funnel_line(SHOWN_ON, made["funnel"][-1])
    logins = "".join(f"\n  {u.username:<15} institution  {u.display_name}" for u in made["logins"])
    fund = made["funnel"][-1]
    return (f"演示平稳发展基金已生成 demo stable-development fund made in {time.monotonic() - started:.1f} s\n"
            f"  {line}\n"
            f"  申请 {formats.count(fund.enterprises_applied)} 家；决策 {formats.yuan(fund.amount_decided_fen)} 元；"
            f"放款 {formats.yuan(fund.amount_disbursed_fen)} 元\n"
            f"  基金渠道演示账户 channel demo log-ins:{logins}")
