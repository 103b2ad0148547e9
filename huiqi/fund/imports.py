"""What a channel sends by file, through the upload pipeline (``core.uploads``): two kinds, each row
through the service of the page's action, all rows or none.

**申请登记 (applications)**: the applications the channel received, one per row, each through
``services.register`` with the same checks as the page (input, pre-check, one live application per
enterprise across the channels, the cap); the channel is the sender's institution.

| key | 中文表头 | rule |
| --- | --- | --- |
| uscc | 统一社会信用代码 | 18 characters, check digit |
| amount_wan | 申请金额（万元） | > 0, at most 6 places (whole fen), at most the cap per enterprise |
| term_months | 申请期限（月） | 1..max_term_months |
| received_date | 受理日期 | the day the channel received it |
| impact | 疫情影响说明 | the enterprise's declaration (a blank one fails the pre-check, as on the page) |
| purpose | 资金用途 | optional |

**办理情况 (status)**: what the channel disbursed and was repaid, the extensions it agreed and the
applications it closed, one event per row, named by application number.

| key | 中文表头 | rule |
| --- | --- | --- |
| application_no | 申请编号 | an application of the sender's own channel |
| event | 事项 | tranche / principal / interest / extension / close (放款 / 还本 / 付息 / 展期 / 结清) |
| date | 日期 | the tranche's, the repayment's or the close's day; for an extension, the day it was agreed |
| amount | 金额（元） | > 0, 2 places: required for tranche, principal, interest |
| maturity_date | 展期后到期日 | required for extension: later than the current maturity |
| note | 说明 | required for extension |

Headers in Chinese or English, any order; extra columns are ignored and reported. A principal repayment
before maturity is an early repayment, at maturity a regular one: the schedule tells them apart by the day.
Rows are applied in the file's order, so a row may rely on the rows above it (a repayment of a tranche paid
higher up; a second application of one enterprise lower down is refused as ``live_application_exists``).
The file is checked by applying every row in a transaction that is then rolled back: every refusal is
reported with its row and column, and nothing is kept unless every row passes. The same file sent again by
the same institution changes nothing (refused as identical by its digest). A number that is not among the
sender's applications is refused the same way whether or not it exists at the other channel."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock, jobs, uploads
from huiqi.core.errors import DomainError, PermissionDenied
from huiqi.core.i18n import stored, stored_error
from huiqi.core.money import wan_to_fen, yuan_to_fen
from huiqi.core.tabular import (Column, FileRejected, RowError, Schema, parse_choice, parse_date, parse_decimal,
                                parse_int, parse_text, read_table)

from . import selectors, services
from .models import Application, Repayment, StatusUpload

EVENTS = {"tranche": _("放款"), "principal": _("还本"), "interest": _("付息"), "extension": _("展期"),
          "close": _("结清")}
SPELLINGS = {"tranche": "tranche", "principal": "principal", "interest": "interest", "extension": "extension",
             "close": "close", "还本金": "principal", "归还本金": "principal", "提前还本": "principal",
             "支付利息": "interest"}
NEEDS_AMOUNT = {"tranche", "principal", "interest"}

# The rows are checked by applying them in order, which needs the whole file in one chunk.
MAX_ROWS = 200_000
# Each row goes through its service twice (the check, then the store): measured about 20 ms a row a pass on
# the embedded database (400 rows stored in 13–17 s on a busy two-core machine), so a file of more than a
# hundred rows is checked in the background, not in the request that sent it.
INLINE_ROWS = 100


def status_schema() -> Schema:
    return Schema("fund-status", (
        Column("application_no", "申请编号", parser=parse_text(20), example="HTI-000001",
               help=_("本机构渠道登记的申请编号")),
        Column("event", "事项", parser=parse_choice(SPELLINGS, EVENTS), example=_("放款"),
               help=_("放款、还本（提前或到期）、付息、展期、结清之一")),
        Column("date", "日期", parser=parse_date(), example="2020-03-16",
               help=_("放款、还款或结清的日期；展期为约定展期的日期")),
        Column("amount", "金额（元）", required=False, parser=parse_decimal(places=2, min=0, min_exclusive=True),
               aliases=("金额",), example="2550000.00", help=_("放款、还本、付息的金额，大于 0；展期、结清不填")),
        Column("maturity_date", "展期后到期日", required=False, parser=parse_date(), example="",
               help=_("展期时必填，须晚于原到期日")),
        Column("note", "说明", required=False, parser=parse_text(300), example="",
               help=_("展期时必填：展期理由")),
    ))


def applications_schema() -> Schema:
    return Schema("fund-applications", (
        Column("uscc", "统一社会信用代码", parser=parse_text(30), example="91440300MA5XXXXXXX",
               help=_("申请企业的统一社会信用代码")),
        Column("amount_wan", "申请金额（万元）", parser=parse_decimal(places=6, min=0, min_exclusive=True),
               aliases=("申请金额",), example="500",
               help=_("大于 0，最多 6 位小数（精确到分），单户累计不超过上限")),
        Column("term_months", "申请期限（月）", parser=parse_int(min=1), aliases=("申请期限",), example="12",
               help=_("1 到最长期限之间的整月数")),
        Column("received_date", "受理日期", parser=parse_date(), example="2020-03-02",
               help=_("本渠道受理申请的日期")),
        Column("impact", "疫情影响说明", required=False, parser=parse_text(2000),
               aliases=("疫情对企业现金流的影响",), example=_("疫情期间订单取消，现金流紧张"),
               help=_("疫情对企业现金流影响的说明；未填写的申请资格预审不通过")),
        Column("purpose", "资金用途", required=False, parser=parse_text(300), example=_("支付工资和原材料款"),
               help=_("选填")),
    ))


class ChannelFileImporter(uploads.Importer):
    """A channel's file whose rows are its staff's acts, each through the service of the page's action in the
    file's order: checked by a dry run of every row (each in a savepoint, all rolled back), stored by the same
    calls once every row passes. Subclasses name the file (``kind``), its schema, which rows can run
    (``runnable``) and how one runs (``apply``); ``columns`` maps a service's field to the file's column."""

    kind = ""
    columns: dict[str, str] = {}
    chunk_size = MAX_ROWS
    # The file being stored (``store``): a row may record where it came from. None in the dry run.
    record = None

    def __init__(self, actor):
        self.actor = actor

    def same_file_scope(self, model):
        institution = getattr(self.actor, "institution_id", None)
        return model.objects.filter(institution_id=institution, kind=self.kind)

    def runnable(self, rows: list[dict]) -> tuple[list[RowError], list[dict]]:
        """The refusals found before any service runs, and the rows to run (those whose cells parsed)."""
        raise NotImplementedError

    def context(self, actor, rows: list[dict]):
        """What every row's ``apply`` shares (read once, inside the transaction)."""
        return None

    def apply(self, actor, row: dict, context):
        raise NotImplementedError

    def check_chunk(self, rows: list[dict]) -> list[RowError]:
        errors, runnable = self.runnable(rows)
        with transaction.atomic():
            context = self.context(self.actor, runnable)
            for r in sorted(runnable, key=lambda r: r["_row"]):
                try:
                    with transaction.atomic():
                        self.apply(self.actor, r, context)
                except DomainError as exc:
                    errors.extend(uploads.service_row_errors(r, exc, self.columns))
            transaction.set_rollback(True)
        return errors

    def build(self, rows):
        return rows

    @transaction.atomic
    def store(self, targets, actor, record):
        self.record = record
        context = self.context(actor, targets)
        for t in sorted(targets, key=lambda t: t["_row"]):
            self.apply(actor, t, context)
        audit.record(actor, "import", record, after={"kind": self.name, "file": record.file_name,
                                                     "digest": record.digest, "created": len(targets), "updated": 0})
        return len(targets), 0


