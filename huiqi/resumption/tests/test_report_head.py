"""The analysis report carries the issuing office and the day of issue in its head (the PDF's HTML), in
the reader's language, and writes its figures as every page does."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone, translation

from huiqi.core import clock
from huiqi.resumption import report, selectors, services

from .conftest import check_values

@pytest.fixture
def reported(users, city):
    day = timezone.localdate()
    services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(),
                                [{"kind": "funds", "note": "工资发放困难", "needs_help": True}])
    return day


@pytest.mark.parametrize("language, office, issued", [
    ("zh-hans", "深圳市中小企业服务局", "发布日期：{zh}"),
    ("en", "Shenzhen SME Service Bureau", "Issued {en}"),
])
def test_the_report_head_names_the_office_and_the_day_of_issue(reported, language, office, issued, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: dt.date(2020, 3, 3))
    data = report.build(selectors.Scope(), reported, language)
    with translation.override(language):
        html = report.render_html(data, for_pdf=True)
    head = html.split('<header class="letterhead"')[1].split("</header>")[0]
    assert f'<p class="issuer">{office}</p>' in head
    assert issued.format(zh="2020年3月3日", en="3 March 2020") in head
    assert 'data-issued-on="2020-03-03"' in head
    other = "Shenzhen SME Service Bureau" if language != "en" else "深圳市中小企业服务局"
    assert other not in html


def test_the_report_writes_rates_with_fixed_places(reported):
    data = report.build(selectors.Scope(), reported, "zh-hans")
    rates = {h["key"]: h["text"] for h in data["headline"] if h["unit"] == "%"}
    assert rates and all(re.fullmatch(r"\d{1,3}(,\d{3})*\.\d%", text) for text in rates.values()), rates
