"""The funnel's daily roll-up (the pages' fast path) against the reference: the pure funnel on random facts,
and on the database the one-statement funnel over the applications (``selectors.funnel_by_reference``) at
many days, after a full rebuild and after the services' incremental refreshes."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings, strategies as st

from huiqi.fund import rules, selectors, services
from huiqi.fund.rules import FunnelFacts

D = dt.date
WAN = 1_000_000
START = D(2020, 2, 1)


def _summed(entries, as_of):
    out = {}
    for (dim, key, day), figures in entries.items():
        if day <= as_of:
            row = out.setdefault((dim, key), [0] * len(figures))
            for i, v in enumerate(figures):
                row[i] += v
    return {k: tuple(v) for k, v in out.items() if v[0] > 0}


@st.composite
def _facts(draw):
    enterprise = draw(st.sampled_from(["E1", "E2", "E3", "E4", "E5"]))
    received = START + dt.timedelta(days=draw(st.integers(0, 60)))
    if not draw(st.booleans()):
        return FunnelFacts(enterprise, draw(st.sampled_from(["hti", "sgg"])), received)
    decided = received + dt.timedelta(days=draw(st.integers(0, 30)))
    approved = draw(st.integers(1, 3000)) * WAN
    days = sorted(decided + dt.timedelta(days=draw(st.integers(0, 40))) for _ in range(draw(st.integers(0, 3))))
    tranches = tuple((d, approved // 4) for d in days)
    cancelled = ((days[-1] + dt.timedelta(days=1), approved - sum(a for _d, a in tranches)),) if days and draw(
        st.booleans()) else ()
    return FunnelFacts(enterprise, draw(st.sampled_from(["hti", "sgg"])), received, decided, approved, cancelled,
                       tranches)


@settings(max_examples=150, deadline=None)
@given(st.lists(_facts(), max_size=10), st.integers(0, 120))
def test_the_days_summed_are_the_pure_funnel(facts, offset):
    as_of = START + dt.timedelta(days=offset)
    entries = {}
    by_enterprise = {}  # one enterprise at a time, as the services keep it
    for f in facts:
        by_enterprise.setdefault(f.enterprise, []).append(
            ({"channel": f.channel, "district": "-", "industry": "-", "fund": "*"}, f))
    for apps in by_enterprise.values():
        for k, figures in rules.funnel_entries(apps).items():
            row = entries.setdefault(k, [0] * len(figures))
            for i, v in enumerate(figures):
                row[i] += v
    summed = _summed(entries, as_of)
    for row in rules.funnel(facts, as_of, ["hti", "sgg"]):
        key = ("fund", "*") if row.scope == "fund" else ("channel", row.scope)
        expected = (row.enterprises_applied, row.enterprises_decided, row.amount_decided_fen,
                    row.enterprises_disbursed, row.amount_disbursed_fen)
        assert summed.get(key, (0, 0, 0, 0, 0)) == expected, (row.scope, facts)


def _equal_to_reference(days):
    for day in days:
        fast = selectors.funnel_groups(day)
        for by in ("channel", "district", "industry"):
            reference = {k: r for k, r in selectors.funnel_by_reference(day, by).items()
                         if r.enterprises_applied or k == "*"}
            assert fast[by] == reference, (day, by)


@pytest.mark.django_db
def test_the_roll_up_equals_the_reference_on_random_data(fund_world):
    """Random applications written straight into the tables (some enterprises at both channels, some not in
    the registry, decisions, cancellations, tranches), the roll-up rebuilt; then changes refreshed one
    enterprise at a time as the services do, and an enterprise moved to another district."""
    from huiqi.core.identifiers import generate_uscc
    from huiqi.fund.models import Application, Tranche
    from huiqi.registry.models import District, Enterprise, FundInstitution

    rng = random.Random(2020)
    districts = list(District.objects.values_list("code", flat=True)[:4])
    Enterprise.objects.bulk_create([
        Enterprise(uscc=generate_uscc(rng), name=f"深圳市随机{i}有限公司", kind="enterprise",
                   district_id=rng.choice(districts), industry_id=rng.choice(["C39", "F51", "I65"]),
                   size_class="small", ownership="private") for i in range(40)])
    ents = list(Enterprise.objects.filter(name__startswith="深圳市随机"))
    institutions = {c: FundInstitution.objects.get(code=code) for c, (_n, code) in rules.CHANNELS.items()}
    apps, n = [], 0
    for e in ents + [None] * 5:
        uscc = e.uscc if e else generate_uscc(rng)
        for _ in range(rng.choice([1, 1, 2])):
            n += 1
            channel = rng.choice(["hti", "sgg"])
            received = START + dt.timedelta(days=rng.randint(0, 90))
            approved = rng.randint(1, 300) * 10 * WAN if e and rng.random() < 0.5 else None
            decided = received + dt.timedelta(days=rng.randint(0, 20)) if approved else None
            apps.append(Application(number=f"R-{n:05d}", uscc=uscc, enterprise=e, channel=channel,
                                    institution=institutions[channel], requested_fen=approved or WAN,
                                    term_months=12, received_date=received, impact="x", state="withdrawn",
                                    approved_fen=approved, decided_on=decided))
    Application.objects.bulk_create(apps)
    tranches = []
    for a in Application.objects.filter(approved_fen__isnull=False):
        paid = 0
        for k in range(rng.randint(0, 2)):
            amount = a.approved_fen // 3
            tranches.append(Tranche(application=a, day=a.decided_on + dt.timedelta(days=5 + 10 * k), amount_fen=amount))
            paid += amount
        if paid and rng.random() < 0.4:
            a.cancelled_fen, a.cancelled_on = a.approved_fen - paid, a.decided_on + dt.timedelta(days=40)
        a.disbursed_fen = paid
        a.save()
    Tranche.objects.bulk_create(tranches)
    days = [START + dt.timedelta(days=d) for d in range(-1, 160, 7)]

    assert services.rebuild_funnel() > 0
    _equal_to_reference(days)

    # Changes, each refreshed for its enterprise alone: a late tranche, a cancellation, a new application at
    # the other channel, and an enterprise the registry moved to another district.
    lent = list(Application.objects.filter(approved_fen__isnull=False, cancelled_fen=0).order_by("pk")[:3])
    Tranche.objects.create(application=lent[0], day=lent[0].decided_on + dt.timedelta(days=60), amount_fen=WAN)
    Application.objects.filter(pk=lent[1].pk).update(cancelled_fen=WAN, cancelled_on=lent[1].decided_on)
    first = Application.objects.order_by("pk").first()
    Application.objects.create(number="R-99999", uscc=first.uscc, enterprise=first.enterprise, channel="sgg",
                               institution=institutions["sgg"], requested_fen=WAN, term_months=12,
                               received_date=START, impact="x", state="withdrawn")
    moved = lent[2].enterprise
    moved.district_id = next(d for d in districts if d != moved.district_id)
    moved.save()
    for a in (lent[0], lent[1], first, lent[2]):
        services.refresh_funnel([a.uscc])
    _equal_to_reference(days)


@pytest.mark.django_db
def test_a_registry_file_that_moves_an_enterprise_moves_its_funnel_figures(example, fund_world):
    """The funnel by district and industry follows the registry: a registry file that moves an applicant to
    another district and industry moves its figures in the same import, with no rebuild."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.registry import services as registry
    from huiqi.registry.models import Enterprise

    day = D(2020, 5, 31)
    e1 = Enterprise.objects.get(uscc=fund_world.ent["E1"])
    before = selectors.funnel_groups(day)
    assert e1.district_id == "440306" and before["district"].get("440303") is None
    header = "统一社会信用代码,企业名称,主体类型,所属区,行业代码,从业人员（人）,营业收入（万元）,资产总额（万元）,数据年度\n"
    row = f"{e1.uscc},{e1.name},企业,440303,F51,{e1.employees},{e1.revenue_fen // 1000000},,2019\n"
    record = registry.start_registry_import(fund_world.bureau, SimpleUploadedFile("moved.csv", (header + row).encode()))
    assert record.status == "stored", record.status
    after = selectors.funnel_groups(day)
    assert after["district"]["440303"].enterprises_applied == 1
    assert after["district"]["440303"].amount_decided_fen == 3000 * WAN   # E1: F-01 and F-02, within the 3,000万 cap across channels
    assert after["district"]["*"] == before["district"]["*"] and "F" in after["industry"]
    _equal_to_reference([day, D(2020, 3, 1)])
