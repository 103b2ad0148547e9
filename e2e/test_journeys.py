"""Each role's main journey as a person sees it, on a 360×740 phone and on a desktop, in Chinese and in English.

On the day of ``huiqi.site.tests.work.a_days_work`` (something waits for everyone): an enterprise files its
daily check (first forgetting a field: the error is shown on top) and a request, and finds them; a district
officer goes from a to-do to a filing and approves it; a department handler goes from the queue to a
request, accepts and answers it; a second and a third bureau user review and approve the batch the first
ran; a bank reports its loans and reads them in its ledger; a 12345 operator finds the caller's enterprise
by name and files the call. On every page: nothing wider than the screen, and no word of the other
language (``huiqi/tests/test_one_language.py``'s check on what the browser shows). Lists on a phone are
cards whose lines are labelled by their column (``{% listtable %}``). The texts expected are the
catalogue's, in the page's language.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation

from conftest import PASSWORD
from huiqi.tests.test_one_language import LOANS, data_of, leaks, visible_text

from .conftest import VIEWPORTS, fits, login

pytestmark = pytest.mark.browser

# (screen, language): Chinese on both screens, English on the phone (its words are the longest).
SHOWS = [("phone", "zh-hans"), ("desktop", "zh-hans"), ("phone", "en")]
TYPED = ["流动资金贷款续贷", "贷款下月到期，希望续贷。", "来电：厂房租金减免", "来电企业反映业主不同意减免租金。", "王女士",
         "测温、消毒均已落实", "同意复工", "已协调银行办理续贷，请留意银行通知。", "请问支持企业共渡难关的措施如何申请？",
         "可通过深i企申请。", "请补充营业执照", "需会同区里核实", "资金紧张"]
GROUPED = re.compile(r"^\d{1,3}(,\d{3})*(\.\d{2})?$")  # 1,000,000.00


def answer_templates() -> list[str]:
    """A department's answer templates are its own texts, shown as written (the seeded ones are Chinese)."""
    from huiqi.requests.models import ResponseTemplate

    return [text for pair in ResponseTemplate.objects.values_list("title", "body") for text in pair]


class Person:
    """One user's browser: a page on the screen and in the language of the show, logged in."""

    def __init__(self, new_page, server, user, show):
        screen, self.language = show
        phone = screen == "phone"
        self.page = new_page(viewport=VIEWPORTS[screen], is_mobile=phone, has_touch=phone)
        self.page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": self.language,
                                        "url": server.url}])
        self.server, self.phone = server, phone
        self.page.on("dialog", lambda dialog: dialog.accept())  # "are you sure?": yes
        login(self.page, server, user.username, PASSWORD)

    def t(self, msgid: str, **params) -> str:
        """What the catalogue says for ``msgid`` in this person's language."""
        with translation.override(self.language):
            text = translation.gettext(msgid)
        return text % params if params else text

    def go(self, path: str):
        self.page.goto(self.server.url + path)
        return self.looks_right()

    def click(self, selector: str):
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        return self.looks_right()

    def past_confirmation(self):
        """Where a confirmation page (the reference number, what follows) comes first, on to the record."""
        if self.page.locator("[data-confirmation]").count():
            self.looks_right()
            self.click("a[data-view]")
        return self.page

    def looks_right(self):
        """The page fits the screen and is in one language."""
        page = self.page
        assert page.locator("html").get_attribute("lang") == ("en" if self.language == "en" else "zh-Hans")
        fits(page)
        words = leaks(page.content(), self.language, data_of(None) + TYPED + answer_templates())
        assert not words, f"{page.url} in {self.language}: {words}\n{visible_text(page.content())[:3000]}"
        return page

    def todo(self, msgid: str):
        """The home page's to-do ``msgid``: shown with its count; opens what it counts."""
        item = self.page.locator("li[data-todo]", has_text=self.t(msgid))
        assert item.is_visible(), self.page.locator("[data-todos]").inner_text()
        assert int(item.locator(".todo-count").inner_text().replace(",", "")) > 0
        return item

    def chart(self, chart_id: str, unit: str, *series_msgids: str):
        """The chart ``chart_id`` is drawn within the screen, its value axis named by ``unit`` and each
        series named in its legend, in the page's language."""
        svg = self.page.locator(f"[data-chart={chart_id}] svg")
        svg.wait_for()
        svg.scroll_into_view_if_needed()
        box = svg.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= self.page.viewport_size["width"], box
        texts = svg.locator("text").all_text_contents()
        assert unit in texts, texts
        for msgid in series_msgids:
            assert self.t(msgid) in texts, (msgid, texts)
        return texts

    def card_line(self, row, label_msgid: str):
        """The line of ``row`` under the column ``label_msgid``; on a phone it shows the column's name."""
        cell = row.locator(f"td[data-label='{self.t(label_msgid)}']")
        assert cell.count() == 1 and cell.is_visible(), row.inner_html()
        if self.phone:
            shown = cell.evaluate("td => getComputedStyle(td, '::before').content")
            assert shown == f'"{self.t(label_msgid)}"', shown
            box = row.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS["phone"]["width"], box
        return cell


