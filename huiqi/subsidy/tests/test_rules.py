"""Interest-subsidy rules (shared/specs/interest-subsidy.md). Pure: no Django, no database."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from huiqi.core.errors import ValidationFailed
from huiqi.subsidy.rules import (
    DEFAULTS,
    REASONS,
    BatchResult,
    Loan,
    Params,
    Payment,
    RegistryEntry,
    add_months,
    compute_batch,
    counted_interest,
    eligibility,
    fen_str,
    floor_to_fen,
    loan_subsidy_fen,
    round_half_up,
)

D = Decimal
date = dt.date


@pytest.fixture(autouse=True)
def _one_connection():
    """Overrides the project conftest's database fixture: these tests touch no database, and so
    also run with ``-p no:django``."""
    yield


def fen(yuan: str) -> int:
    value = D(yuan.replace(",", "")) * 100
    assert value == value.to_integral_value()
    return int(value)


DEFAULT = Params.defaults()


# --------------------------------------------------------------------------------------------------
# The worked example of the spec

OWNER_OF_M = "440305198001011234"

REGISTRY = {
    "A": RegistryEntry("enterprise", "small", "深圳市甲科技有限公司"),
    "X": RegistryEntry("enterprise", "micro", "深圳市乙商贸有限公司"),
    "L": RegistryEntry("enterprise", "large", "深圳市丙集团有限公司"),
    "M": RegistryEntry("enterprise", "medium", "深圳市丁制造有限公司"),
}


def loan(bank, no, borrower, start, purpose="operating", kind="enterprise", owner_of=None, **kw):
    return Loan(bank, no, borrower, kind, owner_of, purpose, start, **kw)


def paid_on_end(bank, no, start, end, yuan):
    """A payment paid on its accrual_end, as in the spec's table."""
    return Payment(bank, no, start, end, end, fen(yuan))


def worked_example():
    loans = [
        loan("B1", "A-1", "A", date(2020, 3, 10)),
        loan("B1", "A-2", "A", date(2020, 6, 20)),
        loan("B1", "A-3", "A", date(2020, 3, 1), purpose="other"),
        loan("B1", "A-4", "A", date(2020, 7, 1)),
        loan("B2", "L-1", "L", date(2020, 3, 1)),
        loan("B2", "X-1", "X", date(2020, 3, 31)),
        loan("B2", "O-1", OWNER_OF_M, date(2020, 4, 1), kind="business_owner", owner_of="M"),
    ]
    a1_amounts = ["3745.83", "3625.00", "3745.83", "3625.00", "3745.83", "3745.83", "3625.00"]
    payments = [
        paid_on_end("B1", "A-1", date(2020, 3 + i, 10), date(2020, 4 + i, 10), amount)
        for i, amount in enumerate(a1_amounts)
    ]
    payments += [
        paid_on_end("B1", "A-2", date(2020, 6, 20), date(2020, 9, 21), "9300.00"),
        paid_on_end("B1", "A-2", date(2020, 9, 21), date(2020, 12, 21), "9100.00"),
        paid_on_end("B1", "A-3", date(2020, 3, 1), date(2020, 4, 1), "1000.00"),
        paid_on_end("B1", "A-4", date(2020, 7, 1), date(2020, 8, 1), "1000.00"),
        paid_on_end("B2", "L-1", date(2020, 3, 1), date(2020, 4, 1), "1000.00"),
        paid_on_end("B2", "X-1", date(2020, 3, 31), date(2020, 6, 30), "1,300,000.00"),
        paid_on_end("B2", "X-1", date(2020, 6, 30), date(2020, 9, 30), "1,300,000.00"),
        paid_on_end("B2", "X-1", date(2020, 9, 30), date(2020, 12, 31), "1,300,000.00"),
        paid_on_end("B2", "O-1", date(2020, 4, 1), date(2020, 5, 1), "500.00"),
    ]
    return loans, payments


def test_worked_example_loans():
    loans, payments = worked_example()
    result = compute_batch(loans, payments, REGISTRY, DEFAULT, date(2020, 12, 31), {}, 0)
    table = {
        (line.loan_no): (fen_str(line.interest_counted_fen), fen_str(line.subsidy_fen), line.reason)
        for line in result.loans
    }
    assert table == {
        "A-1": ("22233.32", "11116.66", None),
        "A-2": ("18300.00", "9150.00", None),
        "A-3": ("", "", "purpose_not_operating"),
        "A-4": ("", "", "outside_window"),
        "L-1": ("", "", "borrower_large"),
        "X-1": ("2600000.00", "1300000.00", None),
        "O-1": ("", "", "owned_enterprise_not_small_or_micro"),
    }
    # The counted interest is exact, not just right after display rounding.
    assert result.loan("B1", "A-1").interest_counted == fen("22233.32")
    assert result.loan("B1", "A-2").interest_counted == fen("18300.00")
    assert result.loan("B2", "X-1").interest_counted == fen("2600000.00")
    assert [(x.bank_code, x.loan_no) for x in result.loans] == [
        ("B1", "A-1"), ("B1", "A-2"), ("B1", "A-3"), ("B1", "A-4"),
        ("B2", "L-1"), ("B2", "O-1"), ("B2", "X-1"),
    ]
    assert all(x.eligible == (x.reason is None) for x in result.loans)


def test_worked_example_entitlements_default_budget():
    loans, payments = worked_example()
    result = compute_batch(loans, payments, REGISTRY, DEFAULT, date(2020, 12, 31), {}, 0)
    assert [b.beneficiary_id for b in result.beneficiaries] == ["A", "X"]
    a, x = result.beneficiaries
    assert (a.loans_counted, a.subsidy_before_cap, a.entitlement, a.due, a.payable) == (
        2, fen("20266.66"), fen("20266.66"), fen("20266.66"), fen("20266.66"))
    assert a.interest_counted == fen("40533.32")
    assert (a.name, a.kind) == ("深圳市甲科技有限公司", "enterprise")
    assert (x.subsidy_before_cap, x.entitlement, x.payable) == (fen("1300000.00"), fen("1000000.00"),
                                                               fen("1000000.00"))
    assert result.rationing_factor is None and not result.over_budget
    assert result.budget_left == fen("2000000000.00")
    assert result.payable_total == fen("1020266.66")
    assert result.unspent == fen("2000000000.00") - fen("1020266.66")


