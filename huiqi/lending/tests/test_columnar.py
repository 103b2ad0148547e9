"""The columnar first pass (``lending.bulk``) against the row path it stands in for.

On PostgreSQL a clean CSV of loans or payments is read by columns and stored set-based. These tests
upload the same files through both paths and require the very same stored rows, counts, messages and
audit records; and they check that every kind of bad file makes the first pass decline, so that the
row path writes its report (the report itself is tested in ``test_imports.py``).
"""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import translation

from huiqi.core import uploads
from huiqi.core.i18n import shown
from huiqi.core.models import AuditEvent
from huiqi.lending.bulk import columnar
from huiqi.lending.bulk.load import ColumnarImporter
from huiqi.lending.imports import IMPORTERS, LoanImporter, PaymentImporter, start_upload
from huiqi.lending.models import InterestPayment, LedgerUpload, Loan

from .test_imports import LOAN_ZH, OWNER, PAY_EN, A, csv, loan_row

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the columnar pass runs on PostgreSQL only"),
]

B = "92440300AY4CL12T21"  # an individual business

LOAN_EN = ["bank_code", "loan_no", "borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose",
           "guarantee", "first_loan", "principal", "annual_rate", "start_date", "maturity_date", "extension_of"]


def varied_loans() -> bytes:
    """Clean, but in every spelling the row path accepts."""
    rows = [
        loan_row("L-1"),
        loan_row("L-2", kind="小微企业主", id=OWNER.lower(), owner=A, name="张三"),
        loan_row("L-3", id=B, kind="个体工商户", principal="５０００．５", rate="24", start="2020/3/1",
                 maturity="20210301", first="N"),
        loan_row("L-4", principal=" 12345 ", rate="3.8500", start="43891", maturity="2021年3月1日", first="Y",
                 purpose="other", guarantee="抵押", ext="L-1"),
        loan_row("L-5", start="2020-03-01 00:00:00", maturity="2021-03-01", name="  深圳市 空格 有限公司  "),
    ]
    return csv(LOAN_ZH, rows)


def stored_loans():
    return sorted(Loan.objects.values_list(
        "bank__code", "loan_no", "borrower_id", "borrower_name", "borrower_kind", "owner_of", "purpose",
        "guarantee", "first_loan", "principal_fen", "annual_rate", "start_date", "maturity_date", "extension_of"))


def stored_payments():
    return sorted(InterestPayment.objects.values_list("loan__loan_no", "accrual_start", "accrual_end", "paid_date",
                                                      "interest_fen"))


def upload(user, kind, data, name="f.csv"):
    return start_upload(user, kind, SimpleUploadedFile(name, data))


@pytest.fixture
def row_path(monkeypatch):
    """Switch the columnar pass off (the row path alone, as on SQLite)."""
    def off():
        for cls in (LoanImporter, PaymentImporter):
            monkeypatch.setattr(cls, "bulk_store", uploads.Importer.bulk_store)
    return off


@pytest.fixture
def declines(caplog):
    caplog.set_level(logging.INFO, logger="huiqi.lending.bulk.load")
    return lambda: [r.getMessage() for r in caplog.records if "row by row" in r.getMessage()]


def _outcome(record):
    return (record.status, record.rows_total, record.rows_created, record.rows_updated, record.rows_unchanged,
            record.message)


def _journey(users):
    """Loans in all spellings (GBK), then payments, then a correction of both, then the same again."""
    bank = users["bank"]
    since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    outcomes = [_outcome(upload(bank, "loans", varied_loans().decode().encode("gbk")))]
    payments = csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "3,745.83"],
        ["ICBC-SZ", "L-1", "2020-04-10", "2020-05-10", "2020/5/11", "3625"],
        ["ICBC-SZ", "L-3", "2020-03-01", "2020-06-01", "43983", "0"],
    ])
    outcomes.append(_outcome(upload(bank, "payments", payments)))
    corrected = csv(LOAN_EN + ["备注"], [loan_row("L-1", rate="4.1", principal="900000") + ["unknown column"],
                                         loan_row("L-9")])
    outcomes.append(_outcome(upload(bank, "loans", corrected, "corrected.csv")))
    outcomes.append(_outcome(upload(bank, "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-12", "3,745.84"]]), "p2.csv")))
    outcomes.append(_outcome(upload(bank, "loans", corrected + b"\n\n", "again.csv")))
    # The audit log is append-only: each run compares the records it added.
    audit = sorted((e.model, e.object_repr.split("/", 1)[1], str(e.before), str(e.after))
                   for e in AuditEvent.objects.filter(action="update", id__gt=since))
    return outcomes, stored_loans(), stored_payments(), audit


