"""The interest subsidy in a browser, on the spec's worked example (``specs/interest-subsidy.md``).

Banks upload their loans and interest payments (Chinese headers, one file GBK) and a bad file is
refused with its row report; the bureau simulates and compares a what-if budget (nothing recorded);
a batch is run, reviewed, refused to its reviewer and runner, approved and released by a third
person, and its payment file checked against the worked example; the bank's reconciliation, uploaded
by one person and confirmed by another, marks one payment failed; each enterprise sees its own subsidy
and nobody else's; the batch page on a phone.

Each test starts from what the earlier steps leave behind, built through the same services (the
ledger through the real import, the batch through run/review/approve/release), so a failing step
does not hide the ones after it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

import pytest

from conftest import PASSWORD
from huiqi.subsidy.tests.conftest import (
    LOAN_HEADER,
    LOANS,
    NAMES,
    OWNER,
    PAYMENT_HEADER,
    PAYMENTS,
    A,
    L,
    M,
    X,
    write_csv,
)

from .conftest import login

pytestmark = pytest.mark.browser

DEC = "2020-12-31"

# The bank-data-exchange spec's Chinese headers, in the order of the English ones above.
LOAN_HEADER_ZH = ["银行机构代码", "贷款合同编号", "借款人证件号码", "借款人名称", "借款人类型", "所属企业证件号码", "贷款用途",
                  "担保方式", "是否首贷", "贷款金额（元）", "年利率（%）", "放款日期", "到期日期", "原贷款合同编号"]
PAYMENT_HEADER_ZH = ["银行机构代码", "贷款合同编号", "计息起日", "计息止日", "付息日期", "实付利息（元）"]
assert len(LOAN_HEADER_ZH) == len(LOAN_HEADER) and len(PAYMENT_HEADER_ZH) == len(PAYMENT_HEADER)
# Chinese values of the choice columns, as a bank's spreadsheet would have them.
ZH_VALUES = {"enterprise": "企业", "business_owner": "小微企业主", "operating": "经营性", "other": "其他",
             "credit": "信用", "Y": "是"}

# The worked example at cutoff 2020-12-31 with the default parameters (the spec's tables).
ENTITLED = {A: "20266.66", X: "1000000.00"}
TOTAL = "1020266.66"
TOTAL_WAN = "102.03"  # the batch's tiles are in 万元 (two places, half up); its totals below them in yuan
LOAN_OUTCOMES = {  # loan → (outcome as the page marks it, counted interest, subsidy)
    "A-1": ("eligible", "22,233.32", "11,116.66"),
    "A-2": ("eligible", "18,300.00", "9,150.00"),
    "A-3": ("purpose_not_operating", None, None),
    "A-4": ("outside_window", None, None),
}


def yuan(text: str) -> str:
    """'1,020,266.66' (as a page shows it) → '1020266.66'."""
    return text.replace(",", "").strip()


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def zh_rows(rows: list[list[str]]) -> list[list[str]]:
    return [[ZH_VALUES.get(v, v) for v in row] for row in rows]


def of_bank(rows, bank):
    return [r for r in rows if r[0] == bank]


def answer_dialog(page, accept: bool) -> list[str]:
    """Answer the next confirm() of the page; the list returned receives its question."""
    seen: list[str] = []

    def handle(dialog):
        seen.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", handle)
    return seen


def cells(row) -> list[str]:
    tds = row.locator("td")
    return [tds.nth(i).inner_text().strip() for i in range(tds.count())]


def downloaded(page, selector) -> tuple[str, bytes]:
    """Click a download link; (suggested file name, bytes)."""
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    with open(download.path(), "rb") as f:
        return download.suggested_filename, f.read()


def csv_dicts(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def batch_pk(page) -> int:
    m = re.search(r"/subsidy/b/(\d+)/$", page.url)
    assert m, f"not on a batch page: {page.url}"
    return int(m.group(1))


def status_of(page) -> str:
    return page.locator("h1 .badge").get_attribute("data-status")


# --------------------------------------------------------------------------------------------------
# Fixtures: the registry of the worked example, its banks and people; the ledger; a released batch.


@pytest.fixture
def people(accounts):
    """The worked example's registry (A small, X micro, L large, M medium, M's owner), banks B1 and B2,
    a bank user for each, a second bureau user and an enterprise user each for A and X; with the
    root conftest's users (``bureau`` runs, ``bureau2`` reviews, ``admin`` approves and releases)."""
    from huiqi.accounts.services import create_user
    from huiqi.registry import services as registry
    from huiqi.registry.models import Bank

    figures = {A: (50, "3000", "440305"), X: (10, "100", "440304"), L: (2000, "50000", "440305"),
               M: (500, "5000", "440305")}
    enterprises = {}
    for uscc, (employees, revenue, district) in figures.items():
        enterprises[uscc] = registry.register_enterprise(
            None, uscc=uscc, name=NAMES[uscc], district=district, industry="C39", employees=employees,
            revenue_wan=revenue, figures_year=2019)
    assert [enterprises[c].size_class for c in (A, X, L, M)] == ["small", "micro", "large", "medium"]
    registry.register_owner(None, resident_id=OWNER, name=NAMES[OWNER], owns=[M])
    b1 = Bank.objects.create(code="B1", name="甲银行深圳分行", signed_date=dt.date(2019, 5, 1),
                             onboarded_date=dt.date(2019, 6, 1))
    b2 = Bank.objects.create(code="B2", name="乙银行深圳分行", signed_date=dt.date(2019, 5, 1),
                             onboarded_date=dt.date(2019, 6, 1))

    def mk(username, role, **kw):
        return create_user(None, username=username, password=PASSWORD, role=role, check_password=False, **kw)

    return {**accounts,
            "bureau2": mk("bureau2", "bureau"),
            "bank_b1": mk("bank_b1", "bank", bank=b1),
            "bank_b2": mk("bank_b2", "bank", bank=b2),
            "ent_a": mk("ent_a", "enterprise", enterprises=[enterprises[A]]),
            "ent_x": mk("ent_x", "enterprise", enterprises=[enterprises[X]])}


