"""The fund's pure rules against the spec's worked example (``shared/specs/stable-fund.md``), exactly, and
the money invariants as properties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from huiqi.core.errors import Conflict, InvalidFields
from huiqi.core.workdays import Calendar, package_rows
from huiqi.fund import rules
from huiqi.fund.rules import FunnelFacts, Movement, Pause, RegistryFacts

D = dt.date
WAN = 1_000_000  # fen in 1 万元
CALENDAR = Calendar.from_rows((d, w) for d, w, _name in package_rows())


def example_params(**changes) -> rules.Params:
    value = {**rules.DEFAULTS, "base_rate_hti": "0.0600", "base_rate_sgg": "0.0550", **changes}
    return rules.Params.from_mapping(value)


P = example_params()


def test_scheme_rates_are_exact():
    assert P.scheme_rate("hti") == Decimal("0.042")
    assert P.scheme_rate("sgg") == Decimal("0.0385")


def test_a_channel_without_a_base_rate_cannot_decide():
    with pytest.raises(Conflict) as exc:
        rules.Params.from_mapping(dict(rules.DEFAULTS)).scheme_rate("hti")
    assert exc.value.code == "fund.base_rate_missing"


# --- pre-check ------------------------------------------------------------------------------------------

def facts(size="small", ownership="private", blacklisted=False, kind="enterprise"):
    return RegistryFacts(kind, ownership, size, blacklisted)


@pytest.mark.parametrize(("f", "impact", "room", "reasons", "state"), [
    (facts(), "现金流紧张", 1, [], "prechecked"),
    (facts(size="large"), "x", 1, ["size_large"], "precheck_failed"),                      # F-03
    (facts(blacklisted=True), "x", 1, ["credit_blacklisted"], "precheck_failed"),           # F-06
    (facts(), "x", 0, ["enterprise_cap_exhausted"], "precheck_failed"),                     # E1 after F-02
    (None, "x", 1, ["not_in_registry"], "precheck_failed"),
    (facts(kind="individual_business"), "x", 1, ["kind_not_covered"], "precheck_failed"),
    (facts(ownership="state_controlled"), "x", 1, ["not_private"], "precheck_failed"),
    (facts(ownership="unknown"), "x", 1, ["ownership_unknown"], "received"),
    (facts(size="unknown", ownership="unknown"), "x", 1, ["ownership_unknown", "size_unknown"], "received"),
    (facts(size="unknown"), " ", 1, ["size_unknown", "impact_not_declared"], "precheck_failed"),
    (facts(size="large", ownership="state_controlled", blacklisted=True), "", 0,
     ["not_private", "size_large", "credit_blacklisted", "impact_not_declared", "enterprise_cap_exhausted"],
     "precheck_failed"),
])
def test_precheck_records_every_failure_in_order(f, impact, room, reasons, state):
    got = rules.precheck(f, P, impact=impact, headroom_fen=room)
    assert got == reasons
    assert rules.precheck_state(got) == state


# --- clocks ---------------------------------------------------------------------------------------------

def test_f01_clocks_start_on_a_rest_day():
    received = D(2020, 1, 31)  # a rest day of the extended Spring Festival
    assert rules.stage_due(CALENDAR, received, P.sla_days("precheck", True)) == D(2020, 2, 4)
    dd_due = rules.stage_due(CALENDAR, D(2020, 2, 4), P.sla_days("due_diligence", True))
    assert dd_due == D(2020, 2, 11)
    assert rules.working_days_late(CALENDAR, dd_due, D(2020, 2, 18), D(2020, 3, 1)) == 5
    decision_due = rules.stage_due(CALENDAR, D(2020, 2, 18), P.sla_days("decision", True))
    assert decision_due == D(2020, 2, 20)
    assert rules.working_days_late(CALENDAR, decision_due, D(2020, 2, 20), D(2020, 3, 1)) == 0


def test_f05_precheck_due():
    assert rules.stage_due(CALENDAR, D(2020, 2, 26), P.sla_days("precheck", False)) == D(2020, 2, 28)


def test_a_pause_moves_the_due_day_by_the_working_days_it_covered():
    # Due diligence of 10 days from Mon 2020-03-02 is due 03-16; a pause asked Fri 03-06 and answered Tue
    # 03-10 covered Mon and Tue: due 03-18.
    assert rules.stage_due(CALENDAR, D(2020, 3, 2), 10) == D(2020, 3, 16)
    assert rules.stage_due(CALENDAR, D(2020, 3, 2), 10, [Pause(D(2020, 3, 6), D(2020, 3, 10))]) == D(2020, 3, 18)
    # Still open on Wed 03-11: three working days so far.
    assert rules.stage_due(CALENDAR, D(2020, 3, 2), 10, [Pause(D(2020, 3, 6))], as_of=D(2020, 3, 11)) == D(2020, 3, 19)
    # Open, not yet late: the days late while open run to as-of.
    assert rules.working_days_late(CALENDAR, D(2020, 3, 16), None, D(2020, 3, 13)) == 0
    assert rules.working_days_late(CALENDAR, D(2020, 3, 16), None, D(2020, 3, 18)) == 2


# --- decision -------------------------------------------------------------------------------------------

def test_f02_is_capped_at_the_enterprise_limit():
    room = rules.headroom(P.enterprise_cap_fen, [2000 * WAN])
    d = rules.decide(P, channel="sgg", requested_fen=1500 * WAN, proposed_fen=1500 * WAN, headroom_fen=room,
                     term_months=6)
    assert (d.approved_fen, d.capped, d.rate) == (1000 * WAN, True, Decimal("0.0385"))
    assert rules.headroom(P.enterprise_cap_fen, [2000 * WAN, 1000 * WAN]) == 0


def test_a_cancellation_frees_headroom_and_a_lower_rate_is_kept():
    assert rules.headroom(P.enterprise_cap_fen, [2000 * WAN, 1000 * WAN], [300 * WAN]) == 300 * WAN
    d = rules.decide(P, channel="hti", requested_fen=300 * WAN, proposed_fen=300 * WAN, headroom_fen=3000 * WAN,
                     term_months=12, rate=Decimal("0.04"))
    assert (d.approved_fen, d.capped, d.rate) == (300 * WAN, False, Decimal("0.04"))


def test_a_decision_names_every_broken_rule():
    with pytest.raises(InvalidFields) as exc:
        rules.decide(P, channel="hti", requested_fen=100 * WAN, proposed_fen=200 * WAN, headroom_fen=0,
                     term_months=13, rate=Decimal("0.05"))
    assert [e.code for e in exc.value.errors] == ["fund.amount_above_requested", "fund.term_out_of_range",
                                                   "fund.rate_above_scheme_max", "fund.enterprise_cap_exhausted"]
    assert "0.05" in exc.value.errors[2].zh and "0.042" in exc.value.errors[2].en


def test_application_input_names_every_field():
    errors = rules.check_application(P, channel="abc", requested_fen=0, term_months=13, received=D(1999, 1, 1))
    assert [(e.field, e.code) for e in errors] == [
        ("channel", "fund.unknown_channel"), ("amount", "fund.amount_not_positive"),
        ("term_months", "fund.term_out_of_range"), ("received_date", "fund.date_out_of_range")]
    errors = rules.check_application(P, channel="hti", requested_fen=3000 * WAN + 1, term_months=1,
                                     received=D(2020, 2, 1))
    assert [e.code for e in errors] == ["fund.amount_above_cap"]


def test_maturity_is_clamped_to_the_month_end():
    assert rules.maturity(D(2020, 3, 31), 6) == D(2020, 9, 30)
    assert rules.maturity(D(2020, 3, 16), 6) == D(2020, 9, 16)


def test_transitions():
    rules.check_transition("decision", "approved")
    for current, target in [("approved", "withdrawn"), ("received", "approved"), ("closed", "received")]:
        with pytest.raises(Conflict):
            rules.check_transition(current, target)


# --- F-05: tranches, interest, overdue ------------------------------------------------------------------

F05_TRANCHES = [Movement(D(2020, 3, 16), 255 * WAN), Movement(D(2020, 3, 31), 145 * WAN)]


def test_f05_third_tranche_is_refused():
    ok = rules.check_tranche(day=D(2020, 3, 31), amount_fen=145 * WAN, contract_date=D(2020, 3, 13),
                             maturity_date=D(2020, 9, 16), approved_fen=400 * WAN, disbursed_fen=255 * WAN)
    assert ok == []
    errors = rules.check_tranche(day=D(2020, 4, 1), amount_fen=10 * WAN, contract_date=D(2020, 3, 13),
                                 maturity_date=D(2020, 9, 16), approved_fen=400 * WAN, disbursed_fen=400 * WAN)
    assert [e.code for e in errors] == ["fund.tranche_exceeds_approved"]
    errors = rules.check_tranche(day=D(2020, 3, 12), amount_fen=10 * WAN, contract_date=D(2020, 3, 13),
                                 maturity_date=None, approved_fen=400 * WAN, disbursed_fen=0)
    assert [e.code for e in errors] == ["fund.tranche_before_contract"]


def f05_schedule(interest_paid=()):
    return rules.schedule(P, rate=P.scheme_rate("sgg"), maturity_date=rules.maturity(D(2020, 3, 16), 6),
                          tranches=F05_TRANCHES, principal_repaid=[Movement(D(2020, 4, 15), 100 * WAN)],
                          interest_paid=interest_paid)


def test_f05_first_period_interest_is_rounded_half_up():
    s = f05_schedule()
    first = s.periods[0]
    assert (first.start, first.end, first.due) == (D(2020, 3, 16), D(2020, 4, 16), D(2020, 4, 16))
    assert first.balance_days_fen == 101_250_000 * 100
    assert Fraction(first.balance_days_fen) * Fraction("0.0385") / 360 == Fraction("1082812.5")
    assert first.interest_fen == 1_082_813  # 10828.13 元; half-even would give 10828.12
    assert s.maturity == D(2020, 9, 16) and len(s.periods) == 6 and s.periods[-1].end == D(2020, 9, 16)


def test_f05_overdue_days():
    assert rules.overdue_days(f05_schedule(), D(2020, 4, 16)) == 0
    assert rules.overdue_days(f05_schedule(), D(2020, 4, 18)) == 2
    paid = f05_schedule([Movement(D(2020, 4, 20), 1_082_813)])
    assert paid.periods[0].paid_on == D(2020, 4, 20) and paid.periods[0].days_late == 4
    assert rules.overdue_days(paid, D(2020, 4, 20)) == 0
    assert rules.overdue_days(paid, D(2020, 4, 19)) == 3


# --- the funnel -----------------------------------------------------------------------------------------

EXAMPLE = [
    FunnelFacts("E1", "hti", D(2020, 1, 31), D(2020, 2, 20), 2000 * WAN, tranches=((D(2020, 2, 28), 2000 * WAN),)),
    FunnelFacts("E1", "sgg", D(2020, 2, 24), D(2020, 3, 10), 1000 * WAN, tranches=((D(2020, 5, 20), 1000 * WAN),)),
    FunnelFacts("E3", "hti", D(2020, 2, 10)),
    FunnelFacts("E2", "sgg", D(2020, 2, 17)),
    FunnelFacts("E5", "sgg", D(2020, 2, 26), D(2020, 3, 12), 400 * WAN,
                tranches=((D(2020, 3, 16), 255 * WAN), (D(2020, 3, 31), 145 * WAN))),
    FunnelFacts("E4", "sgg", D(2020, 3, 3)),
    FunnelFacts("E6", "hti", D(2020, 4, 20), D(2020, 5, 14), 300 * WAN),
]


def test_example_funnel_and_line():
    rows = rules.funnel(EXAMPLE, D(2020, 5, 15), ["hti", "sgg"])
    assert [(r.scope, r.enterprises_applied, r.enterprises_decided, r.amount_decided_fen, r.enterprises_disbursed,
             r.amount_disbursed_fen) for r in rows] == [
        ("hti", 3, 2, 2300 * WAN, 1, 2000 * WAN),
        ("sgg", 4, 2, 1400 * WAN, 1, 400 * WAN),
        ("fund", 6, 3, 3700 * WAN, 2, 2400 * WAN),
    ]
    assert rules.funnel_line(D(2020, 5, 15), rows[-1]) == (
        "截至5月15日，累计收到6家企业的资金申请；累计决策为3家中小企业提供资金支持0.37亿元；"
        "已向2家中小企业发放支持资金0.24亿元。")


def test_seed_line():
    row = rules.FunnelRow("fund", 709, 190, 2_599_000_000_00, 179, 2_315_000_000_00)
    assert rules.funnel_line(D(2020, 5, 15), row) == (
        "截至5月15日，累计收到709家企业的资金申请；累计决策为190家中小企业提供资金支持25.99亿元；"
        "已向179家中小企业发放支持资金23.15亿元。")
    assert rules.yi_text(50_000_000) == "0.01" and rules.yi_text(49_999_999) == "0.00"


# --- properties -----------------------------------------------------------------------------------------

amounts = st.integers(min_value=1, max_value=3000 * WAN)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(amounts, amounts), min_size=1, max_size=6))
def test_no_enterprise_is_approved_above_the_cap(requests):
    approved = []
    for requested, proposed in requests:
        proposed = min(proposed, requested)
        room = rules.headroom(P.enterprise_cap_fen, approved)
        if room == 0:
            continue
        d = rules.decide(P, channel="hti", requested_fen=requested, proposed_fen=proposed, headroom_fen=room,
                         term_months=12)
        assert 0 < d.approved_fen <= proposed <= requested
        approved.append(d.approved_fen)
    assert sum(approved) <= P.enterprise_cap_fen


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=3000 * WAN), st.lists(amounts, max_size=8))
def test_tranches_never_exceed_the_approved_amount(approved, tranches):
    disbursed = 0
    for amount in tranches:
        if not rules.check_tranche(day=D(2020, 4, 1), amount_fen=amount, contract_date=D(2020, 3, 1),
                                   maturity_date=None, approved_fen=approved, disbursed_fen=disbursed):
            disbursed += amount
        assert disbursed <= approved


days = st.integers(min_value=0, max_value=180).map(lambda n: D(2020, 3, 1) + dt.timedelta(days=n))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(days, st.integers(min_value=1, max_value=500 * WAN)), min_size=1, max_size=4),
       st.sampled_from([Decimal("0.042"), Decimal("0.0385"), Decimal("0.0333")]))
def test_interest_is_rounded_once_per_period(tranches, rate):
    movements = [Movement(d, a) for d, a in tranches]
    first = min(d for d, _a in tranches)
    s = rules.schedule(P, rate=rate, maturity_date=rules.maturity(first, 12), tranches=movements)
    for period in s.periods:
        # The balance-days of a period are the plain day-by-day sum; its interest is that sum's exact
        # interest rounded once, half-up: within half a fen of the exact figure.
        day, slow = period.start, 0
        while day < period.end:
            slow += sum(m.amount_fen for m in movements if m.day <= day)
            day += dt.timedelta(days=1)
        assert period.balance_days_fen == slow
        exact = Fraction(slow) * Fraction(rate) / 360
        assert abs(period.interest_fen - exact) <= Fraction(1, 2)
        assert period.interest_fen == int(exact + Fraction(1, 2))
    assert s.periods[0].start == first and s.periods[-1].end == s.maturity


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["E1", "E2", "E3", "E4"]), st.sampled_from(["hti", "sgg"]), days,
                          st.booleans(), st.booleans()), max_size=12), days)
def test_funnel_counts_distinct_enterprises(apps, as_of):
    facts = [FunnelFacts(e, c, d, d if approved else None, 100 * WAN if approved else 0,
                         tranches=((d, 50 * WAN),) if approved and paid else ())
             for e, c, d, approved, paid in apps]
    hti, sgg, fund = rules.funnel(facts, as_of, ["hti", "sgg"])
    assert fund.enterprises_applied == len({f.enterprise for f in facts if f.received <= as_of})
    assert max(hti.enterprises_applied, sgg.enterprises_applied) <= fund.enterprises_applied
    assert fund.enterprises_applied <= hti.enterprises_applied + sgg.enterprises_applied
    assert fund.enterprises_decided <= fund.enterprises_applied
    assert fund.amount_decided_fen == hti.amount_decided_fen + sgg.amount_decided_fen
    assert fund.enterprises_disbursed <= fund.enterprises_decided
