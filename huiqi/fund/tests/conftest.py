"""The fund spec's worked example: its registry (E1…E6), the two channels' staff (a maker and a checker at
each) and the example's base rates, and a helper that walks an application through the real services."""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import pytest

from huiqi.core.identifiers import generate_uscc
from huiqi.fund import services
from huiqi.fund.services import ApplicationInput

D = dt.date
WAN = 1_000_000  # fen in 1 万元

# name, employees, revenue (万元) in manufacturing (C39): the size class the example gives each.
ENTERPRISES = {
    "E1": ("深圳市甲医疗器械有限公司", 50, "3000"),     # small
    "E2": ("深圳市乙精密制造有限公司", 400, "30000"),   # medium
    "E3": ("深圳市丙电子集团有限公司", 2000, "50000"),  # large
    "E4": ("深圳市丁电器有限公司", 50, "3000"),         # small, on the 失信 list
    "E5": ("深圳市戊五金制品有限公司", 10, "100"),      # micro
    "E6": ("深圳市己光电有限公司", 50, "3000"),         # small
}
SIZES = {"E1": "small", "E2": "medium", "E3": "large", "E4": "small", "E5": "micro", "E6": "small"}
EXAMPLE_PARAMS = {"base_rate_hti": "0.0600", "base_rate_sgg": "0.0550"}


def set_example_params():
    from huiqi.core import params
    from huiqi.fund.apps import PARAMS_EFFECTIVE_FROM, PARAMS_KEY
    from huiqi.fund.rules import DEFAULTS

    params.set_value(None, PARAMS_KEY, "fund", {**DEFAULTS, **EXAMPLE_PARAMS}, PARAMS_EFFECTIVE_FROM,
                     today=PARAMS_EFFECTIVE_FROM)


@pytest.fixture
def fund_world(db, password_hash, monkeypatch):
    from conftest import PASSWORD, fast_known_password
    from huiqi.accounts.services import create_user
    from huiqi.registry import services as registry
    from huiqi.registry.models import FundInstitution

    fast_known_password(monkeypatch, password_hash)
    set_example_params()
    ents = {}
    for i, (key, (name, employees, revenue)) in enumerate(ENTERPRISES.items()):
        e = registry.register_enterprise(None, uscc=generate_uscc(random.Random(900 + i)), name=name,
                                         district="440305" if i % 2 else "440306", industry="C39",
                                         employees=employees, revenue_wan=revenue, figures_year=2019)
        registry.set_ownership(None, e, "private")
        assert e.size_class == SIZES[key], (key, e.size_class)
        ents[key] = e.uscc
    registry.list_dishonest(None, ents["E4"], D(2019, 11, 1), source="最高人民法院失信被执行人名单")
    # E1 is an active producer in the supplies directory (its priority comes from there).
    from huiqi.supplies import services as supplies

    supplies.list_producer(None, ents["E1"], D(2020, 1, 25), converted=True)

    def mk(username, code):
        return create_user(None, username=username, password=PASSWORD, role="institution", check_password=False,
                           institution=FundInstitution.objects.get(code=code))

    staff = {"hti": (mk("hti_maker", "SZHTI"), mk("hti_checker", "SZHTI")),
             "sgg": (mk("sgg_maker", "SZCGG"), mk("sgg_checker", "SZCGG"))}
    bureau = create_user(None, username="fund_bureau", password=PASSWORD, role="bureau", check_password=False)
    enterprise_user = create_user(None, username="e1_user", password=PASSWORD, role="enterprise",
                                  check_password=False, enterprises=[registry_enterprise(ents["E1"])])
    return SimpleNamespace(ent=ents, staff=staff, bureau=bureau, enterprise_user=enterprise_user)


def registry_enterprise(uscc):
    from huiqi.registry import selectors

    return selectors.enterprises().get(uscc=uscc)


def apply(world, ent, channel, received, requested_wan, term=12, impact="疫情期间订单取消，现金流紧张"):
    return services.register(world.staff[channel][0], ApplicationInput(
        uscc=world.ent[ent], channel=channel, requested_fen=requested_wan * WAN, term_months=term,
        received_date=received, impact=impact, purpose="支付工资和原材料款"))


def walk_to_decision(world, app, dd_on, decision_on):
    maker = world.staff[app.channel][0]
    app = services.advance(maker, app, "due_diligence", day=dd_on)
    return services.advance(maker, app, "decision", day=decision_on)


def approve(world, app, decided_on, amount_wan, term, rate=None):
    maker, checker = world.staff[app.channel]
    services.propose_decision(maker, app, outcome="approve", amount_fen=amount_wan * WAN, term_months=term, rate=rate)
    return services.confirm_decision(checker, app, day=decided_on)


def build_example(world):
    """The spec's table, through the services; returns the applications by their example number."""
    f = {}
    f["F-01"] = apply(world, "E1", "hti", D(2020, 1, 31), 2000)
    walk_to_decision(world, f["F-01"], D(2020, 2, 4), D(2020, 2, 18))
    approve(world, f["F-01"], D(2020, 2, 20), 2000, 12)
    services.sign_contract(world.staff["hti"][0], f["F-01"], day=D(2020, 2, 26))
    services.add_tranche(world.staff["hti"][0], f["F-01"], day=D(2020, 2, 28), amount_fen=2000 * WAN)

    f["F-03"] = apply(world, "E3", "hti", D(2020, 2, 10), 500)
    f["F-04"] = apply(world, "E2", "sgg", D(2020, 2, 17), 800)
    walk_to_decision(world, f["F-04"], D(2020, 2, 19), D(2020, 3, 2))
    services.propose_decision(world.staff["sgg"][0], f["F-04"], outcome="reject",
                              reason="repayment_capacity_insufficient")
    services.confirm_decision(world.staff["sgg"][1], f["F-04"], day=D(2020, 3, 5))

    f["F-02"] = apply(world, "E1", "sgg", D(2020, 2, 24), 1500, term=6)
    walk_to_decision(world, f["F-02"], D(2020, 2, 26), D(2020, 3, 6))
    approve(world, f["F-02"], D(2020, 3, 10), 1500, 6)
    services.sign_contract(world.staff["sgg"][0], f["F-02"], day=D(2020, 3, 12))

    f["F-05"] = apply(world, "E5", "sgg", D(2020, 2, 26), 500, term=6)
    walk_to_decision(world, f["F-05"], D(2020, 2, 28), D(2020, 3, 9))
    approve(world, f["F-05"], D(2020, 3, 12), 400, 6)
    services.sign_contract(world.staff["sgg"][0], f["F-05"], day=D(2020, 3, 13))
    services.add_tranche(world.staff["sgg"][0], f["F-05"], day=D(2020, 3, 16), amount_fen=255 * WAN)
    services.add_tranche(world.staff["sgg"][0], f["F-05"], day=D(2020, 3, 31), amount_fen=145 * WAN)

    f["F-06"] = apply(world, "E4", "sgg", D(2020, 3, 3), 200)
    f["F-07"] = apply(world, "E6", "hti", D(2020, 4, 20), 300)
    walk_to_decision(world, f["F-07"], D(2020, 4, 22), D(2020, 5, 8))
    approve(world, f["F-07"], D(2020, 5, 14), 300, 12)

    services.add_tranche(world.staff["sgg"][0], f["F-02"], day=D(2020, 5, 20), amount_fen=1000 * WAN)
    return {k: v.__class__.objects.get(pk=v.pk) for k, v in f.items()}


@pytest.fixture
def example(fund_world):
    return SimpleNamespace(world=fund_world, apps=build_example(fund_world))
