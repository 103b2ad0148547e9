"""The bank's reconciliation of a released batch: each payment paid or failed."""

from __future__ import annotations

import os
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from huiqi.core import audit
from huiqi.core.errors import Conflict, ValidationFailed
from huiqi.core.tabular import (
    Column,
    FileRejected,
    RowError,
    Schema,
    parse_choice,
    parse_decimal,
    parse_text,
    validate,
)

from .. import rules
from ..models import PAYMENT_TRANSITIONS, BatchStatus, PaymentStatus, SubsidyBatch, SubsidyPayment
from .common import _CHUNK, _require, _status_en, _status_zh


RECONCILE_STATUSES = {"paid": PaymentStatus.PAID, "已支付": PaymentStatus.PAID, "支付成功": PaymentStatus.PAID,
                      "成功": PaymentStatus.PAID, "failed": PaymentStatus.FAILED, "失败": PaymentStatus.FAILED,
                      "支付失败": PaymentStatus.FAILED}

RECONCILE_SCHEMA = Schema("subsidy_reconciliation", (
    Column("beneficiary_id", "受益人证件号码", parser=parse_text(18)),
    Column("status", "状态", parser=parse_choice(RECONCILE_STATUSES), aliases=("支付状态",)),
    Column("amount", "金额", required=False, parser=parse_decimal(places=2, min=0), aliases=("金额（元）",)),
    Column("note", "备注", required=False, parser=parse_text(300), aliases=("失败原因", "reason")),
))


class ReconciliationRefused(ValidationFailed):
    """A reconciliation file with bad rows: nothing of it was applied. ``errors`` lists every bad row."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: e.row)
        shown = "；".join(f"第 {e.row} 行 {e.column or ''}：{e.zh}" for e in self.errors[:5])
        shown_en = "; ".join(f"row {e.row} {e.column or ''}: {e.en}" for e in self.errors[:5])
        more = len(self.errors) - 5
        super().__init__(
            "subsidy.reconciliation_refused",
            f"对账文件有 {len(self.errors)} 处错误，未做任何更改：{shown}" + (f"；另有 {more} 处" if more > 0 else ""),
            f"the reconciliation file has {len(self.errors)} errors; nothing was changed: {shown_en}"
            + (f"; and {more} more" if more > 0 else ""),
        )


@transaction.atomic
def reconcile(actor, batch: SubsidyBatch, file) -> dict[str, int]:
    """Apply the bank's reconciliation of a released batch (CSV/XLSX: beneficiary_id / 受益人证件号码,
    status / 状态 paid|failed (已支付|失败), optional amount / 金额 checked against the payment, note /
    备注): each pending payment becomes paid or failed; a repeat of the same status changes nothing.
    A failed payment is owed again in the next batch. The file applies whole or not at all."""
    _require(actor, "subsidy.reconcile")
    locked = SubsidyBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != BatchStatus.RELEASED:
        raise Conflict("subsidy.reconcile_not_released",
                       f"贴息批次 #{locked.pk} 状态为“{_status_zh(locked.status)}”，只有已拨付的批次才能对账",
                       f"subsidy batch #{locked.pk} is '{_status_en(locked.status)}'; only a released batch can be "
                       "reconciled", field="status")
    try:
        result = validate(file, RECONCILE_SCHEMA, key=("beneficiary_id",),
                          filename=getattr(file, "name", None) if not isinstance(file, (str, os.PathLike)) else None)
    except FileRejected as exc:
        raise ReconciliationRefused([exc.as_row_error()]) from exc
    errors = list(result.errors)
    payments = {p.beneficiary_id: p for p in SubsidyPayment.objects.select_for_update().filter(
        batch=locked, payable_fen__gt=0)}
    changes: list[tuple[SubsidyPayment, str, str]] = []
    unchanged = 0
    for row in result.rows:
        payment = payments.get(row["beneficiary_id"])
        if payment is None:
            errors.append(RowError(row["_row"], "beneficiary_id", row["beneficiary_id"],
                                   f"{row['beneficiary_id']} 不在批次 #{locked.pk} 的支付文件中",
                                   f"{row['beneficiary_id']} is not in the payment file of batch #{locked.pk}"))
            continue
        if row["amount"] is not None and rules.fen_str(payment.payable_fen) != f"{row['amount']:.2f}":
            errors.append(RowError(row["_row"], "amount", str(row["amount"]),
                                   f"金额与支付文件不符（应为 {rules.fen_str(payment.payable_fen)}）",
                                   f"the amount differs from the payment file ({rules.fen_str(payment.payable_fen)})"))
            continue
        new = row["status"]
        if payment.status == new:
            unchanged += 1
        elif (payment.status, new) in PAYMENT_TRANSITIONS:
            changes.append((payment, new, row["note"] or ""))
        else:
            errors.append(RowError(
                row["_row"], "status", row["status"],
                f"该笔支付已对账为“{PaymentStatus(payment.status).label.split(' ')[0]}”，不能改为"
                f"“{PaymentStatus(new).label.split(' ')[0]}”",
                f"this payment is already reconciled as {payment.status} and cannot become {new}"))
    if errors:
        raise ReconciliationRefused(errors)
    now = timezone.now()
    for payment, new, note in changes:
        payment.status = new
        payment.reconciled_at = now
        payment.reconciled_by = actor
        payment.reconcile_note = note
    SubsidyPayment.objects.bulk_update([c[0] for c in changes],
                                       ["status", "reconciled_at", "reconciled_by", "reconcile_note"],
                                       batch_size=_CHUNK)
    counts = {"paid": sum(1 for c in changes if c[1] == PaymentStatus.PAID),
              "failed": sum(1 for c in changes if c[1] == PaymentStatus.FAILED),
              "unchanged": unchanged,
              "pending": sum(1 for p in payments.values() if p.status == PaymentStatus.PENDING)}
    name = Path(str(file)).name if isinstance(file, (str, os.PathLike)) else getattr(file, "name", "")
    audit.record(actor, "subsidy.reconcile", locked, before=None,
                 after={"batch": locked.pk, "file": name, **counts},
                 note=f"银行对账：已支付 {counts['paid']}，失败 {counts['failed']}，无变化 {unchanged} "
                      f"bank reconciliation: {counts['paid']} paid, {counts['failed']} failed, {unchanged} unchanged")
    return counts
