"""The life of an uploaded file, the same for every kind (registry extract, bank loans, payments…).

``specs/bank-data-exchange.md``: an upload is one unit, stored whole or not at all; a refused file
gets a report naming every bad row, column and reason; the same file twice changes nothing and says
so; large files run as background jobs. An app describes its kind of file with an ``Importer``
(schema, checks, what to store) and an upload model built on ``UploadRecord``; this module does
the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from .tabular import FileRejected, RowError, Schema, iter_chunks, read_table, write_error_report

logger = logging.getLogger(__name__)

# How many batches the columnar pass parses ahead while the rows they refer to are read (the payments'
# 300,000 loans: 0.15-0.25 s, in which one batch used to be parsed, then the thread waited).
PARSED_AHEAD = 3


class UploadRecord(models.Model):
    """One uploaded file as received: refused with its error report, or stored whole."""

    class Status(models.TextChoices):
        PENDING = "pending", "处理中 processing"
        STORED = "stored", "已入库 stored"
        UNCHANGED = "unchanged", "无变化 unchanged (same file already stored)"
        REFUSED = "refused", "已拒绝 refused"
        FAILED = "failed", "处理中断 failed (send it again)"

    file_name = models.CharField(max_length=255)
    digest = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    stored_path = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    rows_total = models.IntegerField(default=0)
    rows_created = models.IntegerField(default=0)
    rows_updated = models.IntegerField(default=0)
    rows_unchanged = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    error_report = models.CharField(max_length=500, blank=True)
    message = models.TextField(blank=True)
    unknown_columns = models.JSONField(default=list, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class Importer:
    """What one kind of file is and how it is stored. Subclasses set ``name`` and ``key`` and implement
    ``schema``, ``build`` and ``store``; ``row_checks`` and ``check_chunk`` add checks across fields
    and against the database."""

    name = "upload"
    key: tuple[str, ...] | None = None
    chunk_size = 20_000

    def schema(self) -> Schema:
        raise NotImplementedError

    def row_checks(self, row: dict):
        """(column, zh, en) problems across the fields of one parsed row."""
        return ()

    def check_chunk(self, rows: list[dict]) -> list[RowError]:
        """Problems that need the database (unknown references, another bank's rows), per chunk."""
        return []

    def build(self, rows: list[dict]):
        """Turn good rows into the compact values ``store`` takes (only called while the file is clean)."""
        raise NotImplementedError

    def store(self, targets: list, actor, record) -> tuple[int, int]:
        """Write the values in one transaction; return (created, updated)."""
        raise NotImplementedError

    def same_file_scope(self, model):
        """Earlier uploads among which an identical file means 'nothing to do'."""
        return model.objects.all()

    # The columnar first pass (``core.columnar``), on PostgreSQL, for importers that set ``columnar``,
    # batch by batch: ``frame_checks`` (on a thread of its own: no database; ``frame_prepare`` and
    # ``frame_prepare_locked`` read what it needs beforehand) turns a batch's parsed columns into the rows
    # to store, raising ``Declined`` where the row path would report an error; ``frame_key`` names their
    # key (a unique constraint of the table); ``store_frame`` stores an iterable of such batches (or one
    # frame), calling ``locked`` (when given) once it holds its table's lock, before it reads the frames.
    columnar = False
    frame_key: tuple[str, ...] = ()

    def frame_prepare(self, batches) -> None:
        """Read what ``frame_checks`` needs from the database, before the batches (``columnar.CsvBatches``,
        its first batch read) are checked on their thread, and before the write's transaction."""

    def frame_prepare_locked(self, batches) -> None:
        """Read the rows the batches refer to, for ``frame_checks``: inside the write's transaction, once
        ``store_frame`` has locked its table (``upsert_frame``'s ``locked``), or else before its first
        batch. A reference whose every value comes from what this read can be vouched for
        (``upsert_frame``'s ``vouched``)."""

    def frame_checks(self, frame):
        raise NotImplementedError

    def store_frame(self, frames, actor, record, rows_hint: int | None = None,
                    locked=None) -> tuple[int, int]:
        raise NotImplementedError


def upload_dir(name: str) -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(model, importer: Importer, upload, user, *, source: Path | None = None, **fields):
    """Keep the uploaded bytes and open an upload record for them. Bytes already in a file of their own
    (``source``, a headless import's path, or the temporary file Django keeps a large upload in) are
    copied by the kernel (``shutil.copyfile``) while a thread hashes them; others are streamed to disk and
    hashed as they go by. Measured on the bench's 124 MB of payments, the disk's earlier writes flushed:
    0.09 s copied and hashed at once (0.12 s one after the other), 0.3–0.35 s (or 0.1 s, by turns)
    written from Python in 1 MB chunks."""
    record = model.objects.create(file_name=Path(upload.name).name[:255], digest="",
                                  uploaded_by=user if getattr(user, "is_authenticated", False) else None,
                                  **fields)
    suffix = Path(upload.name).suffix.lower()[:8]
    target = upload_dir(importer.name) / f"{record.pk}-{dt.datetime.now():%Y%m%d%H%M%S}{suffix}"
    if source is None and hasattr(upload, "temporary_file_path"):
        source = Path(upload.temporary_file_path())
    if source is not None:
        with open(source, "rb") as original:
            # hashlib lets go of the interpreter while it hashes, the kernel copies meanwhile.
            hashing = _Hashing(original)
            try:
                shutil.copyfile(source, target)
            finally:
                hashing.join()  # the file stays open until the thread is done with it
            digest = hashing.result()
        size = target.stat().st_size
    else:
        size = 0
        digest = hashlib.sha256()  # tabular.file_digest's, taken as the bytes go by
        with open(target, "wb") as out:
            chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
            for chunk in chunks:
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
    record.stored_path = str(target)
    record.size_bytes = size
    record.digest = digest.hexdigest()
    record.save(update_fields=["stored_path", "size_bytes", "digest"])
    return record


class _Hashing(threading.Thread):
    """The SHA-256 (a ``hashlib`` object, as ``tabular.file_digest`` takes it) of an open file, taken on a
    thread of its own."""

    def __init__(self, f):
        super().__init__(name="huiqi-digest", daemon=True)
        self._f, self._digest, self._error = f, None, None
        self.start()

    def run(self):
        try:
            self._digest = hashlib.file_digest(self._f, "sha256")
        except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread by result()
            self._error = exc

    def result(self):
        self.join()
        if self._error is not None:
            raise self._error
        return self._digest


class NamedFile:
    """A file object with the name an upload would carry (for headless imports of a path)."""

    def __init__(self, f, name):
        self._f, self.name = f, name

    def read(self, n=-1):
        return self._f.read(n)


def save_path(model, importer: Importer, path, user, **fields):
    with open(path, "rb") as f:
        return save_upload(model, importer, NamedFile(f, Path(path).name), user, source=Path(path), **fields)


def process(importer: Importer, record, actor, progress=None):
    """Validate the stored file of ``record`` and store it whole, or refuse it with a report.

    One streaming pass: each chunk's rows are checked and, while the file has no error yet, turned
    into compact stored values; the parsed rows are not kept. Only a file without any error reaches
    ``importer.store``. ``progress(done, total, message, force=False)`` hears how far the pass has
    read (in bytes)."""
    Status = UploadRecord.Status
    model = type(record)
    earlier = (importer.same_file_scope(model).filter(digest=record.digest, status__in=[Status.STORED,
                                                                                       Status.UNCHANGED])
               .exclude(pk=record.pk).order_by("uploaded_at").first())
    if earlier is not None:
        return _finish(record, Status.UNCHANGED,
                       f"此文件与第 {earlier.pk} 次上传（{timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M}）"
                       f"的文件完全相同，未做任何更改。This file is identical to upload #{earlier.pk}; "
                       "nothing was changed.", rows_total=earlier.rows_total, rows_unchanged=earlier.rows_total)
    if importer.columnar and connection.vendor == "postgresql":
        outcome = _process_columnar(importer, record, actor, progress)
        if outcome is not None:
            return outcome
    schema = importer.schema()
    last = [0, None]

    def on_progress(rows_done, bytes_done, bytes_total):
        last[:] = [bytes_done, bytes_total]
        if progress:
            progress(bytes_done, bytes_total, f"已校验 {rows_done:,} 行 validated {rows_done:,} rows")

    errors: list[RowError] = []
    targets: list = []
    bad_rows: set[int] = set()
    good = 0
    try:
        table = read_table(record.stored_path, record.file_name)
        record.unknown_columns = schema.match(table.header, table.header_row).unknown_columns
        for chunk in iter_chunks(table, schema, importer.chunk_size, row_validator=importer.row_checks,
                                 key=importer.key, progress=on_progress):
            chunk_errors = list(chunk.errors)
            rows = chunk.rows
            if rows:
                more = importer.check_chunk(rows)
                if more:
                    chunk_errors.extend(more)
                    failed = {e.row for e in more}
                    rows = [r for r in rows if r["_row"] not in failed]
            good += len(rows)
            if chunk_errors:
                errors.extend(chunk_errors)
                bad_rows.update(e.row for e in chunk_errors)
                targets = []  # the file will be refused: stop building what would be stored
            elif not errors:
                targets.extend(importer.build(rows))
    except FileRejected as exc:
        _write_reports(importer, record, [exc.as_row_error()], schema)
        return _finish(record, Status.REFUSED, exc.message, error_count=1)
    row_count = good + len(bad_rows)
    if errors:
        _write_reports(importer, record, errors, schema)
        return _finish(
            record, Status.REFUSED,
            f"文件有 {len(bad_rows):,} 行错误（共 {len(errors):,} 处），整个文件未入库。"
            f"The file has errors in {len(bad_rows):,} rows ({len(errors):,} in all); nothing was stored.",
            rows_total=row_count, error_count=len(errors),
        )
    if progress:
        progress(last[0], last[1], f"校验通过，写入 {len(targets):,} 行 valid; writing {len(targets):,} rows",
                 force=True)
    created, updated = importer.store(targets, actor, record)
    total_stored = len(targets)
    del targets
    return _stored(record, row_count, total_stored, created, updated)


def _process_columnar(importer: Importer, record, actor, progress):
    """The columnar first pass; None when it declines (the row path then reads the file).

    The file is read in batches (``columnar.CsvBatches``) on a thread of its own, each batch checked
    there (``Importer.frame_checks``, which needs no database: ``Importer.frame_prepare`` and then, under
    the write's lock, ``Importer.frame_prepare_locked`` have read what it needs) while the batch before it
    is stored on this thread, in the one transaction of the upload: the reading and checking of a large
    file overlap its writing. Anything declined, in any batch, rolls the whole write back."""
    from . import columnar

    total = record.size_bytes or 0
    seen = [0]
    prepared = threading.Event()
    ready: list[bool] = []

    def prepare_locked():
        """Once: ``store_frame`` calls it when it holds its lock, ``counted`` before the first batch."""
        if prepared.is_set():
            return
        try:
            importer.frame_prepare_locked(batches)
            ready.append(True)
        finally:
            prepared.set()

    def counted(frames):
        prepare_locked()
        for frame in frames:
            seen[0] += frame.height
            if progress:
                progress(min(total, total * seen[0] // max(1, batches.rows_estimate, seen[0])), total,
                         f"已校验 {seen[0]:,} 行 validated {seen[0]:,} rows")
            yield frame

    try:
        if progress:
            progress(0, total, "按列读取 reading by columns", force=True)
        batches = columnar.CsvBatches(Path(record.stored_path), importer.schema())

        def checked_batches():
            # While the database is read, the first batches are parsed (a few at most) and wait here.
            parsed = []
            for batch in itertools.chain(batches, [None]):
                if batch is not None:
                    parsed.append(batch)
                    if not prepared.is_set() and len(parsed) < PARSED_AHEAD:
                        continue
                prepared.wait()
                if not ready:
                    return
                while parsed:
                    yield importer.frame_checks(parsed.pop(0))

        checked = columnar.Prefetch(checked_batches())
        try:
            importer.frame_prepare(batches)
            with transaction.atomic():
                created, updated = importer.store_frame(counted(checked), actor, record,
                                                        rows_hint=batches.rows_estimate,
                                                        locked=prepare_locked)
        finally:
            prepared.set()  # the thread is let go, whatever happened
            checked.close()
            batches.close()
    except columnar.Declined as exc:
        logger.info("upload %s: read row by row (%s)", record.pk, exc)
        return None
    except IntegrityError as exc:  # a key twice in the file, or another upload wrote meanwhile: all rolled back
        logger.info("upload %s: read row by row after the database refused the write (a key twice in the file "
                    "or a concurrent write) (%s)", record.pk, exc)
        return None
    record.unknown_columns = batches.unknown
    return _stored(record, seen[0], seen[0], created, updated)


def fail(record, message: str):
    """An upload whose processing stopped without an outcome (its job failed or its worker died): it
    is marked failed with the reason, stored nothing, and the same file may be sent again."""
    type(record).objects.filter(pk=record.pk, status=UploadRecord.Status.PENDING).update(
        status=UploadRecord.Status.FAILED, message=message, finished_at=timezone.now())


def _stored(record, row_count: int, total_stored: int, created: int, updated: int):
    unchanged = total_stored - created - updated
    note = ""
    if record.unknown_columns:
        note = f" 已忽略的列 ignored columns: {'、'.join(record.unknown_columns)}"
    Status = UploadRecord.Status
    status = Status.STORED if (created or updated) else Status.UNCHANGED
    message = (f"已入库：新增 {created:,}，更新 {updated:,}，无变化 {unchanged:,}。"
               f"Stored: {created:,} new, {updated:,} updated, {unchanged:,} unchanged." if status == "stored" else
               f"文件中的 {unchanged:,} 行与已有数据完全一致，未做任何更改。"
               f"All {unchanged:,} rows already match what is stored; nothing was changed.")
    return _finish(record, status, message + note, rows_total=row_count, rows_created=created,
                   rows_updated=updated, rows_unchanged=unchanged)


def _finish(record, status, message, **counts):
    record.status = status
    record.message = message
    record.finished_at = timezone.now()
    for k, v in counts.items():
        setattr(record, k, v)
    record.save()
    return record


def _write_reports(importer, record, errors, schema):
    base = upload_dir(importer.name) / f"{record.pk}-errors"
    for ext in ("xlsx", "csv"):
        write_error_report(errors, f"{base}.{ext}", schema)
    record.error_report = str(base)


def read_errors(record, limit: int = 500) -> list[dict]:
    """The first ``limit`` errors of a refused upload, for its page."""
    path = Path(record.error_report + ".csv")
    if not record.error_report or not path.exists():
        return []
    out = []
    for _, cells in read_table(path).rows():
        cells = cells + [""] * (5 - len(cells))
        out.append({"row": cells[0] or None, "column": cells[1], "value": cells[2], "zh": cells[3], "en": cells[4]})
        if len(out) >= limit:
            break
    return out


class _Replacements:
    """The audit records of rows an upload replaced: the fields that changed, before and after
    (personal identifiers masked as the model's ``AUDIT_MASK`` says)."""

    def __init__(self, model, key, actor, record, now):
        from . import audit

        self.model, self.key, self.record, self.now = model, key, record, now
        self.mask = getattr(model, "AUDIT_MASK", {})
        self.plain = audit._plain
        self.label = audit.actor_label(actor)
        self.user = actor if getattr(actor, "is_authenticated", False) else None
        self.events = []

    def _shown(self, field, value):
        return self.plain(self.mask[field](value) if field in self.mask and value else value)

    def add(self, pk, key_values, old: dict, new: dict, fields) -> None:
        from .models import AuditEvent

        diff = [f for f in fields if old[f] != new[f]]
        self.events.append(AuditEvent(
            actor=self.user, actor_label=self.label, action="update", model=self.model._meta.label,
            object_id=str(pk), object_repr="/".join(str(v) for v in key_values)[:300],
            before={f: self._shown(f, old[f]) for f in diff}, after={f: self._shown(f, new[f]) for f in diff},
            note=f"上传更正 replaced by upload #{self.record.pk}", at=self.now,
        ))

    def save(self, batch_size: int = 2000) -> None:
        from .models import AuditEvent

        AuditEvent.objects.bulk_create(self.events, batch_size=batch_size)


def _stamps(model, now, extra) -> dict:
    stamp = {"updated_at": now} if any(f.name == "updated_at" for f in model._meta.fields) else {}
    stamp.update(extra or {})
    return stamp


def upsert(model, rows: list[dict], key: tuple[str, ...], fields: tuple[str, ...], existing: dict, actor, record,
           *, extra: dict | None = None, now=None, batch_size: int = 2000) -> tuple[int, int]:
    """Create the rows whose key is not in ``existing`` and replace those whose fields differ, each
    replacement audited with its values before and after. ``existing`` maps key tuples to
    ``{"id": pk, **fields}`` of the stored rows (``fields`` alone when the key is the primary key);
    ``extra`` values (e.g. the upload) are written on created and replaced rows but never compared.
    Returns (created, updated)."""
    now = now or timezone.now()
    replaced = _Replacements(model, key, actor, record, now)
    new, changed = [], []
    stamp = _stamps(model, now, extra)
    for row in rows:
        k = tuple(row[f] for f in key)
        old = existing.get(k)
        values = {f: row[f] for f in fields}
        if old is None:
            new.append(model(**{f: row[f] for f in key}, **values, **stamp))
            continue
        if any(old[f] != values[f] for f in fields):
            surrogate = {"id": old["id"]} if "id" in old else {}  # else the key is the primary key
            changed.append(model(**surrogate, **{f: row[f] for f in key}, **values, **stamp))
            replaced.add(old["id"] if surrogate else _natural_id(k), k, old, values, fields)
    model.objects.bulk_create(new, batch_size=batch_size)
    if changed:
        model.objects.bulk_update(changed, [*fields, *stamp], batch_size=500)
        replaced.save(batch_size)
    return len(new), len(changed)


def _natural_id(values) -> str:
    """An audit record's ``object_id`` for a row whose primary key is these columns' values (a payment:
    ``loan_id,accrual_start``)."""
    return ",".join(str(v) for v in values)


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
    """``upsert`` for PostgreSQL, set-based. ``frames`` (one polars frame, or an iterable of them, read
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
    from .columnar import CopyStream, Declined, read_query

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
    stamp = _stamps(model, now, extra)
    inserted_stamp = dict(stamp)
    if any(f.name == "created_at" for f in model._meta.fields):
        inserted_stamp["created_at"] = now
    bulk = bool(references) and (rows_hint or 0) >= settings.HUIQI_BULK_LOAD_ROWS and _read_committed()
    rebuild = bulk and rows_hint >= _rows_held(table)
    replaced = _Replacements(model, key, actor, record, now)
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
        stream = CopyStream(cur.cursor, table, model)

        def read_stored(values, frame_schema):
            if not surrogate and created_count:
                raise Declined("stored rows to read after this load wrote some, by a natural key")
            return read_query(f"SELECT {'m.id' if surrogate else '1'} AS {held_mark}, "
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
                        replaced.add(row["id"] if surrogate else _natural_id(row[c] for c in ident),
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
            raise Declined("a stored key twice in the file")
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
    from .columnar import copy_frame

    cur.execute(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS {like} WITH NO DATA")
    copy_frame(cur.cursor, name, frame, **copy_options)
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
