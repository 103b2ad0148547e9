"""A payment's loan, held by triggers instead of a foreign-key constraint (migration 0004).

Both directions, on SQLite and PostgreSQL: no payment without its loan (whoever writes it), and no loan
deleted (nor its id changed) while a payment refers to it. The ORM still deletes a loan with its
payments (``on_delete=CASCADE``), as it did with the constraint.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import polars as pl
import pytest
from django.db import IntegrityError, connection, transaction

from huiqi.core.uploads import read_errors
from huiqi.lending.imports import PaymentImporter
from huiqi.lending.models import InterestPayment, Loan

from .test_imports import LOAN_ZH, PAY_EN, csv, loan_row, up

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers and COPY")


@pytest.fixture
def paid_loan(users):
    assert up(users["bank"], "loans", csv(LOAN_ZH, [loan_row("L-1"), loan_row("L-2")])).status == "stored"
    assert up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "3,745.83"]])).status == "stored"
    return Loan.objects.get(loan_no="L-1")


def _refused(sql, params=()):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


def test_a_loan_with_payments_cannot_be_deleted(paid_loan):
    if connection.vendor == "postgresql":  # SQLite leaves deletes to the ORM (migration 0006)
        _refused("DELETE FROM lending_loan WHERE id = %s", [paid_loan.pk])
    _refused("UPDATE lending_loan SET id = id + 1000 WHERE id = %s", [paid_loan.pk])
    assert Loan.objects.filter(pk=paid_loan.pk).exists() and InterestPayment.objects.count() == 1
    # A loan without payments may go, and a paid loan's other columns may change.
    with connection.cursor() as cur:
        cur.execute("DELETE FROM lending_loan WHERE loan_no = 'L-2'")
        cur.execute("UPDATE lending_loan SET borrower_name = '改名' WHERE id = %s", [paid_loan.pk])
    assert list(Loan.objects.values_list("loan_no", flat=True)) == ["L-1"]


def test_the_orm_deletes_a_loan_with_its_payments(paid_loan):
    paid_loan.delete()
    assert not Loan.objects.filter(loan_no="L-1").exists() and not InterestPayment.objects.exists()


def test_no_payment_without_its_loan(paid_loan):
    missing = Loan.objects.order_by("-pk").first().pk + 1000
    with pytest.raises(IntegrityError), transaction.atomic():
        InterestPayment.objects.create(loan_id=missing, accrual_start=dt.date(2020, 5, 1),
                                       accrual_end=dt.date(2020, 6, 1), paid_date=dt.date(2020, 6, 1), interest_fen=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        InterestPayment.objects.filter(loan=paid_loan).update(loan_id=missing)
    assert list(InterestPayment.objects.values_list("loan_id", flat=True)) == [paid_loan.pk]


@postgres_only
def test_truncating_the_loans_needs_the_payments_gone(paid_loan):
    with connection.cursor() as cur:  # the test's transaction: run the deferred checks, as a commit would
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _refused("TRUNCATE lending_loan CASCADE")
    with connection.cursor() as cur:
        cur.execute("TRUNCATE lending_interestpayment, lending_loan CASCADE")
    assert not Loan.objects.exists()


@postgres_only
def test_a_set_based_write_of_a_payment_for_a_missing_loan_fails(paid_loan):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO lending_interestpayment (loan_id, accrual_start, accrual_end, paid_date, "
                    "interest_fen, updated_at) SELECT l.id + g, date '2020-05-01', date '2020-06-01', "
                    "date '2020-06-01', 1, now() FROM lending_loan l, generate_series(0, 5000) g "
                    "WHERE l.id = %s", [paid_loan.pk])
    assert InterestPayment.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_loan_gone_before_the_columnar_write_sends_the_file_to_the_row_report(users, paid_loan, caplog,
                                                                                monkeypatch, settings):
    """Real concurrency. The columnar pass read the loans (L-2 among them), then another connection
    deleted L-2 and committed before the COPY (a load below the bulk size takes no lock that would keep
    it waiting): the trigger stops the write, nothing of it stays, and the row path refuses the file
    with the row's error in the report."""
    settings.HUIQI_BULK_LOAD_ROWS = 10**9
    caplog.set_level(logging.INFO, logger="huiqi.lending.bulk.load")
    real = PaymentImporter.frame_prepare_locked
    gone = []

    def meanwhile(self, batches):
        real(self, batches)
        assert "L-2" in self.loans_held["loan_no"].to_list()
        with psycopg_connection() as other:
            gone.append(other.execute("DELETE FROM lending_loan WHERE loan_no = 'L-2'").rowcount)

    monkeypatch.setattr(PaymentImporter, "frame_prepare_locked", meanwhile)
    r = up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-04-10", "2020-05-10", "2020-05-10", "1.00"],
        ["ICBC-SZ", "L-2", "2020-03-10", "2020-04-10", "2020-04-10", "1.00"]]))
    assert gone == [1]
    refused = [rec.getMessage() for rec in caplog.records if "concurrent write" in rec.getMessage()]
    assert len(refused) == 1 and "violates its loan reference" in refused[0], refused
    _refused_for_l2(r)
    _triggers_on()


