"""Who may do what in the stable-development fund (django-rules predicates), and which applications each
role reads: a channel's staff (a fund institution) its own channel's; an enterprise its own; the bureau,
auditors and administrators all. Services ask the object-level permissions with the application."""

from __future__ import annotations

import rules as django_rules

from huiqi.accounts.selectors import Role, role_of
from huiqi.core.permissions import grant, has_role

_CITY = (Role.BUREAU, Role.AUDITOR, Role.ADMIN)


@django_rules.predicate
def _own_application(user, application):
    """The application is the user's to read: its channel's staff, its enterprise's users, the city."""
    if application is None:
        return True
    role = role_of(user)
    if role in _CITY:
        return True
    if role == Role.INSTITUTION:
        return application.institution_id == user.institution_id
    if role == Role.ENTERPRISE:
        return user.enterprises.filter(uscc=application.uscc).exists()
    return False


@django_rules.predicate
def _at_channel(user, application):
    """The channel's own staff (administrators stand in)."""
    if application is None:
        return True
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.INSTITUTION and application.institution_id == user.institution_id)


_channel_staff = has_role(Role.INSTITUTION, Role.ADMIN)

PERMISSIONS = {
    "fund.view": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.INSTITUTION, Role.ENTERPRISE),
    "fund.view_all": has_role(*_CITY),
    "fund.view_application": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.INSTITUTION, Role.ENTERPRISE)
    & _own_application,
    "fund.report": has_role(*_CITY),
    # A channel registers applications; an enterprise applies online to the channel it chooses.
    "fund.register": has_role(Role.INSTITUTION, Role.ENTERPRISE, Role.ADMIN),
    "fund.apply_online": has_role(Role.ENTERPRISE),
    # Withdrawal and transfer: the enterprise itself, or the channel that holds the application.
    "fund.withdraw": has_role(Role.INSTITUTION, Role.ENTERPRISE, Role.ADMIN) & _own_application,
    # The channel's work: stages, pauses, the decision (proposed by one, approved by another), the
    # contract, tranches and repayments.
    "fund.handle": _channel_staff & _at_channel,
    "fund.decide": _channel_staff & _at_channel,
    "fund.disburse": _channel_staff & _at_channel,
    # A channel's staff send status files (tranches, repayments, extensions, closes) for their applications.
    "fund.upload_status": _channel_staff,
    # ... and files of the applications they received (the channel is the sender's institution: no stand-in).
    "fund.upload_applications": has_role(Role.INSTITUTION),
    # The bureau sets priority by hand, with a reason.
    "fund.set_priority": has_role(Role.BUREAU, Role.ADMIN),
}

grant(PERMISSIONS)


def scope_applications(user, qs):
    """Applications the user may read: the city for the bureau, auditors and administrators; a channel's
    staff their institution's; an enterprise user its own enterprises'; no one else."""
    role = role_of(user)
    if role in _CITY:
        return qs
    if role == Role.INSTITUTION:
        return qs.filter(institution_id=user.institution_id)
    if role == Role.ENTERPRISE:
        return qs.filter(uscc__in=list(user.enterprises.values_list("uscc", flat=True)))
    return qs.none()
