"""Issue 18.8: the bureau's pool dashboard with charts (the money by month with the balance, claims by status
and by bank, registered lending by month and vintage, expected claims against the balance), each with its
table; a bank's page draws its own bank's only; one language."""

import json
import re

import pytest
from django.test import Client

from huiqi.pool.tests.test_claims import TODAY, people  # noqa: F401  (the fixture)
from huiqi.pool.tests.test_report_pdf import _paid_claim

pytestmark = pytest.mark.django_db


def _page(user, language=None) -> str:
    c = Client()
    c.force_login(user)
    if language:
        c.cookies["django_language"] = language
    return c.get("/pool/").content.decode()


def _charts(page: str) -> dict:
    return {m[0]: json.loads(m[1]) for m in re.findall(r'<script id="(chart-[\w-]+)" type="application/json">(.*?)</script>',
                                                          page, re.S)}


def test_the_bureau_sees_every_chart_with_its_table(people):
    _paid_claim(people)  # 300,000.00 元 in on 2020-09-01; 270,000.00 元 paid on TODAY
    page = _page(people["maker"])
    charts = _charts(page)
    assert set(charts) == {"chart-money", "chart-expected", "chart-statuses", "chart-banks", "chart-lending-months",
                           "chart-vintages"}
    money = charts["chart-money"]
    assert money["labels"] == ["2020-09", "2020-10"] and money["unit"] == "万元"
    assert {s["name"]: s["data"] for s in money["series"]} == {
        "注资": ["30.00", "0.00"], "补偿拨付": ["0.00", "27.00"], "返还资金池": ["0.00", "0.00"], "月末余额": ["30.00", "3.00"]}
    statuses = dict(zip(charts["chart-statuses"]["labels"], charts["chart-statuses"]["series"][0]["data"]))
    assert statuses["已批准"] == "1" and statuses["已提交"] == "0"
    assert charts["chart-banks"]["labels"] == ["甲银行深圳分行"]
    # Loans 1 and 2 (2019) and 3 and 5 (2020) are in the pool, 1,000,000.00 元 each.
    assert dict(zip(charts["chart-vintages"]["labels"], charts["chart-vintages"]["series"][0]["data"])) == {
        "2019": "200.00", "2020": "200.00"}
    # Every chart has its table: the same figures, readable without the script.
    row = re.search(r'<table class="[^"]*money-months">.*?<tr data-month="2020-10">(.*?)</tr>', page, re.S).group(1)
    assert re.findall(r">([\d.,]+)</td>", row) == ["0.00", "27.00", "0.00", "3.00"]
    assert 'data-figure="balance_now">3.00<' in page and 'claim-banks"' in page
    assert "vendor/echarts/echarts.min.js" in page and "huiqi/charts.js" in page


def test_a_bank_draws_its_own_bank_only(people):
    _paid_claim(people)
    mine = _charts(_page(people["b1"]))
    assert "chart-expected" not in mine and "chart-banks" not in mine
    assert [s["name"] for s in mine["chart-money"]["series"]] == ["注资", "补偿拨付", "返还资金池"]
    assert {s["name"]: s["data"] for s in mine["chart-money"]["series"]}["补偿拨付"] == ["27.00"]
    other_page = _page(people["b2"])
    other = _charts(other_page)
    assert "chart-money" not in other and "27.00" not in other_page
    assert set(other["chart-statuses"]["series"][0]["data"]) == {"0"}
    assert "chart-lending-months" not in other  # B2's loan 6 was screened out


def test_the_charts_speak_the_readers_language(people):
    _paid_claim(people)
    page = _page(people["maker"], "en")
    text = json.dumps(_charts(page), ensure_ascii=False)
    assert re.search(r"[\u4e00-\u9fff]", text.replace("甲银行深圳分行", "")) is None, text
    assert "Top-up" in text and "Approved" in text
