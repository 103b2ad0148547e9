"""The life of an uploaded file, the same for every kind (registry extract, bank loans, payments…).

``specs/bank-data-exchange.md``: an upload is one unit, stored whole or not at all; a refused file
gets a report naming every bad row, column and reason; the same file twice changes nothing and says
so; large files run as background jobs. An app describes its kind of file with an ``Importer``
(schema, checks, what to store) and an upload model built on ``UploadRecord``; this module does
the rest.

The row path reads every file: each row parsed and checked, errors reported by row and column, the
good rows stored by ``upsert`` (new rows created, changed ones replaced and audited). An importer
may also offer a faster path for the files it can take whole, by implementing one hook:

``Importer.bulk_store(record, actor, progress) -> BulkStored | None``
    Called once per upload, before the row path, with the upload's record (its file at
    ``record.stored_path``). Either store the file whole, in one transaction, and return what was
    stored (``BulkStored``: rows read, created, updated, the header's unknown columns); or return
    None having written nothing (roll back whatever was begun), and the row path reads the file as
    if the hook did not exist, writing the full error report if the file has errors. A bulk store
    must therefore store exactly what the row path would store, and decline anything the row path
    would refuse. It audits a replaced row as ``upsert`` does (``Replacements``, ``stamps``,
    ``natural_id`` are shared for that). ``progress`` is as for ``process``.

The bank ledger's importers implement it with a columnar pass and PostgreSQL's binary COPY
(``lending.bulk``); the other importers do not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import formats, tabular
from .i18n import Message, pick, stored, stored_error
from .tabular import FileRejected, RowError, Schema, iter_chunks, read_table, write_error_report


class UploadRecord(models.Model):
    """One uploaded file as received: refused with its error report, or stored whole."""

    class Status(models.TextChoices):
        PENDING = "pending", _("处理中")
        STORED = "stored", _("已入库")
        UNCHANGED = "unchanged", _("无变化")
        REFUSED = "refused", _("已拒绝")
        FAILED = "failed", _("处理中断")

    file_name = models.CharField(_("文件名"), max_length=255)
    digest = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(_("大小（字节）"), default=0)
    stored_path = models.CharField(_("保存位置"), max_length=500, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.PENDING)
    rows_total = models.IntegerField(_("数据行"), default=0)
    rows_created = models.IntegerField(_("新增"), default=0)
    rows_updated = models.IntegerField(_("更新"), default=0)
    rows_unchanged = models.IntegerField(_("无变化"), default=0)
    error_count = models.IntegerField(_("错误"), default=0)
    error_report = models.CharField(_("错误报告"), max_length=500, blank=True)
    message = models.TextField(_("结果"), blank=True)
    unknown_columns = models.JSONField(_("已忽略的列"), default=list, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            verbose_name=_("后台任务"))
    uploaded_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def error_report_formats(self) -> list[str]:
        """The formats the refusal report was written in: ``xlsx`` and ``csv``, or ``csv`` alone when it
        has more lines than Excel's rows."""
        if not self.error_report:
            return []
        return [ext for ext in ("xlsx", "csv") if Path(f"{self.error_report}.{ext}").exists()]


class Importer:
    """What one kind of file is and how it is stored. Subclasses set ``name`` and ``key`` and implement
    ``schema``, ``build`` and ``store``; ``row_checks`` and ``check_chunk`` add checks across fields
    and against the database; ``bulk_store`` may offer a faster path for whole files."""

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

    def bulk_store(self, record, actor, progress=None) -> BulkStored | None:
        """Store the file of ``record`` whole by a faster path than the row path, or return None having
        written nothing (the row path then reads the file). See the module's docstring."""
        return None