def test_worked_example_budget_500k_rations_pro_rata():
    loans, payments = worked_example()
    params = DEFAULT.with_overrides({"budget": "500000.00"})
    result = compute_batch(loans, payments, REGISTRY, params, date(2020, 12, 31), {}, 0)
    payable = {b.beneficiary_id: fen_str(b.payable) for b in result.beneficiaries}
    assert payable == {"A": "9932.04", "X": "490067.95"}
    assert result.due_total == fen("1020266.66")
    assert result.rationing_factor == Fraction(fen("500000.00"), fen("1020266.66"))
    assert fen_str(result.unspent) == "0.01"
    assert result.payable_total + result.unspent == result.budget_left == fen("500000.00")


def test_worked_example_cumulative_batches():
    loans, payments = worked_example()
    first = compute_batch(loans, payments, REGISTRY, DEFAULT, date(2020, 8, 31), {}, 0)
    assert {b.beneficiary_id: fen_str(b.payable) for b in first.beneficiaries} == {
        "A": "9243.75", "X": "650000.00"}
    # 9243.745 rounded half-up: A-1 alone, A-2's first payment is paid on 09-21.
    assert first.loan("B1", "A-1").interest_counted * Fraction(1, 2) == Fraction(924374_5, 10)
    assert first.loan("B1", "A-2").interest_counted == 0 and first.loan("B1", "A-2").subsidy_fen == 0

    paid = {b.beneficiary_id: b.payable for b in first.beneficiaries}
    second = compute_batch(loans, payments, REGISTRY, DEFAULT, date(2020, 12, 31), paid, first.payable_total)
    assert {b.beneficiary_id: fen_str(b.payable) for b in second.beneficiaries} == {
        "A": "11022.91", "X": "350000.00"}
    assert {b.beneficiary_id: b.paid_before for b in second.beneficiaries} == paid
    assert second.budget_left == fen("2000000000.00") - fen("659243.75")
    assert all(b.overpayment == 0 for b in second.beneficiaries)


# --------------------------------------------------------------------------------------------------
# Calendar, rounding and formatting


@pytest.mark.parametrize("start, n, expected", [
    (date(2020, 3, 31), 6, date(2020, 9, 30)),
    (date(2020, 8, 31), 6, date(2021, 2, 28)),
    (date(2019, 8, 31), 6, date(2020, 2, 29)),  # leap year
    (date(2020, 1, 31), 1, date(2020, 2, 29)),
    (date(2020, 3, 10), 6, date(2020, 9, 10)),
    (date(2020, 7, 15), 6, date(2021, 1, 15)),  # over the year end
    (date(2020, 12, 31), 12, date(2021, 12, 31)),
    (date(2020, 5, 31), 0, date(2020, 5, 31)),
    (date(2020, 3, 31), -1, date(2020, 2, 29)),
    (date(2020, 1, 15), -1, date(2019, 12, 15)),
])
def test_add_months(start, n, expected):
    assert add_months(start, n) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(0, 120))
def test_add_months_properties(d, n):
    result = add_months(d, n)
    assert (result.year * 12 + result.month) - (d.year * 12 + d.month) == n
    assert result.day == d.day or (result.day < d.day and (result + dt.timedelta(days=1)).day == 1)


@pytest.mark.parametrize("x, expected", [
    (Fraction(0), 0), (Fraction(1, 2), 1), (Fraction(3, 2), 2), (Fraction(5, 2), 3),
    (Fraction(49999, 100000), 0), (Fraction(-1, 2), -1), (Fraction(-3, 2), -2), (Fraction(-49, 100), 0),
    (Fraction(924374_5, 10), 924375), (7, 7),
])
def test_round_half_up_is_not_bankers_rounding(x, expected):
    assert round_half_up(x) == expected


def test_floor_to_fen():
    assert floor_to_fen(Fraction(99999, 100)) == 999
    assert floor_to_fen(Fraction(1000)) == 1000
    assert floor_to_fen(Fraction(-1, 3)) == -1


@pytest.mark.parametrize("amount, text", [
    (0, "0.00"), (5, "0.05"), (100, "1.00"), (123456, "1234.56"), (200000000000, "2000000000.00"),
    (-5, "-0.05"), (-123456, "-1234.56"), (None, ""),
])
def test_fen_str(amount, text):
    assert fen_str(amount) == text


def test_fen_str_refuses_non_integers():
    for bad in (Fraction(1, 2), D("1.00"), 1.0, True):
        with pytest.raises(TypeError):
            fen_str(bad)


def test_loan_subsidy_rounds_once_half_up():
    assert loan_subsidy_fen(Fraction(1848749), D("0.5")) == 924375  # 9243.745 → 9243.75
    assert loan_subsidy_fen(Fraction(1848747), D("0.5")) == 924374  # 9243.735 → 9243.74 (not even)
    assert loan_subsidy_fen(Fraction(10, 3), D("0.5")) == 2  # 1.666… → 2
    assert loan_subsidy_fen(Fraction(0), D("0.5")) == 0
    assert loan_subsidy_fen(Fraction(1001), D("0.3")) == 300  # 300.3
    with pytest.raises(TypeError):
        loan_subsidy_fen(Fraction(100), 0.5)


def test_rounding_is_per_loan_not_per_payment():
    # Two payments of 1 fen on one loan: 0.5 + 0.5 = 1 fen, rounded once.
    one = loan("B", "1", "A", date(2020, 3, 1))
    payments = [Payment("B", "1", date(2020, 3, 1), date(2020, 3, 2), date(2020, 3, 2), 1),
                Payment("B", "1", date(2020, 3, 2), date(2020, 3, 3), date(2020, 3, 3), 1)]
    result = compute_batch([one], payments, REGISTRY, DEFAULT, date(2020, 12, 31), {}, 0)
    assert result.loan("B", "1").subsidy_fen == 1
    # Per payment it would have been round(0.5) + round(0.5) = 2; two loans of 1 fen each give 1 + 1.
    two = [loan("B", "1", "A", date(2020, 3, 1)), loan("B", "2", "A", date(2020, 3, 1))]
    payments2 = [payments[0], Payment("B", "2", date(2020, 3, 1), date(2020, 3, 2), date(2020, 3, 2), 1)]
    result2 = compute_batch(two, payments2, REGISTRY, DEFAULT, date(2020, 12, 31), {}, 0)
    assert [x.subsidy_fen for x in result2.loans] == [1, 1]
    assert result2.beneficiary("A").subsidy_before_cap == 2


