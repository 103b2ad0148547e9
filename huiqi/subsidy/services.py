"""Interest-subsidy writes and calculations: one function per action, transactional, audited.

``rules.py`` decides every amount; this module feeds it from the database (set-based reads), keeps
its results, moves batches through their state machine and writes the files. Decisions the spec
leaves to the platform:

- **Parameters** are those in force on the batch's *cutoff* date (``core.params``, key
  ``subsidy.params``), so a batch's numbers depend on (ledger, cutoff) only and a simulation of a past
  cutoff repeats. The batch keeps a copy of the parameters it used.
- **One open batch at a time, cutoffs strictly increasing**: ``run_batch`` refuses while another batch
  is run, reviewed or approved (release or cancel it first), and refuses a cutoff on or before the
  cutoff of the last released batch. Cancelled batches count for nothing.
- **Paid before** (cumulative batches, and the budget spent) is the payable of every payment of a
  released batch that the bank has not reported as failed. A failed payment is thus owed again in the
  next batch and its money is back in the budget. Simulations ignore open batches.
- **Four eyes**: review, approval, release, reconciliation and cancellation need a signed-in user;
  the approver must be neither the one who ran the batch nor its reviewer. Only ``simulate`` and
  ``run_batch`` accept the system (actor ``None``), for the headless command.
- **Payment file**: ``payments.csv`` / ``payments.xlsx`` (one row per beneficiary paid in this batch,
  by beneficiary_id) with the control totals in a separate ``control.csv`` (a footer row would break
  every machine reader of the payment file).
- **Result files** (``beneficiaries.csv``, ``loans.csv``) are plain UTF-8 *without* BOM, comma
  separated, ``\\n`` line ends, for machine readers and byte-for-byte comparison; the payment files
  are written by ``core.tabular.write_rows`` (UTF-8 with BOM, so that Excel shows Chinese).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from huiqi.core import audit, jobs
from huiqi.core.bulk import insert_rows
from huiqi.core import params as core_params
from huiqi.core.errors import Conflict, PermissionDenied, ValidationFailed
from huiqi.core.tabular import (
    Column,
    FileRejected,
    RowError,
    Schema,
    parse_choice,
    parse_decimal,
    parse_text,
    validate,
    write_rows,
)
from huiqi.lending import selectors as ledger_selectors
from huiqi.registry import selectors as registry_selectors

from . import rules, rules_columnar
from .apps import PARAMS_KEY
from .models import (
    BATCH_TRANSITIONS,
    OPEN_STATUSES,
    PAYMENT_TRANSITIONS,
    BatchStatus,
    PaymentStatus,
    SubsidyBatch,
    SubsidyLoanLine,
    SubsidyPayment,
)

BENEFICIARY_COLUMNS = ("beneficiary_id", "name", "kind", "loans_counted", "interest_counted",
                       "subsidy_before_cap", "entitlement", "paid_before", "due", "payable")
LOAN_COLUMNS = ("bank_code", "loan_no", "beneficiary_id", "eligible", "reason", "interest_counted", "subsidy")
PAYMENT_FILE_COLUMNS = ("beneficiary_id", "name", "kind", "amount", "bank_account", "account_name")
CONTROL_COLUMNS = ("batch_id", "cutoff", "count", "amount", "payments_csv_sha256")

_CHUNK = 5000
# pg_advisory_xact_lock key for "one batch run at a time" ('SUBS').
_RUN_LOCK = 0x53554253


# --------------------------------------------------------------------------------------------------
# Permissions


def _require(actor, perm: str, *, allow_system: bool = False) -> None:
    """Refuse unless ``actor`` holds ``perm``; ``None`` (the system) passes only where allowed."""
    if actor is None and allow_system:
        return
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("subsidy.login_required", "此操作需要登录用户完成并留痕",
                               "this action must be done by a signed-in user, on the record")
    if not actor.has_perm(perm):
        raise PermissionDenied("subsidy.forbidden", f"无权执行此操作（{perm}）",
                               f"you may not do this ({perm})")


# --------------------------------------------------------------------------------------------------
# Parameters


def _refuse_floats(values: Mapping, where: str) -> None:
    for name, value in values.items():
        if isinstance(value, float):
            raise ValidationFailed(
                "subsidy.params.float",
                f"{where} 中的参数 {name} 以浮点数 {value!r} 保存；金额和比例必须写成字符串（如 \"0.5\"、\"1000000.00\"）",
                f"parameter {name} in {where} is stored as the float {value!r}; amounts and rates must be "
                "strings (e.g. \"0.5\", \"1000000.00\")",
                field=name, value=value,
            )


def check_stored_params(value, where: str = PARAMS_KEY) -> rules.Params:
    """A stored value of the parameters as the program reads it: an object of the spec's names, no float
    (amounts and rates as strings). The schema that checks a value when it is written (``site.py``)."""
    if not isinstance(value, Mapping):
        raise ValidationFailed("subsidy.params.shape", f"{where} 不是参数表（JSON 对象）",
                               f"{where} is not a JSON object of parameters")
    _refuse_floats(value, where)
    return rules.Params.from_mapping(value)


def current_params(on: dt.date | None = None, overrides: Mapping | None = None) -> rules.Params:
    """The parameters in force on ``on`` (today when omitted), with ``overrides`` by the spec's names.

    Refuses a stored value that is a float, naming it; JSON numbers must be strings or integers."""
    on = on or timezone.localdate()
    stored = core_params.value(PARAMS_KEY, on=on)
    result = check_stored_params(stored, f"{PARAMS_KEY}（{on} 生效 in force on {on}）")
    if overrides:
        if not isinstance(overrides, Mapping):
            raise ValidationFailed("subsidy.params.shape", "参数覆盖必须是 名称→取值 的对象",
                                   "overrides must be an object of name → value")
        _refuse_floats(overrides, "参数覆盖 overrides")
        result = result.with_overrides(overrides)
    return result


def _check_cutoff(cutoff) -> dt.date:
    if not isinstance(cutoff, dt.date) or isinstance(cutoff, dt.datetime):
        raise ValidationFailed("subsidy.cutoff", "截止日期必须是日期（YYYY-MM-DD）", "cutoff must be a date (YYYY-MM-DD)",
                               field="cutoff", value=cutoff)
    return cutoff


# --------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Inputs:
    """Everything the rules need, read from the database for one cutoff: the ledger and the registry
    entries as columns (``rules_columnar``), and what was paid before."""

    loans: pl.DataFrame  # rules_columnar.LOAN_SCHEMA plus the loan's id (and whole_fen when pre-aggregated)
    # rules_columnar.PAYMENT_SCHEMA (only the cut payments when pre-aggregated); from the ledger snapshot,
    # the loan's id in place of (bank_code, loan_no)
    payments: pl.DataFrame
    registry: pl.DataFrame  # rules_columnar.REGISTRY_SCHEMA
    paid_before: dict[str, int]
    spent_before_fen: int

    def loan_ids(self) -> dict[tuple[str, str], int]:
        """(bank code, loan number) → the loan's id: built once per run (issue 16.1: once per loan line,
        the run grew with the square of the ledger)."""
        return {(b, n): pk for b, n, pk in self.loans.select("bank_code", "loan_no", "id").iter_rows()}


def paid_before() -> dict[str, int]:
    """Per beneficiary, what released batches paid and the bank did not report as failed (fen)."""
    rows = (SubsidyPayment.objects.filter(batch__status=BatchStatus.RELEASED, payable_fen__gt=0)
            .exclude(status=PaymentStatus.FAILED)
            .order_by().values("beneficiary_id").annotate(total=Sum("payable_fen"))
            .values_list("beneficiary_id", "total"))
    return {beneficiary: int(total) for beneficiary, total in rows if total}


def load_inputs(cutoff: dt.date, params: rules.Params | None = None, *, aggregate: bool | None = None) -> Inputs:
    """The ledger, the registry entries of every borrower and owned enterprise, and what was paid
    before, as columns (set-based reads, ``lending.selectors``). Only payments paid on or before
    ``cutoff`` are read; given the ``params``, only those that can count under them: of an operating
    loan started in the window, with days inside a span that holds the loan's subsidy period (the rules
    decide the rest).

    By default on PostgreSQL the rows come from the ledger snapshot (``selectors.ledger_snapshot``, the
    payments naming their loan's id), filtered here (``rules_columnar.payments_that_can_count``).
    ``aggregate=True`` (PostgreSQL, given ``params``) reads the tables
    instead, the database summing the payments that lie wholly inside their loan's subsidy period into
    the loans' ``whole_fen`` (``rules_columnar.compute_batch_columns``' pre-aggregated form) and sending
    only the payments that the period's edge cuts, in the same statement (``selectors.ledger_summed``;
    the default given ``params`` when the snapshot is off); ``aggregate=False`` reads the tables' rows as
    they are (``selectors.ledger_rows``; the default on SQLite)."""
    cutoff = _check_cutoff(cutoff)
    if aggregate is None and ledger_selectors.snapshot_enabled():
        ledger = ledger_selectors.ledger_snapshot(cutoff)
        # The payments keep their loan's id (compute_batch_columns joins on it: integers, not two strings).
        payments = ledger.payments.rename({"loan_id": "id"})
        if params is not None:
            payments = rules_columnar.payments_that_can_count(ledger.loans, payments, params)
    else:
        if aggregate is None:
            aggregate = params is not None and connection.vendor == "postgresql"
        if aggregate:
            if params is None or connection.vendor != "postgresql":
                raise ValueError("the aggregated read needs the parameters and PostgreSQL")
            ledger = ledger_selectors.ledger_summed(cutoff, _subsidy_period(params))
        else:
            ledger = ledger_selectors.ledger_rows(cutoff, _subsidy_period(params))
        payments = ledger.payments
    before = paid_before()
    return Inputs(ledger.loans, payments, ledger.registry, before, sum(before.values()))


def _subsidy_period(params: rules.Params | None) -> ledger_selectors.FirstMonths | None:
    """The payments that can count under ``params``, for the reads in SQL: those with days inside the
    subsidy period of an operating loan started in the window (``rules.eligibility``,
    ``rules.subsidy_period``; ``rules_columnar.payments_that_can_count`` on the snapshot)."""
    if params is None:
        return None
    return ledger_selectors.FirstMonths(months=params.months, purpose="operating",
                                        started_from=params.window_start, started_to=params.window_end)


def _compute(cutoff: dt.date, params: rules.Params) -> tuple[rules.BatchResult, Inputs]:
    inputs = load_inputs(cutoff, params)
    # Read from the database: its unique constraints and references hold the loans' and payments' keys.
    result = rules_columnar.compute_batch_columns(inputs.loans, inputs.payments, inputs.registry, params, cutoff,
                                                  inputs.paid_before, inputs.spent_before_fen, keys_held=True)
    return result, inputs


def simulate(actor, cutoff: dt.date, overrides: Mapping | None = None) -> rules.BatchResult:
    """What a batch with this cutoff would pay now (after the released batches), with the parameters
    in force on the cutoff and ``overrides``. Records nothing."""
    _require(actor, "subsidy.simulate", allow_system=True)
    cutoff = _check_cutoff(cutoff)
    return _compute(cutoff, current_params(cutoff, overrides))[0]


# --------------------------------------------------------------------------------------------------
# Comparing two results


def fraction_text(value: Fraction | None) -> str:
    """The exact factor as "num/den" ("" when there is none)."""
    return "" if value is None else f"{value.numerator}/{value.denominator}"


def _summary(result: rules.BatchResult) -> dict:
    return {
        "cutoff": result.cutoff.isoformat(),
        "params": result.params.as_mapping(),
        "beneficiaries": len(result.beneficiaries),
        "loans_counted": sum(1 for x in result.loans if x.eligible),
        "due_total_fen": result.due_total,
        "payable_total_fen": result.payable_total,
        "overpayment_total_fen": result.overpayment_total,
        "budget_left_fen": result.budget_left,
        "unspent_fen": result.unspent,
        "rationing_factor": fraction_text(result.rationing_factor),
        "over_budget": result.over_budget,
    }


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _dimensions(results: Iterable[rules.BatchResult]) -> dict[str, tuple[str, str]]:
    """beneficiary_id → (district code, size class) from the registry; an owner takes the district and
    size class of the enterprise owned (by their first counted loan in (bank_code, loan_no) order).
    Beneficiaries the registry does not know get ("", "unknown")."""
    registered: set[str] = set()
    owners: set[str] = set()
    for result in results:
        for b in result.beneficiaries:
            (owners if b.kind == "business_owner" else registered).add(b.beneficiary_id)
    owned_by = ledger_selectors.owned_enterprises(owners)
    codes = sorted(registered | set(owned_by.values()))
    facts: dict[str, tuple[str, str]] = {}
    for part in _chunks(codes):
        for uscc, district, size in registry_selectors.enterprises().filter(uscc__in=part).order_by().values_list(
                "uscc", "district_id", "size_class"):
            facts[uscc] = (district, size)
    out = {}
    for beneficiary in registered:
        out[beneficiary] = facts.get(beneficiary, ("", "unknown"))
    for owner in owners:
        out[owner] = facts.get(owned_by.get(owner, ""), ("", "unknown"))
    return out


_ZERO_GROUP = {"beneficiaries": 0, "due_fen": 0, "payable_fen": 0}
_ZERO_BANK = {"loans_counted": 0, "subsidy_fen": 0}


def _grouped(result: rules.BatchResult, dims: Mapping[str, tuple[str, str]], index: int) -> dict[str, dict]:
    groups: dict[str, dict] = defaultdict(lambda: dict(_ZERO_GROUP))
    for b in result.beneficiaries:
        g = groups[dims.get(b.beneficiary_id, ("", "unknown"))[index]]
        g["beneficiaries"] += 1
        g["due_fen"] += b.due
        g["payable_fen"] += b.payable
    return groups


def _by_bank(result: rules.BatchResult) -> dict[str, dict]:
    groups: dict[str, dict] = defaultdict(lambda: dict(_ZERO_BANK))
    for x in result.loans:
        if x.eligible:
            groups[x.bank_code]["loans_counted"] += 1
            groups[x.bank_code]["subsidy_fen"] += x.subsidy_fen
    return groups


def _side_by_side(a: dict[str, dict], b: dict[str, dict], labels: Mapping[str, str], amount: str,
                  zero: dict) -> list[dict]:
    rows = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key, zero), b.get(key, zero)
        rows.append({"key": key, "label": labels.get(key, key), "a": dict(left), "b": dict(right),
                     "difference_fen": right.get(amount, 0) - left.get(amount, 0)})
    return rows


def compare(result_a: rules.BatchResult, result_b: rules.BatchResult) -> dict:
    """Two results side by side (``b`` − ``a``): totals, beneficiaries, rationing factor, and the money
    by district and by size class (payable, from the registry) and by bank (loans counted and subsidy
    before the cap: a beneficiary's payment is not split over its banks). Amounts in fen."""
    sa, sb = _summary(result_a), _summary(result_b)
    money = ("due_total_fen", "payable_total_fen", "overpayment_total_fen", "budget_left_fen", "unspent_fen",
             "beneficiaries", "loans_counted")
    pay_a = {b.beneficiary_id: b.payable for b in result_a.beneficiaries}
    pay_b = {b.beneficiary_id: b.payable for b in result_b.beneficiaries}
    dims = _dimensions([result_a, result_b])
    districts = dict(registry_selectors.districts().values_list("code", "name"))
    districts[""] = "未知 unknown"
    sizes = {"large": "大型 large", "medium": "中型 medium", "small": "小型 small", "micro": "微型 micro",
             "unknown": "未知 unknown"}
    banks = dict(registry_selectors.banks().values_list("code", "name"))
    return {
        "a": sa,
        "b": sb,
        "difference": {k: sb[k] - sa[k] for k in money},
        "rationing_factor": {"a": sa["rationing_factor"], "b": sb["rationing_factor"]},
        "beneficiaries": {
            "a": len(pay_a), "b": len(pay_b),
            "only_in_a": len(set(pay_a) - set(pay_b)), "only_in_b": len(set(pay_b) - set(pay_a)),
            "payable_changed": sum(1 for k in set(pay_a) & set(pay_b) if pay_a[k] != pay_b[k]),
        },
        "by_district": _side_by_side(_grouped(result_a, dims, 0), _grouped(result_b, dims, 0), districts,
                                     "payable_fen", _ZERO_GROUP),
        "by_size_class": _side_by_side(_grouped(result_a, dims, 1), _grouped(result_b, dims, 1), sizes,
                                       "payable_fen", _ZERO_GROUP),
        "by_bank": _side_by_side(_by_bank(result_a), _by_bank(result_b), banks, "subsidy_fen", _ZERO_BANK),
    }


# --------------------------------------------------------------------------------------------------
# Batches


def _lock_program() -> None:
    """Serialise batch runs. PostgreSQL: a transaction-level advisory lock; SQLite: the settings open
    every transaction with BEGIN IMMEDIATE, which already admits one writer at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_RUN_LOCK])


def _status_zh(status: str) -> str:
    return BatchStatus(status).label.split(" ")[0]


def _status_en(status: str) -> str:
    return BatchStatus(status).label.split(" ", 1)[1]


def _check_may_run(cutoff: dt.date) -> None:
    """Refuse a run while another batch is open, or for a cutoff not after the last released batch's."""
    open_batch = SubsidyBatch.objects.filter(status__in=OPEN_STATUSES).order_by("id").first()
    if open_batch is not None:
        raise Conflict(
            "subsidy.batch_open",
            f"贴息批次 #{open_batch.pk}（截至 {open_batch.cutoff}）状态为“{_status_zh(open_batch.status)}”，"
            "尚未拨付或作废，不能再计算新批次",
            f"subsidy batch #{open_batch.pk} (cutoff {open_batch.cutoff}) is still '{_status_en(open_batch.status)}'; "
            "release or cancel it before running another",
        )
    last = SubsidyBatch.objects.filter(status=BatchStatus.RELEASED).order_by("-cutoff", "-id").first()
    if last is not None and cutoff <= last.cutoff:
        raise Conflict(
            "subsidy.cutoff_not_after_last",
            f"截止日期 {cutoff} 必须晚于上一已拨付批次 #{last.pk} 的截止日期 {last.cutoff}",
            f"the cutoff {cutoff} must be after {last.cutoff}, the cutoff of the last released batch #{last.pk}",
            field="cutoff",
        )


RUN_JOB = "subsidy.run_batch"


def start_batch_run(actor, cutoff: dt.date, *, note: str = ""):
    """Queue ``run_batch`` as a background job with progress, for the page and the API alike: a batch
    reads the whole ledger, which is never done inside a web request. What can be refused without
    computing (permission, cutoff, an open batch, the last release) is refused now; the job checks it
    again when it runs. Returns the job."""
    _require(actor, "subsidy.run")
    cutoff = _check_cutoff(cutoff)
    _check_may_run(cutoff)
    return jobs.enqueue(RUN_JOB, {"cutoff": cutoff.isoformat(), "note": note}, user=actor,
                        title=f"计算贴息批次（截至 {cutoff}） subsidy batch up to {cutoff}")


@transaction.atomic
def run_batch(actor, cutoff: dt.date, *, note: str = "", progress=None) -> SubsidyBatch:
    """Compute and record a batch up to ``cutoff`` with the parameters in force on it: every loan's
    line and every beneficiary's payment (bulk), the totals, an audit record. Bureau or admin (in the
    job of ``start_batch_run``), or the system (the headless command). Refused while another batch is
    open, or for a cutoff not after the last released batch's. ``progress(done, total, message)`` hears
    of each of its three steps."""
    _require(actor, "subsidy.run", allow_system=True)
    cutoff = _check_cutoff(cutoff)
    _lock_program()
    _check_may_run(cutoff)
    step = progress or (lambda done, total, message: None)
    step(0, 3, "读取账本并计算 reading the ledger and computing")
    params = current_params(cutoff)
    result, inputs = _compute(cutoff, params)
    loans_counted = sum(1 for x in result.loans if x.eligible)
    user = actor if getattr(actor, "is_authenticated", False) else None
    batch = SubsidyBatch.objects.create(
        cutoff=cutoff, params=params.as_mapping(), status=BatchStatus.RUN, created_by=user, note=note,
        beneficiaries=len(result.beneficiaries), loans_counted=loans_counted,
        due_total_fen=result.due_total, payable_total_fen=result.payable_total,
        overpayment_total_fen=result.overpayment_total, spent_before_fen=inputs.spent_before_fen,
        budget_left_fen=result.budget_left, rationing_factor=fraction_text(result.rationing_factor),
        unspent_fen=result.unspent, over_budget=result.over_budget,
    )
    # Plain rows, COPY on PostgreSQL (``core.bulk.insert_rows``): a city's batch writes hundreds of
    # thousands of lines, and building a model instance for each took most of the run.
    loan_ids = inputs.loan_ids()
    step(1, 3, "写入贷款明细 recording the loan lines")
    insert_rows(SubsidyLoanLine, LINE_FIELDS, (
        (batch.pk, loan_ids[(x.bank_code, x.loan_no)], x.beneficiary_id, x.eligible, x.reason or "",
         x.interest_counted_fen, x.subsidy_fen) for x in result.loans))
    step(2, 3, "写入受益人 recording the beneficiaries")
    insert_rows(SubsidyPayment, PAYMENT_FIELDS, (
        (batch.pk, b.beneficiary_id, b.name[:200], b.kind, b.loans_counted, b.interest_counted_fen,
         b.subsidy_before_cap, b.entitlement, b.paid_before, b.due, b.payable, b.overpayment,
         PaymentStatus.PENDING if b.payable > 0 else PaymentStatus.NOTHING, "")
        for b in result.beneficiaries))
    audit.record(actor, "subsidy.run", batch,
                 note=f"计算贴息批次，贷款 {len(result.loans)} 笔、受益人 {len(result.beneficiaries)} 个 "
                      f"computed: {len(result.loans)} loan lines, {len(result.beneficiaries)} beneficiaries")
    return batch


LINE_FIELDS = ("batch", "loan", "beneficiary_id", "eligible", "reason", "interest_counted_fen", "subsidy_fen")
PAYMENT_FIELDS = ("batch", "beneficiary_id", "name", "kind", "loans_counted", "interest_counted_fen",
                  "subsidy_before_cap_fen", "entitlement_fen", "paid_before_fen", "due_fen", "payable_fen",
                  "overpayment_fen", "status", "reconcile_note")


_VERBS = {
    BatchStatus.REVIEWED: ("复核", "reviewed"),
    BatchStatus.APPROVED: ("审批", "approved"),
    BatchStatus.RELEASED: ("拨付", "released"),
    BatchStatus.CANCELLED: ("作废", "cancelled"),
}


def _locked_for(batch: SubsidyBatch, to: str) -> SubsidyBatch:
    """The batch row locked for update, refusing with Conflict unless (its status → ``to``) is allowed."""
    locked = SubsidyBatch.objects.select_for_update().get(pk=batch.pk)
    if (locked.status, to) not in BATCH_TRANSITIONS:
        zh_verb, en_verb = _VERBS[to]
        sources = [s for (s, t) in BATCH_TRANSITIONS if t == to]
        raise Conflict(
            "subsidy.illegal_transition",
            f"贴息批次 #{locked.pk} 当前状态为“{_status_zh(locked.status)}”，不能{zh_verb}；"
            f"只有“{'”或“'.join(_status_zh(s) for s in sources)}”的批次才能{zh_verb}",
            f"subsidy batch #{locked.pk} is '{_status_en(locked.status)}' and cannot be {en_verb}; "
            f"only a batch that is {' or '.join(repr(_status_en(s)) for s in sources)} can be",
            field="status", value=locked.status,
        )
    return locked


def _finish_transition(actor, batch: SubsidyBatch, locked: SubsidyBatch, before: dict, to: str,
                       stamp: str, note: str) -> SubsidyBatch:
    from_status = locked.status
    now = timezone.now()
    locked.status = to
    setattr(locked, f"{stamp}_by", actor)
    setattr(locked, f"{stamp}_at", now)
    if note:
        locked.note = (locked.note + "\n" if locked.note else "") + note
    locked.save()
    audit.record(actor, f"subsidy.{BATCH_TRANSITIONS[(from_status, to)]}", locked, before=before,
                 note=f"{from_status} → {to}" + (f": {note}" if note else ""))
    batch.refresh_from_db()
    return batch


@transaction.atomic
def review(actor, batch: SubsidyBatch, *, note: str = "") -> SubsidyBatch:
    """run → reviewed: a second look at the batch's lines and totals, by someone other than who ran it."""
    _require(actor, "subsidy.review")
    locked = _locked_for(batch, BatchStatus.REVIEWED)
    if locked.created_by_id is not None and locked.created_by_id == actor.pk:
        raise PermissionDenied("subsidy.self_review",
                               f"贴息批次 #{locked.pk} 由您计算，不能由您复核：复核人必须是计算人以外的人",
                               f"you ran subsidy batch #{locked.pk} and cannot review it: the reviewer must be "
                               "someone other than who ran it")
    return _finish_transition(actor, batch, locked, audit.snapshot(locked), BatchStatus.REVIEWED, "reviewed",
                              note)


@transaction.atomic
def approve(actor, batch: SubsidyBatch, *, note: str = "") -> SubsidyBatch:
    """reviewed → approved, by a third person: neither the one who ran the batch nor its reviewer."""
    _require(actor, "subsidy.approve")
    locked = _locked_for(batch, BatchStatus.APPROVED)
    if locked.created_by_id == actor.pk:
        raise PermissionDenied("subsidy.self_approval",
                               f"贴息批次 #{locked.pk} 由您计算，不能由您审批：审批人必须是计算人和复核人以外的人",
                               f"you ran subsidy batch #{locked.pk} and cannot approve it: the approver must be "
                               "someone other than who ran and who reviewed it")
    if locked.reviewed_by_id == actor.pk:
        raise PermissionDenied("subsidy.self_approval",
                               f"贴息批次 #{locked.pk} 由您复核，不能由您审批：审批人必须是计算人和复核人以外的人",
                               f"you reviewed subsidy batch #{locked.pk} and cannot approve it: the approver must "
                               "be someone other than who ran and who reviewed it")
    return _finish_transition(actor, batch, locked, audit.snapshot(locked), BatchStatus.APPROVED, "approved",
                              note)


@transaction.atomic
def cancel(actor, batch: SubsidyBatch, *, note: str) -> SubsidyBatch:
    """run / reviewed / approved → cancelled, with a reason: the batch pays nothing and no longer
    blocks a new run. A released batch cannot be cancelled."""
    _require(actor, "subsidy.cancel")
    if not (note or "").strip():
        raise ValidationFailed("subsidy.cancel_reason", "作废批次必须说明原因", "cancelling a batch needs a reason",
                               field="note")
    locked = _locked_for(batch, BatchStatus.CANCELLED)
    return _finish_transition(actor, batch, locked, audit.snapshot(locked), BatchStatus.CANCELLED, "cancelled",
                              note.strip())


def batch_dir(batch: SubsidyBatch) -> Path:
    """Where a batch's files are kept by default: under the data folder, not the served media."""
    return Path(settings.DATA_DIR) / "subsidy" / f"batch-{batch.pk}"


def _payments_to_make(batch: SubsidyBatch) -> list[tuple[str, str, str, int]]:
    """(beneficiary_id, name, kind, payable fen) of every payment of the batch, by beneficiary_id."""
    return sorted(SubsidyPayment.objects.filter(batch=batch, payable_fen__gt=0).order_by().values_list(
        "beneficiary_id", "name", "kind", "payable_fen"))


def _replace(path: Path, write) -> None:
    """Write through a temporary name and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # the suffix decides the format
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@transaction.atomic
def release(actor, batch: SubsidyBatch, out_dir: str | os.PathLike | None = None, *,
            note: str = "") -> dict[str, Path]:
    """approved → released: write the payment file for the bank (``payments.csv`` and ``payments.xlsx``,
    one row per beneficiary paid, bank account columns left empty for the bank) and ``control.csv``
    (count and amount of the rows, the CSV's SHA-256). Returns {name: path}. From then on the batch's
    payments count as paid unless the bank reports them failed."""
    _require(actor, "subsidy.release")
    locked = _locked_for(batch, BatchStatus.RELEASED)
    before = audit.snapshot(locked)
    out = Path(out_dir) if out_dir is not None else batch_dir(locked)
    out.mkdir(parents=True, exist_ok=True)
    to_pay = _payments_to_make(locked)
    total = sum(amount for *_, amount in to_pay)
    if total != locked.payable_total_fen:  # pragma: no cover - guards the stored lines against drift
        raise Conflict("subsidy.totals_mismatch", "支付明细合计与批次合计不符，未拨付",
                       "the payment lines do not add up to the batch total; nothing was released")
    paths = {"payments.csv": out / "payments.csv", "payments.xlsx": out / "payments.xlsx",
             "control.csv": out / "control.csv"}
    rows = [(b, name, kind, rules.fen_str(amount), "", "") for b, name, kind, amount in to_pay]
    for name in ("payments.csv", "payments.xlsx"):
        _replace(paths[name], lambda tmp: write_rows(tmp, PAYMENT_FILE_COLUMNS, rows))
    control = [(locked.pk, locked.cutoff.isoformat(), len(to_pay), rules.fen_str(total),
                _sha256(paths["payments.csv"]))]
    _replace(paths["control.csv"], lambda tmp: write_rows(tmp, CONTROL_COLUMNS, control))
    # Written before the status changes: if that fails the transaction rolls back and the files stay
    # behind unreleased; they are rewritten by the next attempt.
    locked.output_dir = str(out)
    _finish_transition(actor, batch, locked, before, BatchStatus.RELEASED, "released", note)
    return paths


# --------------------------------------------------------------------------------------------------
# Reconciliation


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


# --------------------------------------------------------------------------------------------------
# Result files


def _beneficiary_rows_of_result(result: rules.BatchResult):
    for b in result.beneficiaries:
        yield (b.beneficiary_id, b.name, b.kind, str(b.loans_counted), rules.fen_str(b.interest_counted_fen),
               rules.fen_str(b.subsidy_before_cap), rules.fen_str(b.entitlement), rules.fen_str(b.paid_before),
               rules.fen_str(b.due), rules.fen_str(b.payable))


def _loan_rows_of_result(result: rules.BatchResult):
    for x in result.loans:
        yield (x.bank_code, x.loan_no, x.beneficiary_id, "true" if x.eligible else "false", x.reason or "",
               rules.fen_str(x.interest_counted_fen), rules.fen_str(x.subsidy_fen))


def _beneficiary_rows_of_batch(batch: SubsidyBatch):
    rows = SubsidyPayment.objects.filter(batch=batch).order_by().values_list(
        "beneficiary_id", "name", "kind", "loans_counted", "interest_counted_fen", "subsidy_before_cap_fen",
        "entitlement_fen", "paid_before_fen", "due_fen", "payable_fen")
    for b, name, kind, n, *amounts in sorted(rows):
        yield (b, name, kind, str(n), *(rules.fen_str(a) for a in amounts))


def _loan_rows_of_batch(batch: SubsidyBatch):
    rows = SubsidyLoanLine.objects.filter(batch=batch).order_by().values_list(
        "loan__bank__code", "loan__loan_no", "beneficiary_id", "eligible", "reason", "interest_counted_fen",
        "subsidy_fen")
    for bank, no, b, eligible, reason, interest, subsidy in sorted(rows):
        yield (bank, no, b, "true" if eligible else "false", reason, rules.fen_str(interest),
               rules.fen_str(subsidy))


def _write_csv(path: Path, header: tuple[str, ...], rows: Iterable[tuple]) -> None:
    def write(tmp: Path):
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    _replace(path, write)


def write_outputs(result: rules.BatchResult | SubsidyBatch, out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``beneficiaries.csv`` and ``loans.csv`` for a simulation's result or a recorded batch:
    exactly the spec's columns, amounts with two decimals, eligible as true/false, rows by
    beneficiary_id and by (bank_code, loan_no). Plain UTF-8 without BOM; the same inputs give the same
    bytes. Returns {name: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(result, SubsidyBatch):
        beneficiaries, loans = _beneficiary_rows_of_batch(result), _loan_rows_of_batch(result)
    else:
        beneficiaries, loans = _beneficiary_rows_of_result(result), _loan_rows_of_result(result)
    paths = {"beneficiaries.csv": out / "beneficiaries.csv", "loans.csv": out / "loans.csv"}
    _write_csv(paths["beneficiaries.csv"], BENEFICIARY_COLUMNS, beneficiaries)
    _write_csv(paths["loans.csv"], LOAN_COLUMNS, loans)
    return paths
