"""Who may do what in return to work (django-rules predicates). Rows are further scoped in ``selectors``.

An *aggregator* is a platform account that pushes daily checks for many enterprises over the API
(a street office's or an industry association's system, connected under a department account): the
roles department, bureau and administrator. It may report for any enterprise it may read.
"""

from __future__ import annotations

import rules

from huiqi.accounts.selectors import Role
from huiqi.core.permissions import grant, has_role

OFFICIALS = (Role.DISTRICT, Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR, Role.ADMIN)
AGGREGATORS = (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN)



@rules.predicate
def in_own_district(user, record):
    """A district officer acts on its own district's filings and difficulties only (any other role, or
    no record named, passes: the role predicate decides)."""
    return record is None or user.role != Role.DISTRICT or user.district_id == record.district_id


PERMISSIONS = {
    "resumption.view": has_role(Role.ENTERPRISE, *OFFICIALS),
    "resumption.file": has_role(Role.ENTERPRISE),
    "resumption.report_daily": has_role(Role.ENTERPRISE),
    "resumption.aggregate": has_role(*AGGREGATORS),
    # District officers handle their district's filings and follow-ups; administrators any. Asked
    # with the filing or difficulty (``has_perm("resumption.handle", filing)``) by pages and services.
    "resumption.handle": has_role(Role.DISTRICT, Role.ADMIN) & in_own_district,
    "resumption.view_figures": has_role(*OFFICIALS),
    # Recomputing the dashboard's rollup from the raw checks (the job and the command).
    "resumption.rebuild_rollup": has_role(Role.BUREAU, Role.ADMIN),
}

grant(PERMISSIONS)
