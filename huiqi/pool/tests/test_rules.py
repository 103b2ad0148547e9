"""The pool's rules: the spec's worked example exactly, the parameters, and properties of the settlement."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huiqi.core.errors import InvalidFields
from huiqi.lending.rules import RegistryEntry
from huiqi.pool import rules
from huiqi.pool.rules import Loan, Npl, Params

D = dt.date
REGISTRY = {
    "A": RegistryEntry("enterprise", "small"),
    "S": RegistryEntry("enterprise", "micro"),
    "L": RegistryEntry("enterprise", "large"),
    "IB": RegistryEntry("individual_business", "unknown"),
}
# bank, loan, borrower, kind, first, guarantee, start, outstanding, recovered
EXAMPLE = [
    ("B1", "1", "A", "enterprise", False, "mortgage", D(2019, 9, 1), 100_000_000, 10_000_000),
    ("B1", "2", "A", "enterprise", True, "mortgage", D(2019, 10, 1), 33_333_333, 0),
    ("B1", "3", "A", "enterprise", False, "guaranteed", D(2020, 4, 15), 50_000_000, 0),
    ("B1", "4", "IB", "individual_business", False, "credit", D(2020, 2, 15), 20_000_000, 0),
    ("B1", "5", "IB", "individual_business", False, "credit", D(2020, 3, 2), 20_000_000, 5_000_000),
    ("B2", "6", "L", "enterprise", False, "credit", D(2020, 3, 2), 10_000_000, 0),
    ("B3", "7", "S", "enterprise", False, "credit", D(2020, 3, 2), 10_000_000, 0),
]
ONBOARDED_BANKS = {"B1", "B2"}


def _example():
    loans, npls = {}, []
    for i, (bank, no, borrower, kind, first, guarantee, start, outstanding, recovered) in enumerate(EXAMPLE):
        loan = Loan(bank, no, borrower, kind, None, guarantee, first, outstanding, start, registered_date=start)
        loans[loan.key] = loan
        # The NPLs fall in table order, so that the simulation's order is the approval order.
        npls.append(Npl(bank, no, D(2020, 9, 1) + dt.timedelta(days=i), outstanding, recovered))
    onboarded = {key: key[0] in ONBOARDED_BANKS for key in loans}
    return loans, npls, onboarded


def test_the_worked_example():
    loans, npls, onboarded = _example()
    lines, left = rules.simulate(loans, npls, REGISTRY, onboarded, Params.defaults(), 70_000_000)
    got = {line.loan_no: line for line in lines}
    assert [(n, got[n].reason, got[n].ratio, got[n].compensation_fen) for n in "1235"] == [
        ("1", None, Decimal("0.30"), 27_000_000),
        ("2", None, Decimal("0.50"), 16_666_667),
        ("3", None, Decimal("0.80"), 40_000_000),
        ("5", None, Decimal("0.80"), 12_000_000),
    ]
    assert got["4"].reason == "borrower_kind_not_covered_yet"
    assert got["6"].reason == "borrower_large"
    assert got["7"].reason == "bank_not_onboarded"
    # With a pool of 700,000.00 and claims approved in table order.
    assert [(got[n].paid_fen, got[n].owed_fen) for n in "1235"] == [
        (27_000_000, 0), (16_666_667, 0), (26_333_333, 13_666_667), (0, 12_000_000)]
    assert left == 0
    assert got["3"].csv_row() == ("B1", "3", "Y", "", "500000.00", "0.8", "400000.00", "263333.33", "136666.67")
    assert got["6"].csv_row() == ("B2", "6", "N", "borrower_large", "0.00", "0", "0.00", "0.00", "0.00")


def test_a_top_up_pays_what_is_owed_in_approval_order():
    assert rules.pay_owed([13_666_667, 12_000_000], 20_000_000) == ([13_666_667, 6_333_333], 0)
    assert rules.pay_owed([100, 200], 1_000) == ([100, 200], 700)


def test_the_winning_row_and_the_cap():
    p = Params.defaults()
    loans, _npls, _ = _example()
    assert rules.loan_ratio(loans[("B1", "2")], p) == rules.Pricing(Decimal("0.50"), Decimal("0.50"), "first_loan")
    assert rules.loan_ratio(loans[("B1", "5")], p).row == "window"
    # A bureau row above the cap is held to the cap of the loan's origination date.
    generous = p.with_overrides({"extra_rows": [{"name": "科技贷", "condition": "credit", "ratio": "0.9",
                                                 "start": "2019-01-01", "end": "2020-12-31"}]})
    assert rules.loan_ratio(loans[("B1", "5")], generous) == rules.Pricing(Decimal("0.80"), Decimal("0.80"), "科技贷")
    assert rules.loan_ratio(loans[("B3", "7")], generous).ratio == Decimal("0.80")
    outside = Loan("B1", "9", "A", "enterprise", None, "credit", False, 100, D(2020, 8, 1), D(2020, 8, 1))
    assert rules.loan_ratio(outside, generous) == rules.Pricing(Decimal("0.50"), Decimal("0.50"), "科技贷")


def test_registration_and_npl_dates():
    p = Params.defaults()
    loan = Loan("B1", "1", "A", "enterprise", None, "credit", False, 100, D(2020, 3, 1), D(2020, 5, 1))
    early = Npl("B1", "1", D(2020, 4, 30), 100)
    assert rules.eligibility(loan, early, REGISTRY, True, p) == "npl_before_registration"
    assert rules.eligibility(loan, Npl("B1", "1", D(2020, 5, 1), 100), REGISTRY, True, p) is None
    unregistered = Loan("B1", "1", "A", "enterprise", None, "credit", False, 100, D(2020, 3, 1))
    assert rules.eligibility(unregistered, early, REGISTRY, True, p) == "loan_not_registered"
    big = Loan("B1", "1", "A", "enterprise", None, "credit", False, 3_000_000_001, D(2020, 3, 1), D(2020, 3, 1))
    assert rules.screen(big, REGISTRY, True, p) == "principal_above_limit"
    assert rules.screen(big, REGISTRY, False, p) == "bank_not_onboarded"


def test_excluded_industries_by_code_prefix():
    registry = {"K": RegistryEntry("enterprise", "small", industry="K702")}
    loan = Loan("B1", "1", "K", "enterprise", None, "credit", False, 100, D(2020, 3, 1), D(2020, 3, 1))
    p = Params.defaults()
    assert rules.screen(loan, registry, True, p) is None
    assert rules.screen(loan, registry, True, p.with_overrides({"excluded_industries": ["k70"]})) == "industry_excluded"


def test_the_claim_window_is_required_before_claims_open():
    p = Params.defaults()
    assert not rules.within_claim_window(D(2020, 5, 1), D(2020, 5, 2), p)
    p = p.with_overrides({"claim_window_days": 90})
    assert rules.within_claim_window(D(2020, 5, 1), D(2020, 7, 30), p)
    assert not rules.within_claim_window(D(2020, 5, 1), D(2020, 7, 31), p)


def test_every_bad_parameter_is_named_at_once():
    with pytest.raises(InvalidFields) as caught:
        Params.from_mapping({**rules.DEFAULTS, "base_ratio": "abc", "window_end": "2020-13-01",
                             "pool_size": 1.5, "max_principal": "-1", "typo": 1,
                             "extra_rows": [{"condition": "every", "ratio": "2"}]})
    fields = sorted(e.field for e in caught.value.errors)
    assert fields == ["base_ratio", "extra_rows.1.condition", "extra_rows.1.ratio", "max_principal",
                      "pool_size", "typo", "window_end"]
    with pytest.raises(InvalidFields) as caught:
        Params.from_mapping({**rules.DEFAULTS, "window_ratio": "0.9"})
    assert [e.field for e in caught.value.errors] == ["window_ratio"]


def test_parameters_round_trip():
    p = Params.defaults().with_overrides({"claim_window_days": 180, "excluded_industries": ["K70"]})
    assert Params.from_mapping(p.as_mapping()) == p


def test_npl_amounts_are_checked():
    loan = Loan("B1", "1", "A", "enterprise", None, "credit", False, 100, D(2020, 3, 1), D(2020, 3, 1))
    assert [e.code for e in rules.check_npl(Npl("B1", "1", D(2020, 5, 1), 101, 102), loan)] == [
        "pool.outstanding_above_principal", "pool.recovered_above_outstanding"]
    assert rules.check_npl(Npl("B1", "1", D(2020, 5, 1), 100, 100), loan) == []


def test_recovery_returns_never_exceed_what_was_paid():
    assert rules.recovery_return_fen(1_000_001, Decimal("0.3"), 10_000_000, 0) == 300_000  # 300000.3 → half-up
    assert rules.recovery_return_fen(5, Decimal("0.5"), 10_000_000, 0) == 3  # 2.5 → 3
    assert rules.recovery_return_fen(100_000_000, Decimal("0.8"), 1_000, 900) == 100


amounts = st.lists(st.integers(0, 10**10), max_size=30)


@settings(max_examples=200, deadline=None)
@given(amounts, st.integers(0, 10**11))
def test_settlement_never_pays_more_than_held_or_owed(comps, balance):
    settled, left = rules.settle(comps, balance)
    assert sum(s.paid_fen for s in settled) + left == balance
    assert left >= 0
    for amount, s in zip(comps, settled):
        assert 0 <= s.paid_fen <= amount and s.paid_fen + s.owed_fen == amount
    # Paid in order: once a claim is short, every later one is paid nothing.
    short = [i for i, s in enumerate(settled) if s.owed_fen]
    if short:
        assert all(s.paid_fen == 0 for s in settled[short[0] + 1:])


ratios = st.decimals(min_value=0, max_value=1, places=2)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10**10), st.integers(0, 10**10), ratios)
def test_no_claim_is_paid_above_loss_times_cap(outstanding, recovered, ratio):
    recovered = min(recovered, outstanding)
    p = Params.defaults()
    loan = Loan("B1", "1", "A", "enterprise", None, "credit", True, outstanding, D(2020, 3, 1), D(2020, 3, 1))
    rows = [{"name": "x", "condition": "any", "ratio": str(ratio)}]
    a = rules.assess(loan, Npl("B1", "1", D(2020, 6, 1), outstanding, recovered), REGISTRY, True,
                     p.with_overrides({"extra_rows": rows}))
    loss = outstanding - recovered
    assert a.compensation_fen <= rules.compensation_fen(loss, p.cap_window)
    assert a.compensation_fen * 1 <= loss


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**9), ratios), max_size=20), st.integers(0, 10**9))
def test_returns_never_add_up_to_more_than_paid(recoveries, paid):
    returned = 0
    for recovery, ratio in recoveries:
        returned += rules.recovery_return_fen(recovery, ratio, paid, returned)
    assert 0 <= returned <= paid
