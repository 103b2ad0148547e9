"""The bank files of ``specs/bank-data-exchange.md``: every bad input refused whole, corrections audited."""

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from huiqi.core.errors import PermissionDenied
from huiqi.core.i18n import shown
from huiqi.core.models import AuditEvent
from huiqi.core.uploads import read_errors
from huiqi.lending.imports import start_upload
from huiqi.lending.models import InterestPayment, Loan, NonPerformingLoan
from huiqi.registry.models import Bank

pytestmark = pytest.mark.django_db

LOAN_ZH = ["银行机构代码", "贷款合同编号", "借款人证件号码", "借款人名称", "借款人类型", "所属企业证件号码", "贷款用途", "担保方式",
           "是否首贷", "贷款金额（元）", "年利率（%）", "放款日期", "到期日期", "原贷款合同编号"]
PAY_EN = ["bank_code", "loan_no", "accrual_start", "accrual_end", "paid_date", "interest"]
A = "91440300708461136T"
OWNER = "11010519491231002X"


def csv(header, rows, encoding="utf-8"):
    def cell(c):
        c = str(c)
        return f'"{c}"' if "," in c else c
    return ("\n".join([",".join(header)] + [",".join(cell(c) for c in r) for r in rows]) + "\n").encode(encoding)


def loan_row(no="L-1", **kw):
    row = {"bank": "ICBC-SZ", "no": no, "id": A, "name": "深圳市南山云创电子有限公司", "kind": "企业", "owner": "",
           "purpose": "经营性", "guarantee": "信用", "first": "是", "principal": "1,000,000.00", "rate": "4.35",
           "start": "2020-03-10", "maturity": "2021-03-10", "ext": ""}
    row.update(kw)
    return list(row.values())


def up(user, kind, data, name="f.csv", **kw):
    return start_upload(user, kind, SimpleUploadedFile(name, data), **kw)


def test_loans_then_payments_stored(users):
    r = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row(), loan_row("L-2", kind="小微企业主", id=OWNER, owner=A,
                                                                     name="张三")], encoding="gbk"))
    assert r.status == "stored", r.message
    loan = Loan.objects.get(loan_no="L-1")
    assert loan.principal_fen == 100_000_000 and str(loan.annual_rate) == "4.3500" and loan.first_loan
    assert Loan.objects.get(loan_no="L-2").owner_of == A
    p = up(users["bank"], "payments", csv(PAY_EN, [["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10",
                                                    "3,745.83"]]))
    assert p.status == "stored", p.message
    assert InterestPayment.objects.get().interest_fen == 374583


def test_xlsx_with_excel_dates(users, tmp_path):
    path = tmp_path / "loans.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, LOAN_ZH)
    row = loan_row()
    ws.write_row(1, 0, row[:11])
    ws.write_number(1, 11, 43900)  # Excel serial for 2020-03-10
    import datetime as dt

    ws.write_datetime(1, 12, dt.datetime(2021, 3, 10), date)
    wb.close()
    r = up(users["bank"], "loans", path.read_bytes(), name="loans.xlsx")
    assert r.status == "stored", r.message
    loan = Loan.objects.get()
    assert (loan.start_date.isoformat(), loan.maturity_date.isoformat()) == ("2020-03-10", "2021-03-10")


@pytest.mark.parametrize("row, column", [
    (loan_row(bank="NOPE"), "bank_code"),
    (loan_row(bank="CMB-SZ"), "bank_code"),                 # another bank's code, sent by ICBC staff
    (loan_row(principal="0"), "principal"),
    (loan_row(rate="0"), "annual_rate"),
    (loan_row(rate="24.01"), "annual_rate"),
    (loan_row(kind="个体工商户"), "borrower_kind"),           # 91… is an enterprise
    (loan_row(kind="小微企业主", id=OWNER, owner=""), "owner_of"),
    (loan_row(kind="小微企业主", id="110105194902300021", owner=A), "borrower_id"),
    (loan_row(maturity="2020-03-01"), "maturity_date"),
    (loan_row(start="1999-12-31"), "start_date"),
    (loan_row(principal="abc"), "principal"),
])
def test_bad_loan_rows_refuse_the_file(users, row, column):
    r = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row("GOOD"), row]))
    assert r.status == "refused"
    errors = read_errors(r)
    assert any(e["column"].endswith(column) and e["row"] == "3" for e in errors), errors
    assert not Loan.objects.exists()