@pytest.fixture
def ledger(people, tmp_path):
    """The worked example's loans and payments, imported the way the headless command does."""
    from huiqi.lending.imports import import_path

    folder = tmp_path / "ledger"
    folder.mkdir()
    for kind, header, rows in (("loans", LOAN_HEADER, LOANS), ("payments", PAYMENT_HEADER, PAYMENTS)):
        record = import_path(None, kind, write_csv(folder / f"{kind}.csv", header, rows))
        assert record.status == "stored", record.message
    return people


@pytest.fixture
def approved(ledger):
    """A batch of cutoff 2020-12-31 run by ``bureau``, reviewed by ``bureau2``, approved by ``admin``."""
    from huiqi.subsidy import services

    batch = services.run_batch(ledger["bureau"], dt.date(2020, 12, 31), note="第一批")
    services.review(ledger["bureau2"], batch)
    services.approve(ledger["admin"], batch)
    return batch


@pytest.fixture
def released(ledger, approved):
    """That batch released by ``admin``."""
    from huiqi.subsidy import services

    services.release(ledger["admin"], approved)
    approved.refresh_from_db()
    assert approved.status == "released"
    return approved


# --------------------------------------------------------------------------------------------------
# 1. Banks upload their files


def upload(page, server, kind, path):
    page.goto(server.url + "/lending/upload/")
    page.select_option("form.upload select[name=kind]", kind)
    page.set_input_files("form.upload input[type=file]", str(path))
    with page.expect_navigation():
        page.locator("form.upload button[type=submit]").click()
    assert re.search(r"/lending/upload/\d+/submitted/$", page.url), page.url
    with page.expect_navigation():
        page.locator("a[data-view]").click()
    assert re.search(r"/lending/upload/\d+/$", page.url), page.url
    return page.locator(".status-line .badge").get_attribute("data-status")


def facts(page) -> dict[str, str]:
    dts, dds = page.locator("dl.facts dt"), page.locator("dl.facts dd")
    return {dts.nth(i).inner_text().strip(): dds.nth(i).inner_text().strip() for i in range(dts.count())}


def ledger_loans(page, server) -> list[str]:
    page.goto(server.url + "/lending/")
    numbers = page.locator("table tbody tr td:nth-child(2) code")
    return sorted(numbers.nth(i).inner_text() for i in range(numbers.count()))


