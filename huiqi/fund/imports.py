"""A channel's status file through the upload pipeline (``core.uploads``): what it disbursed and was repaid,
the extensions it agreed and the applications it closed, one event per row, named by application number.

Columns (Chinese or English header, any order, extra columns ignored and reported):

| key | 中文表头 | rule |
| --- | --- | --- |
| application_no | 申请编号 | an application of the sender's own channel |
| event | 事项 | tranche / principal / interest / extension / close (放款 / 还本 / 付息 / 展期 / 结清) |
| date | 日期 | the tranche's, the repayment's or the close's day; for an extension, the day it was agreed |
| amount | 金额（元） | > 0, 2 places: required for tranche, principal, interest |
| maturity_date | 展期后到期日 | required for extension: later than the current maturity |
| note | 说明 | required for extension |

A principal repayment before maturity is an early repayment, at maturity a regular one: the schedule tells
them apart by the day. Rows are applied in the file's order, each through the service of the page's action
(``add_tranche``, ``record_repayment``, ``extend``, ``close``), so a row may rely on the rows above it (a
repayment of a tranche paid higher up). The file is checked by applying every row in a transaction that is
then rolled back: every refusal is reported with its row and column, and nothing is kept unless every row
passes. A number that is not among the sender's applications is refused the same way whether or not it
exists at the other channel."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, jobs, uploads
from huiqi.core.errors import DomainError, InvalidFields, PermissionDenied
from huiqi.core.i18n import stored, stored_error
from huiqi.core.money import yuan_to_fen
from huiqi.core.tabular import (Column, FileRejected, RowError, Schema, parse_choice, parse_date, parse_decimal,
                                parse_text, read_table)

from . import selectors, services
from .models import Repayment, StatusUpload

EVENTS = {"tranche": _("放款"), "principal": _("还本"), "interest": _("付息"), "extension": _("展期"),
          "close": _("结清")}
SPELLINGS = {"tranche": "tranche", "principal": "principal", "interest": "interest", "extension": "extension",
             "close": "close", "还本金": "principal", "归还本金": "principal", "提前还本": "principal",
             "支付利息": "interest"}
NEEDS_AMOUNT = {"tranche", "principal", "interest"}

# A service's refusal names its input; in the file that is one of these columns.
_COLUMN_OF = {"day": "date", "date": "date", "amount": "amount", "maturity_date": "maturity_date", "note": "note",
              "kind": "event", "state": "event"}

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


def apply_row(actor, application, row: dict):
    """One row through the service of the page's action."""
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


def _row_errors(row: dict, exc: DomainError) -> list[RowError]:
    out = []
    for e in exc.errors if isinstance(exc, InvalidFields) else [exc]:
        column = _COLUMN_OF.get(e.field) if e.field else None
        value = row.get(column) if column else None
        out.append(RowError.of(row["_row"], column, "" if value is None else str(value), e.msgid, **e.params))
    return out


class StatusImporter(uploads.Importer):
    """放款、还款、展期、结清 by application number, all rows or none."""

    name = "fund-status"
    chunk_size = MAX_ROWS

    def __init__(self, actor):
        self.actor = actor
        self.applications: dict[str, int] = {}

    def schema(self) -> Schema:
        return status_schema()

    def same_file_scope(self, model):
        institution = getattr(self.actor, "institution_id", None)
        return model.objects.filter(institution_id=institution)

    def row_checks(self, row: dict):
        event = row.get("event")
        if event in NEEDS_AMOUNT and row.get("amount") is None:
            yield ("amount", _("%(event)s须填写金额"), {"event": EVENTS[event]})
        if event == "extension":
            if row.get("maturity_date") is None:
                yield ("maturity_date", _("展期须填写展期后到期日"), {})
            if not row.get("note"):
                yield ("note", _("展期须说明理由"), {})

    def check_chunk(self, rows: list[dict]) -> list[RowError]:
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
        # A dry run: every row through its service in file order, each in a savepoint, all rolled back.
        with transaction.atomic():
            records = {pk: app for pk, app in
                       ((a.pk, a) for a in selectors.applications_for(self.actor).filter(pk__in=own.values()))}
            for r in runnable:
                try:
                    with transaction.atomic():
                        apply_row(self.actor, records[own[r["application_no"]]], r)
                except DomainError as exc:
                    errors.extend(_row_errors(r, exc))
            transaction.set_rollback(True)
        return errors

    def build(self, rows):
        for r in rows:
            yield {**r, "application_id": self.applications[r["application_no"]]}

    @transaction.atomic
    def store(self, targets, actor, record):
        records = {a.pk: a for a in selectors.applications_for(actor).filter(
            pk__in={t["application_id"] for t in targets})}
        for t in sorted(targets, key=lambda t: t["_row"]):
            apply_row(actor, records[t["application_id"]], t)
        audit.record(actor, "import", record, after={"kind": self.name, "file": record.file_name,
                                                     "digest": record.digest, "created": len(targets), "updated": 0})
        return len(targets), 0


def _allowed(actor) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm("fund.upload_status"):
        raise PermissionDenied("fund.upload_status", _("只有实施机构（渠道）的工作人员可以报送本渠道的办理情况文件"))


def _rows_at_most(record, n: int) -> bool:
    """Whether the file has at most ``n`` data rows (one that cannot be read is refused at once)."""
    try:
        for i, _row in enumerate(read_table(record.stored_path, record.file_name).rows()):
            if i >= n:
                return False
    except FileRejected:
        pass
    return True


def start_upload(actor, upload, *, inline_limit: int | None = None) -> StatusUpload:
    """Receive a channel's status file: small files are processed at once, large ones as a background job
    with progress."""
    _allowed(actor)
    importer = StatusImporter(actor)
    record = uploads.save_upload(StatusUpload, importer, upload, actor,
                                 institution_id=getattr(actor, "institution_id", None))
    limit = settings.HUIQI_INLINE_IMPORT_BYTES if inline_limit is None else inline_limit
    if uploads.runs_inline(record, limit) and _rows_at_most(record, INLINE_ROWS):
        return process(record, actor)
    record.job = jobs.enqueue("fund.status_upload", {"upload_id": record.pk}, user=actor,
                              title=stored(_("基金办理情况文件：%(file)s"), file=record.file_name))
    record.save(update_fields=["job"])
    return record


def import_path(actor, path, progress=None) -> StatusUpload:
    """Headless import (``huiqi import fund-status FILE --as USER``) through the same path."""
    _allowed(actor)
    record = uploads.save_path(StatusUpload, StatusImporter(actor), path, actor,
                               institution_id=getattr(actor, "institution_id", None))
    return process(record, actor, progress)


def process(record, actor, progress=None) -> StatusUpload:
    """``uploads.process`` with the status importer. A row that a concurrent action made impossible after
    the file was checked stops the whole file (nothing of it kept), which is then marked failed."""
    try:
        return uploads.process(StatusImporter(actor), record, actor, progress)
    except DomainError as exc:
        uploads.fail(record, stored_error(exc))
        record.refresh_from_db()
        return record
