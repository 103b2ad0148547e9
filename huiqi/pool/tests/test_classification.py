"""Issue 18: banks report their loans' five-tier classification (五级分类) over time, by a file and by the API;
the history is kept; the first 次级-or-worse day is the NPL date, and a claim's NPL date is checked against it.

The world is the spec's worked example (``conftest.pool_example``) as ``test_claims.people`` sets it up on
2020-10-15: bank B1's loans 1–5 (NPL records from 2020-09-01 on), B2's loan 6, a 90-day claim window."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from huiqi.core.errors import DomainError, PermissionDenied
from huiqi.core.models import AuditEvent
from huiqi.lending.models import Loan
from huiqi.pool import imports, selectors, services
from huiqi.pool.models import Classification, PoolUpload
from huiqi.pool.services import ClaimInput
from huiqi.pool.tests.test_claims import people  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

HEADER = "银行机构代码,贷款合同编号,分类日期,五级分类\n"


def _file(text: str, name="classifications.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _upload(user, text, name="classifications.csv"):
    return imports.start_upload(user, "classifications", _file(text, name))


def _loan(no, bank="B1"):
    return Loan.objects.get(bank__code=bank, loan_no=no)


def _history(no, bank="B1"):
    return [(c.on.isoformat(), c.tier) for c in Classification.objects.filter(loan=_loan(no, bank)).order_by("on")]


def test_a_banks_file_keeps_the_history_and_gives_the_npl_date(people):
    text = HEADER + ("B1,1,2020-03-31,正常\nB1,1,2020-06-30,关注\nB1,1,2020-09-10,次级\nB1,1,2020-09-30,可疑\n"
                     "B1,2,2020-06-30,normal\nB1,2,2020-09-30,2\n")
    record = _upload(people["b1"], text)
    assert (record.status, record.rows_total, record.rows_created) == ("stored", 6, 6), record.message
    assert _history("1") == [("2020-03-31", "normal"), ("2020-06-30", "special_mention"),
                             ("2020-09-10", "substandard"), ("2020-09-30", "doubtful")]
    assert selectors.classification_history(_loan("1").pk) == selectors.ClassificationHistory(
        dt.date(2020, 9, 10), dt.date(2020, 6, 30))
    assert selectors.classification_history(_loan("2").pk).npl_date is None
    assert AuditEvent.objects.filter(action="import", model="pool.PoolUpload", object_id=str(record.pk),
                                     after__created=6).exists()
    # The same file again changes nothing, and says so.
    again = _upload(people["b1"], text)
    assert again.status == "unchanged" and "完全相同" in again.message
    assert Classification.objects.count() == 6
    # A correction of a day replaces its tier, audited before and after; other days stay.
    fixed = _upload(people["b1"], HEADER + "B1,1,2020-09-10,关注\nB1,1,2020-09-30,可疑\n", "fix.csv")
    assert (fixed.status, fixed.rows_updated, fixed.rows_unchanged) == ("stored", 1, 1)
    assert _history("1")[2] == ("2020-09-10", "special_mention")
    change = AuditEvent.objects.get(action="update", model="pool.Classification")
    assert (change.before, change.after) == ({"tier": "substandard"}, {"tier": "special_mention"})
    assert selectors.classification_history(_loan("1").pk).npl_date == dt.date(2020, 9, 30)


def test_every_bad_row_is_reported_at_once_and_nothing_is_kept(people):
    text = HEADER + "\n".join([
        "B1,1,2020-06-30,正常",       # row 2: good
        "B1,nope,2020-06-30,正常",    # row 3: not in the bank's ledger
        "B2,6,2020-06-30,正常",       # row 4: another bank's loan
        "B1,1,2019-01-01,关注",       # row 5: before the loan started (2019-09-01)
        "B1,2,2021-01-01,关注",       # row 6: after today
        "B1,3,2020-06-30,很好",       # row 7: no such tier
        "B1,3,2020-02-30,正常",       # row 8: no such day
        "B1,1,2020-06-30,关注",       # row 9: the same loan and day twice
    ]) + "\n"
    record = _upload(people["b1"], text)
    assert record.status == "refused"
    from huiqi.core.uploads import read_errors

    got = {(int(e["row"]), e["column"].split(" / ")[-1]) for e in read_errors(record)}
    assert got == {(3, "loan_no"), (4, "bank_code"), (5, "on"), (6, "on"), (7, "tier"), (8, "on"), (9, "bank_code")}
    errors = {int(e["row"]): e for e in read_errors(record)}
    assert "不是本行" in errors[4]["zh"]
    assert errors[5]["zh"] == "分类日期不能早于放款日期 2019-09-01" and "2019-09-01" in errors[5]["en"]
    assert Classification.objects.count() == 0


def test_only_a_banks_staff_report_classifications(people):
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import District

    district = create_user(None, username="d1", password="x-Long-enough-9", role="district",
                           district=District.objects.get(code="440305"), check_password=False)
    for who in (people["maker"], district):
        with pytest.raises(PermissionDenied):
            _upload(who, HEADER + "B1,1,2020-06-30,正常\n")
        c = Client()
        c.force_login(who)
        r = c.post("/pool/files/", {"kind": "classifications", "file": _file(HEADER + "B1,1,2020-06-30,正常\n")})
        assert r.status_code == 403
    assert not PoolUpload.objects.exists() and not Classification.objects.exists()


def test_the_api_reports_and_lists_a_banks_own_classifications(people):
    bank = Client()
    bank.force_login(people["b1"])
    body = {"classifications": [{"loan_no": "1", "on": "2020-06-30", "tier": "正常"},
                                {"loan_no": "1", "on": "2020-09-10", "tier": "substandard"},
                                {"loan_no": "2", "on": "2020-09-10", "tier": "4"}]}
    r = bank.post("/api/v1/pool-classifications/", body, content_type="application/json")
    assert r.status_code == 201 and r.json() == {"created": 3, "updated": 0, "unchanged": 0}
    r = bank.post("/api/v1/pool-classifications/", body, content_type="application/json")
    assert r.json() == {"created": 0, "updated": 0, "unchanged": 3}
    listed = bank.get("/api/v1/pool-classifications/?loan_no=1").json()
    assert [(c["loan_no"], c["on"], c["tier"]) for c in listed["results"]] == [
        ("1", "2020-06-30", "normal"), ("1", "2020-09-10", "substandard")]
    # Every bad item at once, by its index and field; nothing stored.
    bad = {"classifications": [{"loan_no": "3", "on": "2020-06-30", "tier": "正常"},
                               {"bank_code": "B2", "loan_no": "6", "on": "2020-06-30", "tier": "正常"},
                               {"loan_no": "nope", "on": "2020-06-30", "tier": "很好"}]}
    r = bank.post("/api/v1/pool-classifications/", bad, content_type="application/json")
    assert r.status_code == 400
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert fields == {"classifications[1].bank_code", "classifications[2].loan_no", "classifications[2].tier"}
    assert Classification.objects.count() == 3
    # Another bank sees none of it and may not report it; the bureau reads all and reports none.
    other = Client()
    other.force_login(people["b2"])
    assert other.get("/api/v1/pool-classifications/").json()["count"] == 0
    r = other.post("/api/v1/pool-classifications/", {"classifications": [
        {"bank_code": "B1", "loan_no": "1", "on": "2020-06-30", "tier": "关注"}]}, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "classifications[0].bank_code"
    bureau = Client()
    bureau.force_login(people["maker"])
    assert bureau.get("/api/v1/pool-classifications/?bank=B1&loan_no=1").json()["count"] == 2
    assert bureau.post("/api/v1/pool-classifications/", body, content_type="application/json").status_code == 403


def _refused(actor, data):
    with pytest.raises(DomainError) as caught:
        services.file_claim(actor, data)
    return {(e.code, e.field) for e in getattr(caught.value, "errors", [caught.value])}


def test_a_claims_npl_date_is_the_classification_historys(people):
    # The NPL record of loan 1 says 2020-09-01; the bank's classifications say it first turned 次级 on 09-10.
    _upload(people["b1"], HEADER + "B1,1,2020-06-30,正常\nB1,1,2020-09-10,次级\nB1,2,2020-09-20,正常\n")
    assert _refused(people["b1"], ClaimInput("B1", "1", npl_date=dt.date(2020, 9, 1))) == {
        ("pool.npl_date_contradicts_classification", "npl_date")}
    # Loan 2 was reported performing on 2020-09-20: an NPL date on or before it contradicts the history.
    assert _refused(people["b1"], ClaimInput("B1", "2", npl_date=dt.date(2020, 9, 20))) == {
        ("pool.npl_date_while_performing", "npl_date")}
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1", evidence="催收记录"))
    assert claim.npl_date == dt.date(2020, 9, 10)
    later = services.file_claim(people["b1"], ClaimInput("B1", "2", npl_date=dt.date(2020, 9, 25)))
    assert later.npl_date == dt.date(2020, 9, 25)


def test_npl_before_registration_follows_from_the_classification_date(people):
    # Registered on 2020-09-05: the NPL record's 2020-09-01 would be before it, the history's 09-10 is not.
    Loan.objects.filter(bank__code="B1", loan_no="1").update(registered_date=dt.date(2020, 9, 5))
    _upload(people["b1"], HEADER + "B1,1,2020-09-10,损失\n")
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1"))
    assert (claim.npl_date, claim.reason) == (dt.date(2020, 9, 10), "")
    # Loan 3 (registered 2020-04-15) first classified 可疑 before its registration: ineligible for that.
    Loan.objects.filter(bank__code="B1", loan_no="3").update(registered_date=dt.date(2020, 9, 15))
    _upload(people["b1"], HEADER + "B1,3,2020-09-12,可疑\n", "three.csv")
    claim = services.file_claim(people["b1"], ClaimInput("B1", "3"))
    assert (claim.npl_date, claim.reason) == (dt.date(2020, 9, 12), "npl_before_registration")


def test_a_classification_alone_opens_a_claim_with_its_amounts_given(people):
    """A loan with a 次级 classification and no NPL record: the claim takes the history's date and needs
    its outstanding principal."""
    from huiqi.lending.models import NonPerformingLoan

    NonPerformingLoan.objects.filter(loan=_loan("1")).delete()
    assert _refused(people["b1"], ClaimInput("B1", "1")) == {("pool.no_npl", "loan_no")}
    _upload(people["b1"], HEADER + "B1,1,2020-09-10,次级\n")
    assert _refused(people["b1"], ClaimInput("B1", "1")) == {("pool.outstanding_required", "outstanding_principal")}
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1", outstanding_fen=50_000_000))
    assert (claim.npl_date, claim.loss_fen, claim.compensation_fen) == (dt.date(2020, 9, 10), 50_000_000, 15_000_000)


def test_the_claim_and_loan_pages_show_the_history(people):
    _upload(people["b1"], HEADER + "B1,1,2020-06-30,正常\nB1,1,2020-09-10,次级\n")
    bank = Client()
    bank.force_login(people["b1"])
    form = bank.get("/pool/claims/new/?loan=1").content.decode()
    assert 'value="2020-09-10"' in form  # prefilled from the history
    claim = services.file_claim(people["b1"], ClaimInput("B1", "1", evidence="催收记录"))
    page = bank.get(f"/pool/claims/{claim.pk}/").content.decode()
    assert "data-classifications" in page and 'data-tier="substandard"' in page and "data-npl-date" in page
    loan = bank.get(f"/pool/loans/{claim.loan_id}/").content.decode()
    assert 'data-figure="npl_date">2020-09-10<' in loan
    other = Client()
    other.force_login(people["b2"])
    assert other.get(f"/pool/loans/{claim.loan_id}/").status_code == 404
    english = Client()
    english.force_login(people["maker"])
    english.cookies["django_language"] = "en"
    page = english.get(f"/pool/loans/{claim.loan_id}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Five-tier classification" in page and "次级" not in page and "五级分类" not in page


def test_the_headless_import_takes_the_same_path(people, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "classifications.csv"
    path.write_text("bank_code,loan_no,on,tier\nB1,1,2020-09-10,substandard\nB2,6,2020-09-11,loss\n", encoding="utf-8")
    call_command("import_data", "pool-classifications", str(path), stdout=io.StringIO())
    assert _history("1") == [("2020-09-10", "substandard")] and _history("6", "B2") == [("2020-09-11", "loss")]
    record = PoolUpload.objects.get()
    assert (record.kind, record.status, record.bank_id) == ("classifications", "stored", None)


def test_the_demos_classifications_give_the_npl_records_dates(people):
    from huiqi.pool import demo_classifications
    from huiqi.lending.models import NonPerformingLoan

    assert "demo five-tier classifications" in demo_classifications.build("small", 2020)
    for npl in NonPerformingLoan.objects.select_related("loan"):
        assert selectors.classification_history(npl.loan_id).npl_date == npl.npl_date
    assert _history("1") == [("2020-06-30", "normal"), ("2020-09-01", "substandard")]
    before = Classification.objects.count()
    demo_classifications.build("small", 2020)  # again: nothing changes
    assert Classification.objects.count() == before
