"""A columnar copy of what the interest subsidy reads, kept on disk and keyed by the ledger's version.

A simulation reads every loan, every interest payment and the registry entries of the borrowers
(300,000 + 1,800,000 + 130,000 rows at the seed's scale): about two seconds out of PostgreSQL each
time, for a bureau that simulates again and again with what-if parameters while the ledger changes
only when a bank uploads. So the rows are read once per version of the ledger, from one snapshot of
the database, and kept as Arrow IPC files under ``DATA_DIR/cache/ledger/<version>/``; the next reads of the same version
load the files (a few hundredths of a second).

The version (:func:`version`) is read from ``lending_ledgerchange``, which statement-level triggers
(migration ``lending.0007``) append to in every transaction that changes the loans, the payments, a
bank's code or an enterprise's identifier, kind, size or name. Its rows are only ever added, so the
set a snapshot sees grows with every committed change: two reads see the same count and the same
largest id exactly when no change committed between them. The version also names the database and
the log table's storage (a ``TRUNCATE`` of the log, a restored or re-created database give another).
The version and the rows are read in one snapshot of the database (one REPEATABLE READ transaction, or
one statement inside a caller's transaction); the files of a version never change once written (a new version gets a new directory,
written under a temporary name and renamed into place).

PostgreSQL only (SQLite reads the tables directly, as before); ``HUIQI_LEDGER_SNAPSHOT = False`` turns
the copy off. :func:`refresh` builds the copy of the current version: an upload of loans or payments
queues it as a background job once stored, so that the bureau's next simulation finds it ready.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import connection, transaction

from .bulk.columnar import read_query
from .models import InterestPayment, LedgerChange, Loan

FORMAT = 1  # the layout of the files below; bump it when it changes
LOAN_SCHEMA = {"bank_code": pl.String, "loan_no": pl.String, "borrower_id": pl.String, "borrower_kind": pl.String,
               "owner_of": pl.String, "purpose": pl.String, "start_date": pl.Date, "borrower_name": pl.String,
               "id": pl.Int64}
PAYMENT_SCHEMA = {"loan_id": pl.Int64, "accrual_start": pl.Date, "accrual_end": pl.Date, "paid_date": pl.Date,
                  "interest_fen": pl.Int64}
REGISTRY_SCHEMA = {"uscc": pl.String, "kind": pl.String, "size_class": pl.String, "name": pl.String}
_PARTS = {"loans": LOAN_SCHEMA, "payments": PAYMENT_SCHEMA, "registry": REGISTRY_SCHEMA}
_KEEP = 3  # versions kept on disk (the newest by modification time)


@dataclass(frozen=True)
class Snapshot:
    version: str
    loans: pl.DataFrame  # LOAN_SCHEMA: owner_of null when the loan has none; by (bank_code, loan_no)
    payments: pl.DataFrame  # PAYMENT_SCHEMA
    registry: pl.DataFrame  # REGISTRY_SCHEMA: the entries of every borrower and owned enterprise
    from_cache: bool


def enabled() -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "HUIQI_LEDGER_SNAPSHOT", True)


def _version_sql() -> str:
    log = LedgerChange._meta.db_table
    return (f"SELECT concat_ws('-', {FORMAT}, (SELECT oid FROM pg_database WHERE datname = current_database()), "
            f"pg_relation_filenode('{log}'), count(*), coalesce(max(id), 0)) FROM {log}")


def version() -> str:
    """The ledger's version as this transaction sees it now."""
    with connection.cursor() as cur:
        cur.execute(_version_sql())
        return cur.fetchone()[0]


def cache_dir() -> Path:
    return Path(settings.DATA_DIR) / "cache" / "ledger"


def read() -> Snapshot:
    """The loans, payments and registry entries of one committed state of the database (this
    transaction's view, its own changes included): from the files of the current version when they
    exist, else read from the database and written for the next time."""
    if not enabled():
        raise RuntimeError("the ledger snapshot needs PostgreSQL")
    current = version()
    cached = _load(current)
    if cached is not None:
        return cached
    # Files there but unreadable (damaged, a layout of another release): replaced below.
    shutil.rmtree(cache_dir() / current, ignore_errors=True)
    snap = _read_database()
    # In the order the rules give their lines in (by bank and loan number): each simulation then finds
    # the loans sorted already, instead of sorting them again.
    snap = replace(snap, loans=snap.loans.sort(["bank_code", "loan_no"]))
    _store(snap)
    return snap


def refresh() -> str:
    """Make sure the current version is on disk (the background job after an upload); its version."""
    return read().version