def test_banks_upload_loans_and_payments_and_a_bad_file_is_refused(new_page, server, people, tmp_path):
    # 甲银行 sends GBK files with Chinese headers and Chinese values, as Excel in Chinese Windows saves.
    b1 = login(new_page(), server, people["bank_b1"].username, PASSWORD)
    loans_b1 = tmp_path / "甲银行贷款台账.csv"
    loans_b1.write_bytes(csv_text([LOAN_HEADER_ZH] + zh_rows(of_bank(LOANS, "B1"))).encode("gbk"))
    assert upload(b1, server, "loans", loans_b1) == "stored", b1.locator(".status-line").inner_text()
    assert "甲银行贷款台账.csv" in b1.locator("h1").inner_text()
    assert facts(b1)["数据行"] == "4" and facts(b1)["新增"] == "4", facts(b1)
    assert b1.locator("table.row-errors").count() == 0

    payments_b1 = tmp_path / "甲银行付息明细.csv"
    payments_b1.write_bytes(csv_text([PAYMENT_HEADER_ZH] + of_bank(PAYMENTS, "B1")).encode("gbk"))
    assert upload(b1, server, "payments", payments_b1) == "stored", b1.locator(".status-line").inner_text()
    assert facts(b1)["新增"] == "11", facts(b1)

    # The same file again changes nothing, and the page says so.
    assert upload(b1, server, "payments", payments_b1) == "unchanged"
    assert "未做任何更改" in b1.locator(".status-line").inner_text()

    # 乙银行 sends UTF-8 with a BOM, Chinese headers, English values.
    b2 = login(new_page(), server, people["bank_b2"].username, PASSWORD)
    loans_b2 = tmp_path / "loans-b2.csv"
    loans_b2.write_bytes(csv_text([LOAN_HEADER_ZH] + of_bank(LOANS, "B2")).encode("utf-8-sig"))
    assert upload(b2, server, "loans", loans_b2) == "stored", b2.locator(".status-line").inner_text()
    payments_b2 = tmp_path / "payments-b2.csv"
    payments_b2.write_bytes(csv_text([PAYMENT_HEADER_ZH] + of_bank(PAYMENTS, "B2")).encode("utf-8-sig"))
    assert upload(b2, server, "payments", payments_b2) == "stored", b2.locator(".status-line").inner_text()
    assert facts(b2)["新增"] == "5", facts(b2)

    # Each bank's ledger page lists its own loans only.
    assert ledger_loans(b1, server) == ["A-1", "A-2", "A-3", "A-4"]
    assert ledger_loans(b2, server) == ["L-1", "O-1", "X-1"]

    # A bad file: one good new loan, another bank's row, a zero principal, a rate above 24 %.
    good = [r if i != 1 else "A-9" for i, r in enumerate(LOANS[0])]
    other_bank = ["B2"] + LOANS[0][1:]
    zero = [r if i != 9 else "0" for i, r in enumerate(LOANS[1])]
    too_high = [r if i != 10 else "30" for i, r in enumerate(LOANS[2])]
    bad = tmp_path / "甲银行贷款台账-有错误.csv"
    bad.write_bytes(csv_text([LOAN_HEADER_ZH] + zh_rows([good, other_bank, zero, too_high])).encode("gbk"))
    assert upload(b1, server, "loans", bad) == "refused"
    rows = b1.locator("table.row-errors tbody tr")
    report = [cells(rows.nth(i)) for i in range(rows.count())]
    assert [(r[0], r[1].split(" /")[0]) for r in report] == [("3", "银行机构代码"), ("4", "贷款金额（元）"),
                                                            ("5", "年利率（%）")], report
    assert "不是本行" in report[0][3], report[0]
    assert all(len(r) == 4 and r[3] for r in report), "every bad row has its reason, in the page's language"

    # The row report downloads as CSV (and XLSX) with the same rows.
    name, data = downloaded(b1, "section.card a:text-is('CSV')")
    assert name.endswith(".csv"), name
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [line[0] for line in lines[1:]] == ["3", "4", "5"], lines
    name, data = downloaded(b1, "section.card a:text-is('XLSX')")
    assert name.endswith(".xlsx") and data[:2] == b"PK", name

    # Nothing of the refused file was kept, not even its good row.
    assert ledger_loans(b1, server) == ["A-1", "A-2", "A-3", "A-4"]