# --------------------------------------------------------------------------------------------------
# Counted interest


def test_payment_straddling_the_period_end_counts_its_days_inside():
    the_loan = loan("B", "1", "A", date(2020, 3, 31))  # period [03-31, 09-30)
    straddling = Payment("B", "1", date(2020, 9, 1), date(2020, 10, 1), date(2020, 10, 1), 300_00)
    assert counted_interest(straddling, the_loan, DEFAULT, date(2020, 12, 31)) == Fraction(300_00 * 29, 30)
    after = Payment("B", "1", date(2020, 9, 30), date(2020, 10, 30), date(2020, 10, 30), 300_00)
    assert counted_interest(after, the_loan, DEFAULT, date(2020, 12, 31)) == 0


def test_payment_straddling_the_period_start():
    the_loan = loan("B", "1", "A", date(2020, 3, 10))
    before_and_in = Payment("B", "1", date(2020, 3, 1), date(2020, 3, 11), date(2020, 3, 11), 1000)
    assert counted_interest(before_and_in, the_loan, DEFAULT, date(2020, 12, 31)) == Fraction(1000, 10)
    entirely_before = Payment("B", "1", date(2020, 2, 1), date(2020, 3, 10), date(2020, 3, 10), 1000)
    assert counted_interest(entirely_before, the_loan, DEFAULT, date(2020, 12, 31)) == 0


def test_payment_covering_the_whole_period():
    the_loan = loan("B", "1", "A", date(2020, 3, 1))  # [03-01, 09-01): 184 days
    year = Payment("B", "1", date(2020, 1, 1), date(2021, 1, 1), date(2021, 1, 1), 366_00)
    assert counted_interest(year, the_loan, DEFAULT, date(2021, 1, 1)) == Fraction(366_00 * 184, 366)


def test_payment_paid_after_the_cutoff_is_excluded():
    the_loan = loan("B", "1", "A", date(2020, 3, 1))
    payment = Payment("B", "1", date(2020, 3, 1), date(2020, 4, 1), date(2020, 4, 2), 1000_00)
    assert counted_interest(payment, the_loan, DEFAULT, date(2020, 4, 1)) == 0
    assert counted_interest(payment, the_loan, DEFAULT, date(2020, 4, 2)) == 1000_00  # on the cutoff counts
    result = compute_batch([the_loan], [payment], REGISTRY, DEFAULT, date(2020, 4, 1), {}, 0)
    line = result.loan("B", "1")
    assert line.eligible and line.interest_counted == 0 and line.subsidy_fen == 0
    assert result.beneficiary("A").loans_counted == 1 and result.beneficiary("A").payable == 0


def test_zero_interest_payment():
    the_loan = loan("B", "1", "A", date(2020, 3, 1))
    payment = Payment("B", "1", date(2020, 3, 1), date(2020, 4, 1), date(2020, 4, 1), 0)
    assert counted_interest(payment, the_loan, DEFAULT, date(2020, 12, 31)) == 0
    result = compute_batch([the_loan], [payment], REGISTRY, DEFAULT, date(2020, 12, 31), {}, 0)
    assert result.loan("B", "1").subsidy_fen == 0
    assert result.payable_total == 0 and result.rationing_factor is None


def test_counted_interest_refuses_another_loans_payment():
    with pytest.raises(ValueError):
        counted_interest(Payment("B", "2", date(2020, 3, 1), date(2020, 4, 1), date(2020, 4, 1), 1),
                         loan("B", "1", "A", date(2020, 3, 1)), DEFAULT, date(2020, 12, 31))


def test_extension_counts_by_its_own_start_date():
    original = loan("B", "E-0", "A", date(2019, 12, 1))
    extension = loan("B", "E-1", "A", date(2020, 6, 1), extension_of="E-0")
    late_extension = loan("B", "E-2", "A", date(2020, 7, 1), extension_of="E-0")
    assert eligibility(original, REGISTRY, DEFAULT) == "outside_window"
    assert eligibility(extension, REGISTRY, DEFAULT) is None
    assert eligibility(late_extension, REGISTRY, DEFAULT) == "outside_window"
    payments = [
        Payment("B", "E-0", date(2020, 5, 1), date(2020, 6, 1), date(2020, 6, 1), 1000_00),
        # The extension's own period is [06-01, 12-01): the payment is counted 30 of 61 days.
        Payment("B", "E-1", date(2020, 11, 1), date(2021, 1, 1), date(2021, 1, 1), 610_00),
    ]
    result = compute_batch([original, extension, late_extension], payments, REGISTRY, DEFAULT,
                           date(2021, 1, 31), {}, 0)
    assert result.loan("B", "E-1").interest_counted == Fraction(610_00 * 30, 61)
    assert result.loan("B", "E-1").subsidy_fen == 150_00
    assert result.loan("B", "E-0").subsidy_fen is None


# --------------------------------------------------------------------------------------------------
# Eligibility


REG = {
    "S": RegistryEntry("enterprise", "small"),
    "MI": RegistryEntry("enterprise", "micro"),
    "ME": RegistryEntry("enterprise", "medium"),
    "LA": RegistryEntry("enterprise", "large"),
    "UN": RegistryEntry("enterprise", "unknown"),
    "IB": RegistryEntry("individual_business", "unknown"),
    "IBL": RegistryEntry("individual_business", "large"),
}
IN = date(2020, 4, 1)


@pytest.mark.parametrize("the_loan, expected", [
    (loan("B", "1", "S", IN), None),
    (loan("B", "1", "MI", IN), None),
    (loan("B", "1", "ME", IN), None),  # a medium enterprise borrowing itself counts
    (loan("B", "1", "LA", IN), "borrower_large"),
    (loan("B", "1", "UN", IN), "borrower_size_unknown"),
    (loan("B", "1", "NOPE", IN), "borrower_not_in_registry"),
    (loan("B", "1", "IB", IN, kind="individual_business"), None),
    (loan("B", "1", "IBL", IN, kind="individual_business"), None),  # whatever its size class
    (loan("B", "1", "NOPE", IN, kind="individual_business"), "borrower_not_in_registry"),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="S"), None),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="MI"), None),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="IB"), None),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="IBL"), None),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="ME"), "owned_enterprise_not_small_or_micro"),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="LA"), "owned_enterprise_not_small_or_micro"),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="UN"), "owned_enterprise_size_unknown"),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of="NOPE"), "owned_enterprise_not_in_registry"),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of=None), "owned_enterprise_not_in_registry"),
    (loan("B", "1", "P", IN, kind="business_owner", owner_of=""), "owned_enterprise_not_in_registry"),
    # Window edges are inclusive.
    (loan("B", "1", "S", date(2020, 2, 1)), None),
    (loan("B", "1", "S", date(2020, 6, 30)), None),
    (loan("B", "1", "S", date(2020, 1, 31)), "outside_window"),
    (loan("B", "1", "S", date(2020, 7, 1)), "outside_window"),
])
def test_eligibility(the_loan, expected):
    assert eligibility(the_loan, REG, DEFAULT) == expected


