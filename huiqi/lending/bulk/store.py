"""Set-based storing of checked frames into one of the ledger's tables (PostgreSQL): ``upsert_frame``.

The bulk counterpart of ``core.uploads.upsert``: the same rows created and replaced, the same audit
records of replacements, but the new rows sent by one binary COPY (``columnar.CopyStream``) and the
stored rows compared in polars. ``lending.bulk.load`` feeds it the batches of a file as they are
checked; the decisions behind it are in ``docs/decisions.md`` ("Bank ledger imports", "Bulk loads").
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from django.conf import settings
from django.db import IntegrityError, connection, models
from django.utils import timezone

from huiqi.core.uploads import Replacements, natural_id, stamps

from . import columnar


@dataclass(frozen=True)
class Reference:
    """A reference from ``column`` of the table written to ``target`` (its ``id``), held in the database by
    the statement-level ``trigger`` (an AFTER INSERT trigger with a transition table)."""

    column: str
    target: str
    trigger: str


def upsert_frame(model, frames, key: tuple[str, ...], fields: tuple[str, ...], actor, record, *, scope: str,
                 scope_of, scope_first: list | None = None, extra: dict | None = None, now=None,
                 references: tuple[Reference, ...] = (), rows_hint: int | None = None, locked=None,
                 vouched: tuple[Reference, ...] = ()) -> tuple[int, int]:
    """``core.uploads.upsert`` for PostgreSQL, set-based. ``frames`` (one polars frame, or an iterable of them, read
    as they come) hold the model's database columns ``key`` + ``fields`` (and maybe others, ignored);
    ``key`` must be a unique constraint of the table. ``scope`` (SQL over the table aliased ``m``, with
    one array parameter) selects the stored rows the file could replace, for the values
    ``scope_of(frame)`` names: for each frame, those of its values not read yet are read with one COPY
    (``scope_first``, the values a caller knows every frame to fall within, are read in one go before
    the first), and the frame is compared with them in polars. New rows are COPied straight into the
    table, frame by frame; the few that differ are audited (before and after) and updated from a
    temporary table at the end. A key twice in the input is refused: as new rows by the unique constraint (an
    IntegrityError), as stored ones by a check at the end (``columnar.Declined``). Must run inside a
    transaction. Returns (created, updated).

    The stored rows are told by the table's primary key: a surrogate ``id``, or columns of ``key`` (a
    natural key, composite or not). Rows this load wrote are never read back as stored: with an ``id``,
    only ids up to the largest before the load are read; with a natural key, a frame whose scope was not
    read yet once rows have been written is declined (the callers read every scope first).

    A load of ``HUIQI_BULK_LOAD_ROWS`` rows or more (``rows_hint``, or the frame's height) is a bulk
    load: the table is locked against other writers (``SHARE ROW EXCLUSIVE``: readers go on) before the
    stored rows are read, the ``references``' insert triggers are switched off for this transaction's
    COPY, and each reference is checked once, for the distinct values the COPY wrote, before they are
    switched back on. The trigger would have kept every inserted row in a transition table to check it
    (measured: a third of the COPY of 1.8 million payments). A bulk load at least as large as the table
    (a first load) also drops the table's indexes (the primary key too, unless a foreign key relies on
    it) before the first frame that is mostly new rows, and builds them again after the COPY, which is
    cheaper than maintaining them row by row; that needs the table to itself (``ACCESS EXCLUSIVE``:
    readers wait too, for the seconds of the write). A load whose rows are stored already keeps them.

    ``locked()``, when given, is called once the table is locked (at once when the load is not bulk),
    before anything is read: a caller reads there what its frames refer to. A reference in ``vouched``
    is one whose every value the caller took from rows it read there, after the lock: none of them can
    have been deleted before (the read sees every deletion committed until then) nor be deleted until
    this transaction ends (a deleting transaction first takes a SHARE lock on this table: the references'
    triggers of migrations 0004 and 0005), so a bulk load does not check it again."""
    if isinstance(frames, pl.DataFrame):
        rows_hint = frames.height if rows_hint is None else rows_hint
        frames = [frames]
    _require_unique(model, key)
    now = now or timezone.now()
    table = model._meta.db_table
    columns = [*key, *fields]
    ident = [f.column for f in model._meta.pk_fields]  # what tells a stored row
    surrogate = ident == ["id"] and "id" not in columns
    if not surrogate and not set(ident) <= set(key):
        raise ValueError(f"{model._meta.label}: the primary key {ident} is neither an id nor within {key}")
    held_mark = "id" if surrogate else "_held"  # a column every stored row read has, null on a new row
    stamp = stamps(model, now, extra)
    inserted_stamp = dict(stamp)
    if any(f.name == "created_at" for f in model._meta.fields):
        inserted_stamp["created_at"] = now
    bulk = bool(references) and (rows_hint or 0) >= settings.HUIQI_BULK_LOAD_ROWS and _read_committed()
    rebuild = bulk and rows_hint >= _rows_held(table)
    replaced = Replacements(model, key, actor, record, now)
    created_count = 0
    changed_parts, matched = [], []
    written = {ref.column: [] for ref in references}
    schema = {held_mark: pl.Int64}
    scoped: set = set()
    with connection.cursor() as cur:
        if bulk:
            cur.execute(f"LOCK TABLE {table} IN {'ACCESS EXCLUSIVE' if rebuild else 'SHARE ROW EXCLUSIVE'} MODE")
            for ref in references:
                cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER {ref.trigger}")
        if locked is not None:
            locked()
        checked = [ref for ref in references if ref not in vouched] if bulk else []
        # The rows stored before this write have ids up to ``last``: the ones the earlier frames wrote,
        # with ids from the table's sequence, are never read back as stored (a key in two frames is
        # then two new rows, refused by the unique constraint). None: the table was empty, nothing to read.
        # With a natural key, ``last`` only tells whether the table holds anything.
        cur.execute(f"SELECT max(id) FROM {table}" if surrogate else f"SELECT 1 FROM {table} LIMIT 1")
        last = (cur.fetchone() or [None])[0]
        # Dropped at the first frame that is mostly new rows: a load of rows already stored (the same
        # file again, in other bytes) leaves them as they are.
        indexes: list = []
        stored = None
        stream = columnar.CopyStream(cur.cursor, table, model)

        def read_stored(values, frame_schema):
            if not surrogate and created_count:
                raise columnar.Declined("stored rows to read after this load wrote some, by a natural key")
            return columnar.read_query(f"SELECT {'m.id' if surrogate else '1'} AS {held_mark}, "
                              f"{', '.join('m.' + c for c in columns)} FROM {table} m "
                              f"WHERE ({scope}){' AND m.id <= %s' if surrogate else ''}",
                              [values, last] if surrogate else [values], {**schema, **frame_schema})

        try:
            for frame in frames:
                frame_schema = frame.select(columns).schema
                if stored is None:
                    stored = pl.DataFrame(schema={**schema, **frame_schema})
                    if scope_first and last is not None:
                        stored = read_stored(list(scope_first), frame_schema)
                        scoped.update(scope_first)
                wanted = [v for v in scope_of(frame) if v not in scoped] if last is not None else []
                frame = frame.select(columns)
                if wanted:
                    stream.close()  # the read needs the connection
                    stored = pl.concat([stored, read_stored(wanted, frame_schema)])
                    scoped.update(wanted)
                if stored.height:
                    # The stored rows of this frame's keys first: hashing the frame's keys once is much
                    # cheaper than hashing every stored row again for each frame.
                    hits = stored.join(frame.select(key), on=list(key), how="semi") \
                        if stored.height > frame.height else stored
                    joined = frame.join(hits, on=list(key), how="left", suffix="_stored")
                    is_new = pl.col(held_mark).is_null()
                    differs = pl.any_horizontal([pl.col(f).ne_missing(pl.col(f + "_stored")) for f in fields])
                    created = joined.filter(is_new).select(columns)
                    changed = joined.filter(~is_new & differs)
                    matched.append(joined.filter(~is_new).select(ident))
                    for row in changed.iter_rows(named=True):
                        replaced.add(row["id"] if surrogate else natural_id(row[c] for c in ident),
                                     [row[k] for k in key],
                                     {f: _python(model, f, row[f + "_stored"]) for f in fields},
                                     {f: _python(model, f, row[f]) for f in fields}, fields)
                    changed_parts.append(changed.select(*ident, *fields))
                else:
                    # Nothing stored that this frame could name (a first load, a new bank's file): every row
                    # is new, with no join to make (on the 1.8 million payments' first load, the joins took
                    # 0.5-0.8 s of this thread under a sampling profiler).
                    created = frame
                if created.height:
                    if rebuild and not indexes and 2 * created.height >= frame.height:
                        stream.close()  # the statements need the connection
                        indexes = _drop_indexes(cur, table)
                    stream.write(created.with_columns([_stamp_column(k, v) for k, v in inserted_stamp.items()]))
                    created_count += created.height
                    for ref in checked:
                        written[ref.column].append(created.get_column(ref.column).drop_nulls().unique())
            stream.close()
        except BaseException as exc:
            stream.abort(exc)
            raise
        _create_indexes(cur, table, indexes)
        if matched and pl.concat(matched).is_duplicated().any():
            raise columnar.Declined("a stored key twice in the file")
        for ref in checked:
            if written[ref.column]:
                _check_reference(cur, table, ref, pl.concat(written[ref.column]))
        for ref in references if bulk else ():
            cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER {ref.trigger}")
        changed = pl.concat(changed_parts) if changed_parts else pl.DataFrame()
        if changed.height:
            tmp = f"huiqi_upsert_{table}"
            with _temporary(cur, tmp, f"SELECT {', '.join([*ident, *fields])} FROM {table}", changed,
                            model=model):
                sets = ", ".join([*(f"{f} = t.{f}" for f in fields), *(f"{f} = %s" for f in stamp)])
                same = " AND ".join(f"m.{c} = t.{c}" for c in ident)
                cur.execute(f"UPDATE {table} m SET {sets} FROM {tmp} t WHERE {same}", list(stamp.values()))
    replaced.save()
    return created_count, changed.height


def _require_unique(model, key: tuple[str, ...]) -> None:
    """``upsert_frame`` leaves a key twice among new rows to the table's unique constraint on ``key``."""
    columns = {f.name: f.column for f in model._meta.concrete_fields} | {
        f.attname: f.column for f in model._meta.concrete_fields}
    wanted = {columns.get(k, k) for k in key}
    sets = [{columns[f] for f in c.fields} for c in model._meta.constraints
            if isinstance(c, models.UniqueConstraint) and not c.condition and c.fields]
    sets += [{columns[f] for f in together} for together in model._meta.unique_together]
    sets.append({f.column for f in model._meta.pk_fields})
    if wanted not in sets:
        raise ValueError(f"{model._meta.label}: no unique constraint on {key}")


