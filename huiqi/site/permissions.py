"""Which roles use the platform's shared pages (jobs, audit, parameters): ``core`` knows no roles."""

from __future__ import annotations

from huiqi.accounts.selectors import Role
from huiqi.core.permissions import grant, has_role

grant({
    "core.view_audit": has_role(Role.AUDITOR, Role.ADMIN),
    "core.edit_parameters": has_role(Role.BUREAU, Role.ADMIN),
    "core.view_parameters": has_role(Role.BUREAU, Role.ADMIN, Role.AUDITOR),
    "core.view_all_jobs": has_role(Role.ADMIN),
})