def apply_row(actor, application, row: dict):
    """One status row through the service of the page's action."""
    event = row["event"]
    if event == "tranche":
        return services.add_tranche(actor, application, day=row["date"], amount_fen=yuan_to_fen(row["amount"]))
    if event in ("principal", "interest"):
        kind = Repayment.Kind.PRINCIPAL if event == "principal" else Repayment.Kind.INTEREST
        return services.record_repayment(actor, application, day=row["date"], kind=kind,
                                         amount_fen=yuan_to_fen(row["amount"]))
    if event == "extension":
        return services.extend(actor, application, maturity_date=row["maturity_date"], note=row["note"] or "")
    return services.close(actor, application, day=row["date"])


class StatusImporter(ChannelFileImporter):
    """放款、还款、展期、结清 by application number, all rows or none."""

    name = "fund-status"
    kind = StatusUpload.Kind.STATUS
    # A service's refusal names its input; in the file that is one of these columns.
    columns = {"day": "date", "date": "date", "amount": "amount", "maturity_date": "maturity_date", "note": "note",
               "kind": "event", "state": "event"}

    def __init__(self, actor):
        super().__init__(actor)
        self.applications: dict[str, int] = {}

    def schema(self) -> Schema:
        return status_schema()

    def row_checks(self, row: dict):
        event = row.get("event")
        if event in NEEDS_AMOUNT and row.get("amount") is None:
            yield ("amount", _("%(event)s须填写金额"), {"event": EVENTS[event]})
        if event == "extension":
            if row.get("maturity_date") is None:
                yield ("maturity_date", _("展期须填写展期后到期日"), {})
            if not row.get("note"):
                yield ("note", _("展期须说明理由"), {})

    def runnable(self, rows):
        numbers = {r["application_no"] for r in rows if r.get("application_no")}
        own = dict(selectors.applications_for(self.actor).filter(number__in=numbers).values_list("number", "pk"))
        self.applications.update(own)
        errors: list[RowError] = []
        runnable = []
        for r in sorted(rows, key=lambda r: r["_row"]):
            number = r.get("application_no")
            if number is None:
                continue
            if number not in own:
                # The same words whether the number is another channel's or no one's.
                errors.append(RowError.of(r["_row"], "application_no", number,
                                          _("申请编号 %(number)s 不是本机构渠道的申请"), number=number))
                continue
            event = r.get("event")
            if event is None or r.get("date") is None or (event in NEEDS_AMOUNT and r.get("amount") is None) or (
                    event == "extension" and (r.get("maturity_date") is None or not r.get("note"))):
                continue  # its own cell errors say what is wrong
            runnable.append(r)
        return errors, runnable

    def context(self, actor, rows):
        ids = {self.applications[r["application_no"]] for r in rows}
        return {a.pk: a for a in selectors.applications_for(actor).filter(pk__in=ids)}

    def apply(self, actor, row, context):
        return apply_row(actor, context[self.applications[row["application_no"]]], row)


