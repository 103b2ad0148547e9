"""A batch's lines and payments name their loan and batch through references checked per statement
(``core.references``, migration ``subsidy.0005``), not per row: the guarantees of a foreign key hold.

No line or payment without its loan and batch, whoever writes it; on PostgreSQL no loan or batch deleted
(nor its id changed) while a line or payment names it, and no emptying of the loans alone. The ORM still
deletes a batch with its lines and payments (``CASCADE``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from huiqi.lending.models import Loan
from huiqi.subsidy import services
from huiqi.subsidy.models import SubsidyBatch, SubsidyLoanLine, SubsidyPayment

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's parent-side triggers")


@pytest.fixture
def batch(example, staff):
    return services.run_batch(staff["bureau"], dt.date(2020, 12, 31))


def _refused(sql, params=()):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


def test_the_run_wrote_lines_and_payments_that_name_what_exists(batch):
    assert SubsidyLoanLine.objects.filter(batch=batch).count() == Loan.objects.count()
    assert SubsidyPayment.objects.filter(batch=batch).exists()


def test_no_line_without_its_loan_or_batch(batch):
    line = SubsidyLoanLine.objects.filter(batch=batch).first()
    missing_loan = Loan.objects.order_by("-pk").first().pk + 1000
    missing_batch = batch.pk + 1000
    with pytest.raises(IntegrityError), transaction.atomic():
        SubsidyLoanLine.objects.create(batch=batch, loan_id=missing_loan, beneficiary_id="x", eligible=False,
                                       reason="not_operating")
    with pytest.raises(IntegrityError), transaction.atomic():
        SubsidyLoanLine.objects.filter(pk=line.pk).update(batch_id=missing_batch)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubsidyPayment.objects.filter(batch=batch).update(batch_id=missing_batch)
    line.refresh_from_db()
    assert line.batch_id == batch.pk


@postgres_only
def test_a_set_based_write_naming_a_missing_loan_fails_whole(batch):
    before = SubsidyLoanLine.objects.count()
    _refused("INSERT INTO subsidy_subsidyloanline (batch_id, loan_id, beneficiary_id, eligible, reason) "
             "SELECT %s, l.id + g, 'x', false, 'not_operating' FROM lending_loan l, generate_series(0, 5000) g "
             "WHERE l.id = (SELECT min(id) FROM lending_loan)", [batch.pk])
    assert SubsidyLoanLine.objects.count() == before


@postgres_only
def test_a_write_naming_missing_loans_is_refused_naming_the_smallest(batch):
    """The check looks for the smallest missing id (one hashed anti-join, ``subsidy.0008``), not the first."""
    top = Loan.objects.order_by("-pk").first().pk
    before = SubsidyLoanLine.objects.count()
    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO subsidy_subsidyloanline (batch_id, loan_id, beneficiary_id, eligible, "
                    "reason) SELECT %s, g, 'x', false, 'not_operating' FROM generate_series(%s, %s, -1) g",
                    [batch.pk, top + 9, top + 1])
    assert f"(loan_id)=({top + 1})" in refused.value.__cause__.diag.message_detail
    assert SubsidyLoanLine.objects.count() == before


@postgres_only
def test_a_named_loan_or_batch_is_never_deleted(batch):
    loan_id = SubsidyLoanLine.objects.filter(batch=batch).values_list("loan_id", flat=True).first()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM lending_interestpayment WHERE loan_id = %s", [loan_id])  # its own payments go
        cur.execute("DELETE FROM lending_loan WHERE id = %s", [loan_id])
    _refused("UPDATE lending_loan SET id = id + 100000 WHERE id = %s", [loan_id])
    _refused("DELETE FROM subsidy_subsidybatch WHERE id = %s", [batch.pk])
    with connection.cursor() as cur:  # the test's transaction: run the deferred checks, as a commit would
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _refused("TRUNCATE subsidy_subsidybatch CASCADE")
    assert Loan.objects.filter(pk=loan_id).exists() and SubsidyBatch.objects.filter(pk=batch.pk).exists()


def test_the_orm_deletes_a_batch_with_its_lines_and_payments(batch):
    batch.delete()
    assert not SubsidyLoanLine.objects.exists() and not SubsidyPayment.objects.exists()


def test_lines_written_as_columns_read_back_the_same_in_any_slices(batch, monkeypatch):
    """``core.bulk.insert_columns`` (the run's COPY): empty texts stay empty, NULL amounts stay NULL,
    booleans and numbers come back as written, whatever the slice size."""
    from huiqi.core import bulk

    copy_csv = bulk.copy_csv
    monkeypatch.setattr(bulk, "copy_csv", lambda cursor, table, frame: copy_csv(cursor, table, frame, slice_rows=2))

    fields = ("batch_id", "loan_id", "beneficiary_id", "eligible", "reason", "interest_counted_fen", "subsidy_fen")
    before = list(SubsidyLoanLine.objects.filter(batch=batch).order_by("loan_id").values_list(*fields))
    assert {r[3] for r in before} == {True, False} and any(r[4] == "" for r in before)
    assert any(r[6] is None for r in before)
    SubsidyLoanLine.objects.filter(batch=batch).delete()
    bulk.insert_columns(SubsidyLoanLine, {name.removesuffix("_id") if name in ("batch_id", "loan_id") else name:
                                          [r[i] for r in before] for i, name in enumerate(fields)})
    after = list(SubsidyLoanLine.objects.filter(batch=batch).order_by("loan_id").values_list(*fields))
    assert after == before


def _partitions() -> int:
    """How many tables there are of the lines' and payments' partitions (none on SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ %s",
                    [r"^subsidy_subsidy(loanline|payment)_b\d+$"])
        return cur.fetchone()[0]


@postgres_only
def test_a_run_writes_its_rows_into_partitions_of_its_own(batch):
    """``subsidy.partitions``: the batch's lines and payments are each a partition of their table, with the
    table's indexes; the ORM reads them through the table."""
    from huiqi.subsidy.partitions import partition_name

    for model in (SubsidyLoanLine, SubsidyPayment):
        part = partition_name(model._meta.db_table, batch.pk)
        with connection.cursor() as cur:
            cur.execute("SELECT c.relispartition, pg_get_expr(c.relpartbound, c.oid), "
                        "(SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid), "
                        "(SELECT count(*) FROM pg_index i WHERE i.indrelid = %s::regclass) FROM pg_class c "
                        "WHERE c.oid = to_regclass(%s)", [model._meta.db_table, part])
            attached, bound, indexes, tables_indexes = cur.fetchone()
            cur.execute(f"SELECT count(*), count(DISTINCT id), min(batch_id), max(batch_id) FROM {part}")
            rows, ids, low, high = cur.fetchone()
        assert attached and bound == f"FOR VALUES IN ('{batch.pk}')"
        assert indexes == tables_indexes >= 3
        assert rows == ids == model.objects.filter(batch=batch).count() > 0 and low == high == batch.pk


def test_a_run_naming_a_missing_loan_records_nothing(example, staff, monkeypatch):
    """The run's own check of its lines' loans (``Reference.check_rows`` on PostgreSQL, the row triggers on
    SQLite) refuses the whole batch: no batch, no line, no payment, no partition left behind."""
    from huiqi.subsidy.services.compute import Inputs

    partitions = _partitions()
    loan_ids = Inputs.loan_ids
    missing = Loan.objects.order_by("-pk").first().pk + 1000
    monkeypatch.setattr(Inputs, "loan_ids", lambda self, banks, numbers: loan_ids(self, banks, numbers)
                        .scatter(0, missing))
    with pytest.raises(IntegrityError) as refused:
        services.run_batch(staff["bureau"], dt.date(2020, 12, 31))
    if connection.vendor == "postgresql":
        assert f"(loan_id)=({missing})" in str(refused.value)
    assert not SubsidyBatch.objects.exists()
    assert not SubsidyLoanLine.objects.exists() and not SubsidyPayment.objects.exists()
    assert _partitions() == partitions


@postgres_only
def test_a_line_of_a_batch_without_its_partition_is_refused(batch):
    other = SubsidyBatch.objects.create(cutoff=batch.cutoff, params=batch.params, status="cancelled")
    loan = Loan.objects.order_by("pk").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        SubsidyLoanLine.objects.create(batch=other, loan=loan, beneficiary_id="x", eligible=False,
                                       reason="not_operating")


@postgres_only
def test_rows_of_a_batch_whose_partition_exists_go_in_through_the_table(batch):
    """A partition left behind (an emptied table whose batch ids came round again) takes the rows through
    the partitioned table, its statement triggers checking their loans."""
    from huiqi.subsidy.partitions import LINE_LOAN, write_rows

    fields = ("loan_id", "beneficiary_id", "eligible", "reason", "interest_counted_fen", "subsidy_fen")
    before = list(SubsidyLoanLine.objects.filter(batch=batch).order_by("loan_id").values_list(*fields))
    SubsidyLoanLine.objects.filter(batch=batch).delete()

    def columns(rows):
        return {"batch": [batch.pk] * len(rows), **{f.removesuffix("_id") if f == "loan_id" else f:
                                                   [r[i] for r in rows] for i, f in enumerate(fields)}}

    missing = Loan.objects.order_by("-pk").first().pk + 1000
    with pytest.raises(IntegrityError), transaction.atomic():
        write_rows(SubsidyLoanLine, batch.pk, columns([(missing, *before[0][1:])]), references=(LINE_LOAN,))
    write_rows(SubsidyLoanLine, batch.pk, columns(before), references=(LINE_LOAN,))
    assert list(SubsidyLoanLine.objects.filter(batch=batch).order_by("loan_id").values_list(*fields)) == before
