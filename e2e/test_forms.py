"""A form the GOV.UK way, in a browser: the guide comes before the form; a submit with mistakes comes back
with every error listed at the top (focused), each a link that puts the cursor in its field; corrected, the
form leads to a confirmation with the reference number."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

from .conftest import login

pytestmark = pytest.mark.browser


def test_errors_are_summarised_linked_to_fields_then_fixed_to_a_confirmation(new_page, server, accounts, city):
    from huiqi.requests.models import EnterpriseRequest

    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(page, server, accounts["enterprise"].username, PASSWORD)
    page.goto(server.url + "/requests/new/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 391  # nothing wider than the phone

    # 办事指南 first: who, what is needed, how long (the categories' working days), then "开始办理".
    guide = page.locator("[data-guide]")
    assert "工作日" in guide.locator("[data-guide-time]").inner_text()
    page.click("[data-guide-start]")
    assert page.url.endswith("#form")

    # Submitted with the title and the description empty: two errors, nothing saved.
    page.select_option("select[name=category]", "financing")
    with page.expect_navigation():
        page.click("button[data-action=submit]")
    summary = page.locator("[data-error-summary]")
    assert summary.get_attribute("role") == "alert"
    assert "有 2 处需要修改" in summary.inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.hasAttribute('data-error-summary')")
    assert [a.get_attribute("href") for a in summary.locator("a").all()] == ["#id_title", "#id_description"]
    assert page.get_attribute("#id_title", "aria-invalid") == "true"
    assert EnterpriseRequest.objects.count() == 0
    # Folded away now: the person has read it.
    assert page.locator("details[data-guide]").count() == 1

    # The description's link puts the cursor in the description.
    summary.locator("a[href='#id_description']").click()
    assert page.evaluate("document.activeElement.id") == "id_description"
    page.keyboard.type("贷款下月到期，希望续贷。")
    page.fill("#id_title", "流动资金贷款续贷")
    with page.expect_navigation():
        page.click("button[data-action=submit]")

    # The confirmation: the number, what happens next, the day by which it is accepted.
    assert "/submitted/" in page.url
    req = EnterpriseRequest.objects.get()
    assert page.locator("[data-confirmation] [data-reference]").inner_text() == req.number
    assert page.locator("[data-by]").count() == 1 and page.locator("[data-next] li").count() == 3
    assert page.locator("[data-error-summary]").count() == 0