class ApplicationsImporter(ChannelFileImporter):
    """申请登记: the applications a channel received, each through ``services.register``, all rows or none;
    each application keeps the file it came from (``Application.upload``)."""

    name = "fund-applications"
    kind = StatusUpload.Kind.APPLICATIONS
    columns = {"uscc": "uscc", "amount": "amount_wan", "term_months": "term_months",
               "received_date": "received_date", "channel": "received_date", "impact": "impact"}

    def schema(self) -> Schema:
        return applications_schema()

    def runnable(self, rows):
        errors: list[RowError] = []
        runnable = []
        for r in sorted(rows, key=lambda r: r["_row"]):
            if None in (r.get("uscc"), r.get("amount_wan"), r.get("term_months"), r.get("received_date")):
                continue  # its own cell errors say what is wrong
            if _channel_on(self.actor, r["received_date"]) is None:
                errors.append(RowError.of(r["_row"], "received_date", str(r["received_date"]),
                                          _("本机构在受理日期 %(day)s 不是基金的渠道"), day=r["received_date"]))
                continue
            runnable.append(r)
        return errors, runnable

    def apply(self, actor, row, context):
        return services.register(actor, services.ApplicationInput(
            uscc=row["uscc"], channel=_channel_on(actor, row["received_date"]).code,
            requested_fen=wan_to_fen(row["amount_wan"]), term_months=row["term_months"],
            received_date=row["received_date"], impact=row.get("impact") or "", purpose=row.get("purpose") or "",
            source=Application.Source.FILE, upload=self.record))