def test_eligibility_reports_the_first_failure_in_the_spec_order():
    everything_wrong = loan("B", "1", "LA", date(2021, 1, 1), purpose="other")
    assert eligibility(everything_wrong, REG, DEFAULT) == "purpose_not_operating"
    assert eligibility(loan("B", "1", "LA", date(2021, 1, 1)), REG, DEFAULT) == "outside_window"
    assert eligibility(loan("B", "1", "NOPE", date(2021, 1, 1), kind="business_owner"), REG, DEFAULT) \
        == "outside_window"
    assert list(REASONS) == [
        "purpose_not_operating", "outside_window", "borrower_not_in_registry", "borrower_large",
        "borrower_size_unknown", "owned_enterprise_not_in_registry", "owned_enterprise_not_small_or_micro",
        "owned_enterprise_size_unknown",
    ]
    for label in REASONS.values():  # each said in both languages, never shown as its code
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        assert zh and en and zh != en


def test_the_registry_not_the_bank_says_what_a_borrower_is():
    # Reported as an enterprise, registered as an individual business: any size counts.
    assert eligibility(loan("B", "1", "IBL", IN, kind="enterprise"), REG, DEFAULT) is None
    # Reported as an individual business, registered as a large enterprise: not a way round the rule.
    assert eligibility(loan("B", "1", "LA", IN, kind="individual_business"), REG, DEFAULT) == "borrower_large"
    assert eligibility(loan("B", "1", "UN", IN, kind="individual_business"), REG, DEFAULT) \
        == "borrower_size_unknown"
    result = compute_batch([loan("B", "1", "IBL", IN, kind="enterprise", borrower_name="张记")], [], REG,
                           DEFAULT, date(2020, 12, 31), {}, 0)
    assert result.beneficiary("IBL").kind == "individual_business"
    assert result.beneficiary("IBL").name == "张记"  # the registry has no name for it


def test_window_follows_the_parameters():
    params = DEFAULT.with_overrides({"window_end": "2020-12-31"})
    assert eligibility(loan("B", "1", "S", date(2020, 7, 1)), REG, params) is None


# --------------------------------------------------------------------------------------------------
# Parameters


def test_defaults():
    assert DEFAULT == Params(date(2020, 2, 1), date(2020, 6, 30), D("0.5"), 6, fen("1000000.00"),
                             fen("2000000000.00"), "pro_rata")
    assert Params.from_mapping(DEFAULT.as_mapping()) == DEFAULT
    assert dict(DEFAULTS) == DEFAULT.as_mapping()
    import json
    assert json.loads(json.dumps(dict(DEFAULTS))) == dict(DEFAULTS)


def test_from_mapping_accepts_yuan_or_fen():
    base = dict(DEFAULTS)
    del base["cap"], base["budget"]
    params = Params.from_mapping({**base, "cap_fen": 123, "budget": D("5000.5")})
    assert (params.cap_fen, params.budget_fen) == (123, 500050)
    params = Params.from_mapping({**base, "cap": "1,000.00", "budget": 7, "window_start": date(2020, 1, 1),
                                  "months": "3", "rate": D("0.25")})
    assert (params.cap_fen, params.budget_fen, params.window_start, params.months, params.rate) == (
        100000, 700, date(2020, 1, 1), 3, D("0.25"))
    assert Params.from_mapping({**base, "cap": "1", "cap_fen": 100, "budget_fen": 0}).cap_fen == 100


@pytest.mark.parametrize("change", [
    {"rate": 0.5},  # float
    {"cap": 1000000.0},  # float money
    {"cap": "10.001"},  # below a fen
    {"cap_fen": 100, "cap": "2"},  # disagree
    {"rate": "1.5"},
    {"rate": "-0.1"},
    {"rate": "abc"},
    {"rate": "NaN"},
    {"months": 0},
    {"months": True},
    {"months": "six"},
    {"window_start": "2020-13-01"},
    {"window_end": "2020-01-01"},  # before the start
    {"window_start": dt.datetime(2020, 2, 1)},
    {"rationing": "lottery"},
    {"budget_fen": -1},
    {"budget_fen": 1.0},
    {"rate_typo": "0.5"},
])
def test_from_mapping_refuses_bad_values(change):
    with pytest.raises(ValidationFailed) as info:
        Params.from_mapping({**DEFAULTS, **change})
    assert info.value.code.startswith("subsidy.params.")
    assert info.value.zh and info.value.en


def test_from_mapping_requires_every_parameter():
    for name in ("window_start", "window_end", "rate", "months", "cap", "budget", "rationing"):
        partial = {k: v for k, v in DEFAULTS.items() if k != name}
        with pytest.raises(ValidationFailed):
            Params.from_mapping(partial)


def test_with_overrides():
    params = DEFAULT.with_overrides({"cap_fen": 5, "rationing": "none"})
    assert (params.cap_fen, params.rationing, params.budget_fen) == (5, "none", DEFAULT.budget_fen)
    assert DEFAULT.with_overrides({}) == DEFAULT
    assert DEFAULT.with_overrides({"budget": "1.00"}).budget_fen == 100


