"""The files of a batch: the result files of the headless contract (``beneficiaries.csv``, ``loans.csv``)
and the payment file of a released batch (``payments.csv``, ``payments.xlsx``, ``control.csv``).

Each is derived from what is recorded (a batch's lines never change once run; its payment amounts never
change), written through a temporary name, and the same record gives the same CSV bytes. So a file
lost to a crash after the record committed, or to a lost disk, is written again (issue 16.8): by the
command's retry, by ``huiqi subsidy files``, and by the pages when it is asked for."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy

from huiqi.core.errors import Conflict
from huiqi.core.headless import replace_atomically as _replace
from huiqi.core.headless import write_csv as _write_csv
from huiqi.core.tabular import write_rows

from .. import rules
from ..models import BatchStatus, SubsidyBatch, SubsidyLoanLine, SubsidyPayment

BENEFICIARY_COLUMNS = ("beneficiary_id", "name", "kind", "loans_counted", "interest_counted",
                       "subsidy_before_cap", "entitlement", "paid_before", "due", "payable")
LOAN_COLUMNS = ("bank_code", "loan_no", "beneficiary_id", "eligible", "reason", "interest_counted", "subsidy")
PAYMENT_FILE_COLUMNS = ("beneficiary_id", "name", "kind", "amount", "bank_account", "account_name")
CONTROL_COLUMNS = ("batch_id", "cutoff", "count", "amount", "payments_csv_sha256")
RESULT_FILES = ("beneficiaries.csv", "loans.csv")
PAYMENT_FILES = ("payments.csv", "payments.xlsx", "control.csv")


def batch_dir(batch: SubsidyBatch) -> Path:
    """Where a batch's files are kept by default: under the data folder, not the served media."""
    return Path(settings.DATA_DIR) / "subsidy" / f"batch-{batch.pk}"


def _payments_to_make(batch: SubsidyBatch) -> list[tuple[str, str, str, int]]:
    """(beneficiary_id, name, kind, payable fen) of every payment of the batch, by beneficiary_id."""
    return sorted(SubsidyPayment.objects.filter(batch=batch, payable_fen__gt=0).order_by().values_list(
        "beneficiary_id", "name", "kind", "payable_fen"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_names(batch: SubsidyBatch) -> tuple[str, ...]:
    """The files a batch has: its result files always, its payment file and control totals once released."""
    return RESULT_FILES + (PAYMENT_FILES if batch.status == BatchStatus.RELEASED else ())


def write_payment_files(batch: SubsidyBatch, out_dir: str | os.PathLike,
                        names: Iterable[str] = PAYMENT_FILES) -> dict[str, Path]:
    """Write the payment file for the bank (``payments.csv`` and ``payments.xlsx``: one row per
    beneficiary paid, by beneficiary_id, bank account columns left empty for the bank) and ``control.csv``
    (count and amount of the rows, the CSV's SHA-256) from the batch's recorded payments, or those of
    them named. Returns {name: path} of the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [n for n in PAYMENT_FILES if n in set(names)]
    to_pay = _payments_to_make(batch)
    total = sum(amount for *_, amount in to_pay)
    if total != batch.payable_total_fen:  # pragma: no cover - guards the stored lines against drift
        raise Conflict("subsidy.totals_mismatch", gettext_lazy("支付明细合计与批次合计不符，未写支付文件"))
    paths = {name: out / name for name in names}
    rows = [(b, name, kind, rules.fen_str(amount), "", "") for b, name, kind, amount in to_pay]
    for name in ("payments.csv", "payments.xlsx"):
        if name in paths:
            _replace(paths[name], lambda tmp: write_rows(tmp, PAYMENT_FILE_COLUMNS, rows))
    if "control.csv" in paths:
        if not (out / "payments.csv").is_file():
            write_payment_files(batch, out, ["payments.csv"])
        control = [(batch.pk, batch.cutoff.isoformat(), len(to_pay), rules.fen_str(total),
                    _sha256(out / "payments.csv"))]
        _replace(paths["control.csv"], lambda tmp: write_rows(tmp, CONTROL_COLUMNS, control))
    return paths


def payment_files(batch: SubsidyBatch, names: Iterable[str] = PAYMENT_FILES) -> dict[str, Path]:
    """The paths of a released batch's payment files (or those named) where its release wrote them, any
    that is missing written again from the record first: the same payments give the same CSV, whose
    SHA-256 the control totals name."""
    if batch.status != BatchStatus.RELEASED:
        return {}
    out = Path(batch.output_dir) if batch.output_dir else batch_dir(batch)
    paths = {name: out / name for name in PAYMENT_FILES if name in set(names)}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        write_payment_files(batch, out, missing)
    return paths


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


def write_outputs(result: rules.BatchResult | SubsidyBatch, out_dir: str | os.PathLike,
                  names: Iterable[str] = RESULT_FILES) -> dict[str, Path]:
    """Write ``beneficiaries.csv`` and ``loans.csv`` (or those of them named) for a simulation's result or
    a recorded batch: exactly the spec's columns, amounts with two decimals, eligible as true/false, rows
    by beneficiary_id and by (bank_code, loan_no). Plain UTF-8 without BOM; the same inputs give the same
    bytes. Returns {name: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    recorded = isinstance(result, SubsidyBatch)
    writers = {
        "beneficiaries.csv": (BENEFICIARY_COLUMNS,
                              _beneficiary_rows_of_batch if recorded else _beneficiary_rows_of_result),
        "loans.csv": (LOAN_COLUMNS, _loan_rows_of_batch if recorded else _loan_rows_of_result),
    }
    paths = {}
    for name in RESULT_FILES:
        if name in set(names):
            header, rows = writers[name]
            paths[name] = out / name
            _write_csv(paths[name], header, rows(result))
    return paths