@dataclass(frozen=True)
class BulkStored:
    """What ``Importer.bulk_store`` stored: every row of the file read and stored (``rows``; those
    neither created nor updated were unchanged), and the header's columns it ignored."""

    rows: int
    created: int
    updated: int
    unknown_columns: list[str] = field(default_factory=list)


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
                       stored(_("此文件与第 %(pk)s 次上传（%(at)s）的文件完全相同，未做任何更改。"), pk=earlier.pk,
                              at=formats.beijing(earlier.uploaded_at)),
                       rows_total=earlier.rows_total, rows_unchanged=earlier.rows_total)
    bulk = importer.bulk_store(record, actor, progress)
    if bulk is not None:
        record.unknown_columns = bulk.unknown_columns
        return _stored(record, bulk.rows, bulk.rows, bulk.created, bulk.updated)
    schema = importer.schema()
    last = [0, None]

    def on_progress(rows_done, bytes_done, bytes_total):
        last[:] = [bytes_done, bytes_total]
        if progress:
            progress(bytes_done, bytes_total, f"已校验 {formats.count(rows_done)} 行 validated {formats.count(rows_done)} rows")

    errors: list[RowError] = []
    targets: list = []
    bad_rows: set[int] = set()
    good = 0
    header_row = 1
    try:
        table = read_table(record.stored_path, record.file_name)
        header_row = table.header_row
        record.unknown_columns = schema.match(table.header, table.header_row, strict=False).unknown_columns
        for chunk in iter_chunks(table, schema, importer.chunk_size, row_validator=importer.row_checks,
                                 key=importer.key, progress=on_progress):
            chunk_errors = list(chunk.errors)
            rows = chunk.rows
            # The checks against the database read the bad rows too, as far as they parsed, so that
            # an unknown reference is reported with the row's other problems, not after they are fixed.
            if rows or chunk.bad:
                more = importer.check_chunk(rows + list(chunk.bad)) if chunk.bad else importer.check_chunk(rows)
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
        # What was found before the file could not be read further is reported with it.
        errors.append(exc.as_row_error())
        _write_reports(importer, record, errors, schema)
        if len(errors) == 1:
            return _finish(record, Status.REFUSED, stored_error(exc), error_count=1)
        return _finish(record, Status.REFUSED,
                       stored(_("%(reason)s（另有 %(more)s 处错误，见错误报告）"), reason=Message(exc.msgid, **exc.params),
                              more=format(len(errors) - 1, ",")),
                       error_count=len(errors))
    row_count = good + len({r for r in bad_rows if r > header_row})  # the header's problems are not a data row
    if errors:
        _write_reports(importer, record, errors, schema)
        return _finish(
            record, Status.REFUSED,
            stored(_("文件有 %(rows)s 行错误（共 %(errors)s 处），整个文件未入库。"), rows=formats.count(len(bad_rows)),
                   errors=formats.count(len(errors))),
            rows_total=row_count, error_count=len(errors),
        )
    if progress:
        progress(last[0], last[1], stored(_("校验通过，写入 %(n)s 行"), n=formats.count(len(targets))), force=True)
    created, updated = importer.store(targets, actor, record)
    total_stored = len(targets)
    del targets
    return _stored(record, row_count, total_stored, created, updated)


def service_row_errors(row: dict, exc, columns: dict[str, str]) -> list[RowError]:
    """A service's refusal of a file's row (a ``DomainError``, several at once in ``InvalidFields``), which
    names its inputs, as the file's errors: each on the column (``columns``: input → column key) of its input."""
    from .errors import InvalidFields

    out = []
    for e in exc.errors if isinstance(exc, InvalidFields) else [exc]:
        column = columns.get(e.field) if e.field else None
        value = row.get(column) if column else None
        out.append(RowError.of(row["_row"], column, "" if value is None else str(value), e.msgid, **e.params))
    return out


def runs_inline(record, limit: int) -> bool:
    """Whether an upload is processed in the request that sent it: when what there is to read (a
    workbook's parts unpacked, as its archive declares them, not its compressed size) is at most
    ``limit`` bytes; else it runs as a background job."""
    return tabular.unpacked_size(record.stored_path) <= limit


def fail(record, message: str):
    """An upload whose processing stopped without an outcome (its job failed or its worker died): it
    is marked failed with the reason, stored nothing, and the same file may be sent again."""
    type(record).objects.filter(pk=record.pk, status=UploadRecord.Status.PENDING).update(
        status=UploadRecord.Status.FAILED, message=message, finished_at=timezone.now())


