"""Who may do what with the registry, and which enterprises each role reads."""

from __future__ import annotations

from huiqi.accounts.selectors import CITY_WIDE_READERS, Role, role_of
from huiqi.core.permissions import grant, has_role

grant({
    "registry.view": has_role(Role.ENTERPRISE, Role.DISTRICT, Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR,
                              Role.ADMIN),
    "registry.import": has_role(Role.BUREAU, Role.ADMIN),
})


def scope_enterprises(user, qs):
    """Enterprises the user may read: the city for bureau-level roles, a district's for its
    officers, an enterprise user's own, none for anyone else (banks and institutions see
    borrowers and applicants through their own programs)."""
    role = role_of(user)
    if role in CITY_WIDE_READERS:
        return qs
    if role == Role.DISTRICT:
        return qs.filter(district_id=user.district_id)
    if role == Role.ENTERPRISE:
        return qs.filter(members=user)
    return qs.none()
