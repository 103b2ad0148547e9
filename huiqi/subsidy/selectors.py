"""Interest-subsidy reads, each already scoped to the asking user.

- bureau, auditors and administrators: every batch and line;
- a bank's staff: the loan lines of its own loans, in released batches;
- an enterprise user: the loan lines of loans it may see in the ledger (its own, and those of the
  owners of its enterprises, as ``lending.selectors.scope_loans`` decides) and its own beneficiary lines,
  in released batches;
- anyone else: nothing.

Batches not yet released are the bureau's working numbers: only city-wide readers see them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from huiqi.accounts.selectors import Role, role_of
from huiqi.lending.selectors import loans, scope_loans

from .models import BatchStatus, SubsidyBatch, SubsidyLoanLine, SubsidyPayment

CITY_WIDE = {Role.BUREAU, Role.AUDITOR, Role.ADMIN}


def batches_for(user) -> QuerySet[SubsidyBatch]:
    """Batches with their totals: city-wide readers only."""
    if role_of(user) in CITY_WIDE:
        return SubsidyBatch.objects.all()
    return SubsidyBatch.objects.none()


def loan_lines_for(user, batch: SubsidyBatch | None = None) -> QuerySet[SubsidyLoanLine]:
    """Loan lines (of ``batch`` when given) the user may read."""
    role = role_of(user)
    qs = SubsidyLoanLine.objects.select_related("loan", "loan__bank", "batch")
    if batch is not None:
        qs = qs.filter(batch=batch)
    if role in CITY_WIDE:
        return qs
    if role == Role.BANK:
        return qs.filter(batch__status=BatchStatus.RELEASED, loan__bank_id=user.bank_id)
    if role == Role.ENTERPRISE:
        return qs.filter(batch__status=BatchStatus.RELEASED, loan__in=scope_loans(user, loans()))
    return qs.none()


def beneficiary_lines_for(user, batch: SubsidyBatch | None = None) -> QuerySet[SubsidyPayment]:
    """Beneficiary lines (payments) the user may read: an enterprise user its own enterprises' lines."""
    role = role_of(user)
    qs = SubsidyPayment.objects.select_related("batch")
    if batch is not None:
        qs = qs.filter(batch=batch)
    if role in CITY_WIDE:
        return qs
    if role == Role.ENTERPRISE:
        return qs.filter(batch__status=BatchStatus.RELEASED,
                         beneficiary_id__in=user.enterprises.values("uscc"))
    return qs.none()
