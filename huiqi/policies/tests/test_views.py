"""The hub's pages from the outside: the catalogue with search and facets, an item, 政策找我, the criteria
editor with its counts, the versions with the workflow and the diff."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.accounts.services import create_user
from huiqi.core import clock
from huiqi.policies import services
from huiqi.policies.models import ItemVersion

DAY = dt.date(2020, 4, 2)


@pytest.fixture
def published(users):
    """Three published items over the conftest city: ns1 (the enterprise user's) is a small 南山 company."""
    second = create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)
    items = {
        "RENT": ({"title": "减免物业租金", "summary": "国有物业租金减免三个月", "mode": "auto",
                  "tags": {"subject": ["rent"], "benefit": ["reduction"]},
                  "criteria": {"all": [{"id": "L1", "field": "size_class", "op": "in", "value": ["small", "micro"]},
                                       {"id": "L2", "field": "district", "op": "eq", "value": "440305"}]}}),
        "SOCIAL": ({"title": "社保费减免", "summary": "阶段性减免企业社会保险费", "mode": "auto",
                    "tags": {"subject": ["social_insurance"], "benefit": ["reduction"]},
                    "criteria": {"field": "established_on", "op": "le", "value": "2019-12-31"}}),
        "BIG": ({"title": "大型企业技改补贴", "summary": "技术改造投资补贴", "mode": "application",
                 "tags": {"subject": ["upgrade"], "benefit": ["grant"]},
                 "criteria": {"field": "size_class", "op": "eq", "value": "large"}}),
    }
    with clock.fixed(DAY):
        for code, (content) in items.items():
            v = services.save_draft(users["bureau"], code, {"opens": "2020-03-01", "closes": "2020-06-30", **content})
            services.submit(users["bureau"], v)
            services.publish(second, v, dt.date(2020, 3, 1))
    return users


def test_catalogue_searches_and_filters_by_facet(published, client_for):
    c = client_for("enterprise")
    with clock.fixed(DAY):
        page = c.get("/policies/").content.decode()
        assert all(t in page for t in ("减免物业租金", "社保费减免", "大型企业技改补贴"))
        page = c.get("/policies/", {"q": "租金减免"}).content.decode()
        assert "减免物业租金" in page and "社保费减免" not in page
        page = c.get("/policies/", {"benefit": "reduction", "subject": ["rent", "upgrade"]}).content.decode()
        assert "减免物业租金" in page and "社保费减免" not in page and "大型企业技改补贴" not in page


def test_policy_finds_me_met_unknown_and_not_met_with_reasons(published, client_for):
    with clock.fixed(DAY):
        page = client_for("enterprise").get("/policies/mine/").content.decode()
    met, rest = page.split('id="unknown"')
    unknown, not_met = rest.split('id="not-met"')
    assert 'data-code="RENT"' in met
    assert 'data-code="SOCIAL"' in unknown and "成立日期" in unknown
    assert "data-supply" not in unknown  # an auto item has no application to supply facts through
    assert 'data-code="BIG"' in not_met and "需要：企业规模 等于 大型" in not_met


def test_item_page_shows_the_readers_outcome(published, client_for):
    with clock.fixed(DAY):
        page = client_for("enterprise").get("/policies/items/SOCIAL/").content.decode()
    assert 'data-outcome="unknown"' in page and "商事登记信息" in page and "阶段性减免企业社会保险费" in page


def test_editor_counts_and_saves_a_draft_naming_a_bad_row(published, client_for):
    c = client_for("bureau")
    form = {"code": "NEW1", "title": "新事项", "mode": "application", "top": "all", "g1": "all", "g2": "any",
            "g3": "all", "g4": "all",
            "r0_group": "1", "r0_field": "district", "r0_op": "in", "r0_value": "440305, 440304",
            "r1_group": "2", "r1_field": "employees", "r1_op": "ge", "r1_value": "many"}
    for i in range(2, 10):
        form[f"r{i}_group"] = "1"
    with clock.fixed(DAY):
        page = c.post("/policies/new/", {**form, "save": "1"}).content.decode()
        assert "$.all[1].value" in page and not ItemVersion.objects.filter(item__code="NEW1").exists()
        form["r1_value"] = "10"
        page = c.post("/policies/new/", form, HTTP_HX_REQUEST="true").content.decode()
        assert 'data-outcome="met">符合 3' in page  # ns1, ns2 and ft1 have ≥ 10 employees in 440305/440304
        response = c.post("/policies/new/", {**form, "save": "1"})
    assert response.status_code == 302
    version = ItemVersion.objects.get(item__code="NEW1")
    assert version.criteria == {"all": [{"id": "L1", "field": "district", "op": "in", "value": ["440305", "440304"]},
                                        {"id": "L2", "field": "employees", "op": "ge", "value": 10}]}