def test_same_loan_twice_in_one_file(users):
    r = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row(), loan_row(principal="2,000.00")]))
    assert r.status == "refused" and "第 2 行" in read_errors(r)[0]["zh"]


@pytest.mark.parametrize("row, column", [
    (["ICBC-SZ", "NO-SUCH-LOAN", "2020-03-10", "2020-04-10", "2020-04-10", "1.00"], "loan_no"),
    (["ICBC-SZ", "L-1", "2020-04-10", "2020-03-10", "2020-04-10", "1.00"], "accrual_end"),
    (["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "-1.00"], "interest"),
    (["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "1.005"], "interest"),
])
def test_bad_payment_rows(users, row, column):
    up(users["bank"], "loans", csv(LOAN_ZH, [loan_row()]))
    r = up(users["bank"], "payments", csv(PAY_EN, [row]))
    assert r.status == "refused"
    assert any(e["column"].endswith(column) for e in read_errors(r))
    assert not InterestPayment.objects.exists()


def test_correction_replaces_and_is_audited_repeat_changes_nothing(users):
    up(users["bank"], "loans", csv(LOAN_ZH, [loan_row()]))
    same = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row()], encoding="gbk"))
    assert same.status == "unchanged"
    fixed = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row(principal="900,000.00")]))
    assert (fixed.status, fixed.rows_updated) == ("stored", 1)
    loan = Loan.objects.get()
    assert loan.principal_fen == 90_000_000 and loan.upload_id == fixed.pk
    event = AuditEvent.objects.get(model="lending.Loan", action="update")
    assert event.before == {"principal_fen": 100_000_000} and event.after == {"principal_fen": 90_000_000}


def test_npl_rules(users):
    up(users["bank"], "loans", csv(LOAN_ZH, [loan_row()]))
    header = ["bank_code", "loan_no", "npl_date", "outstanding_principal", "recovered"]
    bad = up(users["bank"], "npl", csv(header, [["ICBC-SZ", "L-1", "2020-12-01", "2,000,000.00", "0"]]))
    assert bad.status == "refused"
    bad = up(users["bank"], "npl", csv(header, [["ICBC-SZ", "L-1", "2020-12-01", "100.00", "200.00"]]))
    assert bad.status == "refused"
    ok = up(users["bank"], "npl", csv(header, [["ICBC-SZ", "L-1", "2020-12-01", "800,000.00", "100.00"]]))
    assert ok.status == "stored", ok.message
    assert NonPerformingLoan.objects.get().outstanding_principal_fen == 80_000_000


def test_who_may_upload(users):
    for role in ("enterprise", "district", "auditor", "institution"):
        with pytest.raises(PermissionDenied):
            up(users[role], "loans", csv(LOAN_ZH, [loan_row()]))
    with pytest.raises(PermissionDenied):
        up(users["bank"], "banks", csv(["bank_code", "name"], [["X", "Y"]]))
    r = up(users["bureau"], "banks", csv(["银行机构代码", "银行名称", "签约日期", "入库日期"],
                                        [["NEW-SZ", "新银行深圳分行", "2019-05-01", "2019-06-01"]]))
    assert r.status == "stored" and Bank.objects.filter(code="NEW-SZ").exists()
    # the bureau may send any bank's loans
    assert up(users["bureau"], "loans", csv(LOAN_ZH, [loan_row(bank="CMB-SZ")])).status == "stored"


def test_idempotency_key_returns_the_same_upload(users):
    first = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row()]), idempotency_key="k-1")
    again = up(users["bank"], "loans", csv(LOAN_ZH, [loan_row(principal="5.00")]), idempotency_key="k-1")
    assert again.pk == first.pk and Loan.objects.get().principal_fen == 100_000_000