def _rows_held(table: str) -> float:
    """How many rows ``table`` holds: counted below a million (a few hundredths of a second), else the
    planner's estimate (a count would cost more than it decides)."""
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        estimate = cur.fetchone()[0]
        if estimate is None or estimate < 1_000_000:  # -1: never vacuumed nor analysed
            cur.execute(f"SELECT count(*) FROM {table}")
            estimate = cur.fetchone()[0]
    return float(estimate)


def _drop_indexes(cur, table: str) -> list[tuple[str, str, str | None, str | None]]:
    """Drop the table's indexes but those a foreign key relies on (a referenced primary key), unique and
    primary key constraints included; return what ``_create_indexes`` needs to build them again. The
    primary key goes too when nothing references it: kept, every row COPied wrote its own WAL record for
    it (measured on the bench's 1.8 million payments: the COPY took 5.1 s with it, 2.0 s without, and
    building it afterwards 0.8 s)."""
    cur.execute("""
        SELECT ci.relname, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
        FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
        LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
                                 AND c.contype IN ('u', 'x', 'p')
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
        ORDER BY i.indisprimary DESC, ci.relname""", [table])
    indexes = cur.fetchall()
    for name, _, constraint, _ in indexes:
        if constraint:
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
        else:
            cur.execute(f'DROP INDEX "{name}"')
    return indexes


