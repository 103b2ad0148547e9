"""The registry in a browser: district-scoped search in Chinese, and the import page end to end."""

from __future__ import annotations

import random
import re

import pytest

from conftest import PASSWORD
from huiqi.core.identifiers import USCC_ALPHABET, generate_uscc

from .conftest import login

pytestmark = pytest.mark.browser

HEADER = "统一社会信用代码,企业名称,主体类型,所属区,行业代码,从业人员（人）,营业收入（万元）,资产总额（万元）,数据年度"


def search(page, server, q):
    page.goto(server.url + "/registry/")
    page.fill("input[name=q]", q)
    with page.expect_navigation():
        page.locator("form.filters button.primary").click()
    return page


def result_names(page):
    rows = page.locator("table.enterprises tbody tr td:first-child a")
    return [rows.nth(i).inner_text() for i in range(rows.count())]


def assert_empty_state(page):
    assert page.locator("table.enterprises").count() == 0
    assert "没有符合条件的企业" in page.locator("p.empty").inner_text()


def upload(page, server, path):
    page.goto(server.url + "/registry/import/")
    page.set_input_files("form.upload input[type=file]", str(path))
    with page.expect_navigation():
        page.locator("form.upload button[type=submit]").click()
    # The confirmation first (the file's number, what follows), then the file's outcome behind its link.
    assert re.search(r"/registry/import/\d+/submitted/$", page.url), page.url
    assert page.locator("[data-confirmation] [data-reference]").count() == 1
    with page.expect_navigation():
        page.locator("a[data-view]").click()
    assert "/registry/import/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit(), page.url
    return page


def test_district_officer_searches_own_district_in_chinese(page, new_page, server, accounts, city):
    login(page, server, accounts["district"].username, PASSWORD)  # 南山区 440305

    search(page, server, "云创")
    assert result_names(page) == ["深圳市南山云创电子科技有限公司"]
    assert page.locator("input[name=q]").input_value() == "云创"
    row = page.locator("table.enterprises tbody tr").first.inner_text()
    assert city["ns1"].uscc in row and "南山区" in row

    # 华信 is in 福田区: outside this officer's scope, so it is simply not found.
    search(page, server, "华信")
    assert_empty_state(page)
    assert city["ft1"].uscc not in page.content()

    # The same search finds it for 福田区's officer: the empty state above is scope, not a search miss.
    other = login(new_page(), server, accounts["district2"].username, PASSWORD)
    search(other, server, "华信")
    assert result_names(other) == ["深圳市福田华信软件技术有限公司"]


def test_import_with_bad_rows_is_refused_with_a_row_report(page, server, accounts, tmp_path):
    rng = random.Random(20200301)
    good = generate_uscc(rng)
    valid = generate_uscc(rng)
    wrong_check = valid[:17] + next(c for c in USCC_ALPHABET if c != valid[17])
    csv = "\n".join([
        HEADER,
        f"{wrong_check},深圳市错码电子有限公司,企业,440305,C39,10,500,,2019",
        f"{generate_uscc(rng)},深圳市无区贸易有限公司,企业,440399,F51,8,300,,2019",
        f"{generate_uscc(rng)},深圳市负数软件有限公司,企业,440304,I65,-5,200,,2019",
        f"{good},深圳市南山星河智能科技有限公司,企业,440305,C39,60,4000,2000,2019",
    ]) + "\n"
    path = tmp_path / "名录-有错误.csv"
    path.write_bytes(csv.encode("utf-8"))

    login(page, server, accounts["bureau"].username, PASSWORD)
    upload(page, server, path)

    badge = page.locator(".status-line .badge")
    assert badge.get_attribute("data-status") == "refused"
    assert "名录-有错误.csv" in page.locator("h1").inner_text()

    rows = page.locator("table.row-errors tbody tr")
    report = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        report.append([cells.nth(j).inner_text().strip() for j in range(cells.count())])
    assert [(r[0], r[1]) for r in report] == [
        ("2", "统一社会信用代码 / uscc"),
        ("3", "所属区 / district"),
        ("4", "从业人员（人） / employees"),
    ], report
    assert report[0][2] == wrong_check
    assert f"第 18 位校验码应为 {valid[17]}，实为 {wrong_check[17]}" in report[0][3], report[0][3]
    assert report[1][2] == "440399" and "未知的区代码 440399" in report[1][3]
    assert report[2][2] == "-5" and "不能小于 0" in report[2][3]
    assert all(len(r) == 4 for r in report), "one reason per row, in the page's language (the file has both)"

    # Nothing of the file was stored, not even its good row.
    search(page, server, "星河")
    assert_empty_state(page)


def test_gbk_import_is_stored_and_searchable(page, server, accounts, tmp_path):
    rng = random.Random(20200302)
    csv = "\r\n".join([
        HEADER,
        f"{generate_uscc(rng)},深圳市龙华鹏程精密模具有限公司,企业,440309,C35,45,3200,1800,2019",
        f"{generate_uscc(rng, kind='individual_business')},罗湖区老李粮油店,个体工商户,440303,F52,3,40,,2019",
    ]) + "\r\n"
    path = tmp_path / "registry-gbk.csv"
    path.write_bytes(csv.encode("gbk"))

    login(page, server, accounts["bureau"].username, PASSWORD)
    upload(page, server, path)
    badge = page.locator(".status-line .badge")
    assert badge.get_attribute("data-status") == "stored", page.locator(".status-line").inner_text()
    assert page.locator("table.row-errors").count() == 0
    facts = page.locator("dl.facts").inner_text()
    assert "2" in facts

    search(page, server, "鹏程精密")
    assert result_names(page) == ["深圳市龙华鹏程精密模具有限公司"]
    search(page, server, "老李粮油")
    assert result_names(page) == ["罗湖区老李粮油店"]
    assert "个体" in page.locator("table.enterprises tbody tr").first.inner_text()


def test_registry_list_on_a_phone(new_page, server, accounts, city):
    page = new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                    has_touch=True)
    login(page, server, accounts["bureau"].username, PASSWORD)
    page.goto(server.url + "/registry/")
    assert page.locator("table.enterprises tbody tr").count() == 4
    page.screenshot(path="/tmp/e2e-phone.png", full_page=True)
    # The page itself must not scroll sideways; a wide table may scroll inside its own wrapper.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the phone screen"
    # The menu folds behind the burger and opens with a tap.
    nav = page.locator("nav.main-nav")
    assert not nav.is_visible()
    page.locator("label.nav-burger").tap()
    assert nav.is_visible()
    assert nav.locator("a[data-nav='registry:import']").is_visible()
