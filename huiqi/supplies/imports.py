"""The directory file (生产企业目录文件) the bureau sends through the upload pipeline (``core.uploads``): one row
per producer and product, each producer's rows through the directory's services, all rows or none.

| key | 中文表头 | rule |
| --- | --- | --- |
| uscc | 统一社会信用代码 | an enterprise of the registry |
| active_from | 列入目录日期 | the first listed day |
| active_to | 有效期至 | optional: the last listed day (removal) |
| removal_reason | 移出原因 | required when 有效期至 is given |
| converted | 转产 | 是/否 (blank: 否) |
| contact_name | 联系人 | optional |
| contact_phone | 联系电话 | optional: digits, spaces and +-() |
| product | 产品代码 | a product of the catalogue, once per producer |
| capacity_per_day | 日产能 | a whole number ≥ 0 in the product's unit |
| reported_from | 报告起始日 | optional (default: 列入目录日期) |
| reported_to | 报告截止日 | optional |

The producer's columns (列入目录日期 to 联系电话) must read the same on every row of one producer. A producer
not yet in the directory is listed (``services.list_producer_until``); one whose entry differs is updated
(``services.update_producer``); each row's product line is set (``services.set_product``) when it is new or
differs. The file is checked by applying every producer in a transaction that is then rolled back, so every
refusal is reported with its row and column, and nothing is kept unless every row passes. The same file
sent again changes nothing (refused as identical by its digest)."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, jobs, uploads
from huiqi.core.errors import DomainError, PermissionDenied, ValidationFailed
from huiqi.core.i18n import stored, stored_error
from huiqi.core.identifiers import validate_uscc
from huiqi.core.tabular import (Column, RowError, Schema, parse_bool_yn, parse_date, parse_int, parse_text)

from . import selectors, services
from .models import DirectoryUpload

# The producer's columns: the same on every row of one producer.
PRODUCER_COLUMNS = ("active_from", "active_to", "removal_reason", "converted", "contact_name", "contact_phone")
# A service's refusal names its input; in the file that is one of these columns.
COLUMNS = {"uscc": "uscc", "active_from": "active_from", "active_to": "active_to", "reason": "removal_reason",
           "contact_phone": "contact_phone", "product": "product", "capacity_per_day": "capacity_per_day",
           "reported_from": "reported_from", "reported_to": "reported_to"}
# Producers are applied in the file's order and rows of one producer may be far apart: one chunk.
MAX_ROWS = 200_000


def _product_codes():
    return [(p.code, p.label_with_unit) for p in selectors.products()]


def directory_schema() -> Schema:
    return Schema("supplies-directory", (
        Column("uscc", "统一社会信用代码", parser=parse_text(30), example="91440300MA5XXXXXXX",
               help=_("生产企业的统一社会信用代码，须在企业名录中")),
        Column("active_from", "列入目录日期", parser=parse_date(), example="2020-01-25",
               help=_("列入目录的第一天")),
        Column("active_to", "有效期至", required=False, parser=parse_date(), example="",
               help=_("移出目录的最后一天；不填为长期有效")),
        Column("removal_reason", "移出原因", required=False, parser=parse_text(300), example="",
               help=_("填写有效期至时必填")),
        Column("converted", "转产", required=False, parser=parse_bool_yn(), aliases=("转产企业",),
               example=_("否"), help=_("是否为转产企业：是或否，不填为否")),
        Column("contact_name", "联系人", required=False, parser=parse_text(50), example=_("张三")),
        Column("contact_phone", "联系电话", required=False, parser=parse_text(30), example="0755-88880000"),
        Column("product", "产品代码", parser=parse_text(20), example="MASK-SURG",
               help=_("防疫物资目录中的产品代码，同一企业每种产品一行"), codes=_product_codes),
        Column("capacity_per_day", "日产能", parser=parse_int(), example="200000",
               help=_("按产品的计量单位，每天的产量，不小于 0 的整数")),
        Column("reported_from", "报告起始日", required=False, parser=parse_date(), example="",
               help=_("不填则为列入目录日期")),
        Column("reported_to", "报告截止日", required=False, parser=parse_date(), example=""),
    ))


def _entry(row: dict) -> dict:
    """A row's producer columns as the services take them."""
    return {"active_from": row["active_from"], "active_to": row.get("active_to"),
            "removal_reason": (row.get("removal_reason") or "") if row.get("active_to") else "",
            "converted": bool(row.get("converted")), "contact_name": row.get("contact_name") or "",
            "contact_phone": row.get("contact_phone") or ""}