# --------------------------------------------------------------------------------------------------
# 2. Simulate and compare


def test_bureau_simulates_and_compares_a_smaller_budget(page, server, ledger):
    login(page, server, ledger["bureau"].username, PASSWORD)
    page.goto(server.url + "/subsidy/")
    with page.expect_navigation():
        page.click("a.button:has-text('测算与对比')")
    assert page.url.endswith("/subsidy/simulate/"), page.url

    page.fill("form.simulate-form input[name=cutoff]", DEC)
    with page.expect_navigation():
        page.click("form.simulate-form button[type=submit]")
    totals = page.locator("table.totals")
    assert "测算结果（截至 2020-12-31）" in page.locator("section[data-result] h2").inner_text()
    assert yuan(cells(totals.locator("tr[data-total=payable]"))[0]) == TOTAL
    assert cells(totals.locator("tr[data-total=beneficiaries]"))[0] == "2"
    assert cells(totals.locator("tr[data-total=loans_counted]"))[0] == "3"
    for who, amount in ENTITLED.items():
        row = page.locator(f"table.beneficiaries tr[data-beneficiary='{who}']")
        assert yuan(row.locator("td[data-side=a]").inner_text()) == amount

    # What if the budget were 500,000.00 元: B beside A.
    page.check("form.simulate-form input[name=compare]")
    page.fill("fieldset[data-set=B] input[name=b-budget]", "500,000")
    with page.expect_navigation():
        page.click("form.simulate-form button[type=submit]")
    payable = cells(totals.locator("tr[data-total=payable]"))
    assert [yuan(v) for v in payable] == [TOTAL, "499999.99", "-520266.67"], payable
    unspent = cells(totals.locator("tr[data-total=unspent]"))
    assert yuan(unspent[1]) == "0.01", unspent
    factor = cells(totals.locator("tr[data-total=factor]"))
    # Pro rata: B pays each one the same share (500,000.00 / 1,020,266.66), which the page shows.
    assert factor[0] == "全额" and factor[1] == "0.49006796", factor
    expected_b = {A: "9932.04", X: "490067.95"}
    for who in (A, X):
        row = page.locator(f"table.beneficiaries tr[data-beneficiary='{who}']")
        assert yuan(row.locator("td[data-side=a]").inner_text()) == ENTITLED[who]
        assert yuan(row.locator("td[data-side=b]").inner_text()) == expected_b[who]
    assert "500000.00" in page.locator("table.params tr[data-param=budget]").inner_text()

    # Nothing was recorded: the batch list is still empty.
    page.goto(server.url + "/subsidy/")
    assert page.locator("table.batches").count() == 0
    assert "还没有贴息批次" in page.locator("p.empty").inner_text()


# --------------------------------------------------------------------------------------------------
# 3. Run, review, approve (not by the same person), release, payment file


def open_action(page, server, pk, action):
    page.goto(f"{server.url}/subsidy/b/{pk}/")
    with page.expect_navigation():
        page.click(f"a[data-action={action}]")
    assert page.locator(f"section[data-confirm={action}]").is_visible()


def confirm_action(page, label):
    with page.expect_navigation():
        page.click(f"section[data-confirm] button:has-text('{label}')")