def test_inputs_are_checked():
    with pytest.raises(ValueError):
        RegistryEntry("cooperative", "small")
    with pytest.raises(ValueError):
        RegistryEntry("enterprise", "tiny")
    with pytest.raises(ValueError):
        loan("B", "1", "A", IN, kind="bank")
    with pytest.raises(ValueError):
        loan("B", "1", "A", IN, purpose="经营性")
    with pytest.raises(ValueError):
        Payment("B", "1", date(2020, 3, 1), date(2020, 3, 1), date(2020, 3, 1), 1)
    with pytest.raises(ValueError):
        Payment("B", "1", date(2020, 3, 1), date(2020, 3, 2), date(2020, 3, 2), -1)
    with pytest.raises(ValueError):
        Payment("B", "1", date(2020, 3, 1), date(2020, 3, 2), date(2020, 3, 2), D("1"))
    one = loan("B", "1", "A", IN)
    with pytest.raises(ValueError):
        compute_batch([one, one], [], REGISTRY, DEFAULT, IN, {}, 0)
    with pytest.raises(ValueError):
        compute_batch([one], [Payment("B", "2", IN, date(2020, 5, 1), IN, 1)], REGISTRY, DEFAULT, IN, {}, 0)
    twice = Payment("B", "1", IN, date(2020, 5, 1), IN, 1)
    with pytest.raises(ValueError):
        compute_batch([one], [twice, twice], REGISTRY, DEFAULT, IN, {}, 0)
    with pytest.raises(ValueError):
        compute_batch([one], [], REGISTRY, DEFAULT, IN, {"A": -1}, 0)
    with pytest.raises(ValueError):
        compute_batch([one], [], REGISTRY, DEFAULT, IN, {}, -1)


# --------------------------------------------------------------------------------------------------
# Cumulative batches, overpayment, budget


def test_correction_below_what_was_paid_is_an_overpayment_not_a_negative_payment():
    loans, payments = worked_example()
    paid = {"A": fen("25000.00"), "X": fen("1000000.00"), "GONE": fen("100.00")}
    result = compute_batch(loans, payments, REGISTRY, DEFAULT, date(2020, 12, 31), paid, sum(paid.values()))
    a, gone, x = result.beneficiaries
    assert (a.beneficiary_id, a.due, a.payable) == ("A", 0, 0)
    assert a.overpayment == fen("25000.00") - fen("20266.66")
    assert (x.due, x.payable, x.overpayment) == (0, 0, 0)
    # Paid before, nothing counted now (its loans were corrected away): still listed, to recover.
    assert (gone.beneficiary_id, gone.loans_counted, gone.entitlement, gone.overpayment) == (
        "GONE", 0, 0, fen("100.00"))
    assert result.overpayment_total == fen("25000.00") - fen("20266.66") + fen("100.00")
    assert result.payable_total == 0


def test_rationing_none_pays_in_full_and_says_it_is_over_budget():
    loans, payments = worked_example()
    params = DEFAULT.with_overrides({"budget": "500000.00", "rationing": "none"})
    result = compute_batch(loans, payments, REGISTRY, params, date(2020, 12, 31), {}, 0)
    assert {b.beneficiary_id: b.payable for b in result.beneficiaries} == {"A": fen("20266.66"),
                                                                          "X": fen("1000000.00")}
    assert result.over_budget and result.rationing_factor is None
    assert result.unspent == fen("500000.00") - fen("1020266.66")


def test_exhausted_budget_pays_nothing_under_pro_rata():
    loans, payments = worked_example()
    params = DEFAULT.with_overrides({"budget": "500000.00"})
    for spent in (fen("500000.00"), fen("600000.00")):  # also a budget later lowered below what was spent
        result = compute_batch(loans, payments, REGISTRY, params, date(2020, 12, 31), {}, spent)
        assert result.rationing_factor == 0
        assert all(b.payable == 0 for b in result.beneficiaries)
        assert result.budget_left == fen("500000.00") - spent


def test_exactly_enough_budget_is_not_rationed():
    loans, payments = worked_example()
    params = DEFAULT.with_overrides({"budget": "1020266.66"})
    result = compute_batch(loans, payments, REGISTRY, params, date(2020, 12, 31), {}, 0)
    assert result.rationing_factor is None and result.unspent == 0 and not result.over_budget


def test_cap_zero_and_rate_zero():
    loans, payments = worked_example()
    result = compute_batch(loans, payments, REGISTRY, DEFAULT.with_overrides({"cap_fen": 0}),
                           date(2020, 12, 31), {}, 0)
    assert all(b.entitlement == 0 and b.payable == 0 for b in result.beneficiaries)
    result = compute_batch(loans, payments, REGISTRY, DEFAULT.with_overrides({"rate": "0"}),
                           date(2020, 12, 31), {}, 0)
    assert all(x.subsidy_fen in (0, None) for x in result.loans)


def test_owner_is_the_beneficiary_under_their_resident_id():
    owner = loan("B", "O-2", OWNER_OF_M, IN, kind="business_owner", owner_of="X", borrower_name="王五")
    payment = Payment("B", "O-2", IN, date(2020, 5, 1), date(2020, 5, 1), 500_00)
    result = compute_batch([owner], [payment], REGISTRY, DEFAULT, date(2020, 12, 31), {}, 0)
    (line,) = result.beneficiaries
    assert (line.beneficiary_id, line.name, line.kind, line.payable) == (OWNER_OF_M, "王五", "business_owner",
                                                                         250_00)


def test_output_is_independent_of_input_order():
    loans, payments = worked_example()
    params = DEFAULT.with_overrides({"budget": "500000.00"})
    expected = compute_batch(loans, payments, REGISTRY, params, date(2020, 12, 31), {"A": 1}, 1)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(loans)
        rng.shuffle(payments)
        registry = dict(sorted(REGISTRY.items(), key=lambda _: rng.random()))
        assert compute_batch(loans, payments, registry, params, date(2020, 12, 31), {"A": 1}, 1) == expected


# --------------------------------------------------------------------------------------------------
# Properties over random ledgers, against a naive reference implementation


def ref_add_months(d: dt.date, n: int) -> dt.date:
    year, month = d.year, d.month
    for _ in range(n):
        month += 1
        if month == 13:
            year, month = year + 1, 1
    day = d.day
    while True:
        try:
            return dt.date(year, month, day)
        except ValueError:
            day -= 1


def ref_half_up(x: Fraction) -> int:
    assert x >= 0
    return (2 * x.numerator + x.denominator) // (2 * x.denominator)


