"""Enterprise size classes (工信部联企业〔2011〕300号) and industry groups. No Django needed."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from huiqi.core.errors import ValidationFailed
from huiqi.registry.rules import (
    DEFAULT_SIZE_STANDARD,
    GROUP_LABELS,
    SIZE_CLASSES,
    SizeResult,
    classify_size,
    industry_group,
)

D = Decimal

# The ten worked cases of sme-size-standard.md, verbatim.
WORKED_CASES = [
    ("industry", 1500, D(30000), None, "medium"),
    ("industry", 1500, D(50000), None, "large"),
    ("industry", 50, D(50000), None, "small"),
    ("industry", 19, D(5000), None, "micro"),
    ("retail", 10, D(100), None, "small"),
    ("retail", 9, D(99999), None, "micro"),
    ("construction", None, D(7000), D(4000), "small"),
    ("software_it", 12, D(49), None, "micro"),
    ("other", 100, None, None, "medium"),
    ("industry", None, D(3000), None, "unknown"),
]


@pytest.mark.parametrize("group, employees, revenue, assets, expected", WORKED_CASES)
def test_worked_cases(group, employees, revenue, assets, expected):
    result = classify_size(group, employees, revenue, assets)
    assert isinstance(result, SizeResult)
    assert result.size_class == expected
    assert result.reason_zh and result.reason_en


def test_unknown_names_the_missing_figure():
    result = classify_size("industry", None, D(3000), None)
    assert result.missing == ("employees",)
    assert "从业人员" in result.reason_zh and "employees" in result.reason_en.lower()


def test_decided_results_list_nothing_missing():
    assert classify_size("industry", 1500, D(30000), None).missing == ()


# --- missing figures: decided only when every possible value gives the same class -------------


def test_sme_through_present_figure_but_medium_depends_on_missing():
    # revenue < 40000 makes it an SME; medium vs micro still hangs on employees.
    assert classify_size("industry", None, D(30000), None).size_class == "unknown"


def test_present_figure_fails_small_so_micro_whatever_is_missing():
    # revenue 100 < 300 fails small (and medium) for any employees; SME through revenue.
    result = classify_size("industry", None, D(100), None)
    assert result.size_class == "micro"
    assert result.missing == ()


def test_large_needs_both_figures():
    # employees ≥ 1000 but revenue absent: could be SME through revenue.
    result = classify_size("industry", 1500, None, None)
    assert result.size_class == "unknown"
    assert result.missing == ("revenue",)


def test_small_with_missing_figure_can_be_unknown():
    # Employees 50 fails medium; small vs micro hangs on revenue.
    assert classify_size("industry", 50, None, None).size_class == "unknown"


def test_all_missing_is_unknown():
    result = classify_size("construction", None, None, None)
    assert result.size_class == "unknown"
    assert result.missing == ("revenue", "assets")


def test_figure_not_used_by_group_never_matters():
    assert classify_size("agriculture", None, D(600), None).size_class == "medium"
    assert classify_size("other", 5, None, None).size_class == "micro"


def test_boundaries():
    # "以下" strictly below, "及以上" at or above.
    assert classify_size("other", 300, None, None).size_class == "large"
    assert classify_size("other", 299, None, None).size_class == "medium"
    assert classify_size("other", 99, None, None).size_class == "small"
    assert classify_size("other", 9, None, None).size_class == "micro"
    assert classify_size("agriculture", None, D("19999.99"), None).size_class == "medium"
    assert classify_size("agriculture", None, D(20000), None).size_class == "large"


def test_ints_and_strings_of_money_accepted():
    assert classify_size("retail", 10, 100, None).size_class == "small"
    assert classify_size("retail", 10, "100", None).size_class == "small"


@pytest.mark.parametrize(
    "employees, revenue, assets, field",
    [(-1, D(1), D(1), "employees"), (1, D(-0.01), D(1), "revenue"), (1, D(1), D(-5), "assets")],
)
def test_negative_figures_rejected(employees, revenue, assets, field):
    with pytest.raises(ValidationFailed) as exc:
        classify_size("construction", employees, revenue, assets)
    assert exc.value.field == field
    assert exc.value.code == f"size.{field}_negative"


@pytest.mark.parametrize("employees", [1.5, "abc", True])
def test_bad_employee_counts_rejected(employees):
    with pytest.raises(ValidationFailed):
        classify_size("other", employees, None, None)


def test_unknown_group_rejected():
    with pytest.raises(ValidationFailed) as exc:
        classify_size("mining", 1, D(1), D(1))
    assert exc.value.code == "size.unknown_group"


def test_standard_is_serialisable_and_round_trips():
    stored = json.loads(json.dumps(DEFAULT_SIZE_STANDARD))
    assert stored == DEFAULT_SIZE_STANDARD
    for case in WORKED_CASES:
        assert classify_size(*case[:4], standard=stored).size_class == case[4]


def test_standard_covers_every_group():
    assert set(DEFAULT_SIZE_STANDARD) == set(GROUP_LABELS)
    for rules in DEFAULT_SIZE_STANDARD.values():
        assert set(rules) == {"sme_if", "medium", "small"}


def test_custom_standard_is_used():
    custom = json.loads(json.dumps(DEFAULT_SIZE_STANDARD))
    custom["other"] = {"sme_if": [["employees", 500]], "medium": [["employees", 200]], "small": [["employees", 20]]}
    assert classify_size("other", 400, None, None, standard=custom).size_class == "medium"


_amount = st.one_of(st.none(), st.integers(0, 300000).map(Decimal))
_staff = st.one_of(st.none(), st.integers(0, 3000))


@settings(max_examples=400)
@given(group=st.sampled_from(sorted(DEFAULT_SIZE_STANDARD)), employees=_staff, revenue=_amount, assets=_amount)
def test_missing_figures_never_guess(group, employees, revenue, assets):
    """A decided class with absent figures equals the class for any value filled in."""
    result = classify_size(group, employees, revenue, assets)
    assert result.size_class in SIZE_CLASSES
    if result.size_class == "unknown":
        assert result.missing
        return
    for fill in (0, 1, 9, 50, 99, 100, 299, 300, 999, 1000, 5000, 40000, 10**6):
        filled = classify_size(
            group,
            fill if employees is None else employees,
            D(fill) if revenue is None else revenue,
            D(fill) if assets is None else assets,
        )
        assert filled.size_class == result.size_class


# --- industry groups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, group",
    [
        ("A01", "agriculture"),
        ("A05", "agriculture"),
        ("B06", "industry"),
        ("C39", "industry"),
        ("C3911", "industry"),
        ("D46", "industry"),
        ("E47", "construction"),
        ("F51", "wholesale"),
        ("F52", "retail"),
        ("G53", "transport"),
        ("G58", "transport"),
        ("G591", "transport"),
        ("G5910", "transport"),
        ("G592", "warehousing"),
        ("G599", "warehousing"),
        ("G60", "postal"),
        ("H61", "accommodation"),
        ("H62", "catering"),
        ("I63", "information_transmission"),
        ("I64", "information_transmission"),
        ("I65", "software_it"),
        ("K701", "real_estate_development"),
        ("K702", "property_management"),
        ("K703", "other"),
        ("L71", "leasing_business_services"),
        ("L72", "leasing_business_services"),
        ("J66", "other"),
        ("M73", "other"),
        ("T97", "other"),
        (" c39 ", "industry"),
        ("3911", "industry"),
    ],
)
def test_industry_group(code, group):
    assert industry_group(code) == group
    assert group in GROUP_LABELS


@pytest.mark.parametrize("code", ["G59", "K70"])
def test_bare_split_divisions_need_group(code):
    with pytest.raises(ValidationFailed) as exc:
        industry_group(code)
    assert exc.value.code == "industry.needs_group"


@pytest.mark.parametrize("code", ["", "C", "C3", "A39", "Z99", "C98", "G590", "K705", "C391122", "X01", None, "00"])
def test_unknown_industry_codes(code):
    with pytest.raises(ValidationFailed) as exc:
        industry_group(code)
    assert exc.value.code == "industry.unknown"


def test_group_labels_are_said_in_both_languages():
    assert len(GROUP_LABELS) == 16
    for label in GROUP_LABELS.values():
        with translation.override("zh-hans"):
            zh = str(label)
        with translation.override("en"):
            en = str(label)
        assert zh and en and zh != en
