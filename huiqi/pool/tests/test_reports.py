"""Issue 18.6 and 18.7: the report at a day (the seed's figures from data, the realised ratio, the contingent
liability by bank and vintage, the warning), each bank's scorecard; and the set-based pricing agrees with the
pure rules."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from huiqi.pool import rules, rules_columnar, selectors, services
from huiqi.pool.services import ClaimInput
from huiqi.pool.tests.test_claims import TODAY, people  # noqa: F401  (the fixture)


@pytest.mark.django_db
def test_the_report_at_a_day(people):
    services.top_up(people["maker"], 70_000_000, dt.date(2020, 9, 1))
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1"))
    claim = services.review(people["maker"], claim, "approve")
    services.decide(people["checker"], claim, True)
    bureau = people["maker"]
    f = selectors.figures(bureau, TODAY)
    # B1 and B2 onboarded, B3 signed; every loan registered on its start (B3's are not in the pool).
    assert (f["banks_signed"], f["banks_onboarded"], f["loans"], f["claims"], f["completed"]) == (3, 2, 4, 1, 1)
    assert (f["paid_fen"], f["banks_benefited"], f["bank_times"]) == (27_000_000, 1, 1)
    assert f["realised_ratio"] == Decimal("0.3000")
    assert f["leveraged_fen"] == 4 * 100_000_000  # B1's four loans in the pool, of 1,000,000.00 each
    # Before the claim, nothing was paid.
    assert selectors.figures(bureau, dt.date(2020, 9, 30))["paid_fen"] == 0
    # Every loan of the example is non-performing by TODAY: no contingent liability; before the NPLs, all of it.
    assert selectors.contingent_liability(bureau, TODAY)["total_fen"] == 0
    early = selectors.contingent_liability(bureau, dt.date(2020, 8, 31))
    # Loans 4 (an individual business before 03-01) and 6 (a large borrower) were screened out at
    # registration, 7's bank was not onboarded: 1, 2, 3 and 5 remain, at 0.3, 0.5, 0.8 and 0.8.
    expected = sum(rules.compensation_fen(100_000_000, r) for r in
                   (Decimal("0.3"), Decimal("0.5"), Decimal("0.8"), Decimal("0.8")))
    assert early["total_fen"] == expected
    assert {b["bank_code"] for b in early["by_bank"]} == {"B1"}
    assert {v["vintage"] for v in early["by_vintage"]} == {2019, 2020}
    c = Client()
    c.force_login(bureau)
    page = c.get("/pool/report/", {"on": TODAY.isoformat()}).content.decode()
    assert 'data-figure="paid">27.00<' in page and "data-warning" in page  # expected claims exceed the balance
    rows = c.get("/pool/report/export.xlsx", {"on": TODAY.isoformat()})
    assert rows.status_code == 200
    # A bank reads its own figures only.
    mine = selectors.figures(people["b2"], TODAY)
    assert (mine["loans"], mine["claims"], mine["paid_fen"], mine["balance_fen"]) == (0, 0, 0, None)


@pytest.mark.django_db
def test_the_scorecard_proposes_suspension_above_the_npl_rate(people):
    cards = {s["bank"].code: s for s in selectors.scorecard(people["maker"], TODAY)}
    assert cards["B1"]["npl_rate"] == Decimal(1) and cards["B1"]["propose_suspension"]
    assert cards["B2"]["registered"] == 0 and not cards["B2"]["propose_suspension"]


conditions = st.sampled_from(["any", "first_loan", "credit"])
days = st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2021, 12, 31))
ratios = st.decimals(min_value=0, max_value=1, places=2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(days, st.booleans(), st.sampled_from(["credit", "mortgage", "pledge"]),
                          st.integers(1, 10**10)), min_size=1, max_size=40),
       st.lists(st.tuples(conditions, ratios, st.one_of(st.none(), days), st.one_of(st.none(), days)), max_size=4))
def test_the_set_based_pricing_agrees_with_the_pure_rules(loans, rows):
    extra = [{"name": f"r{i}", "condition": c, "ratio": str(r), "start": s.isoformat() if s else "",
              "end": e.isoformat() if e else ""} for i, (c, r, s, e) in enumerate(rows) if not (s and e and e < s)]
    params = rules.Params.defaults().with_overrides({"extra_rows": extra})
    frame = pl.DataFrame([{"bank_code": "B", "start_date": d, "first_loan": f, "guarantee": g, "outstanding_fen": o,
                           "registered_date": d} for d, f, g, o in loans])
    priced = rules_columnar.priced(frame, {d: params for d in frame["registered_date"].unique().to_list()})
    pure, caps = {}, {}
    for d, f, g, o in loans:
        pricing = rules.loan_ratio(rules.Loan("B", "x", "A", "enterprise", None, g, f, o, d, d), params)
        pure[(d, f, g, o)], caps[d] = pricing.ratio, pricing.cap
    priced = priced.with_columns(rules_columnar.cap_e4(params).alias("cap_e4"))
    for r in priced.iter_rows(named=True):
        assert Decimal(r["ratio_e4"]) / 10_000 == pure[(r["start_date"], r["first_loan"], r["guarantee"],
                                                        r["outstanding_fen"])]
        assert Decimal(r["cap_e4"]) / 10_000 == caps[r["start_date"]]
    total = rules_columnar.contingent_liability(priced)["liability_fen"][0]
    assert total == rules.contingent_liability_fen((o, pure[(d, f, g, o)]) for d, f, g, o in loans)


@pytest.mark.django_db
def test_a_table_waiting_for_approval_is_measured_before_it_takes_effect(people):
    from huiqi.core import parameter_changes

    with_lower = {**parameter_changes.fields_in_force("pool.params", TODAY), "window_ratio": "0.60"}
    proposal = parameter_changes.submit(people["maker"], "pool.params", with_lower, TODAY + dt.timedelta(days=1))
    c = Client()
    c.force_login(people["checker"])
    page = c.get("/pool/what-if/", {"table": f"p{proposal.pk}"}).content.decode()
    assert "data-what-if" in page
    # Unclaimed NPLs settled under each table (no balance recorded: the pool's size less nothing paid): loans
    # 3 and 5 of the window fall from 0.8 to 0.6.
    now, then = services.simulate(), services.simulate(with_lower)
    assert now.paid_fen - then.paid_fen == rules.compensation_fen(50_000_000, Decimal("0.2")) + \
        rules.compensation_fen(15_000_000, Decimal("0.2"))
    assert f">{(now.paid_fen / 1_000_000):,.2f}<" in page and f">{(then.paid_fen / 1_000_000):,.2f}<" in page
    bank = Client()
    bank.force_login(people["b1"])
    assert bank.get("/pool/what-if/").status_code == 403