def test_versions_page_diff_and_workflow(published, client_for):
    c = client_for("bureau")
    with clock.fixed(DAY):
        services.save_draft(published["bureau"], "BIG", {"title": "大型企业技改补贴", "summary": "新增中型企业",
                                                         "mode": "application", "opens": "2020-03-01",
                                                         "closes": "2020-06-30",
                                                         "tags": {"subject": ["upgrade"], "benefit": ["grant"]},
                                                         "criteria": {"field": "size_class", "op": "in",
                                                                      "value": ["large", "medium"]}})
        services.set_test_cases(published["bureau"], services.item("BIG"), [
            {"name": "中型企业", "facts": {"size_class": "medium"}, "expected": "met"},
            {"name": "小型企业", "facts": {"size_class": "small"}, "expected": "met"}])
        page = c.get("/policies/items/BIG/versions/").content.decode()
        assert page.count('data-ok="1"') == 1 and page.count('data-ok="0"') == 1  # the draft fails the small case
        assert "− 企业规模 等于 大型" in page and "+ 企业规模 属于 大型、中型" in page
        c.post("/policies/items/BIG/versions/", {"action": "submit"})
        assert ItemVersion.objects.get(item__code="BIG", number=2).status == "review"
        page = c.get("/policies/items/BIG/versions/").content.decode()
        assert 'value="publish"' not in page  # the author does not publish
        c.post("/policies/items/BIG/versions/", {"action": "return", "note": ""}, follow=True)
        assert ItemVersion.objects.get(item__code="BIG", number=2).status == "review"


def test_api_catalogue_item_and_own_matches(published, client_for):
    c = client_for("enterprise")
    with clock.fixed(DAY):
        items = c.get("/api/v1/policy-items/", {"benefit": "reduction"}).json()
        assert sorted(i["code"] for i in items) == ["RENT", "SOCIAL"]
        assert c.get("/api/v1/policy-items/BIG/").json()["criteria"] == {"field": "size_class", "op": "eq",
                                                                        "value": "large"}
        matches = c.get("/api/v1/policy-matches/").json()
        assert [(m["code"], m["outcome"], m["missing"]) for m in matches] == [
            ("RENT", "met", []), ("SOCIAL", "unknown", ["established_on"]), ("BIG", "not_met", [])]
        assert client_for("bank").get("/api/v1/policy-matches/").json() == []


def test_publicity_page_counts_since_the_campaign_start(users, client_for):
    from zoneinfo import ZoneInfo

    from huiqi.policies.models import Article

    sh = ZoneInfo("Asia/Shanghai")
    Article.objects.create(title="政策解读｜贴息", channel="wechat", published_at=dt.datetime(2020, 2, 3, 9, tzinfo=sh),
                           views=12000, views_as_of=DAY)
    Article.objects.create(title="早于统计起点", channel="wechat", published_at=dt.datetime(2020, 1, 10, 9, tzinfo=sh),
                           views=500, views_as_of=DAY)
    Article.objects.create(title="电视报道", channel="tv", published_at=dt.datetime(2020, 3, 3, 20, tzinfo=sh))
    with clock.fixed(DAY):
        page = client_for("bureau").get("/policies/publicity/").content.decode()
    assert "微信公众号推送相关文章 1 篇" in page and "浏览量 12,000 次" in page and "网络媒体报道 1 篇次" in page


def test_policy_finds_me_sees_a_newly_published_item_at_once(published, client_for):
    c = client_for("enterprise")
    with clock.fixed(DAY):
        assert 'data-code="NEW"' not in c.get("/policies/mine/").content.decode()
        v = services.save_draft(published["bureau"], "NEW", {"title": "新事项", "mode": "auto", "opens": "2020-03-01",
                                                             "criteria": {"field": "kind", "op": "eq",
                                                                          "value": "enterprise"}})
        services.submit(published["bureau"], v)
        second = type(published["bureau"]).objects.get(username="bureau2")
        services.publish(second, v, dt.date(2020, 4, 1))
        assert 'data-code="NEW"' in c.get("/policies/mine/").content.decode()
        services.withdraw(second, v, "调整", DAY)
        assert 'data-code="NEW"' not in c.get("/policies/mine/").content.decode()