@pytest.fixture
def journey(users):
    return lambda: _journey(users)


@pytest.mark.parametrize("bulk", [False, True], ids=["", "bulk load"])
@pytest.mark.parametrize("batch_rows", [columnar.BATCH_ROWS, 2], ids=["one batch", "batches of 2 rows"])
def test_both_paths_store_the_same(batch_rows, bulk, journey, row_path, declines, monkeypatch, settings):
    monkeypatch.setattr(columnar, "BATCH_ROWS", batch_rows)
    settings.HUIQI_BULK_LOAD_ROWS = 1 if bulk else 10**9
    fast = journey()
    assert not declines(), "the clean files must be read by columns"
    assert [o[0] for o in fast[0]] == ["stored", "stored", "stored", "stored", "unchanged"]
    assert fast[0][2][2:4] == (1, 1)  # L-9 new, L-1 corrected
    assert len(fast[3]) == 2  # the loan and the payment corrected, each audited
    Loan.objects.all().delete()
    LedgerUpload.objects.all().delete()
    row_path()
    slow = journey()
    assert fast == slow


def test_loan_values_read_as_the_row_path_reads_them(users, declines):
    assert upload(users["bank"], "loans", varied_loans()).status == "stored"
    assert not declines()
    loans = {row[1]: row for row in stored_loans()}
    assert loans["L-2"][2] == OWNER and loans["L-2"][5] == A
    assert loans["L-3"][9] == 500050 and str(loans["L-3"][10]) == "24.0000" and loans["L-3"][8] is False
    assert str(loans["L-3"][11]) == "2020-03-01" and str(loans["L-3"][12]) == "2021-03-01"
    assert loans["L-4"][9] == 1234500 and str(loans["L-4"][11]) == "2020-03-01" and loans["L-4"][13] == "L-1"
    assert loans["L-5"][3] == "深圳市 空格 有限公司"
    assert loans["L-1"][5] == "" and loans["L-1"][13] == ""


BAD_LOANS = {
    "unknown bank": loan_row(bank="NOPE"),
    "another bank's row": loan_row(bank="CMB-SZ"),
    "principal zero": loan_row(principal="0"),
    "rate zero": loan_row(rate="0"),
    "rate above 24": loan_row(rate="24.01"),
    "three decimals": loan_row(principal="1000.001"),
    "maturity before start": loan_row(maturity="2020-03-01"),
    "kind does not match the identifier": loan_row(kind="个体工商户"),
    "owner without owner_of": loan_row(kind="小微企业主", id=OWNER),
    "bad check digit": loan_row(id=A[:-1] + "0"),
    "blank required": loan_row(name=" "),
    "bad date": loan_row(start="2020-02-30"),
}


@pytest.mark.parametrize("case", BAD_LOANS)
def test_bad_loans_decline_and_are_refused(case, users, declines):
    rows = [loan_row("OK-1"), BAD_LOANS[case]]
    record = upload(users["bank"], "loans", csv(LOAN_ZH, rows))
    assert record.status == "refused", record.message
    assert declines(), f"{case}: the first pass must decline"
    assert not Loan.objects.exists()


def test_duplicate_loan_declines(users, declines):
    record = upload(users["bank"], "loans", csv(LOAN_ZH, [loan_row("D-1"), loan_row("D-1", rate="5")]))
    assert record.status == "refused" and declines()


@pytest.mark.parametrize("case, row", [
    ("unknown loan", ["ICBC-SZ", "NOPE", "2020-03-10", "2020-04-10", "2020-04-10", "1.00"]),
    ("negative interest", ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "-1.00"]),
    ("three decimals", ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "1.001"]),
    ("end before start", ["ICBC-SZ", "L-1", "2020-04-10", "2020-03-10", "2020-04-10", "1.00"]),
    ("paid before start", ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-03-01", "1.00"]),
    ("twice", ["ICBC-SZ", "L-1", "2020-05-10", "2020-06-10", "2020-06-10", "1.00"]),
])
def test_bad_payments_decline_and_store_nothing(case, row, users, declines):
    assert upload(users["bank"], "loans", csv(LOAN_ZH, [loan_row("L-1")])).status == "stored"
    good = ["ICBC-SZ", "L-1", "2020-05-10", "2020-06-10", "2020-06-10", "2.00"]
    record = upload(users["bank"], "payments", csv(PAY_EN, [good, row]))
    assert record.status == "refused", record.message
    assert declines()
    assert not InterestPayment.objects.exists()


