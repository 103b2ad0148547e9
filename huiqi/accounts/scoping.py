"""Who sees which rows. Every selector passes its queryset through one of these.

A query that returns another organisation's records is a bug; the access-matrix test walks every
page and endpoint as every role to catch it.
"""

from __future__ import annotations

from .models import Role

CITY_WIDE_READERS = {Role.BUREAU, Role.ADMIN, Role.AUDITOR, Role.DEPARTMENT}


def role_of(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.role


def enterprises_for(user, qs):
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


def loans_for(user, qs):
    """Loans the user may read: a bank its own; the bureau, auditors and administrators all;
    an enterprise user the loans whose borrower (or owned enterprise) it acts for; no one else."""
    from django.db.models import Q

    role = role_of(user)
    if role in (Role.BUREAU, Role.ADMIN, Role.AUDITOR):
        return qs
    if role == Role.BANK:
        return qs.filter(bank_id=user.bank_id)
    if role == Role.ENTERPRISE:
        codes = list(user.enterprises.values_list("uscc", flat=True))
        return qs.filter(Q(borrower_id__in=codes) | Q(owner_of__in=codes))
    return qs.none()
