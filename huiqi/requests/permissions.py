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

from huiqi.accounts.selectors import Role
from huiqi.core.permissions import grant, has_role

HOTLINE_AGENCY = "HOTLINE-12345"
# The SME service bureau runs the channel: requests sent back land here to be routed again.
DISPATCH_AGENCY = "SME-SZ"


@rules.predicate
def is_hotline_operator(user):
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.DEPARTMENT
                and user.agency is not None and user.agency.code == HOTLINE_AGENCY)


@rules.predicate
def handles_its_department(user, request):
    """A department handler acts on its own department's requests (no request named: any)."""
    return request is None or (user.role == Role.DEPARTMENT and user.agency_id == request.agency_id)


@rules.predicate
def made_the_request(user, request):
    """An enterprise user acts on its own enterprises' requests (no request named: any)."""
    return request is None or (user.role == Role.ENTERPRISE
                               and user.enterprises.filter(pk=request.enterprise_id).exists())


_admin = has_role(Role.ADMIN)
_staff = has_role(Role.DISTRICT, Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR, Role.ADMIN)

PERMISSIONS = {
    "requests.view": has_role(Role.ENTERPRISE) | _staff,
    "requests.submit": has_role(Role.ENTERPRISE) | is_hotline_operator,
    "requests.file_for_enterprise": is_hotline_operator,
    "requests.handle": has_role(Role.DEPARTMENT),
    # Asked with the request by pages (which actions to offer) and services (whether to act) alike.
    "requests.handle_request": (has_role(Role.DEPARTMENT) & handles_its_department) | _admin,
    "requests.act_as_requester": (has_role(Role.ENTERPRISE) & made_the_request) | _admin,
    "requests.supervise": has_role(Role.BUREAU, Role.ADMIN),
    "requests.decide_extension": has_role(Role.DEPARTMENT, Role.BUREAU, Role.ADMIN),
    "requests.figures": _staff,
}

grant(PERMISSIONS)