def _load(ver: str) -> Snapshot | None:
    folder = cache_dir() / ver
    try:
        frames = {name: pl.read_ipc(folder / f"{name}.arrow") for name in _PARTS}
    except (FileNotFoundError, OSError, pl.exceptions.PolarsError):
        return None
    if any(dict(frames[name].schema) != schema for name, schema in _PARTS.items()):
        return None
    return Snapshot(ver, frames["loans"], frames["payments"], frames["registry"], from_cache=True)


def part_sql(part: str) -> tuple[tuple[str, ...], str]:
    """The columns (in the order of the part's schema) and the FROM … WHERE … that read one part of the
    snapshot; ``selectors.ledger_rows`` and ``ledger_summed`` read the tables with the same ones."""
    from huiqi.registry.selectors import sql_tables

    loan, payment = Loan._meta.db_table, InterestPayment._meta.db_table
    bank, enterprise = sql_tables()["bank"], sql_tables()["enterprise"]
    return {
        "loans": (("b.code", "l.loan_no", "l.borrower_id", "l.borrower_kind", "NULLIF(l.owner_of, '')", "l.purpose",
                   "l.start_date", "l.borrower_name", "l.id"),
                  f"{loan} l JOIN {bank} b ON b.id = l.bank_id"),
        "payments": (tuple(f"p.{c}" for c in PAYMENT_SCHEMA), f"{payment} p"),
        # One IN over a UNION ALL (a semi-join): two IN … OR IN planned, without statistics, as a scan of
        # the loans per enterprise.
        "registry": (tuple(f"e.{c}" for c in REGISTRY_SCHEMA),
                     f"{enterprise} e WHERE e.uscc IN (SELECT borrower_id FROM {loan} "
                     f"UNION ALL SELECT owner_of FROM {loan} WHERE owner_of <> '')"),
    }[part]


def _read_database() -> Snapshot:
    """The version and the rows, from one snapshot of the database: outside a transaction, four reads in
    a REPEATABLE READ transaction of their own; inside one (whose isolation is set already), one
    statement (``_read_in_one_statement``)."""
    if connection.in_atomic_block:
        return _read_in_one_statement()
    frames = {}
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cur.execute(_version_sql())
            ver = cur.fetchone()[0]
        for part, schema in _PARTS.items():
            columns, source = part_sql(part)
            frames[part] = read_query(f"SELECT {', '.join(columns)} FROM {source}", [], schema)
    return Snapshot(ver, frames["loans"], frames["payments"], frames["registry"], from_cache=False)


def _read_in_one_statement() -> Snapshot:
    """Everything in one statement, so in one snapshot of the database: a first row with the version,
    then the loans ('L'), the payments ('P') and the registry entries ('R'), each part's values as text
    in the same nine columns (narrow rows: the payments are most of them), typed again here."""
    width = max(len(part) for part in _PARTS.values())
    selects = [f"SELECT 'V', ({_version_sql()}), {', '.join(['NULL::text'] * width)}"]
    for part in _PARTS:
        columns, source = part_sql(part)
        values = [f"({c})::text" for c in columns] + ["NULL"] * (width - len(columns))
        selects.append(f"SELECT '{part[0].upper()}', NULL, {', '.join(values)} FROM {source}")
    cells = [f"c{i}" for i in range(width)]
    rows = read_query(" UNION ALL ".join(selects), [],
                      {"row": pl.String, "version": pl.String, **{c: pl.String for c in cells}})
    ver = rows.filter(pl.col("row") == "V")["version"].item()
    frames = {}
    for part, schema in _PARTS.items():
        columns = []
        for cell, (key, dtype) in zip(cells, schema.items()):
            column = pl.col(cell)
            if dtype == pl.Date:
                column = column.str.to_date("%Y-%m-%d")
            elif dtype != pl.String:
                column = column.cast(dtype)
            columns.append(column.alias(key))
        frames[part] = rows.filter(pl.col("row") == part[0].upper()).select(columns)
    return Snapshot(ver, frames["loans"], frames["payments"], frames["registry"], from_cache=False)


def _store(snap: Snapshot) -> None:
    """Write the version's files under a temporary name and rename the folder into place; a version
    another process wrote meanwhile is left as it is. Older versions beyond the newest few go."""
    root = cache_dir()
    target = root / snap.version
    if target.exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        for name in _PARTS:
            getattr(snap, name).write_ipc(tmp / f"{name}.arrow")
        try:
            os.rename(tmp, target)
        except OSError:  # another process stored this version first
            return
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    folders = [p for p in root.iterdir() if p.is_dir()]
    versions = sorted((p for p in folders if not p.name.startswith(".")), key=_mtime, reverse=True)
    abandoned = [p for p in folders if p.name.startswith(".tmp-") and time.time() - _mtime(p) > 3600]
    for old in versions[_KEEP:] + abandoned:  # and what a process that died while writing left
        shutil.rmtree(old, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
