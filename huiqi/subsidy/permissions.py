"""Who may do what in the interest-subsidy program (django-rules predicates).

Pages, the API and the services ask these permissions, never the role directly. Reading is further
scoped row by row in ``selectors``.
"""

from __future__ import annotations

from huiqi.accounts.selectors import Role
from huiqi.core.permissions import grant, has_role

_bureau_or_admin = has_role(Role.BUREAU, Role.ADMIN)

PERMISSIONS = {
    # Batch lines, scoped per row by the selectors: banks see their loans, enterprises their own lines.
    "subsidy.view": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.BANK, Role.ENTERPRISE),
    # The pages: batches (list, detail, lines, files) are the city-wide readers'; an enterprise user has
    # "my interest subsidy", a bank's staff the page of its loans.
    "subsidy.view_batches": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN),
    "subsidy.view_own": has_role(Role.ENTERPRISE),
    "subsidy.view_bank": has_role(Role.BANK),
    # Simulations record nothing, so auditors may run them too.
    "subsidy.simulate": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN),
    "subsidy.run": _bureau_or_admin,
    "subsidy.review": _bureau_or_admin,
    "subsidy.approve": _bureau_or_admin,
    "subsidy.release": _bureau_or_admin,
    "subsidy.reconcile": _bureau_or_admin,
    "subsidy.cancel": _bureau_or_admin,
}

grant(PERMISSIONS)
