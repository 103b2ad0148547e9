"""The criteria language and the per-enterprise evaluator, on the spec's worked example and bad input."""

from __future__ import annotations

import pytest
from django.utils import translation

from huiqi.core.errors import InvalidFields
from huiqi.policies import rules

from .example import ENTERPRISES, EXPECTED, ITEMS, LETTER


@pytest.mark.parametrize("ent", sorted(ENTERPRISES))
@pytest.mark.parametrize("item", sorted(ITEMS))
def test_worked_example_leaves_and_outcomes(ent, item):
    letters, outcome = EXPECTED[ent][item]
    explanation = rules.explain(ITEMS[item], ENTERPRISES[ent])
    assert [leaf.result for leaf in explanation.leaves] == [LETTER[c] for c in letters]
    assert [leaf.id for leaf in explanation.leaves] == [f"L{i}" for i in range(1, len(letters) + 1)]
    assert explanation.outcome == outcome == rules.evaluate(ITEMS[item], ENTERPRISES[ent])


def test_unknown_outcome_lists_the_missing_fields():
    assert rules.explain(ITEMS["P1"], ENTERPRISES["E1"]).missing == ["credit_blacklisted"]
    assert rules.explain(ITEMS["P2"], ENTERPRISES["E4"]).missing == ["size_class"]
    # A decided outcome asks for nothing, even with a leaf unknown (E4's industry under P1).
    assert rules.explain(ITEMS["P1"], ENTERPRISES["E4"]).missing == []


def test_explanation_as_json_shows_actual_values():
    leaves = rules.explain(ITEMS["P3"], ENTERPRISES["E1"]).as_json()["leaves"]
    assert leaves[1] == {"id": "L2", "field": "established_on", "op": "le", "value": "2019-12-31",
                         "actual": "2015-06-01", "result": "met"}


@pytest.mark.parametrize("op", ["ne", "not_in"])
def test_a_missing_fact_is_unknown_whatever_the_operator(op):
    value = "small" if op == "ne" else ["small"]
    assert rules.evaluate({"field": "size_class", "op": op, "value": value}, {"size_class": None}) == "unknown"


def test_decimals_compare_exactly():
    facts = {"revenue": rules.exact_decimal("0.1") + rules.exact_decimal("0.2")}
    assert rules.evaluate({"field": "revenue", "op": "eq", "value": 0.3}, facts) == "met"
    assert rules.evaluate({"field": "revenue", "op": "eq", "value": "0.3"}, facts) == "met"
    assert rules.evaluate({"field": "revenue", "op": "between", "value": ["0.3", "0.30"]}, facts) == "met"


def _errors(criteria):
    with pytest.raises(InvalidFields) as caught, translation.override("en"):
        rules.validate(criteria, {"district": ["440304", "440305"]})
    with translation.override("en"):
        return [(e.field, e.code, e.message) for e in caught.value.errors]


def test_bad_criteria_name_the_path_the_field_and_the_rule_all_at_once():
    errors = _errors({"all": [
        {"field": "kind", "op": "eq", "value": "enterprise"},
        {"any": [{"field": "industry", "op": "in", "value": "C27"}]},
        {"field": "colour", "op": "eq", "value": "red"},
        {"field": "employees", "op": "like", "value": 3},
        {"field": "employees", "op": "ge", "value": "ten"},
        {"any": []},
        {"field": "established_on", "op": "between", "value": ["2020-02-01", "2020-01-01"]},
        {"field": "district", "op": "eq", "value": "999999"},
        {"field": "supplies_producer", "op": "lt", "value": True},
    ]})
    assert errors[0] == ("$.all[1].any[0].value", "criteria.wrong_type", "$.all[1].any[0].value: not a list of codes")
    assert [(path, code) for path, code, _ in errors[1:]] == [
        ("$.all[2].field", "criteria.unknown_field"),
        ("$.all[3].op", "criteria.unknown_operator"),
        ("$.all[4].value", "criteria.wrong_type"),
        ("$.all[5].any", "criteria.empty_group"),
        ("$.all[6].value", "criteria.between_order"),
        ("$.all[7].value", "criteria.wrong_type"),
        ("$.all[8].op", "criteria.operator_for_type"),
    ]
    assert "colour" in errors[1][2] and "like" in errors[2][2] and "whole number" in errors[3][2]


def test_bad_criteria_read_in_chinese_too():
    with pytest.raises(InvalidFields) as caught:
        rules.validate({"not": {"all": []}})
    assert caught.value.zh == "$.not.all：条件组不能为空"


def test_the_worked_example_is_valid():
    for criteria in ITEMS.values():
        assert rules.validate(criteria, {"district": ["440304", "440305", "440306"]}) is criteria


def test_facets_or_within_and_across():
    tags = {"subject": ["rent", "tax"], "benefit": ["reduction"]}
    assert rules.passes_facets(tags, {})
    assert rules.passes_facets(tags, {"subject": ["rent", "financing"]})
    assert rules.passes_facets(tags, {"subject": ["tax"], "benefit": ["reduction", "grant"]})
    assert not rules.passes_facets(tags, {"subject": ["tax"], "benefit": ["grant"]})
    assert not rules.passes_facets(tags, {"mode": ["auto"]})
