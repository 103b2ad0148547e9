"""Interest-subsidy writes and calculations: one function per action, transactional, audited. By topic:
``parameters`` (the parameters in force, the cutoff's checks), ``compute`` (reading the ledger, simulate,
compare), ``batches`` (run, review, approve, release, cancel), ``files`` (result and payment files),
``reconciliation`` (the bank's file); this package re-exports what callers use.

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
- **Four eyes**: every recorded step needs a named user: the reviewer is not the one who ran the
  batch, the approver neither of them, and a batch that names no creator is not moved at all. The
  headless ``huiqi subsidy run`` names its user (``--as``, ``acting_user``); only ``simulate``, which
  records nothing, accepts the system (actor ``None``). A bank's reconciliation file is uploaded by
  one person and confirmed by another before any payment changes.
- **Payment file**: ``payments.csv`` / ``payments.xlsx`` (one row per beneficiary paid in this batch,
  by beneficiary_id) with the control totals in a separate ``control.csv`` (a footer row would break
  every machine reader of the payment file).
- **Result files** (``beneficiaries.csv``, ``loans.csv``) are plain UTF-8 *without* BOM, comma
  separated, ``\\n`` line ends, for machine readers and byte-for-byte comparison; the payment files
  are written by ``core.tabular.write_rows`` (UTF-8 with BOM, so that Excel shows Chinese).
"""

from .batches import RUN_JOB, approve, cancel, recorded_run, release, review, run_batch, start_batch_run
from .common import acting_user
from .compute import Inputs, compare, fraction_text, load_inputs, paid_before, simulate
from .files import (
    BENEFICIARY_COLUMNS,
    CONTROL_COLUMNS,
    LOAN_COLUMNS,
    PAYMENT_FILE_COLUMNS,
    PAYMENT_FILES,
    RESULT_FILES,
    batch_dir,
    file_names,
    payment_files,
    write_outputs,
    write_payment_files,
)
from .parameters import check_stored_params, current_params, default_cutoff
from .reconciliation import (
    RECONCILE_SCHEMA,
    RECONCILE_STATUSES,
    ReconciliationRefused,
    confirm_reconciliation,
    prepare_reconciliation,
    reject_reconciliation,
    write_reconciliation_template,
)

__all__ = ["BENEFICIARY_COLUMNS", "CONTROL_COLUMNS", "Inputs", "LOAN_COLUMNS", "PAYMENT_FILES",
           "PAYMENT_FILE_COLUMNS", "RECONCILE_SCHEMA", "RECONCILE_STATUSES", "RESULT_FILES", "RUN_JOB",
           "ReconciliationRefused", "acting_user", "approve", "batch_dir", "cancel", "check_stored_params",
           "compare", "confirm_reconciliation", "current_params", "default_cutoff", "file_names",
           "fraction_text", "load_inputs", "paid_before", "payment_files", "prepare_reconciliation",
           "recorded_run", "reject_reconciliation", "release", "review", "run_batch", "simulate",
           "start_batch_run", "write_outputs", "write_payment_files", "write_reconciliation_template"]