def test_batch_is_run_reviewed_approved_by_a_third_person_and_released(new_page, server, ledger):
    from huiqi.core import jobs

    p = ledger
    runner = login(new_page(), server, p["bureau"].username, PASSWORD)
    runner.goto(server.url + "/subsidy/")
    runner.fill("form[method=post] input[name=cutoff]", DEC)
    runner.fill("form[method=post] input[name=note]", "2020 年第一批")

    # The run asks first; saying no records nothing.
    asked = answer_dialog(runner, accept=False)
    runner.click("button:has-text('计算批次')")
    runner.wait_for_timeout(300)
    assert asked == ["按该截止日期和当日生效的参数计算并记录一个新批次？"]
    runner.goto(server.url + "/subsidy/")
    assert runner.locator("table.batches").count() == 0

    runner.fill("form[method=post] input[name=cutoff]", DEC)
    asked = answer_dialog(runner, accept=True)
    with runner.expect_navigation():
        runner.click("button:has-text('计算批次')")
    assert asked == ["按该截止日期和当日生效的参数计算并记录一个新批次？"]
    # The batch is computed in the background: the job's page says so, and leads to the batch once done.
    assert "/core/jobs/" in runner.url
    assert "贴息批次正在后台计算" in runner.locator("ul.messages").inner_text()
    assert jobs.run_pending() >= 1  # on PostgreSQL the ledger's snapshot job runs too
    runner.reload()
    with runner.expect_navigation():
        runner.locator("a.button", has_text="查看结果").click()
    pk = batch_pk(runner)
    assert status_of(runner) == "run" and "已计算" in runner.locator("h1 .badge").inner_text()
    assert runner.locator("[data-figure=payable]").inner_text() == TOTAL_WAN
    assert runner.locator("[data-figure=beneficiaries]").inner_text() == "2"
    assert runner.locator("[data-figure=loans_counted]").inner_text() == "3"
    # The list shows it too, and no new batch can be run while it is open.
    runner.goto(server.url + "/subsidy/")
    assert runner.locator(f"table.batches tr[data-batch='{pk}']").count() == 1
    assert f"批次 #{pk} 尚未拨付或作废" in runner.locator("section.card p.warn").inner_text()

    # A second person reviews.
    reviewer = login(new_page(), server, p["bureau2"].username, PASSWORD)
    open_action(reviewer, server, pk, "review")
    confirm_action(reviewer, "确认复核")
    assert status_of(reviewer) == "reviewed"
    assert f"贴息批次 #{pk} 已复核。" in reviewer.locator("ul.messages").inner_text()
    assert "不能由您审批" in reviewer.locator("section.card p.warn").inner_text()

    # The reviewer trying to approve is refused, with the reason, and the batch stays reviewed.
    open_action(reviewer, server, pk, "approve")
    assert "不能由您审批" in reviewer.locator("section[data-confirm] p.warn").inner_text()
    with reviewer.expect_response(lambda r: r.request.method == "POST") as response:
        confirm_action(reviewer, "确认审批")
    assert response.value.status == 403
    alert = reviewer.locator("[role=alert]")
    assert alert.get_attribute("data-error") == "subsidy.self_approval"
    assert f"贴息批次 #{pk} 由您复核，不能由您审批" in alert.inner_text()
    assert "cannot approve" not in alert.inner_text()  # one language per page: the English is on the English page
    assert status_of(reviewer) == "reviewed"

    # So is the one who ran it.
    open_action(runner, server, pk, "approve")
    confirm_action(runner, "确认审批")
    assert f"贴息批次 #{pk} 由您计算，不能由您审批" in runner.locator("[role=alert]").inner_text()
    assert status_of(runner) == "reviewed"

    # A third person (the administrator) approves, then releases after confirming.
    admin = login(new_page(), server, p["admin"].username, PASSWORD)
    open_action(admin, server, pk, "approve")
    assert admin.locator("section[data-confirm] p.warn").count() == 0
    confirm_action(admin, "确认审批")
    assert status_of(admin) == "approved"
    assert admin.locator("[data-file]").count() == 0, "no payment file before release"

    open_action(admin, server, pk, "release")
    assert "不可撤销" in admin.locator("section[data-confirm]").inner_text()
    admin.once("dialog", lambda dialog: dialog.accept())  # "this cannot be undone": yes
    confirm_action(admin, "确认拨付")
    assert status_of(admin) == "released"
    assert f"贴息批次 #{pk} 已拨付，支付文件已生成。" in admin.locator("ul.messages").inner_text()
    shown = admin.locator("dl[data-control]").inner_text()
    assert "2" in shown and TOTAL in yuan(shown), shown
    history = admin.locator("table.history tbody tr")
    actions = [history.nth(i).get_attribute("data-action") for i in range(history.count())]
    assert actions == ["subsidy.run", "subsidy.review", "subsidy.approve", "subsidy.release"], actions

    # The payment file: one row per beneficiary, the worked example's amounts, account left to the bank.
    name, payments_csv = downloaded(admin, "a[data-file='payments.csv']")
    assert name == f"subsidy-batch-{pk}-payments.csv", name
    rows = csv_dicts(payments_csv)
    assert {r["beneficiary_id"]: r["amount"] for r in rows} == ENTITLED, rows
    assert {r["beneficiary_id"]: r["name"] for r in rows} == {A: NAMES[A], X: NAMES[X]}
    assert all(r["bank_account"] == "" and r["account_name"] == "" for r in rows), rows

    _name, control_csv = downloaded(admin, "a[data-file='control.csv']")
    control = csv_dicts(control_csv)
    assert len(control) == 1, control
    assert (control[0]["batch_id"], control[0]["cutoff"], control[0]["count"], control[0]["amount"]) == (
        str(pk), DEC, "2", TOTAL)
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal(control[0]["amount"])
    assert control[0]["payments_csv_sha256"] == hashlib.sha256(payments_csv).hexdigest()

    from python_calamine import CalamineWorkbook

    _name, payments_xlsx = downloaded(admin, "a[data-file='payments.xlsx']")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(payments_xlsx)).get_sheet_by_index(0).to_python()
    header = [str(c) for c in sheet[0]]
    amounts = {r[header.index("beneficiary_id")]: Decimal(str(r[header.index("amount")])).quantize(Decimal("0.01"))
               for r in sheet[1:]}
    assert amounts == {k: Decimal(v) for k, v in ENTITLED.items()}, amounts

    # The batch list shows who did what.
    admin.goto(server.url + "/subsidy/")
    row = admin.locator(f"table.batches tr[data-batch='{pk}']").inner_text()
    for who in ("bureau", "bureau2", "admin"):
        assert who in row, row


