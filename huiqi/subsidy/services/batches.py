"""A batch on its four-eyes path: run (as a background job from the page and the API), review,
approve, release (the payment file), cancel."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit, clock, jobs
from huiqi.core.errors import Conflict, PermissionDenied, ValidationFailed
from huiqi.core.i18n import Joined, stored

from .. import rules
from ..partitions import LINE_LOAN, write_rows
from ..models import (
    BATCH_TRANSITIONS,
    OPEN_STATUSES,
    BatchStatus,
    PaymentStatus,
    SubsidyBatch,
    SubsidyLoanLine,
    SubsidyPayment,
)
from huiqi.core.permissions import require

from .common import status_label
from .compute import _compute, fraction_text
from .files import batch_dir, write_payment_files
from .parameters import params_for_cutoff

# pg_advisory_xact_lock key for "one batch run at a time" ('SUBS').
_RUN_LOCK = 0x53554253


def _lock_program() -> None:
    """Serialise batch runs. PostgreSQL: a transaction-level advisory lock; SQLite: the settings open
    every transaction with BEGIN IMMEDIATE, which already admits one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_RUN_LOCK])


def _check_may_run(cutoff: dt.date) -> None:
    """Refuse a run while another batch is open, or for a cutoff not after the last released batch's."""
    open_batch = SubsidyBatch.objects.filter(status__in=OPEN_STATUSES).order_by("id").first()
    if open_batch is not None:
        raise Conflict(
            "subsidy.batch_open", _("贴息批次 #%(pk)s（截至 %(cutoff)s）状态为“%(status)s”，尚未拨付或作废，不能再计算新批次"),
            pk=open_batch.pk, cutoff=open_batch.cutoff, status=status_label(open_batch.status),
        )
    last = SubsidyBatch.objects.filter(status=BatchStatus.RELEASED).order_by("-cutoff", "-id").first()
    if last is not None and cutoff <= last.cutoff:
        raise Conflict(
            "subsidy.cutoff_not_after_last", _("截止日期 %(cutoff)s 必须晚于上一已拨付批次 #%(pk)s 的截止日期 %(last_cutoff)s"),
            field="cutoff", cutoff=cutoff, pk=last.pk, last_cutoff=last.cutoff,
        )


RUN_JOB = "subsidy.run_batch"


def start_batch_run(actor, cutoff: dt.date, *, note: str = ""):
    """Queue ``run_batch`` as a background job with progress, for the page and the API alike: a batch
    reads the whole ledger, which is never done inside a web request. What can be refused without
    computing (permission, a cutoff outside the program, an open batch, the last release) is refused
    now; the job checks it again when it runs. Returns the job."""
    require(actor, "subsidy.run")
    params_for_cutoff(cutoff)
    _check_may_run(cutoff)
    return jobs.enqueue(RUN_JOB, {"cutoff": cutoff.isoformat(), "note": note}, user=actor,
                        title=stored(_("计算贴息批次（截至 %(cutoff)s）"), cutoff=cutoff.isoformat()))


