"""Reading the ledger for a cutoff and computing a batch (``rules_columnar``), a simulation, and two
results side by side."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

import polars as pl
from django.db import connection
from django.db.models import Sum

from huiqi.lending import selectors as ledger_selectors
from huiqi.registry import selectors as registry_selectors

from .. import rules, rules_columnar
from ..models import BatchStatus, PaymentStatus, SubsidyPayment
from huiqi.core.permissions import require

from .common import _chunks
from .parameters import _check_cutoff, params_for_cutoff


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

    def loan_ids(self, bank_codes: list[str], loan_nos: list[str]) -> pl.Series:
        """The ids of the loans named by ``bank_codes[i]``, ``loan_nos[i]``, in that order: one join of the
        keys with the loans read (issue 16.1: a map rebuilt per loan line made a run grow with the square
        of the ledger; a dict of 300,000 tuples, looked up line by line, still took a tenth of a run)."""
        keys = pl.DataFrame({"bank_code": bank_codes, "loan_no": loan_nos},
                            schema={"bank_code": pl.String, "loan_no": pl.String})
        if keys.height == self.loans.height and keys.equals(self.loans.select("bank_code", "loan_no")):
            # The lines in the order the loans were read (the ledger snapshot's, kept by the rules): their
            # ids as they are, a comparison of the keys costing a tenth of the join below.
            return self.loans["id"].cast(pl.Int64)
        ids = keys.join(self.loans.select("bank_code", "loan_no", pl.col("id").cast(pl.Int64)),
                        on=["bank_code", "loan_no"], how="left", maintain_order="left")["id"]
        if ids.len() != keys.height or ids.null_count():
            raise ValueError("a line names a loan that was not read")
        return ids


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
    require(actor, "subsidy.simulate", allow_system=True)
    params = params_for_cutoff(cutoff, overrides)
    return _compute(cutoff, params)[0]


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