@pytest.fixture(params=SHOWS, ids=["-".join(s) for s in SHOWS])
def show(request):
    return request.param


def test_enterprise_files_its_daily_check_and_a_request(show, day_of_work, new_page, server, accounts):
    me = Person(new_page, server, accounts["enterprise"], show)
    me.looks_right()
    with me.page.expect_navigation():
        me.todo("今日每日排查未报送").locator("a").click()
    page = me.go("/resumption/checks/new/")
    for name, value in (("staff_total", "120"), ("staff_returned", "90"), ("staff_on_site", "85"),
                        ("capacity_pct", "70")):
        page.fill(f"input[name={name}]", value)
    page.check("input[name=is_open][value='1']")
    # A difficulty "other" ticked without saying what it is: the error is on top, in the page's language,
    # and what was typed is still there.
    page.check("input[name=difficulty_other]")
    me.click("form[data-form=daily-check] button[type=submit]")
    alert = page.locator("[role=alert]")
    assert alert.is_visible() and alert.bounding_box()["y"] < VIEWPORTS["phone"]["height"]
    said = alert.inner_text().lower()
    assert me.t("「其他」困难须写明说明").lower() in said, said
    assert page.input_value("input[name=staff_returned]") == "90"
    page.fill("input[name=note_other]", "资金紧张")
    me.click("form[data-form=daily-check] button[type=submit]")
    me.past_confirmation()
    page = me.go("/resumption/checks/new/")
    assert page.locator("[data-reported='1']").is_visible()

    page = me.go("/requests/new/")
    page.select_option("select[name=category]", "financing")
    page.fill("input[name=title]", "流动资金贷款续贷")
    page.fill("textarea[name=description]", "贷款下月到期，希望续贷。")
    me.click("button[data-action=submit]")
    me.past_confirmation()
    number = page.locator("code[data-number]").inner_text()
    page = me.go("/requests/")
    card = page.locator(f".rq-card[data-number='{number}']")
    assert card.is_visible() and "流动资金贷款续贷" in card.inner_text()


def test_district_officer_verifies_a_filing(show, day_of_work, new_page, server, accounts):
    me = Person(new_page, server, accounts["district"], show)
    with me.page.expect_navigation():
        me.todo("待核查的复工报备").locator("a").click()
    me.looks_right()
    row = me.page.locator("table.filings tbody tr", has_text="深圳市前海汇通商贸有限公司")
    me.card_line(row, "状态")
    page = me.click("table.filings tbody tr:has-text('深圳市前海汇通商贸有限公司') a")
    page.select_option("form[data-action=assign] select[name=inspector]", str(accounts["district"].pk))
    me.click("form[data-action=assign] button")
    page.select_option("form[data-action=check] select[name=check_result]", "passed")
    page.fill("form[data-action=check] textarea[name=check_findings]", "测温、消毒均已落实")
    me.click("form[data-action=check] button")
    page.fill("form[data-action=decide] textarea[name=note]", "同意复工")
    me.click("form[data-action=decide] button[value=approve]")
    status = page.locator("[data-status=approved]")
    assert status.count() == 1 and status.first.is_visible()
    assert "同意复工" in page.locator("table.history").inner_text()
    me.go("/resumption/dashboard/")
    me.chart("trend-chart", "%", "复工率", "员工返岗率", "平均产能")


def test_department_handler_works_its_queue(show, day_of_work, new_page, server, accounts, shots):
    me = Person(new_page, server, accounts["department"], show)
    with me.page.expect_navigation():
        me.todo("待签收的诉求").locator("a").click()
    page = me.looks_right()
    page.screenshot(path=str(shots / f"queue-department-{'-'.join(show)}.png"), full_page=True)
    rows = page.locator("table.requests tbody tr")
    assert rows.count() == 2
    row = rows.filter(has_text="惠企政策咨询一")
    me.card_line(row, "标题")
    me.card_line(row, "状态")
    assert re.search(r"\d{4}-\d{2}-\d{2}", me.card_line(row, "当前期限").inner_text())
    me.click("table.requests tbody tr:has-text('惠企政策咨询一') td a")
    me.click("button[data-action=accept]")
    page.fill("textarea[data-field=answer]", "已协调银行办理续贷，请留意银行通知。")
    me.click("button[data-action=answer]")
    assert page.locator("[data-status]").first.get_attribute("data-status") == "answered"
    assert "已协调银行办理续贷" in page.locator("[data-answer]").inner_text()


