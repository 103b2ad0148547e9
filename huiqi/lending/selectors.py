"""Ledger reads, scoped to the asking user: a bank its own rows, the bureau everything."""

from __future__ import annotations

from django.db.models import Q

from huiqi.accounts.models import Role

from .models import LedgerUpload, Loan


def loans_for(user, *, q: str = "", bank: str = "", kind: str = "", purpose: str = ""):
    qs = Loan.objects.for_user(user).select_related("bank")
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(loan_no__icontains=q) | Q(borrower_name__icontains=q) | Q(borrower_id=q.upper()))
    if bank:
        qs = qs.filter(bank__code=bank)
    if kind:
        qs = qs.filter(borrower_kind=kind)
    if purpose:
        qs = qs.filter(purpose=purpose)
    return qs.order_by("bank__code", "loan_no")


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