def ref_reason(ln: Loan, registry, p: Params):
    if ln.purpose != "operating":
        return "purpose_not_operating"
    if ln.start_date < p.window_start or ln.start_date > p.window_end:
        return "outside_window"
    if ln.borrower_kind == "business_owner":
        if not ln.owner_of or ln.owner_of not in registry:
            return "owned_enterprise_not_in_registry"
        e = registry[ln.owner_of]
        if e.kind == "individual_business":
            return None
        return {"small": None, "micro": None, "unknown": "owned_enterprise_size_unknown"}.get(
            e.size_class, "owned_enterprise_not_small_or_micro")
    if ln.borrower_id not in registry:
        return "borrower_not_in_registry"
    e = registry[ln.borrower_id]
    if e.kind == "individual_business":
        return None
    return {"large": "borrower_large", "unknown": "borrower_size_unknown"}.get(e.size_class)


def reference_batch(loans, payments, registry, p: Params, cutoff, paid_before, spent_before):
    """Straight loops, days counted one by one, integer rounding: the spec read a second time."""
    rate = Fraction(p.rate)
    per_loan = {}
    per_benef = {}
    for ln in loans:
        reason = ref_reason(ln, registry, p)
        if reason is not None:
            per_loan[(ln.bank_code, ln.loan_no)] = (reason, None, None)
            continue
        first, end = ln.start_date, ref_add_months(ln.start_date, p.months)
        total = Fraction(0)
        for pay in payments:
            if (pay.bank_code, pay.loan_no) != (ln.bank_code, ln.loan_no) or pay.paid_date > cutoff:
                continue
            days = inside = 0
            day = pay.accrual_start
            while day < pay.accrual_end:
                days += 1
                if first <= day < end:
                    inside += 1
                day += dt.timedelta(days=1)
            total += Fraction(pay.interest_fen) * inside / days
        subsidy = ref_half_up(rate * total)
        per_loan[(ln.bank_code, ln.loan_no)] = (None, total, subsidy)
        b = per_benef.setdefault(ln.borrower_id, [0, Fraction(0), 0])
        b[0] += 1
        b[1] += total
        b[2] += subsidy
    for who, amount in paid_before.items():
        if amount > 0:
            per_benef.setdefault(who, [0, Fraction(0), 0])
    rows = {}
    for who, (n, interest, subsidy) in per_benef.items():
        entitlement = subsidy if subsidy < p.cap_fen else p.cap_fen
        before = paid_before.get(who, 0)
        due = entitlement - before if entitlement > before else 0
        over = before - entitlement if before > entitlement else 0
        rows[who] = [n, interest, subsidy, entitlement, before, due, due, over]
    total_due = sum(r[5] for r in rows.values())
    left = p.budget_fen - spent_before
    if p.rationing == "pro_rata" and total_due > 0 and total_due > left:
        available = left if left > 0 else 0
        for r in rows.values():
            r[6] = (r[5] * available) // total_due
    return per_loan, rows, total_due, left


IDS = ["E1", "E2", "E3", "E4", "E5", "E6"]
OWNERS = ["110101199003070011", "440305198001011234"]
ENTRIES = st.builds(
    RegistryEntry,
    st.sampled_from(["enterprise", "enterprise", "individual_business"]),
    st.sampled_from(["small", "micro", "medium", "small", "micro", "large", "unknown"]),
    st.sampled_from(["", "某公司"]),
)
DAY0 = date(2020, 1, 1)


@st.composite
def ledgers(draw):
    """Mostly loans that count (so that the money paths are exercised), with every way of failing."""
    registry = {uscc: draw(ENTRIES) for uscc in IDS if draw(st.integers(0, 5))}
    window_start = DAY0 + dt.timedelta(days=draw(st.integers(0, 120)))
    window_days = draw(st.integers(0, 200))
    params = Params(
        window_start=window_start,
        window_end=window_start + dt.timedelta(days=window_days),
        rate=draw(st.sampled_from([D("0.5"), D("0.5"), D("0.3"), D("1"), D("0"), D("0.333"), D("0.05")])),
        months=draw(st.integers(1, 12)),
        cap_fen=draw(st.one_of(st.integers(0, 1000), st.integers(0, 10_000_000), st.just(100_000_000))),
        budget_fen=draw(st.one_of(st.integers(0, 1000), st.integers(0, 300_000), st.integers(0, 3_000_000),
                                  st.integers(0, 30_000_000), st.just(200_000_000_000))),
        rationing=draw(st.sampled_from(["pro_rata", "pro_rata", "none"])),
    )
    loans = []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["enterprise", "enterprise", "individual_business", "business_owner"]))
        if kind == "business_owner":
            borrower = draw(st.sampled_from(OWNERS))
            owner_of = draw(st.one_of(st.none(), st.sampled_from(IDS + ["E9"])))
        else:
            borrower, owner_of = draw(st.sampled_from(IDS + ["E9"])), None
        loans.append(Loan(
            draw(st.sampled_from(["B1", "B2"])), f"L{i}", borrower, kind, owner_of,  # loan_no unique
            draw(st.sampled_from(["operating"] * 5 + ["other"])),
            window_start + dt.timedelta(days=draw(st.integers(-20, window_days + 20))),
            extension_of=draw(st.sampled_from([None, "L0"])),
            borrower_name=draw(st.sampled_from(["", "张三"])),
        ))
    payments = {}
    for ln in loans:
        for _ in range(draw(st.integers(0, 4))):
            start = ln.start_date + dt.timedelta(days=draw(st.integers(-40, 250)))
            end = start + dt.timedelta(days=draw(st.integers(1, 120)))
            paid = end + dt.timedelta(days=draw(st.integers(-1, 20)))
            interest = draw(st.one_of(st.integers(0, 1000), st.integers(0, 20_000_000)))
            payments.setdefault((ln.bank_code, ln.loan_no, start),
                                Payment(ln.bank_code, ln.loan_no, start, end, paid, interest))
    who = sorted({ln.borrower_id for ln in loans} | {"E5"})
    paid_before = draw(st.one_of(st.just({}), st.dictionaries(
        st.sampled_from(who),
        st.one_of(st.integers(0, 1000), st.integers(0, 500_000), st.integers(0, 5_000_000)))))
    spent_before = draw(st.one_of(st.just(0), st.integers(0, 1000), st.integers(0, params.budget_fen + 1000)))
    cutoff = draw(st.one_of(st.just(date(2021, 12, 31)), st.dates(DAY0, DAY0 + dt.timedelta(days=500))))
    return loans, list(payments.values()), registry, params, cutoff, paid_before, spent_before


