"""Who may do what with enterprise requests (django-rules predicates).

Pages, the API and the services ask these permissions; which requests a user reads is further scoped
row by row in ``selectors``, and whether a user may act on one request is decided in ``services``
(a department handler only on its own department's requests).

Two duties are not roles (``accounts.Role`` stays as it is):

- a **hotline operator** (12345 热线) is a department user of the hotline agency (``HOTLINE_AGENCY``);
  they file calls on an enterprise's behalf;
- a **department head** (部门负责人) is a department user listed in ``DepartmentHead`` for their agency;
  overdue requests escalate to them first and they approve extensions.
"""

from __future__ import annotations

import rules

from huiqi.accounts.models import Role
from huiqi.accounts.rules import has_role

HOTLINE_AGENCY = "HOTLINE-12345"
# The SME service bureau runs the channel: requests sent back land here to be routed again.
DISPATCH_AGENCY = "SME-SZ"


@rules.predicate
def is_hotline_operator(user):
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.DEPARTMENT
                and user.agency is not None and user.agency.code == HOTLINE_AGENCY)


_staff = has_role(Role.DISTRICT, Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR, Role.ADMIN)

PERMISSIONS = {
    "requests.view": has_role(Role.ENTERPRISE) | _staff,
    "requests.submit": has_role(Role.ENTERPRISE) | is_hotline_operator,
    "requests.file_for_enterprise": is_hotline_operator,
    "requests.handle": has_role(Role.DEPARTMENT),
    "requests.supervise": has_role(Role.BUREAU, Role.ADMIN),
    "requests.decide_extension": has_role(Role.DEPARTMENT, Role.BUREAU, Role.ADMIN),
    "requests.figures": _staff,
}

for _name, _predicate in PERMISSIONS.items():
    if not rules.perm_exists(_name):
        rules.add_perm(_name, _predicate)