def _line(row: dict) -> services.ProductLine:
    return services.ProductLine(row["product"], row["capacity_per_day"], row.get("reported_from"),
                                row.get("reported_to"))


def _same(column: str, row: dict):
    """A producer column's value as rows are compared: a blank 转产 is 否, a blank text is empty."""
    value = row.get(column)
    if column == "converted":
        return bool(value)
    return value or "" if column in ("removal_reason", "contact_name", "contact_phone") else value


def _normal(uscc: str) -> str:
    try:
        return validate_uscc(uscc)
    except ValidationFailed:
        return uscc.strip().upper()


class DirectoryImporter(uploads.Importer):
    """生产企业目录文件: each producer's rows through the directory's services in the file's order, checked by
    a dry run (every step in a savepoint, all rolled back) and stored by the same calls once every row
    passes."""

    name = "supplies-directory"
    key = ("uscc", "product")
    chunk_size = MAX_ROWS

    def __init__(self, actor):
        self.actor = actor

    def schema(self) -> Schema:
        return directory_schema()

    def row_checks(self, row: dict):
        if row.get("active_to") is not None and not row.get("removal_reason"):
            yield ("removal_reason", _("填写有效期至（移出目录）时须说明原因"), {})

    def _groups(self, rows: list[dict]) -> tuple[list[RowError], list[list[dict]]]:
        """The rows by producer in the file's order, with the refusals of rows that disagree with their
        producer's first row; a producer with a row that cannot run is left out (its cells say why)."""
        errors: list[RowError] = []
        groups: dict[str, list[dict]] = {}
        for r in sorted(rows, key=lambda r: r["_row"]):
            if r.get("uscc") is None:
                continue
            groups.setdefault(_normal(r["uscc"]), []).append(r)
        runnable = []
        for group in groups.values():
            first, ok = group[0], True
            for r in group:
                if None in (r.get("active_from"), r.get("product"), r.get("capacity_per_day")):
                    ok = False
                    continue
                for column in PRODUCER_COLUMNS:
                    if r is not first and _same(column, r) != _same(column, first):
                        ok = False
                        shown = first.get(column)
                        errors.append(RowError.of(
                            r["_row"], column, "" if r.get(column) is None else str(r[column]),
                            _("同一企业 %(uscc)s 各行的%(name)s须一致：第 %(first)s 行为“%(expected)s”"),
                            uscc=first["uscc"], name=directory_schema().column(column).zh, first=first["_row"],
                            expected="" if shown is None else shown))
            if ok:
                runnable.append(group)
        return errors, runnable

    def check_chunk(self, rows: list[dict]) -> list[RowError]:
        errors, groups = self._groups(rows)
        with transaction.atomic():
            for group in groups:
                errors += _apply(self.actor, group, check=True)[0]
            transaction.set_rollback(True)
        return errors

    def build(self, rows):
        return rows

    @transaction.atomic
    def store(self, targets, actor, record):
        _errors, groups = self._groups(targets)
        created = updated = 0
        for group in groups:
            _e, c, u = _apply(actor, group, check=False)
            created, updated = created + c, updated + u
        audit.record(actor, "import", record, after={"kind": self.name, "file": record.file_name,
                                                     "digest": record.digest, "created": created,
                                                     "updated": updated})
        return created, updated


