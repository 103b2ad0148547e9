"""Each role logs in and sees exactly its navigation; the log-in page and the language switch.

The table below is written out by hand from the apps' ``site.py`` and ``permissions.py`` on purpose:
if a permission drifts, this test fails and someone has to decide which side is right. A program
added later is not in the table: its entries are held to open for whoever sees them (and its own
access rows, in its ``tests/access.py``, say who must not).
"""

from __future__ import annotations

import pytest

from conftest import PASSWORD

from .conftest import login

pytestmark = pytest.mark.browser

# url name -> path, in the order the header shows them.
NAV_PATHS = {
    "home": "/",
    "registry:enterprise_list": "/registry/",
    "registry:import": "/registry/import/",
    "lending:loan_list": "/lending/",
    "lending:upload": "/lending/upload/",
    "subsidy:index": "/subsidy/",
    "requests:index": "/requests/",
    "resumption:index": "/resumption/",
    "registry:bank_list": "/registry/banks/",
    "core:job_list": "/core/jobs/",
    "core:parameter_list": "/core/parameters/",
    "core:audit_list": "/core/audit/",
    "api-docs": "/api/docs/",
}

READER = ["home", "registry:enterprise_list", "requests:index", "resumption:index", "registry:bank_list",
          "core:job_list", "api-docs"]
# Enterprises, banks and district officers reach their jobs and the API docs from the account page.
OFF_MENU = ["core:job_list", "api-docs"]
DISTRICT = [n for n in READER if n not in OFF_MENU]
ENTERPRISE = ["home", "registry:enterprise_list", "lending:loan_list", "subsidy:index", "requests:index",
              "resumption:index", "registry:bank_list"]
OUTSIDER = ["home", "registry:bank_list", "core:job_list", "api-docs"]

# users-fixture key -> (role value, Chinese role name in the header, nav items in order)
EXPECTED = {
    "enterprise": ("enterprise", "企业用户", ENTERPRISE),
    "enterprise2": ("enterprise", "企业用户", ENTERPRISE),
    "district": ("district", "区级人员", DISTRICT),
    "district2": ("district", "区级人员", DISTRICT),
    "department": ("department", "部门经办人", READER),
    "bureau": ("bureau", "局工作人员",
               ["home", "registry:enterprise_list", "registry:import", "lending:loan_list", "lending:upload",
                "subsidy:index", "requests:index", "resumption:index", "registry:bank_list", "core:job_list",
                "core:parameter_list", "api-docs"]),
    "bank": ("bank", "银行人员", ["home", "lending:loan_list", "lending:upload", "subsidy:index",
                                  "registry:bank_list"]),
    "institution": ("institution", "基金机构人员", OUTSIDER),
    "auditor": ("auditor", "审计人员",
                ["home", "registry:enterprise_list", "lending:loan_list", "subsidy:index", "requests:index",
                 "resumption:index", "registry:bank_list", "core:job_list", "core:parameter_list", "core:audit_list",
                 "api-docs"]),
    "admin": ("admin", "系统管理员",
              ["home", "registry:enterprise_list", "registry:import", "lending:loan_list", "lending:upload",
               "subsidy:index", "requests:index", "resumption:index", "registry:bank_list", "core:job_list",
               "core:parameter_list", "core:audit_list", "api-docs"]),
}


def test_table_covers_every_user(accounts):
    assert set(EXPECTED) == set(accounts)


@pytest.mark.parametrize("key", list(EXPECTED))
def test_role_navigation(key, page, server, accounts):
    role, role_zh, expected = EXPECTED[key]
    user = accounts[key]
    assert user.role == role
    login(page, server, user.username, PASSWORD)

    nav = page.locator("nav.main-nav a[data-nav]")
    entries = [(nav.nth(i).get_attribute("data-nav"), nav.nth(i).get_attribute("href")) for i in range(nav.count())]
    shown = [name for name, _href in entries if name in NAV_PATHS]
    assert shown == expected, f"{key}: navigation {shown}, expected {expected}"
    assert [href for name, href in entries if name in NAV_PATHS] == [NAV_PATHS[n] for n in expected]
    later = [href for name, href in entries if name not in NAV_PATHS]

    who = page.locator(f"header .who[data-role={role}]")
    assert who.count() == 1, f"{key}: no header badge for role {role}"
    assert role_zh in who.inner_text()

    # Every item shown opens; every item hidden is refused, not merely left out of the menu (but for the
    # jobs and API docs of the roles that find them on their account page).
    off_menu = OFF_MENU if role in ("enterprise", "bank", "district") else []
    for name, path in NAV_PATHS.items():
        response = page.goto(server.url + path)
        if name in expected:
            assert response.status == 200, f"{key}: {path} shown in the menu but answered {response.status}"
        elif name in off_menu:
            assert response.status == 200, f"{key}: {path} is off the menu but must open"
        else:
            assert response.status == 403, f"{key}: {path} hidden from the menu but answered {response.status}"
    for path in later:
        assert page.goto(server.url + path).status == 200, f"{key}: {path} shown in the menu but refused"


def test_login_page_lists_demo_accounts_only_when_there_are_some(page, server, accounts):
    page.goto(server.url + "/accounts/login/")
    assert page.locator("input[name=username]").is_visible()
    assert page.locator("table.demo-users").count() == 0
    assert "演示账户" not in page.locator("main").inner_text()

    for key in ("bureau", "bank"):
        accounts[key].is_demo = True
        accounts[key].save(update_fields=["is_demo"])
    page.reload()
    rows = page.locator("table.demo-users tbody tr")
    assert rows.count() == 2
    assert page.locator("table.demo-users tr[data-role=bureau]").inner_text().count("bureau") >= 1
    assert "局工作人员" in page.locator("table.demo-users tr[data-role=bureau]").inner_text()
    bank_row = page.locator("table.demo-users tr[data-role=bank]").inner_text()
    assert "银行人员" in bank_row and "中国工商银行深圳市分行" in bank_row
    # Non-demo users never show.
    assert "auditor" not in page.locator("table.demo-users").inner_text()


def test_language_switch(page, server, accounts):
    login(page, server, accounts["bureau"].username, PASSWORD)
    page.goto(server.url + "/registry/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    with page.expect_navigation():
        page.click("button[data-lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.url.endswith("/registry/"), page.url
    assert page.locator("button[data-lang=zh-hans]").inner_text() == "中文"

    # The choice sticks to the session: another page stays English.
    page.goto(server.url + "/registry/banks/")
    assert page.locator("html").get_attribute("lang") == "en"

    with page.expect_navigation():
        page.click("button[data-lang=zh-hans]")
    page.wait_for_selector("html[lang=zh-Hans]")
    assert page.locator("button[data-lang=en]").inner_text() == "English"
