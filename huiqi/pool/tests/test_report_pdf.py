"""Issue 18.7: the pool's report at a day as a page, a workbook and a PDF (a background job, the issuing
office and the day of issue, the reader's language), the seed's sentence written from the data; each reader
gets their own figures."""

import datetime as dt
import io

import pytest
from django.test import Client

from huiqi.core import jobs
from huiqi.core.models import Job
from huiqi.pool import report, selectors, services
from huiqi.pool.services import ClaimInput
from huiqi.pool.tests.test_claims import TODAY, people  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def _client(user, language=None):
    c = Client()
    c.force_login(user)
    if language:
        c.cookies["django_language"] = language
    return c


def _paid_claim(people):
    services.top_up(people["maker"], 30_000_000, dt.date(2020, 9, 1))
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1"))
    claim = services.review(people["maker"], claim, "approve")
    return services.decide(people["checker"], claim, True)


def _pdf_text(response, tmp_path) -> str:
    from pypdf import PdfReader

    path = tmp_path / "report.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    return " ".join(p.extract_text() for p in PdfReader(str(path)).pages).replace("\n", " ")


def test_the_seeds_sentence_is_written_from_the_data_in_both_languages(people):
    _paid_claim(people)
    f = selectors.figures(people["maker"], TODAY)
    assert (f["banks_signed"], f["banks_onboarded"], f["loans"], f["claims"], f["completed"]) == (3, 2, 4, 1, 1)
    page = _client(people["maker"]).get("/pool/report/", {"on": TODAY.isoformat()}).content.decode()
    # 4 loans of 1,000,000.00 元 = 0.04 亿元 and 0.0 万个; 270,000.00 元 paid = 27.00 万元, one bank once.
    assert ("截至2020年10月15日，共实现了3家银行签约加盟，资金池管理系统中已入库加盟银行2家，线上入库贷款项目0.0万个，"
            "贷款总额0.04亿元，涵盖我市中小微企业约0.0万家。不良贷款风险补偿项目1个，已完成补偿项目1个，"
            "补偿金额总计27.00万元，惠及1家（次）银行，撬动贷款总额0.04亿元。") in page
    assert "实际补偿比例（补偿金额÷损失）为30.00%" in page
    english = _client(people["maker"], "en").get("/pool/report/", {"on": TODAY.isoformat()}).content.decode()
    assert "As of 15 October 2020, 3 banks had signed up and 2 were onboarded" in english
    assert "4 loans were registered online" in english
    assert "27.00" in english and "共实现了" not in english and "签约银行" not in english


def test_a_bank_reads_its_own_sentence(people):
    _paid_claim(people)
    page = _client(people["b1"]).get("/pool/report/", {"on": TODAY.isoformat()}).content.decode()
    assert "本行线上入库贷款项目4个" in page and "补偿金额总计27.00万元" in page
    assert "签约加盟" not in page and 'data-figure="balance"' not in page
    other = _client(people["b2"]).get("/pool/report/", {"on": TODAY.isoformat()}).content.decode()
    assert "本行线上入库贷款项目0个" in other and "27.00" not in other


def test_the_warning_is_in_the_page_the_workbook_and_the_summary(people):
    from python_calamine import CalamineWorkbook

    _paid_claim(people)
    c = _client(people["maker"])
    page = c.get("/pool/report/", {"on": TODAY.isoformat()}).content.decode()
    assert "data-warning" in page and "请安排补充资金" in page  # the balance is 30,000.00 less 270,000.00 paid
    xlsx = c.get("/pool/report/export.xlsx", {"on": TODAY.isoformat()})
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert book.sheet_names == ["主要数据", "或有负债（按银行）", "或有负债（按放款年度）", "银行评价"]
    rows = {r[0]: r[1] for r in book.get_sheet_by_name("主要数据").to_python()[1:]}
    assert rows["已拨付补偿（万元）"] == 27.0 and rows["实际补偿比例"] == "30.00%"
    assert "请安排补充资金" in rows["预警"]
    scorecard = book.get_sheet_by_name("银行评价").to_python()
    assert [r[0] for r in scorecard[1:]] == ["B1", "B2"]
    # A bank's workbook holds its own bank only.
    mine = _client(people["b2"]).get("/pool/report/export.xlsx", {"on": TODAY.isoformat()})
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(mine.streaming_content)))
    assert [r[0] for r in book.get_sheet_by_name("银行评价").to_python()[1:]] == ["B2"]


def test_the_pdf_is_made_in_a_job_in_the_readers_language(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _paid_claim(people)
    c = _client(people["maker"], "en")
    r = c.post("/pool/report/", {"on": TODAY.isoformat()})
    job = Job.objects.get(kind="pool.report_pdf")
    assert r.status_code == 302 and r["Location"] == f"/core/jobs/{job.pk}/"
    assert job.params == {"on": TODAY.isoformat(), "language": "en"}
    assert jobs.run_pending() == 1
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    text = _pdf_text(c.get(job.result["link"]), tmp_path)
    assert "Risk-compensation pool" in text and "15 October 2020" in text
    for figure in ("27.00", "30.00%"):
        assert figure in text, f"{figure!r} is not in the PDF"
    # The page lists it; another reader cannot download it.
    assert f"/pool/report/{job.pk}.pdf" in c.get("/pool/report/").content.decode()
    assert _client(people["checker"]).get(job.result["link"]).status_code == 404
    assert _client(people["b1"]).get(job.result["link"]).status_code == 404


def test_the_document_carries_the_issuing_office_and_the_day_of_issue(people):
    data = report.build(people["maker"], TODAY, "zh-hans")
    html = report.render_html(data, for_pdf=True)
    assert 'data-issued-on="2020-10-15"' in html and "发布日期：2020年10月15日" in html
    assert "<!doctype html>" in html and "中小微企业银行贷款风险补偿资金池运行情况（截至2020年10月15日）" in html


def test_the_report_headless(people, tmp_path):
    from django.core.management import CommandError, call_command

    _paid_claim(people)
    out, xlsx = tmp_path / "pool.pdf", tmp_path / "pool.xlsx"
    call_command("pool", "report", "--date", TODAY.isoformat(), "--out", str(out), "--xlsx", str(xlsx),
                 "--as", "maker", stdout=io.StringIO())
    assert out.read_bytes()[:5] == b"%PDF-" and xlsx.read_bytes()[:2] == b"PK"
    with pytest.raises(CommandError):
        call_command("pool", "report", "--date", "2020-13-01", "--out", str(out), "--as", "maker")
    with pytest.raises(CommandError):
        call_command("pool", "report", "--date", TODAY.isoformat(), "--out", str(out), "--as", "nobody")
