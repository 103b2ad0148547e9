"""A batch's loan lines and payments in a PostgreSQL partition of their own, one per batch.

A city's batch writes 300,000 loan lines and 100,000 payments in one transaction. Written into one table
holding every earlier batch's rows, each row cost an entry in each index (three for the lines, four for
the payments) and a place in the statement's reference checks: the backend's CPU for the lines alone was
about 2 s, four times the bare rows'.
So on PostgreSQL both tables are partitioned by ``LIST (batch_id)`` (migration ``subsidy.0010``) and a run
writes its rows with :func:`write_rows`:

1. a ``SHARE ROW EXCLUSIVE`` lock on the table (others read on but write only after this transaction): a
   delete of a loan the rows name takes ``SHARE`` on it (``core.references``) and so either went before,
   and the check below sees the loan gone, or waits for this transaction and then sees the rows;
2. a bare table (the columns, defaults and check constraints, and the bound ``batch_id = batch``; no index,
   no trigger) filled by one ``COPY`` (``core.bulk.copy_csv``), the rows' ids taken from the table's
   sequence as one block;
3. the references checked by one join each (``core.references.Reference.check_rows``, the statement
   triggers' own check); the batch's is the bound (the batch was recorded by the same transaction);
4. ``ATTACH PARTITION … FOR VALUES IN (batch)``: PostgreSQL builds each index of the table on the
   partition by sorting it once (the bound's check stands for its scan of the rows).

All of it is in the run's transaction: a run that fails or is killed leaves no partition. Everything else
reads and writes the partitioned table as Django's one table: a row written through it goes to its
batch's partition, checked by the statement triggers (``subsidy.0005``), and a row of a batch without a
partition is refused (check violation). A cancelled batch keeps its partition and rows (its pages still
show them; they cost a later run nothing). The partitioned table cannot have a primary key without the
batch: ``id`` keeps its identity sequence and an index, and its uniqueness comes from the sequence.

SQLite keeps plain tables: :func:`write_rows` inserts there (``core.bulk.insert_columns``).
"""

from __future__ import annotations

from django.db import connection

from huiqi.core.bulk import columns_frame, copy_csv, insert_columns
from huiqi.core.references import Reference

# The tables partitioned by batch on PostgreSQL (subsidy.0010).
BY_BATCH = ("subsidy_subsidyloanline", "subsidy_subsidypayment")
# A line's loan, checked by the statement triggers of subsidy.0005 and by write_rows.
LINE_LOAN = Reference("subsidy_line_loan", "subsidy_subsidyloanline", "loan_id", "lending_loan")


def partition_name(table: str, batch_id: int) -> str:
    return f"{table}_b{int(batch_id)}"


def write_rows(model, batch_id: int, columns: dict, references: tuple[Reference, ...] = ()) -> None:
    """Insert one batch's rows, given as columns (``core.bulk.insert_columns``), into ``model``'s table,
    ``references`` (other than the batch) checked: on PostgreSQL as the new partition of the batch (module
    docstring), elsewhere into the table. Call inside the run's transaction, once per batch and table."""
    if connection.vendor != "postgresql":
        insert_columns(model, columns)
        return
    import polars as pl
    from psycopg import sql

    table = model._meta.db_table
    part = partition_name(table, batch_id)
    frame = columns_frame(model, columns)
    q = sql.Identifier
    # Django's errors (IntegrityError…) for the COPY's too, which go through psycopg's own cursor.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute("SELECT to_regclass(%s), pg_get_serial_sequence(%s, 'id')", [part, table])
        existing, sequence = cursor.fetchone()
        if existing is not None:
            # A partition left by an emptied table whose batch id came round again (a test database):
            # the rows go in through the table, checked by its triggers.
            copy_csv(cursor.cursor, table, frame)
            return
        # SHARE ROW EXCLUSIVE: no one else writes the table until this transaction ends (it only reads on),
        # so that the ids taken below are this run's alone, and a parent's delete waits (step 1 above).
        cursor.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(q(table)))
        # The rows' ids from the table's sequence as one block (its nextval per row cost a fifth of the COPY).
        cursor.execute("SELECT setval(%s::regclass, nextval(%s::regclass) + %s - 1)",
                       [sequence, sequence, max(frame.height, 1)])
        last = cursor.fetchone()[0]
        frame = frame.with_columns(pl.int_range(last - frame.height + 1, last + 1, dtype=pl.Int64,
                                                eager=True).alias("id"))
        # The bound as a check of its own: written with the rows, it spares the attachment its scan.
        cursor.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS, "
                               "CHECK (batch_id = {}))").format(q(part), q(table),
                                                                 sql.Literal(int(batch_id))))
        copy_csv(cursor.cursor, part, frame)
        for reference in references:
            reference.check_rows(cursor, part)
        cursor.execute(sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
            q(table), q(part), sql.Literal(int(batch_id))))


# --------------------------------------------------------------------------------------------------
# The migration (subsidy.0010): a plain table into one partitioned by batch, and back


def partition_by_batch(schema_editor, table: str) -> None:
    """Turn ``table`` into a table partitioned by ``LIST (batch_id)``, a partition per batch, with its rows,
    check constraints, indexes (the primary key becoming a plain index on ``id``), foreign keys, triggers
    and identity sequence (PostgreSQL)."""
    _rebuild(schema_editor, table, partitioned=True)


def unpartitioned(schema_editor, table: str) -> None:
    """The way back: one plain table with its primary key on ``id`` again."""
    _rebuild(schema_editor, table, partitioned=False)


def _rebuild(schema_editor, table: str, *, partitioned: bool) -> None:
    old = f"{table}_before"
    with schema_editor.connection.cursor() as cursor:
        def run(statement, params=None):
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

        referenced = run("SELECT conname FROM pg_constraint WHERE confrelid = %s::regclass", [table])
        if referenced:
            raise RuntimeError(f"{table} is referenced by {referenced}: a partitioned table cannot be")
        sequence = run("SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]
        # What the new table takes over by name, as written for the old one.
        constraints = run("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                          "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY conname",
                          [table])
        indexes = run("SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                      "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
                      "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                      "ORDER BY c.relname", [table])
        triggers = run("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass "
                       "AND NOT tgisinternal ORDER BY tgname", [table])
        run(f"ALTER TABLE {table} RENAME TO {old}")
        run(f"ALTER SEQUENCE {sequence} RENAME TO {old}_id_seq")
        run(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY "
            f"INCLUDING STORAGE)" + (" PARTITION BY LIST (batch_id)" if partitioned else ""))
        if partitioned:
            for (batch_id,) in run("SELECT id FROM subsidy_subsidybatch ORDER BY id"):
                run(f"CREATE TABLE {partition_name(table, batch_id)} PARTITION OF {table} "
                    f"FOR VALUES IN ({int(batch_id)})")
        run(f"INSERT INTO {table} SELECT * FROM {old}")
        run(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), coalesce(max(id), 0) + 1, false) FROM {table}",
            [table])
        run(f"DROP TABLE {old} CASCADE")
        if partitioned:  # the primary key's own index as a plain one
            run(f"CREATE INDEX {table}_id ON {table} (id)")
        for name, kind, definition in constraints:
            if kind == "p" and partitioned:
                continue
            run(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        for name, definition in indexes:
            if name == f"{table}_id" and not partitioned:
                run(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
                continue
            run(definition.replace(f" ON public.{old} ", f" ON {table} ").replace(f" ON ONLY public.{old} ",
                                                                                   f" ON {table} "))
        for (definition,) in triggers:
            run(definition.replace(f" ON public.{old} ", f" ON {table} "))