PROPERTY_SETTINGS = hypothesis_settings(max_examples=300, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(ledgers())
def test_money_invariants(ledger):
    loans, payments, registry, params, cutoff, paid_before, spent_before = ledger
    result = compute_batch(*ledger)
    left = params.budget_fen - spent_before
    assert result.budget_left == left
    for b in result.beneficiaries:
        assert b.payable <= max(0, params.cap_fen - b.paid_before)
        assert 0 <= b.payable <= b.due <= b.entitlement <= params.cap_fen
        assert b.entitlement <= b.subsidy_before_cap
        assert b.overpayment >= 0 and b.interest_counted >= 0 and b.loans_counted >= 0
        assert b.due - b.overpayment == b.entitlement - b.paid_before
        assert b.paid_before + b.payable <= max(b.entitlement, b.paid_before)
    for x in result.loans:
        assert x.eligible == (x.reason is None)
        assert (x.subsidy_fen is None) == (not x.eligible) == (x.interest_counted is None)
        assert x.subsidy_fen is None or x.subsidy_fen >= 0
    # Every fen accounted for.
    assert result.payable_total == sum(b.payable for b in result.beneficiaries)
    assert result.due_total == sum(b.due for b in result.beneficiaries)
    assert result.payable_total + result.unspent == left
    assert result.over_budget == (result.payable_total > max(0, left))
    if params.rationing == "pro_rata":
        assert result.payable_total <= max(0, left)
        if result.rationing_factor is not None:
            assert result.due_total > max(0, left)
            # Flooring leaves less than one fen per beneficiary owed something.
            owed = sum(b.due > 0 for b in result.beneficiaries)
            assert 0 <= max(0, left) - result.payable_total < max(1, owed)
        else:
            assert result.payable_total == result.due_total <= max(0, left)
    else:
        assert result.rationing_factor is None and result.payable_total == result.due_total
        assert result.over_budget == (result.due_total > max(0, left))
    # Ordering.
    ids = [b.beneficiary_id for b in result.beneficiaries]
    assert ids == sorted(set(ids))
    keys = [(x.bank_code, x.loan_no) for x in result.loans]
    assert keys == sorted(set(keys)) and len(keys) == len(loans)


@PROPERTY_SETTINGS
@given(ledgers(), st.randoms(use_true_random=False))
def test_deterministic_and_order_independent(ledger, rnd):
    loans, payments, registry, params, cutoff, paid_before, spent_before = ledger
    first = compute_batch(*ledger)
    assert compute_batch(*ledger) == first
    loans2, payments2 = list(loans), list(payments)
    rnd.shuffle(loans2)
    rnd.shuffle(payments2)
    again = compute_batch(loans2, payments2, dict(reversed(list(registry.items()))), params, cutoff,
                          dict(reversed(list(paid_before.items()))), spent_before)
    assert again == first
    assert isinstance(first, BatchResult)


@PROPERTY_SETTINGS
@given(ledgers())
def test_agrees_with_a_naive_reference(ledger):
    loans, payments, registry, params, cutoff, paid_before, spent_before = ledger
    result = compute_batch(*ledger)
    per_loan, rows, total_due, left = reference_batch(*ledger)
    assert {(x.bank_code, x.loan_no): (x.reason, x.interest_counted, x.subsidy_fen) for x in result.loans} \
        == per_loan
    assert {
        b.beneficiary_id: [b.loans_counted, b.interest_counted, b.subsidy_before_cap, b.entitlement,
                           b.paid_before, b.due, b.payable, b.overpayment]
        for b in result.beneficiaries
    } == rows
    assert result.due_total == total_due and result.budget_left == left


@PROPERTY_SETTINGS
@given(ledgers())
def test_the_columnar_rules_give_the_same_batch(ledger):
    """The set-based implementation (polars, used by the services) and the pure-Python rules agree."""
    from huiqi.subsidy.rules_columnar import compute_batch_columns, frames_from_objects

    loans, payments, registry, params, cutoff, paid_before, spent_before = ledger
    frames = frames_from_objects(loans, payments, registry)
    expected = compute_batch(*ledger)
    assert compute_batch_columns(*frames, params, cutoff, paid_before, spent_before) == expected
    # The payments naming their loan by an id (as from the ledger snapshot), with or without the checks.
    by_id = by_loan_id(*frames)
    assert compute_batch_columns(*by_id, params, cutoff, paid_before, spent_before) == expected
    assert compute_batch_columns(*by_id, params, cutoff, paid_before, spent_before, keys_held=True) == expected


def by_loan_id(loan_frame, payment_frame, registry_frame):
    """The frames with an ``id`` per loan (numbered in a shuffled order) and the payments naming it."""
    import polars as pl

    n = loan_frame.height
    ids = pl.Series("id", [(i * 7919) % (n + 1) + 1000 for i in range(n)], dtype=pl.Int64)
    loan_frame = loan_frame.with_columns(ids)
    payment_frame = payment_frame.join(loan_frame.select("bank_code", "loan_no", "id"), on=["bank_code", "loan_no"],
                                       how="left").drop("bank_code", "loan_no")
    return loan_frame, payment_frame, registry_frame


def test_payments_by_loan_id_are_checked_as_by_key():
    """Named by id, a payment given twice or of a loan not given is refused, as when named by key."""
    from huiqi.subsidy.rules_columnar import compute_batch_columns, frames_from_objects

    loans, payments = worked_example()
    params, cutoff = DEFAULT, date(2020, 12, 31)
    loan_frame, payment_frame, registry_frame = by_loan_id(*frames_from_objects(loans, payments, REGISTRY))
    assert compute_batch_columns(loan_frame, payment_frame, registry_frame, params, cutoff, {}, 0) == compute_batch(
        loans, payments, REGISTRY, params, cutoff, {}, 0)
    with pytest.raises(ValueError, match="a payment given twice"):
        compute_batch_columns(loan_frame, payment_frame.vstack(payment_frame.head(1)), registry_frame, params,
                              cutoff, {}, 0)
    orphan = payment_frame.head(1).with_columns(pl_lit_id(10**9))
    with pytest.raises(ValueError, match="a payment for an unknown loan"):
        compute_batch_columns(loan_frame, payment_frame.vstack(orphan), registry_frame, params, cutoff, {}, 0)
    with pytest.raises(ValueError, match="a loan given twice"):
        compute_batch_columns(loan_frame.with_columns(pl_lit_id(5)), payment_frame, registry_frame, params, cutoff,
                              {}, 0)


def pl_lit_id(value):
    import polars as pl

    return pl.lit(value, dtype=pl.Int64).alias("id")


def pre_aggregated(loans, payments, registry, params, cutoff):
    """The frames in the pre-aggregated form ``services.load_inputs`` reads on PostgreSQL, made here from
    objects: per loan, the payments paid by the cutoff lying wholly inside the subsidy period summed into
    ``whole_fen``; of the payments, only those the period's edge cuts."""
    import polars as pl

    from huiqi.subsidy.rules_columnar import WHOLE, frames_from_objects

    by_key = {ln.key: ln for ln in loans}
    whole: dict[tuple[str, str], int] = {}
    cut = []
    for pmt in payments:
        ln = by_key[pmt.loan_key]
        start, end = ln.start_date, add_months(ln.start_date, params.months)
        if pmt.paid_date > cutoff or not (pmt.accrual_start < end and pmt.accrual_end > start):
            continue
        if pmt.accrual_start >= start and pmt.accrual_end <= end:
            whole[ln.key] = whole.get(ln.key, 0) + pmt.interest_fen
        else:
            cut.append(pmt)
    loan_frame, payment_frame, registry_frame = frames_from_objects(loans, cut, registry)
    loan_frame = loan_frame.with_columns(pl.Series(WHOLE, [whole.get(ln.key) for ln in loans], dtype=pl.Int64))
    return loan_frame, payment_frame, registry_frame


@PROPERTY_SETTINGS
@given(ledgers())
def test_the_columnar_rules_take_the_pre_aggregated_form(ledger):
    """Whole payments summed beforehand (as PostgreSQL does for the services) and only the cut payments
    given: the same batch as the pure-Python rules."""
    from huiqi.subsidy.rules_columnar import compute_batch_columns

    loans, payments, registry, params, cutoff, paid_before, spent_before = ledger
    frames = pre_aggregated(loans, payments, registry, params, cutoff)
    assert compute_batch_columns(*frames, params, cutoff, paid_before, spent_before) == compute_batch(*ledger)


def test_the_columnar_rules_count_large_sums_exactly():
    """Sums beyond the integer fast path (Int64) are counted one by one, exactly, in both forms."""
    from huiqi.subsidy.rules_columnar import compute_batch_columns, frames_from_objects

    big = 2**61
    loans = [Loan("B1", f"L{i}", "A", "enterprise", None, "operating", date(2020, 3, 10)) for i in range(3)]
    payments = [Payment("B1", f"L{i}", date(2020, 3, 10), date(2020, 4, 10), date(2020, 4, 10), big + i)
                for i in range(3)]
    payments.append(Payment("B1", "L0", date(2020, 9, 1), date(2020, 10, 1), date(2020, 10, 1), big))  # cut
    params = DEFAULT.with_overrides({"cap_fen": 2**70, "budget_fen": 2**70})
    cutoff = date(2020, 12, 31)
    expected = compute_batch(loans, payments, REGISTRY, params, cutoff, {}, 0)
    assert expected.beneficiary("A").interest_counted > 2**62
    frames = frames_from_objects(loans, payments, REGISTRY)
    assert compute_batch_columns(*frames, params, cutoff, {}, 0) == expected
    frames = pre_aggregated(loans, payments, REGISTRY, params, cutoff)
    assert compute_batch_columns(*frames, params, cutoff, {}, 0) == expected


def test_the_columnar_rules_pass_the_worked_example():
    from huiqi.subsidy.rules_columnar import compute_batch_columns, frames_from_objects

    loans, payments = worked_example()
    frames = frames_from_objects(loans, payments, REGISTRY)
    for cutoff in (date(2020, 8, 31), date(2020, 12, 31)):
        assert compute_batch_columns(*frames, DEFAULT, cutoff, {}, 0) == compute_batch(
            loans, payments, REGISTRY, DEFAULT, cutoff, {}, 0)
    result = compute_batch_columns(*frames, DEFAULT, date(2020, 12, 31), {}, 0)
    assert {b.beneficiary_id: b.entitlement for b in result.beneficiaries} == {"A": fen("20266.66"),
                                                                             "X": fen("1000000.00")}
    for cutoff in (date(2020, 8, 31), date(2020, 12, 31)):
        assert compute_batch_columns(*pre_aggregated(loans, payments, REGISTRY, DEFAULT, cutoff), DEFAULT, cutoff,
                                     {}, 0) == compute_batch(loans, payments, REGISTRY, DEFAULT, cutoff, {}, 0)


def test_loans_already_in_key_order_are_not_sorted_again_and_give_the_same_batch():
    """The ledger snapshot keeps its loans by (bank_code, loan_no); the columnar rules check that order
    (and sort otherwise): either way the same batch."""
    import polars as pl

    from huiqi.subsidy.rules_columnar import _sorted_by_key, compute_batch_columns, frames_from_objects

    def frame(*keys):
        return pl.DataFrame({"bank_code": [k[0] for k in keys], "loan_no": [k[1] for k in keys]},
                            schema={"bank_code": pl.String, "loan_no": pl.String})

    assert _sorted_by_key(frame()) and _sorted_by_key(frame(("B", "2")))
    assert _sorted_by_key(frame(("A", "9"), ("B", "1"), ("B", "10"), ("B", "2"), ("C", "")))
    assert not _sorted_by_key(frame(("B", "1"), ("A", "9")))  # banks out of order
    assert not _sorted_by_key(frame(("A", "2"), ("A", "10")))  # "10" sorts before "2"
    assert not _sorted_by_key(frame(("A", "1"), ("B", "1"), ("A", "2")))  # the last pair only
    assert not _sorted_by_key(frame(("A", "1"), ("A", None)))  # a missing key: sorted to be sure

    loans, payments = worked_example()
    params, cutoff = DEFAULT.with_overrides({"budget": "500000.00"}), date(2020, 12, 31)
    expected = compute_batch(loans, payments, REGISTRY, params, cutoff, {"A": 1}, 1)
    loan_frame, payment_frame, registry_frame = frames_from_objects(loans, payments, REGISTRY)
    in_order = loan_frame.sort(["bank_code", "loan_no"])
    assert _sorted_by_key(in_order) and not _sorted_by_key(in_order.reverse())
    for loans_in in (in_order, in_order.reverse()):
        assert compute_batch_columns(loans_in, payment_frame, registry_frame, params, cutoff, {"A": 1},
                                     1) == expected
