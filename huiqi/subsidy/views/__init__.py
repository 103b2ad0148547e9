"""Interest-subsidy pages, by topic: ``simulate`` (simulate and compare), ``batches`` (the list, a batch,
its actions and reconciliation), ``lines`` (a batch's beneficiaries and loan lines), ``own`` (an
enterprise's and a bank's own pages); ``common`` holds what they share.

Thin: every read goes through ``selectors`` (scoped to the user), every write through ``services``; a
refusal of a service (``DomainError``) is shown on the page it came from, in Chinese and English.
"""

from .batches import (batch_action, batch_detail, batch_file, index, reconcile, reconciliation_decide,
                      reconciliation_template)
from .lines import beneficiaries, beneficiaries_export, loan_lines, loan_lines_export
from .own import bank_export, mine_export
from .simulate import simulate, simulate_export

__all__ = ["bank_export", "batch_action", "batch_detail", "batch_file", "beneficiaries",
           "beneficiaries_export", "index", "loan_lines", "loan_lines_export", "mine_export", "reconcile",
           "reconciliation_decide", "reconciliation_template", "simulate", "simulate_export"]
