"""The files of a batch: the result files of the headless contract (``beneficiaries.csv``, ``loans.csv``)
and the payment file of a released batch, all derived from what is recorded."""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from .. import rules
from ..models import SubsidyBatch, SubsidyLoanLine, SubsidyPayment

BENEFICIARY_COLUMNS = ("beneficiary_id", "name", "kind", "loans_counted", "interest_counted",
                       "subsidy_before_cap", "entitlement", "paid_before", "due", "payable")
LOAN_COLUMNS = ("bank_code", "loan_no", "beneficiary_id", "eligible", "reason", "interest_counted", "subsidy")
PAYMENT_FILE_COLUMNS = ("beneficiary_id", "name", "kind", "amount", "bank_account", "account_name")
CONTROL_COLUMNS = ("batch_id", "cutoff", "count", "amount", "payments_csv_sha256")


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
