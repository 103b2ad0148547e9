"""The registry extract upload (企业名录): its schema, and storing a file whole or not at all.

The contract is ``specs/bank-data-exchange.md``: any bad row refuses the whole file with a report
naming every bad row, column and reason; a good file is stored whole; the same file again changes
nothing and says so. Validation streams the file; the write is one transaction, and on PostgreSQL
new rows go in through ``COPY``.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from huiqi.core import audit
from huiqi.core.errors import ValidationFailed
from huiqi.core.identifiers import uscc_entity_kind, validate_uscc
from huiqi.core.models import AuditEvent
from huiqi.core.money import wan_to_fen
from huiqi.core.tabular import (
    CellError,
    Column,
    FileRejected,
    Schema,
    file_digest,
    parse_choice,
    parse_decimal,
    parse_int,
    parse_text,
    validate,
    write_error_report,
)

from . import rules
from .models import District, Enterprise, Industry, RegistryImport

KIND_CHOICES = {
    "enterprise": "enterprise", "企业": "enterprise",
    "individual_business": "individual_business", "个体工商户": "individual_business", "个体": "individual_business",
}


def _uscc_cell(value: str) -> str:
    try:
        return validate_uscc(value)
    except ValidationFailed as exc:
        raise CellError(exc.zh, exc.en, code=exc.code) from None


def _district_cell():
    names = {}
    for d in District.objects.all():
        names[d.code.upper()] = d.code
        names[d.name] = d.code

    def parse(value: str) -> str:
        code = names.get(value.strip().upper()) or names.get(value.strip())
        if code is None:
            raise CellError(f"未知的区代码 {value}（应为 440303–440311、DP 或 SS）",
                            f"unknown district code {value} (expected 440303–440311, DP or SS)")
        return code

    return parse


def _industry_cell():
    known = set(Industry.objects.exclude(level="section").values_list("code", flat=True))

    def parse(value: str) -> str:
        code = value.strip().upper()
        try:
            rules.industry_group(code)
        except ValidationFailed as exc:
            raise CellError(exc.zh, exc.en, code=exc.code) from None
        if code not in known:
            # A finer code (C3911) is filed under its division, or the group the standard splits.
            for candidate in (code[:4], code[:3]):
                if candidate in known:
                    return candidate
            raise CellError(f"未知的行业代码 {value}", f"unknown industry code {value}")
        return code

    return parse


def registry_schema() -> Schema:
    """The columns of the registry extract, English key and Chinese header each."""
    this_year = timezone.localdate().year
    return Schema("registry", (
        Column("uscc", "统一社会信用代码", parser=_uscc_cell),
        Column("name", "企业名称", parser=parse_text(200)),
        Column("kind", "主体类型", parser=parse_choice(KIND_CHOICES)),
        Column("district", "所属区", parser=_district_cell()),
        Column("industry", "行业代码", parser=_industry_cell()),
        Column("employees", "从业人员（人）", required=False, parser=parse_int(min=0), aliases=("从业人员",)),
        Column("revenue", "营业收入（万元）", required=False, parser=parse_decimal(places=6, min=0),
               aliases=("营业收入",)),
        Column("assets", "资产总额（万元）", required=False, parser=parse_decimal(places=6, min=0),
               aliases=("资产总额",)),
        Column("figures_year", "数据年度", parser=parse_int(min=2000, max=this_year)),
    ))


def _row_checks(row: dict):
    kind = uscc_entity_kind(row["uscc"])
    if kind != row["kind"]:
        yield ("kind",
               f"主体类型与统一社会信用代码前两位 {row['uscc'][:2]} 不符（企业为 91，个体工商户为 92）",
               f"kind does not match the USCC prefix {row['uscc'][:2]} (91 enterprise, 92 individual business)")


def import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports" / "registry"
    path.mkdir(parents=True, exist_ok=True)
    return path


FIELDS = ("name", "kind", "district_id", "industry_id", "employees", "revenue_fen", "assets_fen", "figures_year",
          "size_class", "size_missing", "size_year")


def process(record: RegistryImport, actor, progress=None) -> RegistryImport:
    """Validate the stored file of ``record`` and store it whole, or refuse it with a report.

    ``progress(done, total, message, force=False)`` hears how far validation has read (in bytes)."""
    path = Path(record.stored_path)
    earlier = (RegistryImport.objects.filter(digest=record.digest, status__in=[RegistryImport.Status.STORED,
                                                                                RegistryImport.Status.UNCHANGED])
               .exclude(pk=record.pk).order_by("uploaded_at").first())
    if earlier is not None:
        return _finish(record, RegistryImport.Status.UNCHANGED,
                       f"此文件与第 {earlier.pk} 次导入（{timezone.localtime(earlier.uploaded_at):%Y-%m-%d %H:%M}）"
                       f"的文件完全相同，未做任何更改。This file is identical to import #{earlier.pk}; "
                       "nothing was changed.", rows_total=earlier.rows_total, rows_unchanged=earlier.rows_total)
    schema = registry_schema()
    last = [0, None]

    def on_progress(rows_done, bytes_done, bytes_total):
        last[:] = [bytes_done, bytes_total]
        if progress:
            progress(bytes_done, bytes_total, f"已校验 {rows_done:,} 行 validated {rows_done:,} rows")

    try:
        result = validate(path, schema, row_validator=_row_checks, key=("uscc",), filename=record.file_name,
                          progress=on_progress)
    except FileRejected as exc:
        _write_reports(record, [exc.as_row_error()], schema)
        return _finish(record, RegistryImport.Status.REFUSED, exc.message, error_count=1)
    record.unknown_columns = result.unknown_columns
    if not result.ok:
        _write_reports(record, result.errors, schema)
        return _finish(
            record, RegistryImport.Status.REFUSED,
            f"文件有 {len(result.bad_rows):,} 行错误（共 {len(result.errors):,} 处），整个文件未入库。"
            f"The file has errors in {len(result.bad_rows):,} rows ({len(result.errors):,} in all); nothing was stored.",
            rows_total=result.row_count, error_count=len(result.errors),
        )
    if progress:
        progress(last[0], last[1], f"校验通过，写入 {len(result.rows):,} 行 valid; writing {len(result.rows):,} rows",
                 force=True)
    created, updated, unchanged = _store(result.rows, actor, record)
    note = ""
    if result.unknown_columns:
        note = f" 已忽略的列 ignored columns: {'、'.join(result.unknown_columns)}"
    status = RegistryImport.Status.STORED if (created or updated) else RegistryImport.Status.UNCHANGED
    message = (f"已入库：新增 {created:,}，更新 {updated:,}，无变化 {unchanged:,}。"
               f"Stored: {created:,} new, {updated:,} updated, {unchanged:,} unchanged." if status == "stored" else
               f"文件中的 {unchanged:,} 家企业与名录完全一致，未做任何更改。"
               f"All {unchanged:,} enterprises already match the registry; nothing was changed.")
    return _finish(record, status, message + note, rows_total=result.row_count, rows_created=created,
                   rows_updated=updated, rows_unchanged=unchanged)


def _finish(record, status, message, **counts) -> RegistryImport:
    record.status = status
    record.message = message
    record.finished_at = timezone.now()
    for k, v in counts.items():
        setattr(record, k, v)
    record.save()
    return record


def _write_reports(record, errors, schema):
    base = import_dir() / f"{record.pk}-errors"
    for ext in ("xlsx", "csv"):
        write_error_report(errors, f"{base}.{ext}", schema)
    record.error_report = str(base)


def _targets(rows):
    """Row dicts → the stored values, size class computed by the standard of each row's year."""
    industries = {i.code: i for i in Industry.objects.all()}
    standards: dict[int, dict] = {}
    from .services import classify, size_standard

    for row in rows:
        year = row["figures_year"]
        if year not in standards:
            standards[year] = size_standard(year)
        revenue = wan_to_fen(row["revenue"]) if row["revenue"] is not None else None
        assets = wan_to_fen(row["assets"]) if row["assets"] is not None else None
        size = classify(industries[row["industry"]], row["employees"], revenue, assets, year, standards[year],
                        explain=False)
        yield row["uscc"], {
            "name": row["name"], "kind": row["kind"], "district_id": row["district"],
            "industry_id": row["industry"], "employees": row["employees"], "revenue_fen": revenue,
            "assets_fen": assets, "figures_year": year, "size_class": size.size_class,
            "size_missing": ",".join(size.missing), "size_year": year,
        }