@pytest.mark.parametrize("action, label, done", [("release", "确认拨付", "released"),
                                                 ("cancel", "确认作废", "cancelled")], ids=["release", "cancel"])
def test_release_and_cancel_ask_first(action, label, done, new_page, server, ledger, approved):
    """Releasing (irreversible) and cancelling ask "确定执行此操作吗？" first; saying no changes nothing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = login(new_page(), server, ledger["admin"].username, PASSWORD)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_action(page, server, approved.pk, action)
    if action == "cancel":
        page.fill("section[data-confirm] textarea[name=note]", "参数有误，重新计算")
    asked = answer_dialog(page, accept=False)
    page.click(f"section[data-confirm] button:has-text('{label}')")
    try:  # answered "no", the page stays; otherwise it lands on the batch once the POST is through
        page.wait_for_url(re.compile(rf"/subsidy/b/{approved.pk}/$"), timeout=3000)
    except PlaywrightTimeout:
        pass
    page.goto(f"{server.url}/subsidy/b/{approved.pk}/")
    assert asked == ["确定执行此操作吗？"], (asked, errors)
    assert status_of(page) == "approved"


def test_the_one_who_ran_a_batch_does_not_review_it(page, server, ledger):
    """The batch list promises "批次须经计算、复核、审批（三人各不相同）后拨付": three different people."""
    from huiqi.subsidy import services

    batch = services.run_batch(ledger["bureau"], dt.date(2020, 12, 31))
    login(page, server, ledger["bureau"].username, PASSWORD)
    page.goto(server.url + "/subsidy/")
    assert "三人各不相同" in page.locator("main > p.muted").first.inner_text()
    page.goto(f"{server.url}/subsidy/b/{batch.pk}/")
    assert page.locator("a[data-action=review]").count() == 0, "the one who ran it is not offered the review"
    page.goto(f"{server.url}/subsidy/b/{batch.pk}/do/review/")
    confirm_action(page, "确认复核")
    assert "不能由您复核" in page.locator("main").inner_text()
    page.goto(f"{server.url}/subsidy/b/{batch.pk}/")
    assert status_of(page) == "run"


# --------------------------------------------------------------------------------------------------
# 4. The bank's reconciliation


def payment_status(page) -> dict[str, tuple[str, str]]:
    rows = page.locator("table.payment-status tbody tr")
    out = {}
    for i in range(rows.count()):
        c = cells(rows.nth(i))
        out[rows.nth(i).get_attribute("data-status")] = (c[1], yuan(c[2]))
    return out


def test_reconciliation_marks_one_payment_failed(new_page, server, ledger, released, tmp_path):
    p, pk = ledger, released.pk
    # The bank's own staff do not reach the batch; its file reaches the bureau, who uploads it.
    bank = login(new_page(), server, p["bank_b2"].username, PASSWORD)
    assert bank.goto(f"{server.url}/subsidy/b/{pk}/reconcile/").status == 403

    page = login(new_page(), server, p["bureau"].username, PASSWORD)
    page.goto(f"{server.url}/subsidy/b/{pk}/")
    assert payment_status(page)["pending"] == ("2", TOTAL)
    with page.expect_navigation():
        page.click("nav.tabs a:has-text('银行对账')")
    assert page.url.endswith(f"/subsidy/b/{pk}/reconcile/"), page.url

    # A file with a wrong amount is refused whole, with its rows named.
    wrong = tmp_path / "对账-有错误.csv"
    wrong.write_bytes(csv_text([["受益人证件号码", "状态", "金额", "备注"], [A, "已支付", "20266.66", ""],
                                [X, "失败", "999999.99", "账户已销户"]]).encode("gbk"))
    page.set_input_files("form.upload input[type=file]", str(wrong))
    page.click("form.upload button[type=submit]")
    page.wait_for_selector("[role=alert]")
    errors = page.locator("table.row-errors tbody tr")
    assert errors.count() == 1 and cells(errors.first)[0] == "3", [cells(errors.nth(i)) for i in range(errors.count())]
    assert "金额与支付文件不符" in cells(errors.first)[3]
    assert page.locator(".tiles [data-status=pending] .num").inner_text() == "2"

    good = tmp_path / "对账.csv"
    good.write_bytes(csv_text([["受益人证件号码", "状态", "金额", "备注"], [A, "已支付", "20266.66", ""],
                               [X, "失败", "1000000.00", "账户已销户"]]).encode("gbk"))
    page.set_input_files("form.upload input[type=file]", str(good))
    with page.expect_navigation():
        page.click("form.upload button[type=submit]")
    # Checked and kept, but nothing changes until someone else confirms it.
    assert page.url.endswith(f"/subsidy/b/{pk}/reconcile/"), page.url
    assert "须由另一人确认后才生效" in page.locator("ul.messages").inner_text()
    assert page.locator("[data-decision=confirm]").count() == 0, "the uploader is not offered to confirm it"
    assert page.locator(".tiles [data-status=pending] .num").inner_text() == "2"

    checker = login(new_page(), server, p["bureau2"].username, PASSWORD)
    checker.goto(f"{server.url}/subsidy/b/{pk}/reconcile/")
    waiting = checker.locator("section[data-reconciliation]")
    assert "对账.csv" in waiting.inner_text() and waiting.locator("[data-figure=failed]").inner_text() == "1"
    asked = answer_dialog(checker, accept=True)
    with checker.expect_navigation():
        checker.click("[data-decision=confirm]")
    assert asked == ["确定执行此操作吗？"]
    page = checker
    assert page.url.endswith(f"/subsidy/b/{pk}/"), page.url
    assert "对账完成：已支付 1 笔，失败 1 笔" in page.locator("ul.messages").inner_text()
    status = payment_status(page)
    assert status["failed"] == ("1", "1000000.00") and status["paid"] == ("1", "20266.66"), status
    assert status["pending"] == ("0", "0.00"), status
    for action in ("subsidy.reconciliation_prepared", "subsidy.reconcile"):
        assert page.locator(f"table.history tbody tr[data-action='{action}']").count() == 1, action

    # The failed one, from the status table to the beneficiary list filtered by status.
    with page.expect_navigation():
        page.click("table.payment-status tr[data-status=failed] a")
    rows = page.locator("table.beneficiaries tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-beneficiary") == X
    text = rows.first.inner_text()
    assert "支付失败" in text and "账户已销户" in text and NAMES[X] in text, text
    assert page.locator("select[name=status]").input_value() == "failed"

    # The list's search finds A by name, paid.
    page.goto(f"{server.url}/subsidy/b/{pk}/beneficiaries/")
    page.fill("form.filters input[name=q]", "甲科技")
    with page.expect_navigation():
        page.click("form.filters button.primary")
    rows = page.locator("table.beneficiaries tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-beneficiary") == A
    assert "已支付" in rows.first.inner_text()


# --------------------------------------------------------------------------------------------------
# 5. "My interest subsidy"


def test_enterprise_sees_its_own_subsidy_and_no_one_elses(new_page, server, ledger, released, tmp_path):
    from huiqi.subsidy import services

    p, pk = ledger, released.pk
    paid = tmp_path / "paid.csv"
    paid.write_text(f"beneficiary_id,status\n{A},paid\n", encoding="utf-8")
    prepared = services.prepare_reconciliation(p["bureau"], released, paid)
    services.confirm_reconciliation(p["bureau2"], prepared)

    page = login(new_page(), server, p["ent_a"].username, PASSWORD)
    page.goto(server.url + "/subsidy/")
    assert page.locator("h1").inner_text() == "我的贷款贴息"
    assert yuan(page.locator("[data-figure=entitled]").inner_text()) == ENTITLED[A]
    assert yuan(page.locator("[data-figure=paid]").inner_text()) == ENTITLED[A]

    payments = page.locator("table.my-payments tbody tr")
    assert payments.count() == 1
    row = cells(payments.first)
    assert f"#{pk}" in row[0] and "2020-12-31" in row[0], row
    assert NAMES[A] in row[1] and A in row[1], row
    assert yuan(row[2]) == ENTITLED[A] and yuan(row[5]) == ENTITLED[A], row
    assert row[6] == released.released_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d")
    assert "已支付" in row[7] and "银行确认于" in row[7], row

    lines = page.locator("table.loan-lines tbody tr")
    shown = sorted(lines.nth(i).get_attribute("data-loan") for i in range(lines.count()))
    assert shown == ["A-1", "A-2", "A-3", "A-4"], shown
    for loan, (outcome, interest, subsidy) in LOAN_OUTCOMES.items():
        line = page.locator(f"table.loan-lines tr[data-loan='{loan}']")
        assert line.get_attribute("data-outcome") == outcome
        c = cells(line)
        if interest:
            assert "计入" in c[1] and c[2] == subsidy and c[3] == interest, c
        else:
            assert "不计入" in c[1] and outcome in c[1], c
    assert "经营" in page.locator("table.loan-lines tr[data-loan='A-3'] td").nth(1).inner_text()
    assert "本批次共 4 笔贷款，计入 2 笔，贴息合计 20,266.66 元" in page.locator("main").inner_text()
    # The batch pages are the bureau's, not the enterprise's.
    assert page.goto(f"{server.url}/subsidy/b/{pk}/").status == 403

    # X's user sees X's capped subsidy and nothing of A.
    other = login(new_page(), server, p["ent_x"].username, PASSWORD)
    other.goto(server.url + "/subsidy/")
    main = other.locator("main").inner_text()
    assert yuan(other.locator("[data-figure=entitled]").inner_text()) == ENTITLED[X]
    assert "已达每户上限" in main
    x1 = cells(other.locator("table.loan-lines tr[data-loan='X-1']"))
    assert x1[2] == "1,300,000.00" and x1[3] == "2,600,000.00", x1
    assert other.locator("table.loan-lines tbody tr").count() == 1
    for secret in (A, NAMES[A], "A-1", "A-2", "20,266.66"):
        assert secret not in main, f"{secret} shown to X's user"
    assert A not in other.content()

    # An enterprise without loans: nothing of anyone.
    none = login(new_page(), server, p["enterprise"].username, PASSWORD)
    none.goto(server.url + "/subsidy/")
    assert "还没有已拨付的贴息批次涉及您的企业" in none.locator("p.empty").inner_text()
    assert none.locator("table.loan-lines").count() == 0 and A not in none.content()


# --------------------------------------------------------------------------------------------------
# 6. The batch page on a phone


def test_batch_pages_on_a_phone(new_page, server, ledger, released, tmp_path):
    p, pk = ledger, released.pk
    page = new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                    has_touch=True)
    login(page, server, p["bureau"].username, PASSWORD)
    for path in (f"/subsidy/b/{pk}/", f"/subsidy/b/{pk}/beneficiaries/", f"/subsidy/b/{pk}/loans/", "/subsidy/"):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        assert page.locator("h1").is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path}: the page is {overflow}px wider than the phone screen"
    page.goto(f"{server.url}/subsidy/b/{pk}/")
    page.screenshot(path=str(tmp_path / "batch-on-a-phone.png"), full_page=True)
    assert page.locator("[data-figure=payable]").inner_text() == TOTAL_WAN
    assert page.locator("[data-figure=payable]").is_visible()
    # The charts draw inside the screen.
    chart = page.locator("[data-chart=chart-district]")
    assert chart.locator("svg").count() == 1
    box = chart.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box
