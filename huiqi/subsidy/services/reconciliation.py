"""The bank's reconciliation of a released batch, by two people (issue 16.11): one uploads the file
(``prepare_reconciliation``: checked whole, kept, nothing changes), another confirms it
(``confirm_reconciliation``: each payment it names becomes paid or failed, each change audited before and
after) or either sends it back (``reject_reconciliation``). A failed payment is owed again in the next
batch, so marking one failed moves money: no one does it alone."""

from __future__ import annotations

import os
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, PermissionDenied, ValidationFailed
from huiqi.core.i18n import Either, Joined, Message, stored
from huiqi.core.tabular import (
    Column,
    FileRejected,
    RowError,
    Schema,
    file_digest,
    parse_choice,
    parse_decimal,
    parse_text,
    validate,
)

from .. import rules
from ..models import (
    PAYMENT_TRANSITIONS,
    RECONCILIATION_TRANSITIONS,
    BatchStatus,
    PaymentStatus,
    ReconciliationStatus,
    SubsidyBatch,
    SubsidyPayment,
    SubsidyReconciliation,
)
from huiqi.core.permissions import require

from .common import _CHUNK, status_label


RECONCILE_STATUSES = {"paid": PaymentStatus.PAID, "已支付": PaymentStatus.PAID, "支付成功": PaymentStatus.PAID,
                      "成功": PaymentStatus.PAID, "failed": PaymentStatus.FAILED, "失败": PaymentStatus.FAILED,
                      "支付失败": PaymentStatus.FAILED}

RECONCILE_SCHEMA = Schema("subsidy_reconciliation", (
    Column("beneficiary_id", "受益人证件号码", parser=parse_text(18), example="91440300AY4CL12T24",
           help=_("支付文件中的受益人证件号码（统一社会信用代码或居民身份证号码）")),
    Column("status", "状态", aliases=("支付状态",), example=PaymentStatus.PAID.label,
           parser=parse_choice(RECONCILE_STATUSES, {PaymentStatus.PAID: PaymentStatus.PAID.label,
                                                    PaymentStatus.FAILED: PaymentStatus.FAILED.label}),
           help=_("银行回报的支付结果")),
    Column("amount", "金额", required=False, parser=parse_decimal(places=2, min=0), aliases=("金额（元）",),
           example="1234.56", help=_("可选：实付金额，须与支付文件一致，单位元")),
    Column("note", "备注", required=False, parser=parse_text(300), aliases=("失败原因", "reason"),
           help=_("可选：银行的说明，如支付失败的原因")),
))


def write_reconciliation_template(path, lang: str):
    """The reconciliation file's upload template (``core.tabular.write_template``)."""
    from huiqi.core.tabular import write_template

    return write_template(RECONCILE_SCHEMA, path, lang)


class ReconciliationRefused(ValidationFailed):
    """A reconciliation file with bad rows: nothing of it was applied. ``errors`` lists every bad row."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: e.row)
        shown = Joined(Message(_("第 %(row)s 行 %(column)s：%(reason)s"), row=e.row, column=e.column or "",
                               reason=Either(e.zh, e.en)) for e in self.errors[:5])
        more = len(self.errors) - 5
        if more > 0:
            super().__init__("subsidy.reconciliation_refused",
                             _("对账文件有 %(n)s 处错误，未做任何更改：%(shown)s；另有 %(more)s 处"),
                             n=len(self.errors), shown=shown, more=more)
        else:
            super().__init__("subsidy.reconciliation_refused", _("对账文件有 %(n)s 处错误，未做任何更改：%(shown)s"),
                             n=len(self.errors), shown=shown)


def _file_name(file) -> str:
    return Path(str(file)).name if isinstance(file, (str, os.PathLike)) else getattr(file, "name", "") or ""


def _not_in_batch(row: dict, locked: SubsidyBatch) -> RowError:
    return RowError.of(row["_row"], "beneficiary_id", row["beneficiary_id"],
                       _("%(beneficiary_id)s 不在批次 #%(pk)s 的支付文件中"),
                       beneficiary_id=row["beneficiary_id"], pk=locked.pk)


def _payment_status(status: str):
    return PaymentStatus(status).label


def _changes(locked: SubsidyBatch, rows: list[dict], payments: dict[str, SubsidyPayment],
             errors: list[RowError]) -> tuple[list[list], int]:
    """The payments the rows change ([beneficiary_id, new status, note, row]) and how many rows repeat a
    payment's status; every row that cannot apply is added to ``errors``."""
    changes, unchanged = [], 0
    for row in rows:
        payment = payments.get(row["beneficiary_id"])
        if payment is None:
            errors.append(_not_in_batch(row, locked))
            continue
        if row.get("amount") is not None and rules.fen_str(payment.payable_fen) != f"{row['amount']:.2f}":
            errors.append(RowError.of(row["_row"], "amount", str(row["amount"]),
                                   _("金额与支付文件不符（应为 %(payable_fen)s）"),
                                   payable_fen=rules.fen_str(payment.payable_fen)))
            continue
        new = row["status"]
        if payment.status == new:
            unchanged += 1
        elif (payment.status, new) in PAYMENT_TRANSITIONS:
            changes.append([payment.beneficiary_id, str(new), row.get("note") or "", row["_row"]])
        else:
            errors.append(RowError.of(
                row["_row"], "status", row["status"], _("该笔支付已对账为“%(status)s”，不能改为“%(new)s”"),
                status=_payment_status(payment.status), new=_payment_status(new)))
    return changes, unchanged


