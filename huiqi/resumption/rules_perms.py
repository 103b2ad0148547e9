"""Who may do what in return to work (django-rules predicates). Rows are further scoped in ``selectors``.

An *aggregator* is a platform account that pushes daily checks for many enterprises over the API
(a street office's or an industry association's system, connected under a department account): the
roles department, bureau and administrator. It may report for any enterprise it may read.
"""

from __future__ import annotations

import rules

from huiqi.accounts.models import Role


def _has_role(*roles):
    @rules.predicate
    def predicate(user):
        return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role in roles)

    predicate.__name__ = "is_" + "_or_".join(roles)
    return predicate


OFFICIALS = (Role.DISTRICT, Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR, Role.ADMIN)
AGGREGATORS = (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN)

PERMISSIONS = {
    "resumption.view": _has_role(Role.ENTERPRISE, *OFFICIALS),
    "resumption.file": _has_role(Role.ENTERPRISE),
    "resumption.report_daily": _has_role(Role.ENTERPRISE),
    "resumption.aggregate": _has_role(*AGGREGATORS),
    # District officers handle their district's filings and follow-ups; administrators any.
    "resumption.handle": _has_role(Role.DISTRICT, Role.ADMIN),
    "resumption.view_figures": _has_role(*OFFICIALS),
}

for _name, _predicate in PERMISSIONS.items():
    if not rules.perm_exists(_name):
        rules.add_perm(_name, _predicate)
