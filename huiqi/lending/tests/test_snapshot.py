"""The ledger snapshot (``lending.snapshot``): its version moves with every change the subsidy reads and
only then, a read always gives the current committed state, and the files are reused while it holds."""

from __future__ import annotations

import datetime as dt
import threading

import polars as pl
import pytest
from django.db import connection, connections

from huiqi.core.models import Job
from huiqi.lending import snapshot
from huiqi.lending.models import InterestPayment, Loan
from huiqi.registry.models import Bank, Enterprise

from .test_imports import LOAN_ZH, PAY_EN, csv, loan_row, up

pytestmark = [pytest.mark.skipif(connection.vendor != "postgresql", reason="the snapshot is PostgreSQL's")]


@pytest.fixture
def ledger(users, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    registered = Enterprise.objects.filter(uscc__startswith="91").order_by("uscc").first()
    assert up(users["bank"], "loans", csv(LOAN_ZH, [loan_row("L-1"), loan_row("L-2", id=registered.uscc)])
              ).status == "stored"
    assert up(users["bank"], "payments", csv(PAY_EN, [
        ["ICBC-SZ", "L-1", "2020-03-10", "2020-04-10", "2020-04-10", "3,745.83"],
        ["ICBC-SZ", "L-2", "2020-03-10", "2020-04-10", "2020-04-11", "10"]])).status == "stored"
    return users


def _payments(snap):
    return sorted(snap.payments.join(snap.loans.select(pl.col("id").alias("loan_id"), "loan_no"), on="loan_id")
                  .select("loan_no", "accrual_start", "interest_fen").rows())


@pytest.mark.django_db
def test_the_snapshot_is_the_ledger_and_is_reused_while_nothing_changes(ledger):
    first = snapshot.read()
    assert not first.from_cache
    assert first.loans["loan_no"].to_list() == ["L-1", "L-2"]  # kept by (bank_code, loan_no)
    assert _payments(first) == [("L-1", dt.date(2020, 3, 10), 374583), ("L-2", dt.date(2020, 3, 10), 1000)]
    assert first.loans.filter(loan_no="L-1")["owner_of"].to_list() == [None]
    registered = set(Loan.objects.values_list("borrower_id", flat=True)) & set(
        Enterprise.objects.values_list("uscc", flat=True))
    assert registered and set(first.registry["uscc"]) == registered
    again = snapshot.read()
    assert again.from_cache and again.version == first.version == snapshot.version()
    for name in ("loans", "payments", "registry"):
        assert getattr(again, name).equals(getattr(first, name)), name
    # A file lost or damaged: read from the database again, the same rows.
    (snapshot.cache_dir() / first.version / "payments.arrow").write_bytes(b"not arrow")
    third = snapshot.read()
    assert not third.from_cache and third.payments.equals(first.payments)
    assert snapshot.read().from_cache  # and written again whole


CHANGES = {
    "a payment corrected": ("UPDATE lending_interestpayment SET interest_fen = interest_fen + 1 "
                            "WHERE accrual_start = '2020-03-10'", True),
    "a payment deleted": ("DELETE FROM lending_interestpayment WHERE interest_fen = 1000", True),
    "a loan renamed": ("UPDATE lending_loan SET borrower_name = 'x' WHERE loan_no = 'L-2'", True),
    "a bank's code": ("UPDATE registry_bank SET code = code || '-X' WHERE code = 'ICBC-SZ'", True),
    "an enterprise's size": ("UPDATE registry_enterprise SET size_class = 'large' "
                             "WHERE uscc IN (SELECT borrower_id FROM lending_loan)", True),
    "an enterprise's name": ("UPDATE registry_enterprise SET name = name || '（新）'", True),
    "the log emptied": ("TRUNCATE lending_ledgerchange", True),
    "a bank's name": ("UPDATE registry_bank SET name = name || '（新）'", False),
    "nothing written": ("SELECT count(*) FROM lending_loan", False),
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", list(CHANGES))
def test_the_version_moves_with_every_change_the_subsidy_reads(ledger, change):
    sql, moves = CHANGES[change]
    before = snapshot.read()
    with connection.cursor() as cur:
        cur.execute(sql)
    after = snapshot.read()
    assert (after.version != before.version) is moves
    assert after.from_cache is not moves
    if change == "a payment corrected":
        assert [p[2] for p in _payments(after)] == [374584, 1001]
    if change == "a payment deleted":
        assert [p[0] for p in _payments(after)] == ["L-1"]
    if change == "a bank's code":
        assert set(after.loans["bank_code"]) == {"ICBC-SZ-X"}
    if change == "an enterprise's size":
        assert "large" in after.registry["size_class"].to_list()


@pytest.mark.django_db
def test_an_upload_queues_the_snapshot_of_the_new_version(ledger, django_capture_on_commit_callbacks):
    from huiqi.core import jobs

    with django_capture_on_commit_callbacks(execute=True):
        assert up(ledger["bank"], "payments", csv(PAY_EN, [
            ["ICBC-SZ", "L-1", "2020-04-10", "2020-05-10", "2020-05-10", "1.00"]])).status == "stored"
    job = Job.objects.filter(kind="lending.snapshot").order_by("-id").first()
    assert job is not None
    jobs.run(job)
    job.refresh_from_db()
    assert job.result["version"] == snapshot.version()
    assert (snapshot.cache_dir() / snapshot.version()).is_dir()
    assert snapshot.read().from_cache
    # An upload that changes nothing queues nothing.
    count = Job.objects.filter(kind="lending.snapshot").count()
    with django_capture_on_commit_callbacks(execute=True):
        assert up(ledger["bank"], "payments", csv(PAY_EN, [
            ["ICBC-SZ", "L-1", "2020-04-10", "2020-05-10", "2020-05-10", "1.00"]]), "again.csv").status == "unchanged"
    assert Job.objects.filter(kind="lending.snapshot").count() == count


@pytest.mark.django_db(transaction=True)
def test_another_transaction_s_change_counts_once_committed(ledger):
    """Real concurrency: a payment written by another connection is not in the snapshot (nor in its
    version) until that transaction commits; then the next read has it."""
    loan = Loan.objects.get(loan_no="L-2")
    before = snapshot.read()
    written, go_on, done = threading.Event(), threading.Event(), threading.Event()
    failure = []

    def other():
        try:
            with connections["default"].cursor() as cur:  # a connection of this thread's own
                cur.execute("BEGIN")
                cur.execute("INSERT INTO lending_interestpayment (loan_id, accrual_start, accrual_end, paid_date, "
                            "interest_fen, updated_at) VALUES (%s, '2020-04-10', '2020-05-10', '2020-05-10', 7, now())",
                            [loan.pk])
                written.set()
                go_on.wait(10)
                cur.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - reported below
            failure.append(exc)
        finally:
            connections["default"].close()
            done.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert written.wait(10)
    during = snapshot.read()
    assert during.version == before.version and during.from_cache
    go_on.set()
    assert done.wait(10) and not failure, failure
    thread.join()
    after = snapshot.read()
    assert after.version != before.version and not after.from_cache
    assert ("L-2", dt.date(2020, 4, 10), 7) in _payments(after)
    assert InterestPayment.objects.filter(interest_fen=7).exists()
    Bank.objects.all()  # the connection is still usable


@pytest.mark.django_db(transaction=True)
def test_both_ways_of_reading_give_the_same_rows(ledger):
    """Outside a transaction the snapshot is read in a REPEATABLE READ transaction of its own; inside
    one, in a single statement: the same version and rows either way."""
    from django.db import transaction

    from huiqi.lending.snapshot import _read_database

    assert not connection.in_atomic_block
    apart = _read_database()
    with transaction.atomic():
        together = _read_database()
    assert apart.version == together.version
    for name in ("loans", "payments", "registry"):
        a, b = getattr(apart, name), getattr(together, name)
        assert a.schema == b.schema and a.height > 0, name
        assert a.sort(a.columns).equals(b.sort(b.columns)), name


@pytest.mark.django_db
def test_switched_off_the_subsidy_reads_the_tables(ledger, settings):
    from huiqi.subsidy import services

    cutoff = dt.date(2020, 12, 31)
    params = services.current_params(cutoff)
    settings.HUIQI_LEDGER_SNAPSHOT = False
    off = services.load_inputs(cutoff, params)
    assert "whole_fen" in off.loans.columns  # the database's pre-aggregated read
    result_off = services.simulate(None, cutoff)
    assert not snapshot.cache_dir().exists()
    settings.HUIQI_LEDGER_SNAPSHOT = True
    on = services.load_inputs(cutoff, params)
    assert "whole_fen" not in on.loans.columns and snapshot.cache_dir().exists()
    result_on = services.simulate(None, cutoff)
    assert result_on == result_off and result_on.payable_total > 0
