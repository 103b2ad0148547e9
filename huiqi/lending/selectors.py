"""Ledger reads. Pages read through the ``*_for(user)`` selectors, scoped to the asking user: a bank its
own rows, the bureau everything. Other programs read the ledger through the unscoped ones below and
scope what they show with ``scope_loans``."""

from __future__ import annotations

from huiqi.accounts.selectors import Role

from .models import BorrowerKind, LedgerUpload, Loan
from .permissions import scope_loans

__all__ = ["BorrowerKind", "loans", "loans_for", "mask_borrower_id", "scope_loans", "uploads_for"]

# A resident ID shown in an audit record, a page or a file: the first four and last four characters.
mask_borrower_id = Loan.AUDIT_MASK["borrower_id"]


def loans():
    """Every loan, unscoped: for another program's own queries (it scopes what it shows)."""
    return Loan.objects.all()


def loans_for(user):
    """The loans the user may see, by bank and number (``filters.LoanFilter`` narrows the list)."""
    return Loan.objects.for_user(user).select_related("bank").order_by("bank__code", "loan_no")


def uploads_for(user):
    """Uploads a user may see: a bank's staff those of its bank, the bureau and auditors all."""
    role = getattr(user, "role", None)
    if not getattr(user, "is_authenticated", False):
        return LedgerUpload.objects.none()
    if role in (Role.BUREAU, Role.ADMIN, Role.AUDITOR):
        return LedgerUpload.objects.all()
    if role == Role.BANK:
        return LedgerUpload.objects.filter(bank_id=user.bank_id)
    return LedgerUpload.objects.none()