def _released(batch: SubsidyBatch) -> SubsidyBatch:
    locked = SubsidyBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != BatchStatus.RELEASED:
        raise Conflict("subsidy.reconcile_not_released", _("贴息批次 #%(pk)s 状态为“%(status)s”，只有已拨付的批次才能对账"),
                       field="status", pk=locked.pk, status=status_label(locked.status))
    return locked


def _open_payments(locked: SubsidyBatch) -> dict[str, SubsidyPayment]:
    return {p.beneficiary_id: p for p in SubsidyPayment.objects.select_for_update().filter(
        batch=locked, payable_fen__gt=0)}


@transaction.atomic
def prepare_reconciliation(actor, batch: SubsidyBatch, file) -> SubsidyReconciliation:
    """Upload the bank's reconciliation of a released batch (CSV/XLSX: beneficiary_id / 受益人证件号码,
    status / 状态 paid|failed (已支付|失败), optional amount / 金额 checked against the payment, note /
    备注), checked whole against the batch's payments: a file with a bad row is refused, every bad row
    named, and nothing of it is kept. A good one waits for another person's confirmation; no payment
    changes yet. One file waits per batch at a time."""
    require(actor, "subsidy.reconcile")
    locked = _released(batch)
    waiting = SubsidyReconciliation.objects.filter(batch=locked, status=ReconciliationStatus.PREPARED).first()
    if waiting is not None:
        raise Conflict(
            "subsidy.reconciliation_waiting",
            _("批次 #%(pk)s 的对账文件 #%(waiting_pk)s（%(file_name)s）尚待确认：请先确认或退回它"), field="file", pk=locked.pk,
            waiting_pk=waiting.pk, file_name=waiting.file_name)
    name = _file_name(file)
    try:
        result = validate(file, RECONCILE_SCHEMA, key=("beneficiary_id",),
                          filename=name if not isinstance(file, (str, os.PathLike)) else None)
    except FileRejected as exc:
        raise ReconciliationRefused([exc.as_row_error()]) from exc
    errors = list(result.errors)
    payments = _open_payments(locked)
    for row in result.bad:  # a bad row's beneficiary is checked too: one refusal names every problem
        if row["beneficiary_id"] is not None and row["beneficiary_id"] not in payments:
            errors.append(_not_in_batch(row, locked))
    changes, unchanged = _changes(locked, result.rows, payments, errors)
    if errors:
        raise ReconciliationRefused(errors)
    paid = sum(1 for c in changes if c[1] == PaymentStatus.PAID)
    rec = SubsidyReconciliation.objects.create(
        batch=locked, file_name=name[:255], file_sha256=file_digest(file), changes=changes, paid=paid,
        failed=len(changes) - paid, unchanged=unchanged, prepared_by=actor)
    audit.record(actor, "subsidy.reconciliation_prepared", locked, before=None,
                 after={"reconciliation": rec.pk, "file": rec.file_name, "sha256": rec.file_sha256,
                        "paid": rec.paid, "failed": rec.failed, "unchanged": unchanged},
                 note=stored(_("上传银行对账文件 #%(pk)s（%(file)s），待他人确认：将标记已支付 %(paid)s，失败 %(failed)s"),
                             pk=rec.pk, file=rec.file_name, paid=rec.paid, failed=rec.failed))
    return rec