def test_each_role_sees_only_its_loans(users, city):
    own = city["ns1"].uscc  # the enterprise the "enterprise" user acts for
    up(users["bureau"], "loans", csv(LOAN_ZH, [
        loan_row(), loan_row("C-1", bank="CMB-SZ", id=own),
        loan_row("O-1", kind="小微企业主", id=OWNER, owner=own, name="张三"),
    ]))
    assert list(Loan.objects.for_user(users["bank"]).values_list("loan_no", flat=True)) == ["L-1", "O-1"]
    assert Loan.objects.for_user(users["district"]).count() == 0
    assert sorted(Loan.objects.for_user(users["enterprise"]).values_list("loan_no", flat=True)) == ["C-1", "O-1"]
    assert Loan.objects.for_user(users["enterprise2"]).count() == 0
    assert Loan.objects.for_user(users["bureau"]).count() == 3


def test_the_columnar_identifier_check_passes_only_what_row_checks_passes_unchanged():
    """``plain_valid_uscc`` (whole columns) against ``LoanImporter.row_checks`` (one row): every row it
    lets through is one that row_checks accepts and stores as read; valid plain codes all go through."""
    import random

    import polars as pl

    from huiqi.core.identifiers import USCC_ALPHABET, generate_uscc
    from huiqi.lending.bulk.identifiers import plain_valid_uscc
    from huiqi.lending.imports import _A_DAY, LoanImporter

    rng = random.Random(7)
    rows = []
    for _ in range(400):
        kind = rng.choice(["enterprise", "individual_business"])
        code = generate_uscc(rng, kind, division=rng.choice(["440300", "110105", "440304"]))
        rows.append((kind, code, None, True))
        rows.append((kind, code, "91440300708461136T", False))  # owner_of only for owners
        other = "individual_business" if kind == "enterprise" else "enterprise"
        rows.append((other, code, None, False))
        rows.append(("business_owner", code, None, False))
        rows.append((kind, code.lower(), None, False))
        pos = rng.randrange(18)
        rows.append((kind, code[:pos] + rng.choice(USCC_ALPHABET + "IOSVZ a-") + code[pos + 1:], None, None))
        rows.append((kind, code[:17], None, False))
        rows.append((kind, code + "0", None, False))
    frame = pl.DataFrame(rows, schema={"borrower_kind": pl.String, "borrower_id": pl.String, "owner_of": pl.String,
                                       "expected": pl.Boolean}, orient="row")
    fast = frame.select(plain_valid_uscc()).to_series().to_list()
    importer = LoanImporter.__new__(LoanImporter)
    seen = 0
    for (kind, code, owner, expected), ok in zip(frame.iter_rows(), fast):
        row = {"borrower_kind": kind, "borrower_id": code, "owner_of": owner, "start_date": _A_DAY,
               "maturity_date": _A_DAY.replace(year=2021)}
        accepted = not list(importer.row_checks(row))
        if ok:
            seen += 1
            assert accepted and row["borrower_id"] == code and not row["owner_of"], (kind, code, owner)
        if expected is not None:
            assert ok is expected, (kind, code, owner)
        elif accepted and code == row["borrower_id"]:  # a change that still gives a valid code
            assert ok, (kind, code)
    assert seen >= 400