def _refused_for_l2(r):
    assert r.status == "refused"
    errors = read_errors(r)
    assert [e["row"] for e in errors] == ["3"] and errors[0]["column"].endswith("loan_no"), errors
    assert "L-2" in errors[0]["en"]
    assert InterestPayment.objects.count() == 1


@postgres_only
@pytest.mark.parametrize("bulk", [False, True], ids=["below the bulk size", "bulk load"])
def test_a_loan_deleted_before_the_write_s_read_is_not_found(users, paid_loan, caplog, monkeypatch, settings,
                                                             bulk):
    """L-2 is deleted after the file was opened, before the write's transaction reads the loans: the
    columnar pass does not find it and the row path refuses the file, naming the row."""
    settings.HUIQI_BULK_LOAD_ROWS = 1 if bulk else 10**9
    caplog.set_level(logging.INFO, logger="huiqi.lending.bulk.load")
    real = PaymentImporter.frame_prepare

    def meanwhile(self, batches):
        real(self, batches)
        assert Loan.objects.filter(loan_no="L-2").delete()[0] == 1

    monkeypatch.setattr(PaymentImporter, "frame_prepare", meanwhile)
    r = up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-04-10", "2020-05-10", "2020-05-10", "1.00"],
        ["ICBC-SZ", "L-2", "2020-03-10", "2020-04-10", "2020-04-10", "1.00"]]))
    declined = [rec.getMessage() for rec in caplog.records if "read row by row" in rec.getMessage()]
    assert len(declined) == 1 and "a payment for a loan not held" in declined[0], declined
    _refused_for_l2(r)
    _triggers_on()


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("held", [0, 3],
                         ids=["first load (ACCESS EXCLUSIVE)", "added to held (SHARE ROW EXCLUSIVE)"])
def test_a_bulk_load_reads_the_loans_under_its_lock_and_a_deleter_waits_for_it(users, paid_loan,
                                                                               monkeypatch, settings, held):
    """Real concurrency. A bulk load of payments reads the loans only once it holds its lock on the
    payments; a transaction deleting one of those loans meanwhile (another connection) waits for the
    load to commit, and then fails, as the payments now refer to the loan. So the load does not check
    the payments' loans again after its COPY (it vouches for them), and nothing is left dangling."""
    from huiqi.lending.bulk import store
    from huiqi.lending.imports import PAYMENT_LOAN

    settings.HUIQI_BULK_LOAD_ROWS = 1
    for month in range(held):  # more payments held than the file has rows: the indexes stay
        InterestPayment.objects.create(loan=paid_loan, accrual_start=dt.date(2021, month + 1, 1),
                                       accrual_end=dt.date(2021, month + 1, 20),
                                       paid_date=dt.date(2021, 2, 1), interest_fen=1)
    checked = []
    real_check = store._check_reference
    monkeypatch.setattr(store, "_check_reference", lambda cur, table, ref, values: (
        checked.append(ref), real_check(cur, table, ref, values))[1])
    real = PaymentImporter.frame_prepare_locked
    outcome, waiting = [], threading.Event()

    def deleter(pid_box):
        import psycopg

        try:
            with psycopg_connection() as other:
                pid_box.append(other.execute("SELECT pg_backend_pid()").fetchone()[0])
                waiting.set()
                other.execute("DELETE FROM lending_loan WHERE loan_no = 'L-2'")
                outcome.append("deleted")
        except psycopg.errors.ForeignKeyViolation as exc:
            outcome.append(str(exc))
        finally:
            waiting.set()

    threads = []

    def under_lock(self, batches):
        with connection.cursor() as cur:
            cur.execute("SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted "
                        "AND relation = 'lending_interestpayment'::regclass")
            modes = {m for (m,) in cur.fetchall()}
        assert ("ShareRowExclusiveLock" if held else "AccessExclusiveLock") in modes, modes
        real(self, batches)
        assert "L-2" in self.loans_held["loan_no"].to_list()
        pid: list = []
        thread = threading.Thread(target=deleter, args=(pid,))
        thread.start()
        threads.append(thread)
        assert waiting.wait(10) and pid
        with psycopg_connection() as watcher:  # the deleter is seen waiting for this load's lock
            for _ in range(500):
                row = watcher.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                                      pid).fetchone()
                if row and row[0] == "Lock":
                    break
                time.sleep(0.01)
            else:
                raise AssertionError(f"the deleter did not wait: {outcome}")

    monkeypatch.setattr(PaymentImporter, "frame_prepare_locked", under_lock)
    r = up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-04-10", "2020-05-10", "2020-05-10", "1.00"],
        ["ICBC-SZ", "L-2", "2020-03-10", "2020-04-10", "2020-04-10", "1.00"]]))
    assert r.status == "stored", r.message
    threads[0].join(10)
    assert len(outcome) == 1 and "still referenced" in outcome[0], outcome
    assert Loan.objects.filter(loan_no="L-2").exists()
    assert InterestPayment.objects.filter(loan__loan_no="L-2").count() == 1
    assert InterestPayment.objects.count() == 1 + held + 2
    assert PAYMENT_LOAN not in checked
    _triggers_on()