def _create_indexes(cur, table: str, indexes) -> None:
    """Build again what ``_drop_indexes`` dropped, from its own definitions (a unique constraint checks
    every row as it is built: a duplicate fails the load whole)."""
    if not indexes:
        return
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition, constraint, constraint_definition in indexes:
        if constraint:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {constraint_definition}')
        else:
            cur.execute(definition)


def _read_committed() -> bool:
    """The bulk load's own reference check must see every row committed before its lock, as the
    trigger's does: only in READ COMMITTED (under the other levels the triggers stay on)."""
    with connection.cursor() as cur:
        cur.execute("SHOW transaction_isolation")
        return cur.fetchone()[0] == "read committed"


@contextmanager
def _temporary(cur, name: str, like: str, frame: pl.DataFrame, **copy_options):
    """A temporary table ``name`` with the columns of the query ``like`` holding ``frame``'s rows
    (``columnar.copy_frame`` with ``copy_options``) for the statements of the block, dropped after them
    (at the end of the transaction if the block fails: it is rolled back then)."""
    cur.execute(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS {like} WITH NO DATA")
    columnar.copy_frame(cur.cursor, name, frame, **copy_options)
    yield
    cur.execute(f"DROP TABLE {name}")


def _check_reference(cur, table: str, ref: Reference, values: pl.Series) -> None:
    """What ``ref.trigger`` checks, once for the distinct values written: each is an id of ``ref.target``.
    Run after this transaction locked ``table`` against writers, in a statement of its own, it sees
    every deletion of a target committed before (a deleting transaction first takes a SHARE lock on
    ``table``, so it either ended before that lock or waits until this transaction ends). The values
    travel in one binary COPY into a temporary table (as an array parameter, 300,000 ids took a
    second to adapt and unnest)."""
    tmp = "huiqi_reference_values"
    ids = values.drop_nulls().unique().cast(pl.Int64).alias("id").to_frame()
    with _temporary(cur, tmp, "SELECT NULL::bigint AS id", ids, kinds=[("int", 8)]):
        # Without statistics the planner probes the target's index once per value (measured: 0.86 s for
        # 300,000 ids, against 0.29 s for the hash anti-join it picks once the table is analysed).
        cur.execute(f"ANALYZE {tmp}")
        cur.execute(f"SELECT x.id FROM {tmp} x "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {ref.target} t WHERE t.id = x.id) LIMIT 1")
        missing = cur.fetchone()
    if missing is not None:
        raise IntegrityError(f'insert on table "{table}" violates its reference to "{ref.target}": '
                             f"({ref.column})=({missing[0]}) is not present")


def _python(model, field: str, value):
    """A value read by polars as the row path holds it (decimal columns travel as text)."""
    column = next(f for f in model._meta.concrete_fields if f.attname == field)
    if value is not None and isinstance(column, models.DecimalField):
        return Decimal(value)
    return value


def _stamp_column(name: str, value) -> pl.Expr:
    """A stamp (the time, the upload) as a column of its own type, so that it can travel in binary."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return pl.lit(value, dtype=pl.Datetime("us", "UTC")).alias(name)
    if isinstance(value, bool) or not isinstance(value, int):
        return pl.lit(value.isoformat() if isinstance(value, dt.date) else value).alias(name)
    return pl.lit(value, dtype=pl.Int64).alias(name)