def _step(check: bool, errors: list, row: dict, call):
    """Run ``call``; in a check, inside a savepoint, its refusal noted on ``row`` (None returned)."""
    if not check:
        return call()
    try:
        with transaction.atomic():
            return call()
    except DomainError as exc:
        errors.extend(uploads.service_row_errors(row, exc, COLUMNS))
        return None


def _apply(actor, group: list[dict], *, check: bool) -> tuple[list[RowError], int, int]:
    """One producer's rows: listed or its entry updated (the first row's columns), then each row's product
    line. Returns the refusals (a check's) and the rows created (a new line) and updated (a changed line,
    or any row of a producer whose entry changed)."""
    errors: list[RowError] = []
    first = group[0]
    entry = _entry(first)
    producer = selectors.producer_of(_normal(first["uscc"]))
    entry_changed = False
    if producer is None:
        producer = _step(check, errors, first, lambda: services.list_producer_until(
            actor, first["uscc"], entry["active_from"], active_to=entry["active_to"],
            removal_reason=entry["removal_reason"], converted=entry["converted"],
            contact_name=entry["contact_name"], contact_phone=entry["contact_phone"]))
        if producer is None:
            return errors, 0, 0
    elif any(getattr(producer, f) != entry[f] for f in ("active_from", "active_to", "converted", "contact_name",
                                                       "contact_phone")) \
            or producer.removal_reason != entry["removal_reason"]:
        entry_changed = True
        current = producer
        producer = _step(check, errors, first, lambda: services.update_producer(
            actor, current, active_from=entry["active_from"], active_to=entry["active_to"],
            converted=entry["converted"], contact_name=entry["contact_name"], contact_phone=entry["contact_phone"],
            removal_reason=entry["removal_reason"]))
        if producer is None:
            return errors, 0, 0
    lines = {line.product.code: line for line in producer.products.select_related("product")}
    created = updated = 0
    for r in group:
        line, old = _line(r), lines.get(r["product"].strip())
        new = (line.capacity_per_day, line.reported_from or producer.active_from, line.reported_to)
        if old is not None and (old.capacity_per_day, old.reported_from, old.reported_to) == new:
            updated += entry_changed
            continue
        if _step(check, errors, r, lambda: services.set_product(actor, producer, line)) is not None:
            created, updated = created + (old is None), updated + (old is not None)
    return errors, created, updated


def _allowed(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm("supplies.manage_directory"):
        raise PermissionDenied("supplies.manage_directory", _("只有市工业和信息化局可以上传生产企业目录文件"))


def start_upload(actor, upload, *, inline_limit: int | None = None) -> DirectoryUpload:
    """Receive a directory file: small files are processed at once, large ones as a background job with
    progress."""
    _allowed(actor)
    record = uploads.save_upload(DirectoryUpload, DirectoryImporter(actor), upload, actor)
    limit = settings.HUIQI_INLINE_IMPORT_BYTES if inline_limit is None else inline_limit
    if uploads.runs_inline(record, limit):
        return process(record, actor)
    record.job = jobs.enqueue("supplies.directory_upload", {"upload_id": record.pk}, user=actor,
                              title=stored(_("生产企业目录文件：%(file)s"), file=record.file_name))
    record.save(update_fields=["job"])
    return record


def import_path(actor, path, progress=None) -> DirectoryUpload:
    """Headless import (``huiqi import supplies-directory FILE --as USER``) through the same path."""
    _allowed(actor)
    record = uploads.save_path(DirectoryUpload, DirectoryImporter(actor), path, actor)
    return process(record, actor, progress)


def process(record, actor, progress=None) -> DirectoryUpload:
    """``uploads.process`` with the directory's importer. A row that a concurrent change made impossible after
    the file was checked stops the whole file (nothing of it kept), which is then marked failed."""
    try:
        return uploads.process(DirectoryImporter(actor), record, actor, progress)
    except DomainError as exc:
        uploads.fail(record, stored_error(exc))
        record.refresh_from_db()
        return record