def recorded_run(actor, cutoff: dt.date) -> SubsidyBatch | None:
    """The batch of this cutoff that ``actor`` ran and no one has reviewed yet, if it is the open one:
    what ``huiqi subsidy run`` run again finds after it crashed past the record (it writes that batch's
    files from the record instead of being refused)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return (SubsidyBatch.objects.filter(status=BatchStatus.RUN, cutoff=cutoff, created_by=actor)
            .order_by("-id").first())


def _columns(lines, fields) -> dict:
    """A batch's lines as one column per field: as ``rules.Lines`` holds them (a list, or the polars column
    the rules computed it in, which ``insert_columns`` takes as it is), else as lists."""
    if isinstance(lines, rules.Lines):
        return {f: lines.given(f) for f in fields}
    return {f: [getattr(x, f) for x in lines] for f in fields}


@transaction.atomic
def run_batch(actor, cutoff: dt.date, *, note: str = "", progress=None, job=None) -> SubsidyBatch:
    """Compute and record a batch up to ``cutoff`` with the parameters in force on it: every loan's
    line and every beneficiary's payment (bulk), the totals, an audit record. Bureau or admin, named
    (in the job of ``start_batch_run``, or ``--as`` on the command line): the one who ran a batch
    neither reviews nor approves it, so a batch is never recorded as the system's. Refused while another batch is
    open, for a cutoff not after the last released batch's, or for one outside the program's dates
    (``params_for_cutoff``). ``progress(done, total, message)`` hears of each of its three steps.

    Given the ``job`` that runs it, a batch that job recorded already is returned as it is: a worker
    killed after the record committed leaves its job to another, which then finishes with that batch."""
    require(actor, "subsidy.run")
    params = params_for_cutoff(cutoff)
    _lock_program()
    if job is not None:
        done = SubsidyBatch.objects.filter(run_job=job).first()
        if done is not None:
            return done
    _check_may_run(cutoff)
    step = progress or (lambda done, total, message: None)
    step(0, 3, "读取账本并计算 reading the ledger and computing")
    result, inputs = _compute(cutoff, params)
    loans_counted = int(pl.Series(_columns(result.loans, ("eligible",))["eligible"], dtype=pl.Boolean).sum())
    batch = SubsidyBatch.objects.create(
        cutoff=cutoff, params=params.as_mapping(), status=BatchStatus.RUN, created_by=actor, note=note,
        created_at=clock.now(), run_job=job,
        beneficiaries=len(result.beneficiaries), loans_counted=loans_counted,
        due_total_fen=result.due_total, payable_total_fen=result.payable_total,
        overpayment_total_fen=result.overpayment_total, spent_before_fen=inputs.spent_before_fen,
        budget_left_fen=result.budget_left, rationing_factor=fraction_text(result.rationing_factor),
        unspent_fen=result.unspent, over_budget=result.over_budget,
    )
    # As columns, one COPY each into the batch's own partition on PostgreSQL (``partitions.write_rows``): a
    # city's batch writes hundreds of thousands of lines, and building a model instance or a formatted row
    # for each took most of the run, then their entries in the indexes of every earlier batch's lines.
    batch_id = batch.pk
    step(1, 3, "写入贷款明细 recording the loan lines")
    loans = _columns(result.loans, rules.LoanLine._fields)
    write_rows(SubsidyLoanLine, batch_id, {
        "batch": [batch_id] * len(result.loans),
        "loan": inputs.loan_ids(loans["bank_code"], loans["loan_no"]),
        "beneficiary_id": loans["beneficiary_id"],
        "eligible": loans["eligible"],
        "reason": pl.Series(loans["reason"], dtype=pl.String).fill_null(""),
        # Whole fen already but for the few loans with a cut payment (a Fraction to round).
        "interest_counted_fen": [v if v is None or type(v) is int else rules.round_half_up(v)
                                 for v in loans["interest_counted"]],
        "subsidy_fen": loans["subsidy_fen"],
    }, references=(LINE_LOAN,))
    step(2, 3, "写入受益人 recording the beneficiaries")
    people = _columns(result.beneficiaries, rules.BeneficiaryLine._fields)
    pending, nothing = PaymentStatus.PENDING.value, PaymentStatus.NOTHING.value
    write_rows(SubsidyPayment, batch_id, {
        "batch": [batch_id] * len(result.beneficiaries),
        "beneficiary_id": people["beneficiary_id"],
        "name": [name[:200] for name in people["name"]],
        "kind": people["kind"],
        "loans_counted": people["loans_counted"],
        "interest_counted_fen": [v if type(v) is int else rules.round_half_up(v)
                                 for v in people["interest_counted"]],
        "subsidy_before_cap_fen": people["subsidy_before_cap"],
        "entitlement_fen": people["entitlement"],
        "paid_before_fen": people["paid_before"],
        "due_fen": people["due"],
        "payable_fen": people["payable"],
        "overpayment_fen": people["overpayment"],
        "status": [pending if v > 0 else nothing for v in people["payable"]],
        "reconcile_note": [""] * len(result.beneficiaries),
    })
    audit.record(actor, "subsidy.run", batch,
                 note=stored(_("计算贴息批次，贷款 %(loans)s 笔、受益人 %(beneficiaries)s 个"),
                             loans=len(result.loans), beneficiaries=len(result.beneficiaries)))
    return batch


# Why a batch cannot move to a status, by the status it was asked to move to.
_REFUSALS = {
    BatchStatus.REVIEWED: _("贴息批次 #%(pk)s 当前状态为“%(status)s”，不能复核；只有“%(allowed)s”的批次才能复核"),
    BatchStatus.APPROVED: _("贴息批次 #%(pk)s 当前状态为“%(status)s”，不能审批；只有“%(allowed)s”的批次才能审批"),
    BatchStatus.RELEASED: _("贴息批次 #%(pk)s 当前状态为“%(status)s”，不能拨付；只有“%(allowed)s”的批次才能拨付"),
    BatchStatus.CANCELLED: _("贴息批次 #%(pk)s 当前状态为“%(status)s”，不能作废；只有“%(allowed)s”的批次才能作废"),
}


def _locked_for(batch: SubsidyBatch, to: str) -> SubsidyBatch:
    """The batch row locked for update, refusing with Conflict unless (its status → ``to``) is allowed."""
    locked = SubsidyBatch.objects.select_for_update().get(pk=batch.pk)
    if (locked.status, to) not in BATCH_TRANSITIONS:
        sources = [s for (s, t) in BATCH_TRANSITIONS if t == to]
        raise Conflict(
            "subsidy.illegal_transition", _REFUSALS[to], field="status", value=locked.status, pk=locked.pk,
            status=status_label(locked.status), allowed=Joined((status_label(s) for s in sources), "”或“", "' or '"),
        )
    return locked


def _finish_transition(actor, batch: SubsidyBatch, locked: SubsidyBatch, before: dict, to: str,
                       stamp: str, note: str) -> SubsidyBatch:
    from_status = locked.status
    now = clock.now()
    locked.status = to
    setattr(locked, f"{stamp}_by", actor)
    setattr(locked, f"{stamp}_at", now)
    if note:
        locked.note = (locked.note + "\n" if locked.note else "") + note
    locked.save()
    audit.record(actor, f"subsidy.{BATCH_TRANSITIONS[(from_status, to)]}", locked, before=before,
                 note=stored(_("%(before)s → %(after)s：%(note)s") if note else _("%(before)s → %(after)s"),
                             before=status_label(from_status), after=status_label(to), note=note))
    batch.refresh_from_db()
    return batch


def _check_has_creator(locked: SubsidyBatch) -> None:
    """Refuse to move a batch that names no one who ran it (the headless command recorded batches as the
    system before it named its user): with no creator, two people would suffice to release it."""
    if locked.created_by_id is None:
        raise PermissionDenied(
            "subsidy.no_creator", _("贴息批次 #%(pk)s 没有记录计算人，不能保证计算、复核、审批由三人分别完成：请将其作废，由具名用户重新计算"),
            pk=locked.pk,
        )


@transaction.atomic
def review(actor, batch: SubsidyBatch, *, note: str = "") -> SubsidyBatch:
    """run → reviewed: a second look at the batch's lines and totals, by someone other than who ran it."""
    require(actor, "subsidy.review")
    locked = _locked_for(batch, BatchStatus.REVIEWED)
    _check_has_creator(locked)
    if locked.created_by_id == actor.pk:
        raise PermissionDenied("subsidy.self_review", _("贴息批次 #%(pk)s 由您计算，不能由您复核：复核人必须是计算人以外的人"),
                               pk=locked.pk)
    return _finish_transition(actor, batch, locked, audit.snapshot(locked), BatchStatus.REVIEWED, "reviewed",
                              note)