def psycopg_connection():
    """A connection of its own to the test database, outside the test's transactions."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def _triggers_on():
    """Whatever happened, the insert triggers are on again for every other writer."""
    with connection.cursor() as cur:
        cur.execute("SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE 'lending_%%_exist_%%'")
        states = dict(cur.fetchall())
    assert len(states) == 4 and set(states.values()) == {"O"}, states


@postgres_only
def test_a_bulk_load_checks_the_loans_bank_and_leaves_the_triggers_on(users, settings, monkeypatch, caplog):
    """A bulk load of loans whose bank went away after the first pass is refused as by the trigger;
    a clean bulk load is stored with the triggers on again afterwards."""
    from huiqi.lending.imports import LoanImporter
    from huiqi.registry.models import Bank

    from .test_imports import csv as make_csv

    settings.HUIQI_BULK_LOAD_ROWS = 1
    caplog.set_level(logging.INFO, logger="huiqi.lending.bulk.load")
    assert up(users["bureau"], "loans", make_csv(LOAN_ZH, [loan_row("L-1")])).status == "stored"
    _triggers_on()
    real = LoanImporter.frame_checks
    spare = Bank.objects.create(code="SPARE", name="备用")

    def meanwhile(self, frame):
        frame = real(self, frame)
        # the bank of every row is swapped for one that is then deleted, as if by another writer
        frame = frame.with_columns(pl.lit(spare.pk, dtype=pl.Int64).alias("bank_id"))
        Bank.objects.filter(pk=spare.pk).delete()
        return frame

    monkeypatch.setattr(LoanImporter, "frame_checks", meanwhile)
    with transaction.atomic():
        importer = LoanImporter(users["bureau"])
        from huiqi.lending.bulk.columnar import frame_from_csv

        path = _write(make_csv(LOAN_ZH, [loan_row("L-7")]))
        frame, _ = frame_from_csv(path, importer.schema())
        frame = importer.frame_checks(frame)
        with pytest.raises(IntegrityError, match="is not present"), transaction.atomic():
            importer.store_frame(frame, users["bureau"], _record(users["bureau"]))
    assert not Loan.objects.filter(loan_no="L-7").exists()
    _triggers_on()


def _write(data: bytes):
    import tempfile
    from pathlib import Path

    f = tempfile.NamedTemporaryFile(suffix=".csv", delete=False)
    f.write(data)
    f.close()
    return Path(f.name)


def _record(user):
    from huiqi.lending.models import LedgerUpload

    return LedgerUpload.objects.create(kind="loans", file_name="x.csv", digest="x", uploaded_by=user)



def test_a_loan_needs_its_bank_and_a_bank_with_loans_stays(paid_loan):
    """The loan→bank reference, held the same way (migration 0005)."""
    from huiqi.registry.models import Bank

    bank = paid_loan.bank
    if connection.vendor == "postgresql":  # SQLite leaves deletes to the ORM (migration 0006)
        _refused("DELETE FROM registry_bank WHERE id = %s", [bank.pk])
    _refused("UPDATE registry_bank SET id = id + 1000 WHERE id = %s", [bank.pk])
    missing = Bank.objects.order_by("-pk").first().pk + 1000
    _refused("UPDATE lending_loan SET bank_id = %s WHERE id = %s", [missing, paid_loan.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        Loan.objects.create(bank_id=missing, loan_no="X-1", borrower_id=paid_loan.borrower_id, borrower_name="x",
                            borrower_kind="enterprise", purpose="operating", guarantee="credit", first_loan=True,
                            principal_fen=1, annual_rate="1", start_date=dt.date(2020, 1, 1),
                            maturity_date=dt.date(2021, 1, 1))
    assert Loan.objects.filter(bank=bank).count() == 2
    # A bank without loans may go.
    spare = Bank.objects.create(code="SPARE", name="备用")
    with connection.cursor() as cur:
        cur.execute("DELETE FROM registry_bank WHERE id = %s", [spare.pk])
    assert not Bank.objects.filter(code="SPARE").exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL flushes with one TRUNCATE of every table")
def test_the_tables_empty_in_any_order(paid_loan):
    """Django flushes SQLite table by table in no fixed order: the loans, their banks and payments must
    empty whichever comes first (migration 0006)."""
    with transaction.atomic():
        with connection.cursor() as cur:
            for table in ("registry_bank", "lending_loan", "lending_interestpayment"):  # the referenced first
                cur.execute(f'DELETE FROM "{table}"')
        assert not Loan.objects.exists() and not InterestPayment.objects.exists()
        transaction.set_rollback(True)


def _schema_of(tables):
    with connection.cursor() as cur:
        cur.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1, 2",
                    [list(tables)])
        indexes = cur.fetchall()
        cur.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = ANY(%s::regclass[]) ORDER BY 1, 2", [list(tables)])
        return indexes, cur.fetchall()


@postgres_only
def test_a_first_bulk_load_builds_the_indexes_again_as_they_were(users, settings, monkeypatch):
    """A bulk load at least as large as its table drops the secondary indexes and unique constraints
    and builds them again after the COPY: afterwards the table has exactly the indexes and constraints
    it had, they hold the new rows (a duplicate is refused), and a later, smaller load keeps them."""
    from huiqi.lending.bulk import store

    settings.HUIQI_BULK_LOAD_ROWS = 1
    tables = ("lending_loan", "lending_interestpayment")
    before = _schema_of(tables)
    rebuilt = []
    real = store._drop_indexes
    monkeypatch.setattr(store, "_drop_indexes", lambda cur, table: rebuilt.append(table) or real(cur, table))
    assert up(users["bank"], "loans", csv(LOAN_ZH, [loan_row("L-1"), loan_row("L-2")])).status == "stored"
    assert up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "1.00"],
        ["ICBC-SZ", "L-2", "2020-03-10", "2020-04-10", "2020-04-10", "2.00"]])).status == "stored"
    assert rebuilt == ["lending_loan", "lending_interestpayment"]
    assert _schema_of(tables) == before
    _triggers_on()
    assert any("loan_unique_per_bank" in d for _, _, d in before[0]) or any(
        c == "loan_unique_per_bank" for _, c, _ in before[1])
    _refused("INSERT INTO lending_interestpayment (loan_id, accrual_start, accrual_end, paid_date, interest_fen, "
             "updated_at) SELECT loan_id, accrual_start, accrual_end, paid_date, 5, now() "
             "FROM lending_interestpayment LIMIT 1")
    # One row more against two held: maintained as it goes, not rebuilt.
    assert up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-04-10", "2020-05-10", "2020-05-10", "1.00"]]), "p2.csv").status == "stored"
    assert rebuilt == ["lending_loan", "lending_interestpayment"]
    assert InterestPayment.objects.count() == 3
    # The loans again, all stored already, in other bytes (so not the same file): as large as the table,
    # but no new row, so the indexes stay; one new loan of three: still no rebuild (mostly stored rows);
    # two new of three: a rebuild, before they are written.
    again = csv(LOAN_ZH, [loan_row("L-1"), loan_row("L-2")]) + b"\n"
    assert up(users["bank"], "loans", again, "again.csv").status == "unchanged"
    third = csv(LOAN_ZH, [loan_row("L-1"), loan_row("L-2"), loan_row("L-3")])
    assert up(users["bank"], "loans", third, "third.csv").status == "stored"
    assert rebuilt == ["lending_loan", "lending_interestpayment"]
    mostly_new = csv(LOAN_ZH, [loan_row("L-1"), loan_row("L-4"), loan_row("L-5")])
    assert up(users["bank"], "loans", mostly_new, "fourth.csv").status == "stored"
    assert rebuilt == ["lending_loan", "lending_interestpayment", "lending_loan"]
    assert _schema_of(tables) == before and Loan.objects.count() == 5


def test_a_payment_is_keyed_by_its_loan_and_period(paid_loan):
    """Migration 0010: (loan_id, accrual_start) is the primary key, there is no surrogate id, and the same
    period of a loan twice is refused by that key."""
    with connection.cursor() as cur:
        constraints = connection.introspection.get_constraints(cur, "lending_interestpayment")
        columns = [c.name for c in
                   connection.introspection.get_table_description(cur, "lending_interestpayment")]
    keys = [c["columns"] for c in constraints.values() if c["primary_key"]]
    assert len(keys) == 1 and sorted(keys[0]) == ["accrual_start", "loan_id"] and "id" not in columns
    if connection.vendor == "postgresql":  # the loan first: its index serves a loan's payments too
        assert keys[0] == ["loan_id", "accrual_start"]
    payment = InterestPayment.objects.get()
    assert payment.pk == (paid_loan.pk, dt.date(2020, 3, 10))
    assert InterestPayment.objects.get(pk=(paid_loan.pk, dt.date(2020, 3, 10))).interest_fen == 374_583
    with pytest.raises(IntegrityError), transaction.atomic():
        InterestPayment.objects.create(loan=paid_loan, accrual_start=dt.date(2020, 3, 10),
                                       accrual_end=dt.date(2020, 3, 20), paid_date=dt.date(2020, 3, 20),
                                       interest_fen=1)


def test_the_loan_s_admin_page_shows_its_payments(paid_loan, client_for):
    """Django's admin takes no model with a composite key: a loan's payments are shown on its page."""
    page = client_for("admin").get(f"/admin/lending/loan/{paid_loan.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "付息记录" in text and "2020-03-10" in text and "3745.83" in text.replace(",", "")


@postgres_only
def test_stored_rows_to_read_after_a_natural_key_load_wrote_some_are_declined(users, paid_loan):
    """By a natural key, a row this load wrote could not be told from one stored before: a frame whose
    scope (here a bank) was not read before the first rows were written sends the file to the row path."""
    from huiqi.lending.bulk import store
    from huiqi.lending.bulk.columnar import Declined
    from huiqi.lending.imports import _banks_of
    from huiqi.registry.models import Bank

    other = Bank.objects.get(code="CMB-SZ")
    second = Loan.objects.create(bank=other, loan_no="M-1", borrower_id=paid_loan.borrower_id,
                                 borrower_name="x", borrower_kind=paid_loan.borrower_kind, purpose="operating",
                                 guarantee="credit", first_loan=True, principal_fen=100, annual_rate="4.0000",
                                 start_date=dt.date(2020, 3, 1), maturity_date=dt.date(2021, 3, 1))

    def frame(loan, bank):
        return pl.DataFrame({"bank_id": [bank.pk], "loan_id": [loan.pk],
                             "accrual_start": [dt.date(2020, 5, 1)], "accrual_end": [dt.date(2020, 6, 1)],
                             "paid_date": [dt.date(2020, 6, 1)], "interest_fen": [5]})

    record = _record(users["bank"])
    args = dict(scope=f"m.loan_id IN (SELECT id FROM {Loan._meta.db_table} WHERE bank_id = ANY(%s))",
                scope_of=_banks_of, extra={"upload_id": record.pk})
    frames = [frame(paid_loan, paid_loan.bank), frame(second, other)]
    with pytest.raises(Declined, match="natural key"), transaction.atomic():
        store.upsert_frame(InterestPayment, iter(frames), ("loan_id", "accrual_start"),
                             ("accrual_end", "paid_date", "interest_fen"), None, record, **args)
    # Both banks read before the first frame: stored.
    assert store.upsert_frame(InterestPayment, iter(frames), ("loan_id", "accrual_start"),
                                ("accrual_end", "paid_date", "interest_fen"), None, record,
                                scope_first=[paid_loan.bank_id, other.pk], **args) == (2, 0)
    assert InterestPayment.objects.count() == 3