def test_many_distinct_values_take_the_vectorised_check(users, declines, monkeypatch):
    """Above the distinct-value limit, plain amounts and texts are read without the parser; the other
    spellings still go through it."""
    monkeypatch.setattr(columnar, "PARSE_DISTINCT_LIMIT", 2)
    rows = [loan_row(f"V-{i}", principal=p, name=n) for i, (p, n) in enumerate(
        [("1000", "甲"), ("1,000.10", "乙\x1f"), ("2000.5", "\u200b丙"), (" 30 ", "丁\u3000"), ("７", "戊 己"),
         ("١٢", "庚")])]
    assert upload(users["bank"], "loans", csv(LOAN_ZH, rows)).status == "stored"
    assert not declines()
    assert dict(Loan.objects.values_list("loan_no", "principal_fen")) == {
        "V-0": 100000, "V-1": 100010, "V-2": 200050, "V-3": 3000, "V-4": 700, "V-5": 1200}
    # Ends trimmed as the row path trims them (str.strip, and Excel's invisible characters).
    assert dict(Loan.objects.values_list("loan_no", "borrower_name")) == {
        "V-0": "甲", "V-1": "乙", "V-2": "丙", "V-3": "丁", "V-4": "戊 己", "V-5": "庚"}
    Loan.objects.all().delete()
    bad = [loan_row("W-1", principal="1.234"), loan_row("W-2"), loan_row("W-3", principal="5")]
    assert upload(users["bank"], "loans", csv(LOAN_ZH, bad), "bad.csv").status == "refused"
    assert declines()


def test_the_first_pass_is_offered_only_what_it_reads(users, declines):
    columnar_kinds = {kind for kind, cls in IMPORTERS.items() if issubclass(cls, ColumnarImporter)}
    assert columnar_kinds == {"loans", "payments"}
    assert IMPORTERS["npl"].bulk_store is IMPORTERS["banks"].bulk_store is uploads.Importer.bulk_store


def test_read_query_keeps_every_value():
    """``read_query`` through COPY: quotes, commas, line breaks, empty text apart from NULL, dates and
    yes/no, and many rows."""
    import datetime as dt

    import polars as pl

    rows = columnar.read_query(
        "SELECT * FROM (VALUES ('a,\"b\"', 1, date '2020-01-02', true), ('', NULL, NULL, false), "
        "(NULL, 3, NULL, NULL), (E'两行\\n文字', -4, date '1999-12-31', true)) v", [],
        {"text": pl.String, "n": pl.Int64, "day": pl.Date, "yes": pl.Boolean})
    assert sorted(rows.rows(), key=str) == sorted([
        ('a,"b"', 1, dt.date(2020, 1, 2), True), ("", None, None, False), (None, 3, None, None),
        ("两行\n文字", -4, dt.date(1999, 12, 31), True)], key=str)
    many = columnar.read_query("SELECT g, g::text FROM generate_series(1, %s) g", [100_007],
                               {"n": pl.Int64, "s": pl.String})
    assert many.height == 100_007 and many["n"].sum() == sum(range(1, many.height + 1))
    assert (many["s"].cast(pl.Int64) == many["n"]).all()


@pytest.mark.django_db(transaction=True)
def test_read_query_first_in_a_transaction_belongs_to_it():
    """A read_query that opens an atomic block runs inside that block's transaction (psycopg begins it
    first), not in a transaction of its own."""
    import polars as pl
    from django.db import transaction

    with transaction.atomic():
        first = columnar.read_query("SELECT pg_current_xact_id()::text", [], {"x": pl.String})["x"].item()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_current_xact_id()::text")
            assert cur.fetchone()[0] == first
    outside = columnar.read_query("SELECT pg_current_xact_id()::text", [], {"x": pl.String})["x"].item()
    assert outside != first


def test_read_query_errors_as_django_does_and_leaves_the_connection_usable():
    """A failing query (before its first row or in the middle of them) raises Django's error with the
    server's SQLSTATE; in a transaction the transaction is failed, as after any failed statement, and
    the connection answers the next query."""
    import polars as pl
    from django.db import DataError, ProgrammingError, transaction

    with pytest.raises(ProgrammingError, match="no_such_table"), transaction.atomic():
        columnar.read_query("SELECT * FROM no_such_table", [], {"a": pl.Int64})
    with pytest.raises(DataError) as caught, transaction.atomic():
        columnar.read_query("SELECT 10 / (50000 - g) FROM generate_series(1, 100000) g", [], {"a": pl.Int64})
    assert caught.value.__cause__.sqlstate == "22012"  # division_by_zero, after 49,999 rows were sent
    assert columnar.read_query("SELECT 7", [], {"a": pl.Int64})["a"].to_list() == [7]