@transaction.atomic
def _store(rows, actor, record) -> tuple[int, int, int]:
    """Create new enterprises, update changed ones (each update audited before/after), count the rest."""
    targets = dict(_targets(rows))
    existing = {}
    codes = list(targets)
    for i in range(0, len(codes), 5000):
        for values in Enterprise.objects.filter(uscc__in=codes[i:i + 5000]).values("id", "uscc", *FIELDS):
            existing[values.pop("uscc")] = values
    now = timezone.now()
    new = [(code, t) for code, t in targets.items() if code not in existing]
    changed = []
    for code, t in targets.items():
        old = existing.get(code)
        if old is not None and any(old[f] != t[f] for f in FIELDS):
            changed.append((code, old, t))
    _create(new, now)
    if changed:
        objs = [Enterprise(id=old["id"], uscc=code, updated_at=now, **t) for code, old, t in changed]
        Enterprise.objects.bulk_update(objs, [*FIELDS, "updated_at"], batch_size=2000)
        user = actor if getattr(actor, "is_authenticated", False) else None
        label = audit.actor_label(actor)
        AuditEvent.objects.bulk_create([
            AuditEvent(actor=user, actor_label=label, action="update", model="registry.Enterprise",
                       object_id=str(old["id"]), object_repr=f"{t['name']}（{code}）",
                       before={k: old[k] for k in FIELDS if old[k] != t[k]},
                       after={k: t[k] for k in FIELDS if old[k] != t[k]},
                       note=f"名录导入 registry import #{record.pk}", at=now)
            for code, old, t in changed
        ], batch_size=2000)
    if new or changed:
        audit.record(actor, "import", record, after={
            "file": record.file_name, "digest": record.digest, "created": len(new), "updated": len(changed),
        }, note="新增企业按文件逐行入库，文件保存在导入记录中 new enterprises stored row by row as in the file")
    return len(new), len(changed), len(targets) - len(new) - len(changed)