@transaction.atomic
def approve(actor, batch: SubsidyBatch, *, note: str = "") -> SubsidyBatch:
    """reviewed → approved, by a third person: neither the one who ran the batch nor its reviewer."""
    require(actor, "subsidy.approve")
    locked = _locked_for(batch, BatchStatus.APPROVED)
    _check_has_creator(locked)
    if locked.created_by_id == actor.pk:
        raise PermissionDenied("subsidy.self_approval", _("贴息批次 #%(pk)s 由您计算，不能由您审批：审批人必须是计算人和复核人以外的人"),
                               pk=locked.pk)
    if locked.reviewed_by_id == actor.pk:
        raise PermissionDenied("subsidy.self_approval", _("贴息批次 #%(pk)s 由您复核，不能由您审批：审批人必须是计算人和复核人以外的人"),
                               pk=locked.pk)
    return _finish_transition(actor, batch, locked, audit.snapshot(locked), BatchStatus.APPROVED, "approved",
                              note)


@transaction.atomic
def cancel(actor, batch: SubsidyBatch, *, note: str) -> SubsidyBatch:
    """run / reviewed / approved → cancelled, with a reason: the batch pays nothing and no longer
    blocks a new run. A released batch cannot be cancelled."""
    require(actor, "subsidy.cancel")
    if not (note or "").strip():
        raise ValidationFailed("subsidy.cancel_reason", _("作废批次必须说明原因"), field="note")
    locked = _locked_for(batch, BatchStatus.CANCELLED)
    return _finish_transition(actor, batch, locked, audit.snapshot(locked), BatchStatus.CANCELLED, "cancelled",
                              note.strip())


@transaction.atomic
def release(actor, batch: SubsidyBatch, out_dir: str | os.PathLike | None = None, *,
            note: str = "") -> dict[str, Path]:
    """approved → released: write the payment file for the bank and its control totals
    (``files.write_payment_files``: ``payments.csv``, ``payments.xlsx``, ``control.csv``) into ``out_dir``
    (the batch's folder under the data folder by default). Returns {name: path}. From then on the batch's
    payments count as paid unless the bank reports them failed."""
    require(actor, "subsidy.release")
    locked = _locked_for(batch, BatchStatus.RELEASED)
    _check_has_creator(locked)
    before = audit.snapshot(locked)
    out = Path(out_dir) if out_dir is not None else batch_dir(locked)
    paths = write_payment_files(locked, out)
    # Written before the status changes: if that fails the transaction rolls back and the files stay
    # behind unreleased; they are rewritten by the next attempt.
    locked.output_dir = str(out)
    _finish_transition(actor, batch, locked, before, BatchStatus.RELEASED, "released", note)
    return paths
