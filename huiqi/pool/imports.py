"""The files a bank sends the pool through the upload pipeline (``core.uploads``): its loans' five-tier
classifications (五级分类), and its claims as the non-performing loans file of ``bank-data-exchange.md``
(one claim per row). Each file is stored whole or refused whole with every bad row named; the rules are
the services' (``ClassificationCheck``, ``check_claim``), the same the pages and the API use."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import cached_property
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, jobs, uploads
from huiqi.core.errors import DomainError, InvalidFields, PermissionDenied, ValidationFailed
from huiqi.core.i18n import stored, stored_error
from huiqi.core.money import yuan_to_fen
from huiqi.core.tabular import Column, RowError, Schema, parse_date, parse_decimal, parse_text
from huiqi.registry import selectors as registry

from . import services
from .models import PoolUpload

EXAMPLE_LOAN = _("示例-2020-0001")


def _bank_column(actor) -> Column:
    def codes():
        qs = registry.banks().order_by("code")
        if getattr(actor, "role", None) == "bank":
            qs = qs.filter(pk=actor.bank_id)
        return list(qs.values_list("code", "name"))

    return Column("bank_code", "银行机构代码", parser=parse_text(32), help=_("报送银行在平台登记的机构代码"),
                  example="ICBC-SZ", codes=codes)


def _loan_column() -> Column:
    return Column("loan_no", "贷款合同编号", parser=parse_text(64), help=_("本行贷款台账中的贷款合同编号"),
                  example=EXAMPLE_LOAN)


def _row_errors(row: dict, errors: list[DomainError]) -> list[RowError]:
    """A service's refusals of one row as the file's row errors, each under the column it names."""
    out = []
    for e in errors:
        column = e.field if e.field in row else None
        value = row.get(column) if column else None
        out.append(RowError.of(row["_row"], column, "" if value is None else str(value), e.msgid, **e.params))
    return out


class PoolImporter(uploads.Importer):
    def __init__(self, actor):
        self.actor = actor

    def same_file_scope(self, model):
        return model.objects.filter(kind=self.name)


class ClassificationImporter(PoolImporter):
    """五级分类: bank_code, loan_no, on (分类日期), tier (五级分类). A (loan, day) already reported with another
    tier is replaced (a correction, audited); the history of days is kept."""

    name = "classifications"
    key = ("bank_code", "loan_no", "on")

    @cached_property
    def check(self) -> services.ClassificationCheck:
        return services.ClassificationCheck(self.actor)

    def schema(self) -> Schema:
        return Schema("classifications", (
            _bank_column(self.actor), _loan_column(),
            Column("on", "分类日期", parser=parse_date(), example="2020-06-30",
                   help=_("该分类的日期（如季末），不早于放款日期、不晚于报送当天")),
            Column("tier", "五级分类", parser=services.tier_parser(), example=_("正常"),
                   help=_("正常、关注、次级、可疑、损失之一（也可填 1–5）；首次分为次级或更差的日期即不良认定日期")),
        ))

    def check_chunk(self, rows):
        self.check.read((r["bank_code"], r["loan_no"]) for r in rows)
        errors = []
        for r in rows:
            errors += _row_errors(r, self.check.errors(r["bank_code"], r["loan_no"], r["on"]))
        return errors

    def build(self, rows):
        for r in rows:
            yield {"loan_id": self.check.loan_id(r["bank_code"], r["loan_no"]), "on": r["on"], "tier": r["tier"]}

    def store(self, targets, actor, record):
        return services.store_classifications(actor, targets, record)


class ClaimImporter(PoolImporter):
    """不良贷款 (claims): bank_code, loan_no, npl_date, outstanding_principal, recovered; each row a claim filed
    by ``services.file_claim`` (the rules of ``services.check_claim``), all of them or none."""

    name = "claims"
    key = ("bank_code", "loan_no")

    def schema(self) -> Schema:
        return Schema("claims", (
            _bank_column(self.actor), _loan_column(),
            Column("npl_date", "不良认定日期", parser=parse_date(), example="2020-09-30",
                   help=_("认定为不良贷款的日期；已报送五级分类的，须为首次分为次级或更差的日期")),
            Column("outstanding_principal", "不良本金（元）", parser=parse_decimal(places=2, min=0, min_exclusive=True),
                   aliases=("不良本金",), example="800000.00", help=_("认定不良时的未还本金，不超过贷款金额")),
            Column("recovered", "已回收金额（元）", parser=parse_decimal(places=2, min=0), aliases=("已回收金额",),
                   example="50000.00", help=_("已回收的金额，不超过不良本金")),
        ))

    @staticmethod
    def claim_of(row) -> services.ClaimInput:
        return services.ClaimInput(
            row["bank_code"], row["loan_no"],
            yuan_to_fen(row["outstanding_principal"]) if row["outstanding_principal"] is not None else None,
            yuan_to_fen(row["recovered"]) if row["recovered"] is not None else None,
            npl_date=row["npl_date"])

    def check_chunk(self, rows):
        own = self.actor.bank_id if getattr(self.actor, "role", None) == "bank" else None
        banks = dict(registry.banks().values_list("code", "id"))
        errors = []
        for r in rows:
            if r["bank_code"] is None or r["loan_no"] is None:
                continue
            if r["bank_code"] not in banks:
                errors.append(RowError.of(r["_row"], "bank_code", r["bank_code"], _("未知的银行机构代码 %(code_text)s"),
                                          code_text=r["bank_code"]))
                continue
            if own is not None and banks[r["bank_code"]] != own:
                errors.append(RowError.of(r["_row"], "bank_code", r["bank_code"],
                                          _("只能报送本行的数据，%(code_text)s 不是本行"), code_text=r["bank_code"]))
                continue
            try:
                services.check_claim(self.actor, self.claim_of(r))
            except InvalidFields as exc:
                # A cell that did not parse has its own error: what the service says of its stand-in is left out.
                found = [e for e in exc.errors if e.field not in r or r[e.field] is not None]
                errors += _row_errors(r, found)
            except ValidationFailed as exc:
                errors += _row_errors(r, [exc])
        return errors

    def build(self, rows):
        for r in rows:
            yield self.claim_of(r)

    @transaction.atomic
    def store(self, targets, actor, record):
        for data in targets:
            services.file_claim(actor, data, upload=record)
        audit.record(actor, "import", record, after={"kind": record.kind, "file": record.file_name,
                                                     "digest": record.digest, "created": len(targets), "updated": 0})
        return len(targets), 0


IMPORTERS = {"classifications": ClassificationImporter, "claims": ClaimImporter}
PERMISSIONS = {"classifications": "pool.report_classification", "claims": "pool.file_claim"}


def start_upload(actor, kind: str, upload, *, inline_limit: int | None = None) -> PoolUpload:
    """Receive a bank's file: small files are processed at once, large ones as a background job with
    progress."""
    if kind not in IMPORTERS:
        raise ValidationFailed("pool.upload_kind", _("未知的文件类型 %(kind)s"), field="kind", value=kind, kind=kind)
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(PERMISSIONS[kind]):
        raise PermissionDenied("pool.upload", _("只有合作银行可以报送本行的五级分类和补偿申请文件"))
    importer = IMPORTERS[kind](actor)
    record = uploads.save_upload(PoolUpload, importer, upload, actor, kind=kind, bank_id=actor.bank_id)
    limit = settings.HUIQI_INLINE_IMPORT_BYTES if inline_limit is None else inline_limit
    if uploads.runs_inline(record, limit):
        return process(record, actor)
    record.job = jobs.enqueue("pool.upload", {"upload_id": record.pk}, user=actor,
                              title=stored(_("%(kind)s：%(file)s"), kind=PoolUpload.Kind(kind).label,
                                           file=record.file_name))
    record.save(update_fields=["job"])
    return record


def import_path(actor, kind: str, path, progress=None) -> PoolUpload:
    """Headless import (``huiqi import pool-classifications FILE``) through the same path."""
    record = uploads.save_path(PoolUpload, IMPORTERS[kind](actor), path, actor, kind=kind)
    return process(record, actor, progress)


def process(record, actor, progress=None) -> PoolUpload:
    """``uploads.process`` with this kind's importer. A claim that a concurrent filing made impossible after
    the file was checked stops the whole file (nothing of it kept), which is then marked failed with the
    reason."""
    try:
        return uploads.process(IMPORTERS[record.kind](actor), record, actor, progress)
    except DomainError as exc:
        uploads.fail(record, stored_error(exc))
        record.refresh_from_db()
        return record