def _locked_reconciliation(rec: SubsidyReconciliation, to: str) -> SubsidyReconciliation:
    locked = SubsidyReconciliation.objects.select_for_update().get(pk=rec.pk)
    if (locked.status, to) not in RECONCILIATION_TRANSITIONS:
        raise Conflict("subsidy.reconciliation_decided", _("对账文件 #%(pk)s 已“%(label)s”，不能再确认或退回"),
                       field="status", pk=locked.pk, label=ReconciliationStatus(locked.status).label)
    return locked


@transaction.atomic
def confirm_reconciliation(actor, rec: SubsidyReconciliation, *, note: str = "") -> SubsidyReconciliation:
    """prepared → confirmed, by someone other than who uploaded it: each payment the file changes becomes
    paid or failed (checked again against the payments as they are now; all or nothing), each change
    audited with its values before and after, and the batch's record names the file, its uploader and the
    counts."""
    require(actor, "subsidy.reconcile")
    locked = _locked_reconciliation(rec, ReconciliationStatus.CONFIRMED)
    if locked.prepared_by_id == actor.pk:
        raise PermissionDenied("subsidy.self_confirmation",
                               _("对账文件 #%(pk)s 由您上传，不能由您确认：须由上传人以外的人确认后才生效"), pk=locked.pk)
    batch = _released(locked.batch)
    payments = _open_payments(batch)
    rows = [{"beneficiary_id": b, "status": PaymentStatus(status), "note": text, "_row": row}
            for b, status, text, row in locked.changes]
    errors: list[RowError] = []
    changes, _unchanged = _changes(batch, rows, payments, errors)
    if errors or len(changes) != len(locked.changes):
        raise ReconciliationRefused(errors or [RowError.of(0, None, "", _("支付状态已变化，请退回后重新上传"))])
    now = clock.now()
    audited = []
    for beneficiary_id, new, text, _row in changes:
        payment = payments[beneficiary_id]
        before = audit.snapshot(payment)
        payment.status, payment.reconciled_at, payment.reconciled_by, payment.reconcile_note = new, now, actor, text
        audited.append((payment, before, audit.snapshot(payment)))
    SubsidyPayment.objects.bulk_update([p for p, _b, _a in audited],
                                       ["status", "reconciled_at", "reconciled_by", "reconcile_note"],
                                       batch_size=_CHUNK)
    preparer = locked.prepared_by.get_username() if locked.prepared_by else "—"
    audit.record_each(actor, "subsidy.payment_reconciled", audited,
                      note=stored(_("银行对账文件 #%(pk)s（%(file)s），%(preparer)s 上传、%(confirmer)s 确认"),
                                  pk=locked.pk, file=locked.file_name, preparer=preparer,
                                  confirmer=actor.get_username()))
    locked.status, locked.decided_by, locked.decided_at, locked.note = (
        ReconciliationStatus.CONFIRMED, actor, now, note.strip())
    locked.save()
    pending = sum(1 for p in payments.values() if p.status == PaymentStatus.PENDING)
    audit.record(actor, "subsidy.reconcile", batch, before=None,
                 after={"reconciliation": locked.pk, "file": locked.file_name, "prepared_by": preparer,
                        "paid": locked.paid, "failed": locked.failed, "unchanged": locked.unchanged,
                        "pending": pending},
                 note=stored(_("确认银行对账 #%(pk)s（%(preparer)s 上传）：已支付 %(paid)s，失败 %(failed)s，无变化 %(unchanged)s"),
                             pk=locked.pk, preparer=preparer, paid=locked.paid, failed=locked.failed,
                             unchanged=locked.unchanged))
    return locked


@transaction.atomic
def reject_reconciliation(actor, rec: SubsidyReconciliation, *, note: str = "") -> SubsidyReconciliation:
    """prepared → rejected (sent back, or withdrawn by its uploader): nothing of it is applied, and another
    file may be uploaded."""
    require(actor, "subsidy.reconcile")
    locked = _locked_reconciliation(rec, ReconciliationStatus.REJECTED)
    locked.status, locked.decided_by, locked.decided_at, locked.note = (
        ReconciliationStatus.REJECTED, actor, clock.now(), note.strip())
    locked.save()
    audit.record(actor, "subsidy.reconciliation_rejected", locked.batch, before=None,
                 after={"reconciliation": locked.pk, "file": locked.file_name, "note": note.strip()},
                 note=stored(_("退回银行对账文件 #%(pk)s（%(file)s），未做任何更改：%(note)s") if note.strip()
                             else _("退回银行对账文件 #%(pk)s（%(file)s），未做任何更改"),
                             pk=locked.pk, file=locked.file_name, note=note.strip()))
    return locked
