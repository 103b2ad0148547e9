"""Who may do what in the risk-compensation pool (django-rules predicates). Reading is further scoped row by
row in ``selectors``: a bank sees its own loans, claims and payments; the bureau and auditors all."""

from __future__ import annotations

from huiqi.accounts.selectors import Role
from huiqi.core.permissions import grant, has_role

_bureau_or_admin = has_role(Role.BUREAU, Role.ADMIN)

PERMISSIONS = {
    "pool.view": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.BANK),
    "pool.view_all": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN),
    "pool.simulate": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN),
    # A bank's staff file and repair their bank's claims and report recoveries on them.
    "pool.file_claim": has_role(Role.BANK),
    # A bank's staff report their loans' five-tier classifications (a file or the API).
    "pool.report_classification": has_role(Role.BANK),
    "pool.report_recovery": has_role(Role.BANK, Role.BUREAU, Role.ADMIN),
    # The bureau keeps the banks' lifecycle, reviews and approves claims (two people), tops the pool up
    # and claws back.
    "pool.manage_banks": _bureau_or_admin,
    "pool.review": _bureau_or_admin,
    "pool.approve": _bureau_or_admin,
    "pool.top_up": _bureau_or_admin,
    "pool.claw_back": _bureau_or_admin,
    # Re-pricing registered loans under another ratio table: proposed by one, approved by another.
    "pool.reprice": _bureau_or_admin,
}

grant(PERMISSIONS)
