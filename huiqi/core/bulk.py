"""Plain rows into a table fast, for the demo builders and other set-based loads."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence


def insert_rows(model, fields: Sequence[str], rows: Iterable[tuple], batch: int = 5000) -> None:
    """Insert plain rows (values in ``fields`` order, datetimes already as the backend wants them):
    ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` of one INSERT on SQLite (several times faster
    than building model instances), ``bulk_create`` elsewhere."""
    from django.db import connection

    meta = model._meta
    columns = [meta.get_field(f).column for f in fields]
    if connection.vendor == "postgresql":
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(meta.db_table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    elif connection.vendor == "sqlite":
        qn = connection.ops.quote_name
        statement = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
                     f"VALUES ({', '.join(['%s'] * len(columns))})")
        rows = iter(rows)
        with connection.cursor() as cursor:
            while chunk := list(itertools.islice(rows, batch)):
                cursor.executemany(statement, chunk)
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL
        attnames = [meta.get_field(f).attname for f in fields]
        rows = iter(rows)
        while chunk := list(itertools.islice(rows, batch)):
            model.objects.bulk_create([model(**dict(zip(attnames, row))) for row in chunk])


def insert_columns(model, columns: dict[str, list]) -> None:
    """Insert rows given as columns (field name → one list per field, or a polars Series, all of the same
    length, values as Python gives them: ``None`` for NULL). On PostgreSQL the columns become a polars
    frame sent by :func:`copy_csv`: for hundreds of thousands of rows several times faster than
    :func:`insert_rows`, which formats row by row; elsewhere :func:`insert_rows`."""
    from django.db import connection

    fields = list(columns)
    if connection.vendor != "postgresql":
        insert_rows(model, fields, zip(*columns.values()))
        return
    with connection.cursor() as cursor:
        copy_csv(cursor.cursor, model._meta.db_table, columns_frame(model, columns))


def columns_frame(model, columns: dict[str, list]):
    """The columns of :func:`insert_columns` as a polars frame named by ``model``'s database columns."""
    import polars as pl

    meta = model._meta
    return pl.DataFrame({meta.get_field(f).column: values for f, values in columns.items()}, strict=False)


def copy_csv(cursor, table: str, frame, slice_rows: int = 50_000) -> None:
    """``COPY table (frame's columns) FROM STDIN (FORMAT csv)`` through the psycopg ``cursor``, the CSV
    written by polars slice by slice and sent from a queue on its own thread, so that the next slice is
    written while the server stores the last. Every text is quoted, so that an empty string stays one; a
    NULL is the empty unquoted field."""
    from psycopg import sql
    from psycopg.copy import QueuedLibpqWriter

    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns))
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for offset in range(0, frame.height, slice_rows):
            copy.write(frame.slice(offset, slice_rows).write_csv(include_header=False, quote_style="non_numeric",
                                                                 null_value="").encode())