def _stored(record, row_count: int, total_stored: int, created: int, updated: int):
    unchanged = total_stored - created - updated
    Status = UploadRecord.Status
    status = Status.STORED if (created or updated) else Status.UNCHANGED
    counts = {"created": formats.count(created), "updated": formats.count(updated), "unchanged": formats.count(unchanged),
              "ignored": ", ".join(record.unknown_columns)}
    if status == Status.STORED:
        message = (_("已入库：新增 %(created)s，更新 %(updated)s，无变化 %(unchanged)s。已忽略的列：%(ignored)s")
                   if record.unknown_columns else _("已入库：新增 %(created)s，更新 %(updated)s，无变化 %(unchanged)s。"))
    else:
        message = (_("文件中的 %(unchanged)s 行与已有数据完全一致，未做任何更改。已忽略的列：%(ignored)s")
                   if record.unknown_columns else _("文件中的 %(unchanged)s 行与已有数据完全一致，未做任何更改。"))
    return _finish(record, status, stored(message, **counts), rows_total=row_count, rows_created=created,
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
    """The refusal report as CSV, and as XLSX too while Excel can hold it (a line per error)."""
    base = upload_dir(importer.name) / f"{record.pk}-errors"
    formats = ("xlsx", "csv") if len(errors) <= tabular.XLSX_MAX_DATA_ROWS else ("csv",)
    for ext in ("xlsx", "csv"):
        if ext in formats:
            write_error_report(errors, f"{base}.{ext}", schema)
        else:  # one left by an earlier run of this upload would be another report
            Path(f"{base}.{ext}").unlink(missing_ok=True)
    record.error_report = str(base)


REPORT_TITLES = (_("行号"), _("列"), _("值"), _("原因（中文）"), _("原因（英文）"))
"""The refusal report's column titles as a reader downloads it, in the reader's language (the reasons
stay in both: ``tabular.ERROR_REPORT_HEADER``'s columns, kept in the stored file)."""


def error_report_download(record, fmt: str, filename: str):
    """The refusal report of ``record`` as an attachment in ``fmt`` (one of ``record.error_report_formats``),
    its column titles in the reader's language. A CSV is the stored file with its first line replaced
    (streamed, whatever its size); an XLSX is written again from the stored CSV."""
    import csv
    import io

    from django.http import StreamingHttpResponse
    from django.utils.http import content_disposition_header

    from .downloads import file_download

    source = Path(f"{record.error_report}.csv")
    titles = [str(t) for t in REPORT_TITLES]
    if fmt == "csv":
        def chunks():
            first = io.StringIO()
            csv.writer(first).writerow(titles)
            yield first.getvalue().encode("utf-8-sig")
            with open(source, "rb") as f:
                f.readline()
                while block := f.read(1 << 20):
                    yield block

        response = StreamingHttpResponse(chunks(), content_type="text/csv")
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response

    def lines():
        with open(source, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            for cells in reader:
                cells += [""] * (5 - len(cells))
                row, column, value, zh, en = cells[:5]
                if value.startswith("'") and value[1:].startswith(tabular.FORMULA_START):
                    value = value[1:]  # the CSV's guard against formulas; an XLSX cell is text anyway
                yield (int(row) if row.isdigit() else None, column, value, zh, en)

    return file_download(lambda path: tabular.write_rows(path, titles, lines()), filename)


def read_errors(record, limit: int = 500) -> list[dict]:
    """The first ``limit`` errors of a refused upload, for its page."""
    path = Path(record.error_report + ".csv")
    if not record.error_report or not path.exists():
        return []
    out = []
    for _, cells in read_table(path).rows():
        cells = cells + [""] * (5 - len(cells))
        out.append({"row": cells[0] or None, "column": cells[1], "value": cells[2], "zh": cells[3], "en": cells[4],
                    "message": pick(cells[3], cells[4])})
        if len(out) >= limit:
            break
    return out


class Replacements:
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
            note=stored(_("上传更正（第 %(pk)s 次上传）"), pk=self.record.pk), at=self.now,
        ))

    def save(self, batch_size: int = 2000) -> None:
        from .models import AuditEvent

        AuditEvent.objects.bulk_create(self.events, batch_size=batch_size)


def stamps(model, now, extra) -> dict:
    """What a created or replaced row gets besides its fields: ``updated_at`` (when the model has one)
    and the ``extra`` values."""
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
    replaced = Replacements(model, key, actor, record, now)
    new, changed = [], []
    stamp = stamps(model, now, extra)
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
            replaced.add(old["id"] if surrogate else natural_id(k), k, old, values, fields)
    model.objects.bulk_create(new, batch_size=batch_size)
    if changed:
        model.objects.bulk_update(changed, [*fields, *stamp], batch_size=500)
        replaced.save(batch_size)
    return len(new), len(changed)


def natural_id(values) -> str:
    """An audit record's ``object_id`` for a row whose primary key is these columns' values (a payment:
    ``loan_id,accrual_start``)."""
    return ",".join(str(v) for v in values)
