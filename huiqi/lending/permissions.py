"""Who may do what with the bank loan ledger, and which loans each role reads."""

from __future__ import annotations

from django.db.models import Q

from huiqi.accounts.selectors import Role, role_of
from huiqi.core.permissions import grant, has_role

grant({
    "lending.view": has_role(Role.BANK, Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.ENTERPRISE),
    "lending.upload": has_role(Role.BANK, Role.BUREAU, Role.ADMIN),
    "lending.upload_banks": has_role(Role.BUREAU, Role.ADMIN),
    "lending.view_uploads": has_role(Role.BANK, Role.BUREAU, Role.AUDITOR, Role.ADMIN),
})


def scope_loans(user, qs):
    """Loans the user may read: a bank its own; the bureau, auditors and administrators all;
    an enterprise user the loans whose borrower (or owned enterprise) it acts for; no one else."""
    role = role_of(user)
    if role in (Role.BUREAU, Role.ADMIN, Role.AUDITOR):
        return qs
    if role == Role.BANK:
        return qs.filter(bank_id=user.bank_id)
    if role == Role.ENTERPRISE:
        codes = list(user.enterprises.values_list("uscc", flat=True))
        return qs.filter(Q(borrower_id__in=codes) | Q(owner_of__in=codes))
    return qs.none()