def test_a_concurrent_write_of_the_same_keys_sends_the_file_to_the_row_path(users, declines, monkeypatch):
    """If another writer stores one of the file's loans between the first pass's read and its COPY, the
    unique key stops the COPY, nothing of the first pass stays, and the row path stores the file."""
    import datetime as dt

    from huiqi.registry.models import Bank

    real = columnar.read_query
    done = []

    def meanwhile(sql, params, schema):
        frame = real(sql, params, schema)
        if "lending_loan" in sql and not done:
            done.append(True)
            Loan.objects.create(bank=Bank.objects.get(code="ICBC-SZ"), loan_no="C-1", borrower_id=A,
                                borrower_name="别处写入", borrower_kind="enterprise", purpose="operating",
                                guarantee="credit", first_loan=True, principal_fen=1, annual_rate="9",
                                start_date=dt.date(2020, 3, 1), maturity_date=dt.date(2021, 3, 1))
        return frame

    # a loan already held: the pass reads the stored loans of the bank (it reads none from an empty table)
    assert upload(users["bank"], "loans", csv(LOAN_ZH, [loan_row("C-0")])).status == "stored"
    monkeypatch.setattr(columnar, "read_query", meanwhile)
    record = upload(users["bank"], "loans", csv(LOAN_ZH, [loan_row("C-1"), loan_row("C-2")]), "second.csv")
    assert done and record.status == "stored", record.message
    assert any("concurrent write" in m for m in declines())
    assert str(Loan.objects.get(loan_no="C-1").annual_rate) == "4.3500" and Loan.objects.count() == 3


@pytest.mark.parametrize("held", [False, True], ids=["new key", "stored key"])
@pytest.mark.parametrize("bulk", [False, True], ids=["", "bulk load"])
def test_a_key_twice_in_different_batches_is_refused(held, bulk, users, declines, monkeypatch, settings):
    """The file is read in batches of 2 rows, and D-1 is in the first and in the third with other values:
    a new D-1 twice is stopped by the unique constraint, a stored D-1 twice by the check on the stored
    rows matched; either way the write rolls back whole and the row path refuses the file."""
    monkeypatch.setattr(columnar, "BATCH_ROWS", 2)
    settings.HUIQI_BULK_LOAD_ROWS = 1 if bulk else 10**9
    if held:
        assert upload(users["bank"], "loans", csv(LOAN_ZH, [loan_row("D-1")])).status == "stored"
    before = sorted(Loan.objects.values_list("loan_no", "annual_rate"))
    record = upload(users["bank"], "loans", csv(LOAN_ZH, [
        loan_row("D-1"), loan_row("D-2"), loan_row("D-3"), loan_row("D-4"), loan_row("D-1", rate="5")]), "twice.csv")
    assert record.status == "refused", record.message
    messages = declines()
    assert any(("a stored key twice in the file" if held else "refused the write") in m for m in messages), messages
    assert sorted(Loan.objects.values_list("loan_no", "annual_rate")) == before
    errors = uploads.read_errors(record)
    assert errors and all(e["row"] in ("2", "6") for e in errors), errors


def test_a_bad_byte_past_the_start_declines_and_the_row_path_refuses_the_file(users, declines):
    """The first pass takes a file as UTF-8 from its first 64 KB; polars reads the rest strictly. A GBK
    name far into a UTF-8 file makes it decline, and the row path (which checks the whole file) refuses
    the file as before, naming the line."""
    rows = [loan_row(f"U-{i}", name="深圳市惠企有限公司") for i in range(2500)]  # well past 64 KB
    data = csv(LOAN_ZH, rows)
    assert len(data) > 3 * 65536
    bad = data + ",".join(loan_row("U-X", name="深圳")).encode("gbk") + b"\n"
    record = upload(users["bank"], "loans", bad)
    assert record.status == "refused"
    with translation.override("en"):
        assert "invalid byte near line 2502" in shown(record.message), record.message
    assert any("polars could not read the CSV" in m for m in declines())
    assert not Loan.objects.exists()
    # The same rows, all UTF-8: read by columns.
    assert upload(users["bank"], "loans", data, "good.csv").status == "stored"
    assert len(declines()) == 1 and Loan.objects.count() == 2500