def test_bureau_batch_is_reviewed_and_approved_by_two_others(show, day_of_work, new_page, server, accounts):
    batch = day_of_work["run"]
    runner = Person(new_page, server, accounts["bureau"], show)
    page = runner.go("/subsidy/")
    row = page.locator(f"table.batches tr[data-batch='{batch.pk}']")
    runner.card_line(row, "状态")
    for who, action, status in ((day_of_work["bureau2"], "review", "reviewed"),
                                (accounts["admin"], "approve", "approved")):
        person = Person(new_page, server, who, show)
        person.go(f"/subsidy/b/{batch.pk}/")
        person.click(f"a[data-action={action}]")
        person.click(f"section[data-confirm={action}] button[name=confirm]")
        assert person.page.locator("h1 .badge").get_attribute("data-status") == status
    runner.go(f"/subsidy/b/{batch.pk}/")
    history = runner.page.locator("table.history tbody tr")
    assert [history.nth(i).get_attribute("data-action") for i in range(history.count())][-2:] == [
        "subsidy.review", "subsidy.approve"]
    # The requests' figures: a chart per grouping, its unit and legend readable on the screen.
    runner.go("/requests/figures/")
    runner.chart("chart-category", runner.t("件"), "诉求", "已办结")


def test_bank_reports_its_loans_and_reads_them(show, day_of_work, new_page, server, accounts, city, tmp_path):
    me = Person(new_page, server, accounts["bank"], show)
    with me.page.expect_navigation():
        me.todo("被拒收待重新报送的文件").locator("a").click()
    me.looks_right()  # the refused file, with its errors
    page = me.go("/lending/upload/")
    loans = tmp_path / "loans.csv"
    loans.write_text(LOANS + f"ICBC-SZ,PHONE-LOAN-1,{city['ns1'].uscc},借款人,企业,,经营性,信用,否,"
                             "\"1,000,000.00\",4.35,2020-03-10,2021-03-10,\n", encoding="utf-8")
    page.select_option("form.upload select[name=kind]", "loans")
    page.set_input_files("form.upload input[type=file]", str(loans))
    me.click("form.upload button[type=submit]")
    me.past_confirmation()
    assert page.locator(".status-line .badge").get_attribute("data-status") == "stored", page.inner_text("main")
    page = me.go("/lending/")
    row = page.locator("table tbody tr", has_text="PHONE-LOAN-1")
    amount = me.card_line(row, "贷款金额（元）").inner_text().strip().split()[-1]
    assert amount == "1,000,000.00" and GROUPED.match(amount), amount


def test_hotline_operator_files_a_call(show, day_of_work, new_page, server, accounts, city):
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import Agency

    operator = create_user(None, username="hotline", password=PASSWORD, role="department", check_password=False,
                           agency=Agency.objects.get(code="HOTLINE-12345"))
    me = Person(new_page, server, operator, show)
    me.go("/requests/")
    page = me.click("a[data-action=new]")
    page.locator("input[name=find]").press_sequentially("华信软件", delay=30)
    match = page.locator(f"#matches li[data-match='{city['ft1'].uscc}'] a")
    match.wait_for()
    me.looks_right()
    me.click(f"#matches li[data-match='{city['ft1'].uscc}'] a")
    page.select_option("select[name=category]", "rent")
    page.fill("input[name=title]", "来电：厂房租金减免")
    page.fill("textarea[name=description]", "来电企业反映业主不同意减免租金。")
    page.fill("input[name=contact_name]", "王女士")
    me.click("button[data-action=submit]")
    me.past_confirmation()
    assert page.locator("[data-channel]").get_attribute("data-channel") == "hotline"
    number = page.locator("code[data-number]").inner_text()
    page = me.go("/requests/")
    me.card_line(page.locator(f"table.requests tr[data-number='{number}']"), "企业")


LISTS = ["/registry/", "/registry/banks/", "/lending/", "/lending/upload/", "/subsidy/", "/resumption/filings/",
         "/resumption/checks/", "/resumption/follow-ups/", "/resumption/dashboard/", "/requests/",
         "/requests/figures/", "/requests/problems/", "/core/audit/", "/core/jobs/", "/core/parameters/"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_list_is_cards_on_a_phone(language, day_of_work, new_page, server, accounts):
    """Every list an administrator reads, on a phone: rows are cards within the screen, each line labelled."""
    me = Person(new_page, server, accounts["admin"], ("phone", language))
    seen = 0
    batch = day_of_work["run"].pk
    for path in LISTS + [f"/subsidy/b/{batch}/", f"/subsidy/b/{batch}/loans/", f"/subsidy/b/{batch}/beneficiaries/"]:
        page = me.go(path)
        for table in page.locator("table.list").all():
            rows = table.locator("tbody tr")
            for i in range(min(rows.count(), 3)):
                row = rows.nth(i)
                box = row.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS["phone"]["width"], (path, box)
                unlabelled = row.evaluate("""tr => [...tr.children].slice(1)
                    .filter(td => td.textContent.trim() && !td.dataset.label).map(td => td.textContent.trim())""")
                assert not unlabelled, (path, unlabelled)
                seen += 1
    assert seen >= 15, seen