def _create(new, now):
    if not new:
        return
    if connection.vendor == "postgresql":
        columns = ("uscc", *FIELDS, "is_key_enterprise", "created_at", "updated_at")
        with connection.cursor() as cur:
            with cur.connection.cursor().copy(
                f"COPY registry_enterprise ({', '.join(columns)}) FROM STDIN"
            ) as copy:
                for code, t in new:
                    copy.write_row((code, *(t[f] for f in FIELDS), False, now, now))
        return
    Enterprise.objects.bulk_create(
        [Enterprise(uscc=code, created_at=now, updated_at=now, **t) for code, t in new], batch_size=2000
    )


def save_upload(upload, user) -> RegistryImport:
    """Keep the uploaded bytes (streamed to disk) and open an import record for them."""
    record = RegistryImport.objects.create(file_name=Path(upload.name).name[:255], digest="", uploaded_by=user)
    target = import_dir() / f"{record.pk}-{dt.datetime.now():%Y%m%d%H%M%S}{Path(upload.name).suffix.lower()[:8]}"
    size = 0
    with open(target, "wb") as out:
        for chunk in (upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")):
            size += len(chunk)
            out.write(chunk)
    record.stored_path = str(target)
    record.size_bytes = size
    record.digest = file_digest(target)
    record.save(update_fields=["stored_path", "size_bytes", "digest"])
    return record


def save_path(path: Path, user) -> RegistryImport:
    with open(path, "rb") as f:
        return save_upload(_NamedFile(f, Path(path).name), user)


class _NamedFile:
    def __init__(self, f, name):
        self._f, self.name = f, name

    def read(self, n=-1):
        return self._f.read(n)


def read_errors(record: RegistryImport, limit: int = 500) -> list[dict]:
    """The first ``limit`` errors of a refused import, for the page."""
    from huiqi.core.tabular import read_table

    path = Path(record.error_report + ".csv")
    if not path.exists():
        return []
    out = []
    for _, cells in read_table(path).rows():
        cells = cells + [""] * (5 - len(cells))
        out.append({"row": cells[0] or None, "column": cells[1], "value": cells[2], "zh": cells[3], "en": cells[4]})
        if len(out) >= limit:
            break
    return out
