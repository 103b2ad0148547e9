"""Interest-subsidy pages and API as their users meet them, on the spec's worked example: simulate and
compare, a batch run, reviewed and approved by three people, released and reconciled, the lines of a
batch, an enterprise's "my interest subsidy" and a bank's page of its loans."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils.timezone import localtime
from python_calamine import CalamineWorkbook

from conftest import PASSWORD
from huiqi.subsidy.models import BatchStatus, PaymentStatus, SubsidyBatch

pytestmark = pytest.mark.django_db

DEC = "2020-12-31"


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def html(resp) -> str:
    return resp.content.decode()


def body(resp) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def csv_rows(resp) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(resp).decode("utf-8-sig"))))


def xlsx_rows(resp) -> list[dict]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(body(resp)))
    rows = book.get_sheet_by_index(0).to_python()
    header = [str(c) for c in rows[0]]
    return [dict(zip(header, r)) for r in rows[1:]]


def amount(value) -> str:
    """An XLSX number cell as text with two decimals (the cell is a number, not text)."""
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def row_of(page: str, attr: str, value: str) -> str:
    """The HTML of the table row whose ``data-<attr>`` is ``value``."""
    m = re.search(rf'<tr data-{attr}="{re.escape(value)}"[^>]*>(.*?)</tr>', page, re.S)
    assert m, f"no row data-{attr}={value!r}"
    return m.group(1)


@pytest.fixture
def people(staff, example):
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import Bank

    def mk(username, role, **kw):
        return create_user(None, username=username, password=PASSWORD, role=role, check_password=False, **kw)

    return {**staff,
            "ent_a": mk("ent_a", "enterprise", enterprises=[example.enterprises[example.A]]),
            "ent_m": mk("ent_m", "enterprise", enterprises=[example.enterprises[example.M]]),
            "bank_b1": mk("bank_b1", "bank", bank=Bank.objects.get(code="B1")),
            "bank_b2": mk("bank_b2", "bank", bank=Bank.objects.get(code="B2"))}


def run_by_page(c: Client, cutoff=DEC, note="") -> SubsidyBatch:
    """Run a batch from the list page: a background job, which the page leads to; the job then runs."""
    from huiqi.core import jobs

    resp = c.post("/subsidy/", {"cutoff": cutoff, "note": note})
    assert resp.status_code == 302 and resp["Location"].startswith("/core/jobs/"), html(resp)[:2000]
    assert not SubsidyBatch.objects.filter(cutoff=cutoff).exists()  # nothing computed in the request
    assert jobs.run_pending() == 1
    return SubsidyBatch.objects.get(cutoff=cutoff)


def run_through_pages(people, cutoff=DEC) -> SubsidyBatch:
    """Run (bureau), review (bureau2), approve (bureau3), release (bureau), all by the pages."""
    batch = run_by_page(client(people["bureau"]), cutoff, "第一批")
    for who, action in (("bureau2", "review"), ("bureau3", "approve"), ("bureau", "release")):
        resp = client(people[who]).post(f"/subsidy/b/{batch.pk}/do/{action}/", {"note": ""})
        assert resp.status_code == 302, (action, html(resp)[:2000])
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RELEASED
    return batch


def confirm_waiting(people, batch: SubsidyBatch):
    """The reconciliation file ``bureau`` uploaded, confirmed by ``bureau2`` on the reconciliation page."""
    rec = batch.reconciliations.get(status="prepared")
    resp = client(people["bureau2"]).post(f"/subsidy/b/{batch.pk}/reconcile/{rec.pk}/confirm/")
    assert resp.status_code == 302, html(resp)[:2000]


# --------------------------------------------------------------------------------------------------
# Simulate and compare


def test_simulate_shows_the_worked_example(people, example):
    c = client(people["bureau"])
    page = html(c.get("/subsidy/simulate/"))
    assert 'name="cutoff"' in page and "data-result" not in page  # the form only, nothing computed

    resp = c.get("/subsidy/simulate/", {"cutoff": DEC})
    assert resp.status_code == 200
    page = html(resp)
    assert "20,266.66" in row_of(page, "beneficiary", example.A)
    assert "1,000,000.00" in row_of(page, "beneficiary", example.X)
    assert "1,300,000.00" in row_of(page, "beneficiary", example.X)  # subsidy before the cap
    assert "1,020,266.66" in row_of(page, "total", "payable")
    assert "贷款用途不是经营性" in row_of(page, "reason", "purpose_not_operating")
    assert "借款人为大型企业" in row_of(page, "reason", "borrower_large")
    assert 'data-chart="chart-district"' in page and "vendor/echarts/echarts.min.js" in page
    assert SubsidyBatch.objects.count() == 0, "a simulation records nothing"


def test_compare_two_parameter_sets(people, example):
    resp = client(people["auditor"]).get("/subsidy/simulate/", {
        "cutoff": DEC, "compare": "on", "b-budget": "500,000"})
    assert resp.status_code == 200
    page = html(resp)
    a_row, x_row = row_of(page, "beneficiary", example.A), row_of(page, "beneficiary", example.X)
    assert re.search(r'data-side="a">20,266.66<', a_row) and re.search(r'data-side="b">9,932.04<', a_row)
    assert re.search(r'data-side="a">1,000,000.00<', x_row) and re.search(r'data-side="b">490,067.95<', x_row)
    totals = row_of(page, "total", "payable")
    assert "1,020,266.66" in totals and "499,999.99" in totals
    assert "0.01" in row_of(page, "total", "unspent")
    assert "0.4900" in row_of(page, "total", "factor")  # 500000 / 1020266.66
    assert "500000.00" in row_of(page, "param", "budget")
    # the same in the export, side by side
    rows = {r["受益人证件号码"]: r for r in xlsx_rows(client(people["auditor"]).get(
        "/subsidy/simulate/export.xlsx", {"cutoff": DEC, "compare": "on", "b-budget": "500000"}))}
    assert amount(rows[example.A]["A 本批实付（元）"]) == "20266.66"
    assert amount(rows[example.A]["B 本批实付（元）"]) == "9932.04"
    assert amount(rows[example.X]["B 本批实付（元）"]) == "490067.95"


def test_simulate_input_errors_are_shown(people, example):
    c = client(people["bureau"])
    resp = c.get("/subsidy/simulate/", {"cutoff": "2020-12-31", "a-rate": "1.5"})
    assert resp.status_code == 400 and "data-result" not in html(resp)
    resp = c.get("/subsidy/simulate/", {"cutoff": "2020-01-01"})  # before the parameters were issued
    assert resp.status_code == 400 and "data-error" in html(resp) and "没有生效的取值" in html(resp)
    loans = csv_rows(c.get("/subsidy/simulate/export.csv", {"cutoff": DEC, "what": "loans"}))
    assert {r["贷款合同编号"]: r["不计入原因代码"] for r in loans}["A-3"] == "purpose_not_operating"


@pytest.mark.parametrize("who, code", [("ent_a", 403), ("bank_b2", 403), ("auditor", 200), ("admin", 200)])
def test_who_may_simulate(people, example, who, code):
    assert client(people[who]).get("/subsidy/simulate/", {"cutoff": DEC}).status_code == code


# --------------------------------------------------------------------------------------------------
# A batch on its four-eyes path, by the pages


def test_run_review_approve_release_by_distinct_people(people, example):
    bureau = client(people["bureau"])
    batch = run_by_page(bureau)
    assert batch.status == BatchStatus.RUN
    assert batch.created_by == people["bureau"]
    page = html(bureau.get(f"/subsidy/b/{batch.pk}/"))
    # the one who ran it is not offered its review, and is refused it
    assert 'data-action="review"' not in page and 'data-action="approve"' not in page
    assert "1,020,266.66" in page
    resp = bureau.post(f"/subsidy/b/{batch.pk}/do/review/")
    assert resp.status_code == 403 and "由您计算，不能由您复核" in html(resp)
    assert 'data-action="review"' in html(client(people["bureau2"]).get(f"/subsidy/b/{batch.pk}/"))

    # a second run while this one is open is refused, with the reason shown
    resp = bureau.post("/subsidy/", {"cutoff": "2021-01-31"})
    assert resp.status_code == 409 and "尚未拨付或作废" in html(resp)

    # review: a confirmation page first, then the action
    page = html(client(people["bureau2"]).get(f"/subsidy/b/{batch.pk}/do/review/"))
    assert 'data-confirm="review"' in page and "确认复核" in page
    assert client(people["bureau2"]).post(f"/subsidy/b/{batch.pk}/do/review/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REVIEWED and batch.reviewed_by == people["bureau2"]

    # the one who ran it and the one who reviewed it may not approve it
    resp = bureau.post(f"/subsidy/b/{batch.pk}/do/approve/")
    assert resp.status_code == 403
    assert "由您计算，不能由您审批" in html(resp) and "ran subsidy batch" not in html(resp)
    bureau.cookies["django_language"] = "en"
    resp = bureau.post(f"/subsidy/b/{batch.pk}/do/approve/")
    assert "You ran subsidy batch" in html(resp) and "由您计算" not in html(resp)
    del bureau.cookies["django_language"]
    resp = client(people["bureau2"]).post(f"/subsidy/b/{batch.pk}/do/approve/")
    assert resp.status_code == 403 and "由您复核，不能由您审批" in html(resp)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REVIEWED

    # auditors read but do not act
    auditor = client(people["auditor"])
    assert auditor.get(f"/subsidy/b/{batch.pk}/").status_code == 200
    assert auditor.post(f"/subsidy/b/{batch.pk}/do/approve/").status_code == 403

    assert client(people["bureau3"]).post(f"/subsidy/b/{batch.pk}/do/approve/").status_code == 302
    page = html(bureau.get(f"/subsidy/b/{batch.pk}/do/release/"))
    assert "不可撤销" in page and "data-ask=" in page
    assert 'data-file="payments.csv"' not in html(bureau.get(f"/subsidy/b/{batch.pk}/"))
    assert bureau.get(f"/subsidy/b/{batch.pk}/files/payments.csv").status_code == 404  # not released yet
    assert bureau.post(f"/subsidy/b/{batch.pk}/do/release/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RELEASED

    page = html(bureau.get(f"/subsidy/b/{batch.pk}/"))
    for name in ("payments.csv", "payments.xlsx", "control.csv"):
        assert f'data-file="{name}"' in page
    assert "1,020,266.66" in page.split("data-control")[1]  # the control total, with separators
    history = [m for m in re.findall(r'<tr data-action="([\w.]+)"', page)]
    assert history == ["subsidy.run", "subsidy.review", "subsidy.approve", "subsidy.release"]

    resp = bureau.get(f"/subsidy/b/{batch.pk}/files/payments.csv")
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    rows = csv_rows(resp)
    assert len(rows) == 2
    assert {r["beneficiary_id"]: r["amount"] for r in rows} == {example.A: "20266.66",
                                                                  example.X: "1000000.00"}
    control = csv_rows(bureau.get(f"/subsidy/b/{batch.pk}/files/control.csv"))
    assert control[0]["count"] == "2" and control[0]["amount"] == "1020266.66"
    xlsx = xlsx_rows(auditor.get(f"/subsidy/b/{batch.pk}/files/payments.xlsx"))
    assert len(xlsx) == 2
    assert bureau.get(f"/subsidy/b/{batch.pk}/files/secret.txt").status_code == 404

    # released is final: no action is offered, and one forced is refused
    page = html(bureau.get(f"/subsidy/b/{batch.pk}/do/cancel/"))
    assert "不能作废" in page and 'name="confirm"' not in page
    resp = bureau.post(f"/subsidy/b/{batch.pk}/do/cancel/", {"note": "试试"})
    assert resp.status_code == 409 and "只有" in html(resp)


def test_a_batch_runs_as_a_background_job_whose_page_leads_to_it(people, example):
    from huiqi.core import jobs
    from huiqi.core.models import Job

    bureau = client(people["bureau"])
    resp = bureau.post("/subsidy/", {"cutoff": DEC, "note": "后台"})
    job = Job.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/core/jobs/{job.pk}/"
    assert (job.kind, job.status, job.created_by) == ("subsidy.run_batch", "queued", people["bureau"])
    assert "正在后台计算" in html(bureau.get(resp["Location"]))
    assert SubsidyBatch.objects.count() == 0
    assert jobs.run_pending() == 1
    batch = SubsidyBatch.objects.get()
    assert (batch.created_by, batch.note, batch.payable_total_fen) == (people["bureau"], "后台", 102026666)
    assert f'href="/subsidy/b/{batch.pk}/"' in html(bureau.get(f"/core/jobs/{job.pk}/"))


def test_cancel_needs_a_reason(people, example):
    bureau = client(people["bureau"])
    batch = run_by_page(bureau)
    resp = bureau.post(f"/subsidy/b/{batch.pk}/do/cancel/", {"note": ""})
    assert resp.status_code == 400
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RUN
    assert bureau.post(f"/subsidy/b/{batch.pk}/do/cancel/", {"note": "参数有误"}).status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CANCELLED and "参数有误" in batch.note
    page = html(bureau.get("/subsidy/", {"status": "cancelled"}))
    assert f'data-batch="{batch.pk}"' in page


def test_batch_list_and_empty_state(people, example):
    page = html(client(people["auditor"]).get("/subsidy/"))
    assert "还没有贴息批次" in page and "计算新批次" not in page  # auditors do not run batches
    assert "计算新批次" in html(client(people["admin"]).get("/subsidy/"))
    assert client(people["auditor"]).post("/subsidy/", {"cutoff": DEC}).status_code == 403
    assert SubsidyBatch.objects.count() == 0


# --------------------------------------------------------------------------------------------------
# Lines of a batch


def test_beneficiaries_search_filter_export(people, example):
    batch = run_through_pages(people)
    c = client(people["auditor"])
    page = html(c.get(f"/subsidy/b/{batch.pk}/beneficiaries/"))
    assert example.A in page and example.X in page
    page = html(c.get(f"/subsidy/b/{batch.pk}/beneficiaries/", {"q": "甲科技"}))
    assert example.A in page and example.X not in page
    page = html(c.get(f"/subsidy/b/{batch.pk}/beneficiaries/", {"q": example.X[:10]}))
    assert example.X in page and example.A not in page
    page = html(c.get(f"/subsidy/b/{batch.pk}/beneficiaries/", {"kind": "individual_business"}))
    assert "没有符合条件的受益人" in page
    page = html(c.get(f"/subsidy/b/{batch.pk}/beneficiaries/", {"status": "pending"}))
    assert example.A in page and example.X in page
    rows = xlsx_rows(c.get(f"/subsidy/b/{batch.pk}/beneficiaries.xlsx", {"q": "乙商贸"}))
    assert [(r["受益人证件号码"], amount(r["本批实付（元）"]), amount(r["封顶前贴息（元）"])) for r in rows] == [
        (example.X, "1000000.00", "1300000.00")]
    assert c.get(f"/subsidy/b/{batch.pk}/beneficiaries.pdf").status_code == 404


def test_a_masked_resident_id_is_found_only_by_its_whole_value(people, example):
    """The pages and the API show a person's resident ID masked (its first and last four characters): a
    search by a part of it would reveal the hidden middle one guess at a time, so only the whole ID finds
    its line; a USCC, shown whole, is still found by a part."""
    from huiqi.subsidy.models import SubsidyPayment

    batch = run_through_pages(people)
    SubsidyPayment.objects.create(  # the owner's account in the batch (its loan counts nothing here)
        batch=batch, beneficiary_id=example.OWNER, name="王五", kind="business_owner", loans_counted=0,
        interest_counted_fen=0, subsidy_before_cap_fen=0, entitlement_fen=0, paid_before_fen=0, due_fen=0,
        payable_fen=0, overpayment_fen=0, status=PaymentStatus.NOTHING)
    c = client(people["bureau"])
    owner = example.OWNER
    lines, payments = f"/subsidy/b/{batch.pk}/loans/", f"/subsidy/b/{batch.pk}/beneficiaries/"

    def found(query):
        page_lines = re.findall(r'data-loan="([\w-]+)"', html(c.get(lines, {"q": query})))
        api_lines = [x["loan_no"] for x in c.get("/api/v1/subsidy-loan-lines/",
                                                 {"batch": batch.pk, "q": query}).json()["results"]]
        assert page_lines == api_lines, query
        page = html(c.get(payments, {"q": query}))
        api_payments = [x["name"] for x in c.get("/api/v1/subsidy-payments/",
                                                 {"batch": batch.pk, "q": query}).json()["results"]]
        return page_lines, "王五" in page, "王五" in api_payments

    for part in (owner[:6], owner[:17], owner[1:], owner[6:14], owner[-4:]):
        assert found(part) == ([], False, False), part
    assert found(owner) == (["O-1"], True, True)
    assert found(owner.lower()) == (["O-1"], True, True)
    assert found(example.X[2:12])[0] == ["X-1"]  # a USCC (shown whole): any part of it


def test_loan_lines_with_reasons(people, example):
    batch = run_through_pages(people)
    c = client(people["bureau"])
    page = html(c.get(f"/subsidy/b/{batch.pk}/loans/"))
    for no in ("A-1", "A-2", "A-3", "A-4", "L-1", "X-1", "O-1"):
        assert f'data-loan="{no}"' in page
    assert "贷款用途不是经营性" in row_of(page, "loan", "A-3")
    assert "11,116.66" in row_of(page, "loan", "A-1")
    assert example.OWNER not in page, "a person's resident ID is masked"

    page = html(c.get(f"/subsidy/b/{batch.pk}/loans/", {"outcome": "purpose_not_operating"}))
    assert 'data-loan="A-3"' in page and 'data-loan="A-1"' not in page
    page = html(c.get(f"/subsidy/b/{batch.pk}/loans/", {"outcome": "ineligible", "bank": "b2"}))
    assert re.findall(r'data-loan="([\w-]+)"', page) == ["L-1", "O-1"]
    page = html(c.get(f"/subsidy/b/{batch.pk}/loans/", {"q": "A-"}))
    assert re.findall(r'data-loan="([\w-]+)"', page) == ["A-1", "A-2", "A-3", "A-4"]

    rows = {r["贷款合同编号"]: r for r in xlsx_rows(c.get(f"/subsidy/b/{batch.pk}/loans.xlsx"))}
    assert rows["A-3"]["不计入原因代码"] == "purpose_not_operating" and rows["A-3"]["不计入原因"] == "贷款用途不是经营性"
    assert amount(rows["A-2"]["贴息金额（元）"]) == "9150.00" and amount(rows["X-1"]["计入利息（元）"]) == "2600000.00"
    assert example.OWNER not in body(c.get(f"/subsidy/b/{batch.pk}/loans.csv")).decode("utf-8-sig")

    # in English, the reason's English label
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = html(c.get(f"/subsidy/b/{batch.pk}/loans/", {"outcome": "purpose_not_operating"}))
    assert "the loan is not for operating purposes" in row_of(page, "loan", "A-3")


def test_the_lines_filters_the_pages_and_the_api_share(people, example):
    """One FilterSet per list: the page's outcome and the API's eligible and reason find the same lines; a
    value the filter cannot take is left out on the page and named in a 400 by the API."""
    batch = run_through_pages(people)
    c = client(people["bureau"])
    api = "/api/v1/subsidy-loan-lines/"
    for page_query, api_query in (({"outcome": "ineligible", "bank": "b2"}, {"eligible": "false", "bank": "b2"}),
                                  ({"outcome": "outside_window"}, {"reason": "outside_window"}),
                                  ({"q": "A-"}, {"q": "A-"})):
        page = html(c.get(f"/subsidy/b/{batch.pk}/loans/", page_query))
        found = [x["loan_no"] for x in c.get(api, {**api_query, "batch": batch.pk}).json()["results"]]
        assert re.findall(r'data-loan="([\w-]+)"', page) == found, page_query
    for query in ({"reason": "unlucky"}, {"batch": "first"}, {"outcome": "lost"}):
        resp = c.get(api, query)
        assert resp.status_code == 400 and resp.json()["error"]["field"] == next(iter(query)), query
    page = html(c.get(f"/subsidy/b/{batch.pk}/loans/", {"outcome": "lost"}))
    assert len(re.findall(r'data-loan="([\w-]+)"', page)) == 7
    resp = c.get("/api/v1/subsidy-payments/", {"status": "lost"})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "status"
    page = html(c.get(f"/subsidy/b/{batch.pk}/beneficiaries/", {"status": "lost"}))
    assert example.A in page and example.X in page


def test_batch_detail_groups(people, example):
    batch = run_through_pages(people)
    page = html(client(people["bureau"]).get(f"/subsidy/b/{batch.pk}/"))
    assert "20,266.66" in row_of(page, "key", "small") and "1,000,000.00" in row_of(page, "key", "micro")
    assert "20,266.66" in row_of(page, "key", "440305") and "1,000,000.00" in row_of(page, "key", "440304")
    assert "20,266.66" in row_of(page, "key", "B1") and "1,300,000.00" in row_of(page, "key", "B2")


# --------------------------------------------------------------------------------------------------
# Reconciliation


def test_reconciliation_marks_paid_and_failed(people, example, tmp_path):
    batch = run_through_pages(people)
    c = client(people["bureau"])
    assert "只有已拨付的批次才能对账" not in html(c.get(f"/subsidy/b/{batch.pk}/reconcile/"))
    assert client(people["auditor"]).get(f"/subsidy/b/{batch.pk}/reconcile/").status_code == 403

    bad = io.BytesIO(f"beneficiary_id,status\n{example.A},paid\n91440300MISSING001,paid\n".encode())
    bad.name = "bad.csv"
    resp = c.post(f"/subsidy/b/{batch.pk}/reconcile/", {"file": bad})
    assert resp.status_code == 400 and "未做任何更改" in html(resp) and "91440300MISSING001" in html(resp)
    assert batch.payments.filter(status=PaymentStatus.PENDING).count() == 2

    good = io.BytesIO(f"受益人证件号码,状态,金额,备注\n{example.A},已支付,20266.66,\n{example.X},失败,,账户已销户\n".encode())
    good.name = "reconcile.csv"
    resp = c.post(f"/subsidy/b/{batch.pk}/reconcile/", {"file": good})
    assert resp.status_code == 302
    confirm_waiting(people, batch)
    status = dict(batch.payments.values_list("beneficiary_id", "status"))
    assert status == {example.A: PaymentStatus.PAID, example.X: PaymentStatus.FAILED}
    page = html(c.get(f"/subsidy/b/{batch.pk}/beneficiaries/", {"status": "failed"}))
    assert example.X in page and "账户已销户" in page and example.A not in page

    # the failed payment is due again in the next batch; the paid one is not
    page = html(c.get("/subsidy/simulate/", {"cutoff": "2021-01-31"}))
    assert re.search(r'data-side="a">1,000,000.00<', row_of(page, "beneficiary", example.X))
    assert re.search(r'data-side="a">0.00<', row_of(page, "beneficiary", example.A))


# --------------------------------------------------------------------------------------------------
# An enterprise's own page, a bank's page


def test_my_interest_subsidy(people, example):
    ent = client(people["ent_a"])
    page = html(ent.get("/subsidy/"))
    assert "还没有已拨付的贴息批次" in page

    # an open batch is the bureau's working numbers: not shown yet
    run_by_page(client(people["bureau"]))
    assert "还没有已拨付的贴息批次" in html(ent.get("/subsidy/"))
    SubsidyBatch.objects.get().delete()

    batch = run_through_pages(people)
    page = html(ent.get("/subsidy/"))
    for no in ("A-1", "A-2", "A-3", "A-4"):
        assert f'data-loan="{no}"' in page
    assert "贷款用途不是经营性" in row_of(page, "loan", "A-3")
    assert "放款日期不在疫情期间窗口内" in row_of(page, "loan", "A-4")
    assert "11,116.66" in row_of(page, "loan", "A-1") and "9,150.00" in row_of(page, "loan", "A-2")
    payment = row_of(page, "batch", str(batch.pk))
    assert "20,266.66" in payment and localtime(batch.released_at).strftime("%Y-%m-%d") in payment
    for foreign in (example.X, "X-1", "深圳市乙商贸有限公司", "L-1", "O-1", "1,000,000.00"):
        assert foreign not in page, f"my interest subsidy shows {foreign}"

    page = html(ent.get("/subsidy/", {"outcome": "outside_window"}))
    assert re.findall(r'data-loan="([\w-]+)"', page) == ["A-4"]

    good = io.BytesIO(f"beneficiary_id,status\n{example.A},paid\n".encode())
    good.name = "r.csv"
    client(people["bureau"]).post(f"/subsidy/b/{batch.pk}/reconcile/", {"file": good})
    confirm_waiting(people, batch)
    page = html(ent.get("/subsidy/"))
    assert "银行确认于" in row_of(page, "batch", str(batch.pk))
    assert "20,266.66" in page.split('data-figure="paid"')[1][:40]

    rows = xlsx_rows(ent.get("/subsidy/mine/export.xlsx"))
    assert sorted(r["贷款合同编号"] for r in rows) == ["A-1", "A-2", "A-3", "A-4"]

    # the enterprise that a business owner owns sees the owner's loan, never the owner's full ID
    page = html(client(people["ent_m"]).get("/subsidy/"))
    assert 'data-loan="O-1"' in page and "小微企业主所属企业不是小型或微型企业" in page
    assert example.OWNER not in page


@pytest.mark.parametrize("who, code, marker", [
    ("ent_a", 200, "我的贷款贴息"), ("bank_b2", 200, "本行贷款的贴息情况"), ("bureau", 200, "贴息批次"),
    ("auditor", 200, "贴息批次"), ("district", 403, ""), ("department", 403, ""), ("institution", 403, "")])
def test_each_reader_has_its_own_subsidy_page(people, example, who, code, marker):
    resp = client(people[who]).get("/subsidy/")
    assert resp.status_code == code and marker in html(resp)
    if who in ("ent_a", "bank_b2"):  # no running of batches from there
        assert client(people[who]).post("/subsidy/", {"cutoff": DEC}).status_code == 403
        assert SubsidyBatch.objects.count() == 0


def test_bank_sees_only_its_loans(people, example):
    batch = run_through_pages(people)
    b2 = client(people["bank_b2"])
    page = html(b2.get("/subsidy/"))
    assert sorted(re.findall(r'data-loan="([\w-]+)"', page)) == ["L-1", "O-1", "X-1"]
    assert "借款人为大型企业" in row_of(page, "loan", "L-1")
    assert "1,300,000.00" in row_of(page, "loan", "X-1")
    assert example.OWNER not in page and example.A not in page
    for other in ("A-1", "A-2", "A-3", "A-4", "深圳市甲科技有限公司"):
        assert other not in page

    page = html(b2.get("/subsidy/", {"outcome": "eligible"}))
    assert re.findall(r'data-loan="([\w-]+)"', page) == ["X-1"]
    rows = xlsx_rows(b2.get("/subsidy/bank/export.xlsx", {"batch": batch.pk}))
    assert sorted(r["贷款合同编号"] for r in rows) == ["L-1", "O-1", "X-1"]

    page = html(client(people["bank_b1"]).get("/subsidy/"))
    assert sorted(re.findall(r'data-loan="([\w-]+)"', page)) == ["A-1", "A-2", "A-3", "A-4"]

    for path in (f"/subsidy/b/{batch.pk}/", f"/subsidy/b/{batch.pk}/loans/",
                 f"/subsidy/b/{batch.pk}/beneficiaries/", f"/subsidy/b/{batch.pk}/files/payments.csv",
                 "/subsidy/simulate/", "/subsidy/mine/export.csv"):
        assert b2.get(path).status_code == 403, path
    assert client(people["ent_a"]).get("/subsidy/bank/export.csv").status_code == 403


def test_navigation(people, example):
    def nav(who):
        return dict(re.findall(r'data-nav="([\w:-]+)"[^>]*>([^<]+)<', html(client(people[who]).get("/"))))

    assert nav("bureau")["subsidy:index"] == nav("auditor")["subsidy:index"] == "贷款贴息"
    assert nav("ent_a")["subsidy:index"] == "我的贴息"
    assert nav("bank_b2")["subsidy:index"] == "本行贴息"
    assert "subsidy:index" not in nav("district") and "subsidy:index" not in nav("institution")


# --------------------------------------------------------------------------------------------------
# API


def test_api_batches_and_actions(people, example):
    import json

    def post(who, url, data=None):
        return client(people[who]).post(url, json.dumps(data or {}), content_type="application/json")

    from huiqi.core import jobs

    # Run as on the page: a background job, whose address the answer gives.
    resp = post("bureau", "/api/v1/subsidy-batches/run/", {"cutoff": DEC})
    assert resp.status_code == 202, resp.content
    queued = resp.json()
    assert resp["Location"] == queued["url"] == f"/api/v1/jobs/{queued['job']['id']}/"
    assert queued["job"]["status"] == "queued" and not SubsidyBatch.objects.exists()
    assert jobs.run_pending() == 1
    done = client(people["bureau"]).get(queued["url"]).json()
    assert done["status"] == "succeeded", done
    batch = client(people["bureau"]).get(f"/api/v1/subsidy-batches/{done['result']['batch_id']}/").json()
    assert (batch["payable_total"], batch["status"], batch["created_by"]) == ("1020266.66", "run", "bureau")
    # What can be refused without computing is refused at once, and nothing is queued.
    resp = post("bureau", "/api/v1/subsidy-batches/run/", {"cutoff": "2021-01-31"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "subsidy.batch_open"
    assert post("auditor", "/api/v1/subsidy-batches/run/", {"cutoff": "2021-01-31"}).status_code == 403
    assert jobs.run_pending() == 0
    url = f"/api/v1/subsidy-batches/{batch['id']}/"
    assert post("ent_a", url + "review/").status_code == 403
    assert post("auditor", url + "review/").status_code == 403
    assert post("bureau2", url + "review/").json()["status"] == "reviewed"
    resp = post("bureau2", url + "approve/")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "subsidy.self_approval"
    assert post("bureau3", url + "approve/").json()["approved_by"] == "bureau3"
    resp = post("bureau", url + "cancel/", {})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "note"
    released = post("admin", url + "release/").json()
    assert released["status"] == "released" and set(released["files"]) == {
        "payments.csv", "payments.xlsx", "control.csv", "beneficiaries.csv", "loans.csv"}
    resp = post("bureau", url + "review/")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "subsidy.illegal_transition"

    assert client(people["auditor"]).get(url).json()["beneficiaries"] == 2
    assert client(people["bank_b2"]).get(url).status_code == 404
    assert client(people["bank_b2"]).get("/api/v1/subsidy-batches/").json()["results"] == []

    lines = client(people["bank_b2"]).get("/api/v1/subsidy-loan-lines/").json()["results"]
    assert sorted(x["loan_no"] for x in lines) == ["L-1", "O-1", "X-1"]
    owner_line = next(x for x in lines if x["loan_no"] == "O-1")
    assert owner_line["beneficiary_id"] != example.OWNER and "*" in owner_line["beneficiary_id"]
    assert owner_line["reason_zh"] == "小微企业主所属企业不是小型或微型企业"
    lines = client(people["bureau"]).get("/api/v1/subsidy-loan-lines/", {"reason": "outside_window"}).json()
    assert [x["loan_no"] for x in lines["results"]] == ["A-4"]

    mine = client(people["ent_a"]).get("/api/v1/subsidy-payments/").json()["results"]
    assert [(p["beneficiary_id"], p["payable"]) for p in mine] == [(example.A, "20266.66")]
    assert client(people["bank_b2"]).get("/api/v1/subsidy-payments/").json()["results"] == []

    upload = io.BytesIO(f"beneficiary_id,status\n{example.X},failed\n".encode())
    upload.name = "r.csv"
    resp = client(people["bureau"]).post(url + "reconcile/", {"file": upload})
    assert resp.status_code == 201 and (resp.json()["paid"], resp.json()["failed"]) == (0, 1)
    resp = post("bureau2", f"/api/v1/subsidy-reconciliations/{resp.json()['id']}/confirm/")
    assert resp.status_code == 200 and resp.json()["status"] == "confirmed"
    assert client(people["bureau"]).get("/api/v1/subsidy-payments/?status=failed").json()["count"] == 1
