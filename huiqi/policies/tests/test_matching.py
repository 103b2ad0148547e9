"""政策找我 from one read of an enterprise's facts: the compiled evaluator gives what ``rules`` gives item by
item (the worked example's reasons too), the page's queries do not grow with the catalogue, and the
reasons kept per language read in the reader's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huiqi.core import clock
from huiqi.policies import rules, selectors, services

from .example import ENTERPRISES, ITEMS

DAY = dt.date(2020, 4, 2)


@pytest.mark.parametrize("ent, item, expected", [
    ("E2", "P1", [("L1", False), ("L2", False), ("L3", False)]),  # not a producer, and neither C27/C35 nor key
    ("E5", "P1", [("L4", True)]),  # met under the `not`: blacklisted
    ("E2", "P2", [("L2", False), ("L3", False)]),  # `any`: every branch failed
    ("E4", "P3", [("L1", False)]),  # the unknown size is no reason: the district is
    ("E3", "P3", [("L3", False)]),
    ("E1", "P3", []),
])
def test_why_not_names_the_deciding_leaves_of_the_worked_example(ent, item, expected):
    assert [(leaf["id"], negated) for leaf, negated in rules.why_not(ITEMS[item], ENTERPRISES[ent])] == expected


def test_compiled_criteria_evaluate_many_enterprises_as_rules_does():
    for criteria in ITEMS.values():
        compiled = rules.compile_criteria(criteria)
        for facts in ENTERPRISES.values():
            assert compiled.outcome(facts) == rules.evaluate(criteria, facts)
            assert compiled.explain(facts) == rules.explain(criteria, facts)


def _items(codes, criteria):
    return [{"code": code, "title": f"事项{code}", "mode": "application", "status": "published",
             "opens": "2020-03-01", "closes": "2020-06-30", "tags": {"subject": ["rent"]}, "criteria": criteria}
            for code in codes]


MET = {"field": "kind", "op": "eq", "value": "enterprise"}                       # ns1 is an enterprise
UNKNOWN = {"field": "established_on", "op": "le", "value": "2019-12-31"}        # ns1's founding day is missing
NOT_MET = {"all": [{"field": "size_class", "op": "eq", "value": "large"},          # ns1 is small, in 南山
                   {"not": {"field": "district", "op": "eq", "value": "440305"}}]}


@pytest.fixture
def catalogue(users):
    with clock.fixed(DAY):
        services.load_items(None, _items(["A1"], MET) + _items(["B1"], UNKNOWN) + _items(["C1"], NOT_MET))
    return users


def test_every_item_for_one_enterprise_as_the_per_item_evaluator_gives_it(catalogue, city):
    uscc = city["ns1"].uscc
    found = selectors.for_enterprise(uscc, DAY)
    assert [[r["code"] for r in found[k]] for k in ("met", "unknown", "not_met")] == [["A1"], ["B1"], ["C1"]]
    facts = selectors.enterprise_facts(uscc, DAY)
    for row in (*found["met"], *found["unknown"], *found["not_met"]):
        assert row["explanation"] == rules.explain(row["version"].criteria, facts) == selectors.explanation(
            row["code"], uscc, DAY)
    assert found["unknown"][0]["missing"] == [("established_on", rules.FIELDS["established_on"])]
    assert found["not_met"][0]["reasons"] == "需要：企业规模 等于 大型；不得：所属区 等于 南山区"
    assert [r["code"] for r in selectors.for_enterprise(uscc, DAY, "事项B1")["unknown"]] == ["B1"]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as caught:
        assert client.get("/policies/mine/").status_code == 200
    return len(caught)


def test_the_page_reads_as_many_times_whatever_the_number_of_items(catalogue, client_for):
    c = client_for("enterprise")
    with clock.fixed(DAY):
        c.get("/policies/mine/")
        few = _queries(c)
        services.load_items(None, _items([f"A{k}" for k in range(2, 12)], MET)
                            + _items([f"B{k}" for k in range(2, 12)], UNKNOWN)
                            + _items([f"C{k}" for k in range(2, 12)], NOT_MET))
        page = c.get("/policies/mine/").content.decode()
        many = _queries(c)
    assert page.count("data-code=") == 33 and many == few


def test_reasons_read_in_the_readers_language(catalogue, client_for):
    c = client_for("enterprise")
    with clock.fixed(DAY):
        assert "需要：企业规模 等于 大型" in c.get("/policies/mine/").content.decode()
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        page = c.get("/policies/mine/").content.decode()
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        again = c.get("/policies/mine/").content.decode()
    assert "需要：" not in page and "needs: " in page and "equals Large" in page and "需要：企业规模 等于 大型" in again