def test_the_columnar_owner_check_passes_only_what_row_checks_passes_unchanged():
    """``plain_valid_owner`` (whole columns) against ``LoanImporter.row_checks``: a business owner it lets
    through is one that row_checks accepts and stores as read (identifier and owned enterprise); every
    plainly valid owner goes through; each single-character change, odd date and edge of the birth range
    is judged as row_checks judges it."""
    import datetime as dt
    import random

    import polars as pl

    from huiqi.core.identifiers import (
        USCC_ALPHABET, generate_resident_id, generate_uscc, resident_id_check_char, uscc_check_char,
    )
    from huiqi.lending.bulk.identifiers import plain_valid_owner
    from huiqi.lending.imports import _A_DAY, LoanImporter

    rng = random.Random(11)
    today = dt.date.today()

    def with_check(first17):
        return first17 + resident_id_check_char(first17)

    rows = []
    for _ in range(300):
        rid = generate_resident_id(rng, (1901, today.year), address=rng.choice(["440305", "110105", "810000",
                                                                                "710000", "530102"]))
        owner = generate_uscc(rng, rng.choice(["enterprise", "individual_business"]))
        rows.append(("business_owner", rid, owner, True))
        rows.append(("business_owner", rid, None, False))  # an owner needs owner_of
        rows.append(("enterprise", rid, owner, False))
        rows.append(("business_owner", rid, owner.lower(), False))  # valid after upper-casing: not as read
        rows.append(("business_owner", " " + rid, owner, False))
        pos = rng.randrange(18)
        rows.append(("business_owner", rid[:pos] + rng.choice("0123456789Xx ") + rid[pos + 1:], owner, None))
        pos = rng.randrange(18)
        rows.append(("business_owner", rid, owner[:pos] + rng.choice(USCC_ALPHABET + "IO a") + owner[pos + 1:],
                     None))
        rows.append(("business_owner", rid[:15], owner, False))
    owner = generate_uscc(rng)
    for born in ["19000101", "18991231", today.strftime("%Y%m%d"), (today + dt.timedelta(days=1)).strftime("%Y%m%d"),
                 "20000229", "19000229", "20230229", "20240431", "20241301", "20240001", "20240100", "00000000"]:
        for address in ["440305", "940305", "990305", "000000", "830000"]:
            rows.append(("business_owner", with_check(address + born + "123"), owner, None))
    other = "91" + owner[2:17]
    rows.append(("business_owner", generate_resident_id(rng), other + uscc_check_char(other), None))
    frame = pl.DataFrame(rows, schema={"borrower_kind": pl.String, "borrower_id": pl.String, "owner_of": pl.String,
                                       "expected": pl.Boolean}, orient="row")
    fast = frame.select(plain_valid_owner(today)).to_series().to_list()
    importer = LoanImporter.__new__(LoanImporter)
    seen = accepted_as_read = 0
    for (kind, code, owner, expected), ok in zip(frame.iter_rows(), fast):
        row = {"borrower_kind": kind, "borrower_id": code, "owner_of": owner, "start_date": _A_DAY,
               "maturity_date": _A_DAY.replace(year=2021)}
        accepted = not list(importer.row_checks(row))
        as_read = accepted and row["borrower_id"] == code and row["owner_of"] == owner
        accepted_as_read += as_read
        if ok:
            seen += 1
            assert as_read, (kind, code, owner)
        if expected is not None:
            assert ok is expected, (kind, code, owner)
        else:
            assert ok == as_read, (kind, code, owner)
    assert seen >= 300 and accepted_as_read >= seen


def test_the_upload_is_kept_byte_for_byte_however_it_arrives(users, tmp_path):
    """In memory (streamed to disk), in Django's temporary file of a large upload, or as a headless
    path (both copied by the kernel): the same bytes kept, the same size and digest, so the second and
    third arrivals are recognised as the same file."""
    import hashlib
    from pathlib import Path

    from django.core.files.uploadedfile import TemporaryUploadedFile

    from huiqi.core.tabular import file_digest
    from huiqi.lending.imports import import_path

    data = csv(LOAN_ZH, [loan_row(f"K-{i}") for i in range(300)])
    first = up(users["bank"], "loans", data)
    assert first.status == "stored"
    big = TemporaryUploadedFile("big.csv", "text/csv", len(data), None)
    big.write(data)
    big.seek(0)
    second = start_upload(users["bank"], "loans", big)
    path = tmp_path / "loans.csv"
    path.write_bytes(data)
    third = import_path(users["bank"], "loans", path)
    for record in (first, second, third):
        assert Path(record.stored_path).read_bytes() == data
        assert record.size_bytes == len(data)
        assert record.digest == hashlib.sha256(data).hexdigest() == file_digest(record.stored_path)
    assert len({first.stored_path, second.stored_path, third.stored_path}) == 3
    assert (second.status, third.status) == ("unchanged", "unchanged")
    with translation.override("en"):
        assert f"#{first.pk}" in shown(second.message) and f"#{first.pk}" in shown(third.message)


def test_the_digest_taken_beside_the_copy_is_the_file_s_and_its_failure_is_the_caller_s(tmp_path):
    import hashlib
    import io

    from huiqi.core.uploads import _Hashing

    data = bytes(range(256)) * 40_000  # 10 MB: hashed in several blocks
    assert _Hashing(io.BytesIO(data)).result().hexdigest() == hashlib.sha256(data).hexdigest()

    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError("the disk went away")

    with pytest.raises(OSError, match="the disk went away"):
        _Hashing(Broken()).result()
