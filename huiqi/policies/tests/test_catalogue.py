"""The demo catalogue: at least 40 items, each with valid criteria and test cases that hold; and the demo
step that publishes it through the services."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.accounts.services import create_user
from huiqi.policies import catalogue, demo, rules, selectors, services
from huiqi.policies.models import EnterpriseFacts, ItemVersion
from huiqi.registry.reference import DISTRICTS

CODES = [d[0] for d in DISTRICTS]


def test_at_least_forty_items_each_with_test_cases():
    assert len(catalogue.ITEMS) >= 40
    assert len({i["code"] for i in catalogue.ITEMS}) == len(catalogue.ITEMS)
    assert all(len(i["test_cases"]) >= 2 for i in catalogue.ITEMS)


@pytest.mark.parametrize("entry", catalogue.ITEMS, ids=lambda e: e["code"])
def test_item_criteria_and_their_test_cases(entry):
    criteria = rules.validate(entry["criteria"], {"district": CODES})
    for case in entry["test_cases"]:
        assert rules.evaluate(criteria, rules.facts_from_json(case["facts"])) == case["expected"], case["name"]


def test_demo_step_publishes_the_catalogue_with_its_test_cases(city):
    for name in ("bureau", "bureau2"):
        create_user(None, username=name, password="x-Long-enough-9", role="bureau", check_password=False,
                    is_demo=True)
    made = demo.build_policies_demo(seed=7)
    assert made["items"] == len(catalogue.ITEMS) and made["facts"] == 4
    assert EnterpriseFacts.objects.count() == 4
    assert ItemVersion.objects.filter(status="published", reviewer__username="bureau2").count() == len(catalogue.ITEMS)
    version = selectors.version_on("SZ-2020-17")
    assert version.item.document.number == "深工信规〔2020〕2号" and version.item.department.code == "MIIT-SZ"
    for item in {v.item for v in ItemVersion.objects.select_related("item")}:
        assert all(outcome == case.expected for case, outcome in services.run_test_cases(item)), item.code
    with pytest.raises(demo.PoliciesDataExists):
        demo.build_policies_demo()
    # The seed's publicity figures, from the articles: 70–79 WeChat articles, 300,000+ views, 30+ reports.
    figures = selectors.publicity_figures(dt.date(2020, 6, 4))
    assert 70 <= figures["wechat_articles"] <= 79 and figures["wechat_views"] > 300_000
    assert figures["media_reports"] > 30
