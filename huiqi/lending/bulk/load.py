"""The columnar pass of an upload: ``ColumnarImporter``, and ``store_file`` which runs it.

An importer that inherits ``ColumnarImporter`` (after its own base, so that its own hooks come first)
implements ``core.uploads.Importer.bulk_store`` by this pass on PostgreSQL, and supplies four hooks of
its own:

``frame_prepare(batches)``
    Before the write's transaction: read what ``frame_checks`` needs (``batches`` is the file's
    ``columnar.CsvBatches``, its first batch read). Optional.
``frame_prepare_locked(batches)``
    Inside the write's transaction, once ``store_frame`` holds its table's lock (or else before its
    first batch): read the stored rows the batches refer to. Optional.
``frame_checks(frame) -> frame``
    One batch's parsed columns turned into the rows to store, on a thread of its own (no database):
    raise ``columnar.Declined`` wherever the row path would report an error.
``store_frame(frames, actor, record, rows_hint, locked) -> (created, updated)``
    Store the checked batches as they come (an iterable), calling ``locked()`` (when given) once it
    holds its table's lock and before it reads anything; usually ``store.upsert_frame``.

Anything declined in any batch, or refused by the database (a key twice in the file, a concurrent
write), rolls the whole write back, and the row path reads the file as before.
"""

from __future__ import annotations

import itertools
import logging
import threading
from pathlib import Path

import polars as pl
from django.db import IntegrityError, connection, transaction

from huiqi.core import formats
from huiqi.core.i18n import EN, ZH, render
from huiqi.core.uploads import BulkStored, Importer

from . import columnar

logger = logging.getLogger(__name__)

# How many batches the columnar pass parses ahead while the rows they refer to are read (the payments'
# 300,000 loans: 0.15-0.25 s, in which one batch used to be parsed, then the thread waited).
PARSED_AHEAD = 3


class ColumnarImporter(Importer):
    """An importer whose clean CSV files are read by columns and stored set-based on PostgreSQL."""

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

    def bulk_store(self, record, actor, progress=None) -> BulkStored | None:
        if connection.vendor != "postgresql":
            return None  # SQLite: the row path (batched inserts) is the bulk path there
        return store_file(self, record, actor, progress)


def example_texts(schema) -> dict[str, list[str]]:
    """The text columns' values in the template's example row (``Column.example``), in either language."""
    texts = {}
    for col in schema.columns:
        if col.example and getattr(col.parser, "kind", None) == "text":
            texts[col.key] = sorted({render(col.example, None, language).strip() for language in (ZH, EN)})
    return texts


def refuse_example(frame, examples: dict[str, list[str]]):
    """The batch, unless a row of it holds the template's example in every text column that has one:
    the row path refuses that row (``tabular.EXAMPLE_ROW``), so the columnar pass declines the file."""
    keys = [k for k in examples if k in frame.columns]
    if keys:
        hit = pl.all_horizontal([pl.col(k).is_in(examples[k]) for k in keys])
        if frame.select(hit.fill_null(False).any()).item():
            raise columnar.Declined("the template's example row")
    return frame


def store_file(importer: ColumnarImporter, record, actor, progress=None) -> BulkStored | None:
    """The columnar pass over the file of ``record``; None when it declines (the row path then reads it).

    The file is read in batches (``columnar.CsvBatches``) on a thread of its own, each batch checked
    there (``frame_checks``, which needs no database: ``frame_prepare`` and then, under the write's
    lock, ``frame_prepare_locked`` have read what it needs) while the batch before it is stored on this
    thread, in the one transaction of the upload: the reading and checking of a large file overlap its
    writing. Anything declined, in any batch, rolls the whole write back."""
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
                         f"已校验 {formats.count(seen[0])} 行 validated {formats.count(seen[0])} rows")
            yield frame

    try:
        if progress:
            progress(0, total, "按列读取 reading by columns", force=True)
        schema = importer.schema()
        batches = columnar.CsvBatches(Path(record.stored_path), schema)
        examples = example_texts(schema)

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
                    yield importer.frame_checks(refuse_example(parsed.pop(0), examples))

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
    return BulkStored(rows=seen[0], created=created, updated=updated, unknown_columns=batches.unknown)
