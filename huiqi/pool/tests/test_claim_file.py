"""Issue 18: claims by file. A bank uploads the non-performing loans file (``bank-data-exchange.md``) on the
pool's pages; each row is a claim filed by ``services.file_claim`` (the page's and the API's rules), all of
them or none, every bad row named; the same file twice changes nothing; claims filed by file wait for the
bank's evidence before they can be approved.

The world is the spec's worked example as ``test_claims.people`` sets it up on 2020-10-15 (a 90-day claim
window): B1's loans 1–5 are registered, non-performing from 2020-09-01 on; B2 holds loan 6."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from huiqi.core.errors import InvalidFields
from huiqi.core.models import AuditEvent
from huiqi.core.uploads import read_errors
from huiqi.lending.models import Loan
from huiqi.pool import imports, services
from huiqi.pool.models import Claim, PoolUpload
from huiqi.pool.services import ClaimInput
from huiqi.pool.tests.test_claims import people  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

HEADER = "银行机构代码,贷款合同编号,不良认定日期,不良本金（元）,已回收金额（元）\n"
GOOD = HEADER + ("B1,1,2020-09-01,\"1,000,000.00\",\"100,000.00\"\n"
                 "B1,2,2020-09-02,333333.33,0\n"
                 "B1,3,2020-09-03,500000.00,0\n")


def _upload(user, text, name="npl.csv"):
    return imports.start_upload(user, "claims", SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv"))


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_a_file_files_one_claim_per_row_through_the_services(people):
    record = _upload(people["b1"], GOOD)
    assert (record.status, record.rows_total, record.rows_created) == ("stored", 3, 3), record.message
    claims = {c.loan.loan_no: c for c in Claim.objects.select_related("loan")}
    # The worked example's amounts: the same assessment as a claim filed on the page.
    assert {no: (c.compensation_fen, c.upload_id, c.status) for no, c in claims.items()} == {
        "1": (27_000_000, record.pk, "submitted"), "2": (16_666_667, record.pk, "submitted"),
        "3": (40_000_000, record.pk, "submitted")}
    assert set(AuditEvent.objects.filter(action="pool.file").values_list("object_id", flat=True)) == {
        str(c.pk) for c in claims.values()}
    assert AuditEvent.objects.filter(action="import", model="pool.PoolUpload", object_id=str(record.pk),
                                     after__created=3).exists()
    # The same file again changes nothing, and says so.
    again = _upload(people["b1"], GOOD)
    assert again.status == "unchanged" and "完全相同" in again.message
    assert Claim.objects.count() == 3


def test_every_bad_row_is_reported_at_once_and_no_claim_is_filed(people):
    services.file_claim(people["b1"], ClaimInput("B1", "5", evidence="催收记录"))  # an open claim on loan 5
    Loan.objects.filter(bank__code="B1", loan_no="4").update(registered_date=None)
    text = HEADER + "\n".join([
        "B1,1,2020-09-01,1000000.00,100000.00",   # row 2: good
        "B1,nope,2020-09-01,1000.00,0",           # row 3: not in the ledger
        "B2,6,2020-09-06,100000.00,0",            # row 4: another bank's loan
        "B1,2,2020-09-02,2000000.00,0",           # row 5: outstanding above the principal
        "B1,3,2020-09-03,500000.00,600000.00",    # row 6: recovered above outstanding
        "B1,4,2020-09-04,200000.00,0",            # row 7: not registered in the pool
        "B1,5,2020-09-05,200000.00,50000.00",     # row 8: a claim already open on the loan
        "B1,3,2020-09-03,500000.00,0",            # row 9: the same loan twice in the file
        "B1,nope2,2020-13-01,abc,0",              # row 10: no such day, no amount, no such loan
    ]) + "\n"
    record = _upload(people["b1"], text)
    assert record.status == "refused"
    got = {(int(e["row"]), e["column"].split(" / ")[-1]) for e in read_errors(record)}
    assert got == {(3, "loan_no"), (4, "bank_code"), (5, "outstanding_principal"), (6, "recovered"), (7, "loan_no"),
                   (8, "loan_no"), (9, "bank_code"), (10, "npl_date"), (10, "outstanding_principal"), (10, "loan_no")}
    errors = {(int(e["row"]), e["column"].split(" / ")[-1]): e for e in read_errors(record)}
    assert errors[(8, "loan_no")]["zh"] == "该贷款已有一笔办理中的补偿申请"
    assert errors[(5, "outstanding_principal")]["en"]  # each reason in both languages
    assert Claim.objects.count() == 1  # the one filed before


def test_past_the_window_and_a_date_against_the_classification_are_bad_rows(people):
    imports.start_upload(people["b1"], "classifications", SimpleUploadedFile(
        "c.csv", "银行机构代码,贷款合同编号,分类日期,五级分类\nB1,2,2020-09-10,次级\n".encode(), content_type="text/csv"))
    # On 2020-10-15, 90 days after 2020-06-01 have passed; loan 2 first turned 次级 on 2020-09-10, not 09-02.
    record = _upload(people["b1"], HEADER + "B1,3,2020-06-01,500000.00,0\nB1,2,2020-09-02,333333.33,0\n")
    got = {(int(e["row"]), e["column"].split(" / ")[-1]): e["zh"] for e in read_errors(record)}
    assert set(got) == {(2, "npl_date"), (3, "npl_date")}
    assert "已超过申请期限" in got[(2, "npl_date")] and "2020-09-10" in got[(3, "npl_date")]
    assert not Claim.objects.exists()


def test_claims_filed_by_file_wait_for_evidence_before_approval(people):
    record = _upload(people["b1"], GOOD)
    claim = Claim.objects.get(loan__loan_no="1", upload=record)
    assert claim.awaiting_evidence
    bank = _client(people["b1"])
    home = bank.get("/").content.decode()
    assert "待补充证明材料的补偿申请" in home
    assert 'data-awaiting-evidence' in bank.get(f"/pool/claims/{claim.pk}/").content.decode()
    listed = bank.get("/pool/claims/?evidence=missing").content.decode()
    assert listed.count("data-claim=") == 3
    with pytest.raises(InvalidFields) as caught:
        services.review(people["maker"], claim, "approve")
    assert caught.value.errors[0].code == "pool.evidence_missing"
    r = bank.post(f"/pool/claims/{claim.pk}/", {"action": "evidence", "evidence": ""})
    assert r.status_code == 400
    r = bank.post(f"/pool/claims/{claim.pk}/", {"action": "evidence", "evidence": "催收记录、起诉书（2020）粤0305民初1号"})
    assert r.status_code == 302
    claim.refresh_from_db()
    assert not claim.awaiting_evidence
    assert AuditEvent.objects.filter(action="pool.add_evidence", object_id=str(claim.pk)).exists()
    services.top_up(people["maker"], 100_000_000)
    claim = services.decide(people["checker"], services.review(people["maker"], claim, "approve"), True)
    assert (claim.status, claim.paid_fen) == ("approved", 27_000_000)
    # Another bank cannot add evidence to it.
    other = Claim.objects.get(loan__loan_no="2")
    r = _client(people["b2"]).post(f"/pool/claims/{other.pk}/", {"action": "evidence", "evidence": "x"})
    assert r.status_code == 404


def test_the_upload_page_for_banks_and_who_may_use_it(people):
    bank = _client(people["b1"])
    page = bank.get("/pool/files/").content.decode()
    assert "data-guide" in page and 'name="kind"' in page
    r = bank.post("/pool/files/", {"kind": "claims", "file": SimpleUploadedFile("npl.csv", GOOD.encode())})
    record = PoolUpload.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/pool/files/{record.pk}/submitted/"
    detail = bank.get(f"/pool/files/{record.pk}/").content.decode()
    assert detail.count("data-claim=") == 3
    # Another bank does not see the file; the bureau reads it but sends none.
    assert _client(people["b2"]).get(f"/pool/files/{record.pk}/").status_code == 404
    bureau = _client(people["maker"])
    assert bureau.get(f"/pool/files/{record.pk}/").status_code == 200
    assert 'name="kind"' not in bureau.get("/pool/files/").content.decode()
    assert bureau.post("/pool/files/", {"kind": "claims", "file": SimpleUploadedFile("npl.csv", GOOD.encode())}
                       ).status_code == 403
    # A refused file's report downloads; the templates too, in both header languages.
    bad = _upload(people["b1"], HEADER + "B1,nope,2020-09-01,1000.00,0\n", "bad.csv")
    report = bank.get(f"/pool/files/{bad.pk}/errors.csv")
    assert report.status_code == 200 and "nope" in b"".join(report.streaming_content).decode("utf-8-sig")
    template = bank.get("/pool/files/template/claims.zh.csv")
    assert "不良认定日期" in b"".join(template.streaming_content).decode("utf-8-sig")
    template = bank.get("/pool/files/template/classifications.en.csv")
    assert "tier" in b"".join(template.streaming_content).decode("utf-8-sig")


def test_a_large_file_runs_as_a_job_with_progress(people):
    from huiqi.core import jobs

    record = imports.start_upload(people["b1"], "claims", SimpleUploadedFile("npl.csv", GOOD.encode("utf-8")),
                                  inline_limit=10)
    assert record.status == "pending" and record.job is not None and not Claim.objects.exists()
    assert jobs.run_pending() == 1
    record.refresh_from_db()
    record.job.refresh_from_db()
    assert (record.status, record.rows_created, record.job.status) == ("stored", 3, "succeeded")
    assert Claim.objects.filter(upload=record).count() == 3


def test_the_files_pages_are_in_one_language(people):
    """The bank's and the bureau's pages of files, claims and loans, in Chinese and in English
    (``huiqi/tests/test_one_language.py``'s detector); names of banks, borrowers, people and files are data."""
    from huiqi.registry.models import Bank
    from huiqi.tests.test_one_language import leaks

    record = _upload(people["b1"], GOOD)
    refused = _upload(people["b1"], HEADER + "B1,nope,2020-13-01,abc,0\n", "bad.csv")
    imports.start_upload(people["b1"], "classifications", SimpleUploadedFile(
        "c.csv", "银行机构代码,贷款合同编号,分类日期,五级分类\nB1,1,2020-09-01,次级\n".encode(), content_type="text/csv"))
    claim = Claim.objects.get(loan__loan_no="1")
    data = [*Bank.objects.values_list("name", flat=True), *Loan.objects.values_list("borrower_name", flat=True),
            "b1", "maker", "npl.csv", "bad.csv", "nope", "abc", "2020-13-01"]
    pages = ["/pool/files/", f"/pool/files/{record.pk}/", f"/pool/files/{refused.pk}/", f"/pool/claims/{claim.pk}/",
             f"/pool/loans/{claim.loan_id}/", "/pool/claims/new/?loan=1"]
    for who in ("b1", "maker"):
        for language in ("zh-hans", "en"):
            c = _client(people[who])
            c.cookies["django_language"] = language
            for url in pages[:-1] if who == "maker" else pages:
                r = c.get(url)
                assert r.status_code == 200, (who, url)
                assert not leaks(r.content.decode(), language, data), (who, language, url, leaks(
                    r.content.decode(), language, data))