def _channel_on(actor, day):
    """The fund's channel the sender's institution is on ``day`` (None when it is none)."""
    institution = getattr(actor, "institution", None)
    if institution is None:
        return None
    return selectors.params_on(day).channel_of_institution(institution.code)


@dataclass(frozen=True)
class FileKind:
    """One kind of file a channel sends: its importer, who may send it, and its words."""

    kind: str
    importer: type[ChannelFileImporter]
    permission: str
    refusal: object  # said to one who may not send it
    job_title: object


KINDS = {
    StatusUpload.Kind.STATUS: FileKind(
        StatusUpload.Kind.STATUS, StatusImporter, "fund.upload_status",
        _("只有实施机构（渠道）的工作人员可以报送本渠道的办理情况文件"), _("基金办理情况文件：%(file)s")),
    StatusUpload.Kind.APPLICATIONS: FileKind(
        StatusUpload.Kind.APPLICATIONS, ApplicationsImporter, "fund.upload_applications",
        _("只有实施机构（渠道）的工作人员可以报送本渠道受理的申请登记文件"), _("基金申请登记文件：%(file)s")),
}


def _allowed(actor, kind: FileKind) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(kind.permission):
        raise PermissionDenied(kind.permission, kind.refusal)
    if kind.kind == StatusUpload.Kind.APPLICATIONS and _channel_on(actor, clock.today()) is None:
        raise PermissionDenied(kind.permission, _("本机构不是基金的渠道，不能报送申请登记文件"))


def _rows_at_most(record, n: int) -> bool:
    """Whether the file has at most ``n`` data rows (one that cannot be read is refused at once)."""
    try:
        for i, _row in enumerate(read_table(record.stored_path, record.file_name).rows()):
            if i >= n:
                return False
    except FileRejected:
        pass
    return True


def start_upload(actor, upload, *, kind: str = StatusUpload.Kind.STATUS,
                 inline_limit: int | None = None) -> StatusUpload:
    """Receive a channel's file of ``kind``: small files are processed at once, large ones as a background job
    with progress."""
    file_kind = KINDS[kind]
    _allowed(actor, file_kind)
    record = uploads.save_upload(StatusUpload, file_kind.importer(actor), upload, actor, kind=kind,
                                 institution_id=getattr(actor, "institution_id", None))
    limit = settings.HUIQI_INLINE_IMPORT_BYTES if inline_limit is None else inline_limit
    if uploads.runs_inline(record, limit) and _rows_at_most(record, INLINE_ROWS):
        return process(record, actor)
    record.job = jobs.enqueue("fund.status_upload", {"upload_id": record.pk}, user=actor,
                              title=stored(file_kind.job_title, file=record.file_name))
    record.save(update_fields=["job"])
    return record


def import_path(actor, path, progress=None, *, kind: str = StatusUpload.Kind.STATUS) -> StatusUpload:
    """Headless import (``huiqi import fund-status|fund-applications FILE --as USER``) through the same path."""
    file_kind = KINDS[kind]
    _allowed(actor, file_kind)
    record = uploads.save_path(StatusUpload, file_kind.importer(actor), path, actor, kind=kind,
                               institution_id=getattr(actor, "institution_id", None))
    return process(record, actor, progress)


def process(record, actor, progress=None) -> StatusUpload:
    """``uploads.process`` with the importer of the record's kind. A row that a concurrent action made
    impossible after the file was checked stops the whole file (nothing of it kept), which is then marked
    failed."""
    try:
        return uploads.process(KINDS[record.kind].importer(actor), record, actor, progress)
    except DomainError as exc:
        uploads.fail(record, stored_error(exc))
        record.refresh_from_db()
        return record
