"""Enterprise requests in a browser: an enterprise files on a phone, routing assigns it, the handler accepts
and asks for more (the clock pauses), the enterprise replies, the handler answers, the enterprise rates and
closes, and the figures page counts it; a 12345 operator finds the caller's enterprise by name and files a
call for it."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

from .conftest import login

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def request_staff(accounts):
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import Agency
    from huiqi.requests.models import RoutingRule

    def mk(username, code):
        return create_user(None, username=username, password=PASSWORD, role="department", check_password=False,
                           agency=Agency.objects.get(code=code))

    staff = {"fin": mk("fin_handler", "FINANCE-SZ"), "hotline": mk("hotline", "HOTLINE-12345")}
    RoutingRule.objects.create(order=1, name="续贷 → 金融监管局", keywords="续贷,展期",
                               agency=staff["fin"].agency, handler=staff["fin"])
    return staff


def accept_dialogs(page) -> list[str]:
    """Answer yes to every confirmation the page asks; the questions asked, in order."""
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    return asked


def act(page, action, **fields):
    for name, value in fields.items():
        page.fill(f"textarea[data-field={name}]", value)
    with page.expect_navigation():
        page.click(f"button[data-action={action}]")
    assert page.locator("[role=alert]").count() == 0, page.locator("[role=alert]").inner_text()


def test_request_journey(new_page, server, accounts, city, request_staff):
    from huiqi.requests.models import EnterpriseRequest

    ent = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    ent_asked = accept_dialogs(ent)
    login(ent, server, accounts["enterprise"].username, PASSWORD)
    ent.goto(server.url + "/requests/")
    with ent.expect_navigation():
        ent.click("a[data-action=new]")
    assert city["ns1"].name in ent.locator("main").inner_text()  # pre-filled from the registry
    ent.select_option("select[name=category]", "financing")
    ent.fill("input[name=title]", "流动资金贷款续贷")
    ent.fill("textarea[name=description]", "贷款下月到期，受疫情影响希望续贷。<script>alert(1)</script>")
    with ent.expect_navigation():
        ent.click("button[data-action=submit]")
    # The confirmation: the request's number, by when it is accepted; then the request itself.
    confirmed = ent.locator("[data-confirmation] [data-reference]").inner_text()
    with ent.expect_navigation():
        ent.click("a[data-view]")
    number = ent.locator("code[data-number]").inner_text()
    assert number == confirmed
    assert number.startswith("SZQ-")
    assert ent.locator("[data-agency]").get_attribute("data-agency") == "FINANCE-SZ"  # routed by the rule
    assert "<script>alert(1)</script>" in ent.locator("[data-description]").inner_text()  # shown as text
    # Nothing overflows the phone's width.
    assert ent.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

    handler = new_page()
    handler_asked = accept_dialogs(handler)
    login(handler, server, request_staff["fin"].username, PASSWORD)
    handler.goto(f"{server.url}/requests/r/{number}/")
    act(handler, "accept")
    act(handler, "ask_enterprise", ask="请上传贷款合同首页")
    assert handler.locator("[data-clock=paused]").count() == 1
    assert EnterpriseRequest.objects.get(number=number).due_date is None

    ent.goto(f"{server.url}/requests/r/{number}/")
    assert "请上传贷款合同首页" in ent.locator("main").inner_text()
    act(ent, "reply", reply="合同已上传，请查收")
    assert EnterpriseRequest.objects.get(number=number).status == "in_progress"

    handler.reload()
    assert handler_asked == []  # accepting and asking are not irreversible: no question
    act(handler, "answer", answer="已协调银行办理续贷，请留意银行通知。")
    assert len(handler_asked) == 1 and "确认答复" in handler_asked[0]
    ent.reload()
    assert "已协调银行办理续贷" in ent.locator("[data-answer]").inner_text()
    ent.select_option("select[data-field=rating]", "5")
    with ent.expect_navigation():
        ent.click("button[data-action=close]")
    assert len(ent_asked) == 1 and "确认办结" in ent_asked[0]
    assert ent.locator("[data-status]").first.get_attribute("data-status") == "closed"
    assert ent.locator("[data-rating]").get_attribute("data-rating") == "5"
    ent.goto(server.url + "/requests/")
    assert number in ent.locator("main").inner_text()

    bureau = new_page()
    login(bureau, server, accounts["bureau"].username, PASSWORD)
    bureau.goto(server.url + "/requests/figures/")
    assert "1 家企业，1 件诉求，办结 1 件" in bureau.locator("[data-seed-line]").inner_text()
    assert bureau.locator("[data-figure=rating]").inner_text().startswith("5")
    bureau.wait_for_selector("[data-chart=chart-category] svg")


def test_hotline_operator_files_a_call(page, server, accounts, city, request_staff):
    login(page, server, request_staff["hotline"].username, PASSWORD)
    page.goto(server.url + "/requests/")
    with page.expect_navigation():
        page.click("a[data-action=new]")
    # The caller names the firm: the operator types part of its name and picks it from the registry.
    page.locator("input[name=find]").press_sequentially("华信软件", delay=30)
    match = page.locator(f"#matches li[data-match='{city['ft1'].uscc}'] a")
    match.wait_for()
    assert page.locator("#matches li").count() == 1 and page.url.endswith("/requests/new/")
    with page.expect_navigation():
        match.click()
    assert page.input_value("input[name=enterprise]") == city["ft1"].uscc
    assert city["ft1"].name in page.locator("main").inner_text()  # its registry facts
    page.select_option("select[name=category]", "rent")
    page.fill("input[name=title]", "来电：厂房租金减免")
    page.fill("textarea[name=description]", "来电企业反映业主不同意减免租金。")
    page.fill("input[name=contact_name]", "王女士")
    with page.expect_navigation():
        page.click("button[data-action=submit]")
    assert page.locator("[data-confirmation]").count() == 1
    with page.expect_navigation():
        page.click("a[data-view]")
    assert page.locator("[data-channel]").get_attribute("data-channel") == "hotline"
    assert page.locator("[data-agency]").get_attribute("data-agency") == "HOUSING-SZ"
    number = page.locator("code[data-number]").inner_text()
    page.goto(server.url + "/requests/")
    assert number in page.locator("main").inner_text()  # the operator follows the calls it filed
