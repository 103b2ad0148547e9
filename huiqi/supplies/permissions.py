"""Who reads and keeps the producers directory (django-rules predicates): the bureau keeps it (市工信局);
auditors and administrators read it all, a district officer its district's producers, an enterprise its
own entry. Services ask the object-level permissions with the producer."""

from __future__ import annotations

import rules as django_rules

from huiqi.accounts.selectors import Role, role_of
from huiqi.core.permissions import grant, has_role

_CITY = (Role.BUREAU, Role.AUDITOR, Role.ADMIN)


@django_rules.predicate
def _own_producer(user, producer):
    """The producer is the user's to read: the city's, its district's officers', its enterprise's users."""
    if producer is None:
        return True
    role = role_of(user)
    if role in _CITY:
        return True
    if role == Role.DISTRICT:
        return producer.enterprise.district_id == user.district_id
    if role == Role.ENTERPRISE:
        return user.enterprises.filter(pk=producer.enterprise_id).exists()
    return False


PERMISSIONS = {
    "supplies.view_directory": has_role(*_CITY, Role.DISTRICT, Role.ENTERPRISE),
    "supplies.view_producer": has_role(*_CITY, Role.DISTRICT, Role.ENTERPRISE) & _own_producer,
    # The bureau keeps the directory: listing, removal, suspension, products (and its files).
    "supplies.manage_directory": has_role(Role.BUREAU, Role.ADMIN),
    # The directory files the bureau sent: the city's readers read them (and their refusal reports).
    "supplies.view_files": has_role(*_CITY),
}

grant(PERMISSIONS)


def scope_producers(user, qs):
    """Producers the user may read: all for the city's readers, a district's for its officers, an
    enterprise user's own enterprises'; none for anyone else."""
    role = role_of(user)
    if role in _CITY:
        return qs
    if role == Role.DISTRICT:
        return qs.filter(enterprise__district_id=user.district_id)
    if role == Role.ENTERPRISE:
        return qs.filter(enterprise__in=user.enterprises.all())
    return qs.none()
