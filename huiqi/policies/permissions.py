"""Who may do what in the policy hub (django-rules predicates). The catalogue is public to every signed-in
person; an enterprise sees its own matches; the bureau drafts, reviews (another person) and publishes.

Online applications: an enterprise applies for its own enterprises and reads its own; the owning
department (``PolicyItem.department``) handles and reads the applications routed to it; the bureau,
auditors and administrators read every one (``scope_applications``); administrators stand in for a
department."""

from __future__ import annotations

import rules as django_rules

from huiqi.accounts.selectors import Role, role_of
from huiqi.core.permissions import grant, has_role

_bureau_or_admin = has_role(Role.BUREAU, Role.ADMIN)
_CITY = (Role.BUREAU, Role.AUDITOR, Role.ADMIN)


@django_rules.predicate
def _routed_to_them(user, application):
    """A department user's own department's application (no application named: any)."""
    return application is None or (role_of(user) == Role.DEPARTMENT and user.agency_id is not None
                                   and application.department_id == user.agency_id)


@django_rules.predicate
def _their_application(user, application):
    """The application is the user's to read (see ``scope_applications``)."""
    if application is None:
        return True
    role = role_of(user)
    if role in _CITY:
        return True
    if role == Role.DEPARTMENT:
        return user.agency_id is not None and application.department_id == user.agency_id
    if role == Role.ENTERPRISE:
        return user.enterprises.filter(pk=application.enterprise_id).exists()
    return False


@django_rules.predicate
def acts_for(user, enterprise):
    """An enterprise user acts for the enterprises linked to its account only (no enterprise named passes:
    the role predicate decides)."""
    return enterprise is None or user.enterprises.filter(pk=enterprise.pk).exists()


PERMISSIONS = {
    "policies.view": has_role(*Role.values),
    # 政策找我: an enterprise's own matches.
    "policies.match_own": has_role(Role.ENTERPRISE),
    # Drafting items and their criteria, and watching the counts of the registry they give.
    "policies.edit": _bureau_or_admin,
    "policies.review": _bureau_or_admin,
    "policies.view_drafts": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.DEPARTMENT),
    # The publicity figures and articles: the bureau, departments and districts that publicise, auditors.
    "policies.view_publicity": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.DEPARTMENT, Role.DISTRICT),
    # The per-policy funnel: the city's readers every item's, a department its own items'.
    "policies.view_funnel": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.DEPARTMENT),
    # Online applications (在线申报): an enterprise applies; each reader sees the ones in its scope; the owning
    # department handles them (accept, approve or reject, pay).
    "policies.apply": has_role(Role.ENTERPRISE),
    "policies.view_applications": has_role(Role.ENTERPRISE, Role.DEPARTMENT, *_CITY),
    "policies.view_application": has_role(Role.ENTERPRISE, Role.DEPARTMENT, *_CITY) & _their_application,
    "policies.handle_application": (has_role(Role.DEPARTMENT) & _routed_to_them) | has_role(Role.ADMIN),
    # 免申即享 lists: the bureau compiles, reviews (another person), publicises, decides objections, confirms and
    # pays (the payment list approved by another person); auditors read them; an enterprise reads its own
    # entries, objects and declines. The 公示 itself is public.
    "policies.view_lists": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN),
    "policies.manage_lists": _bureau_or_admin,
    "policies.own_entries": has_role(Role.ENTERPRISE),
    # 精准推送: an enterprise reads its own inbox and sets its own consents, filters and unsubscriptions.
    "policies.push_own": has_role(Role.ENTERPRISE) & acts_for,
    # The message log of every push, and the push's figures.
    "policies.view_push_log": has_role(Role.BUREAU, Role.AUDITOR, Role.ADMIN),
    # Running the day's push by hand (the timer runs it as the system).
    "policies.run_push": _bureau_or_admin,
}

grant(PERMISSIONS)


def scope_applications(user, qs):
    """The applications ``user`` reads: every one for the bureau, auditors and administrators; a department
    user those routed to its department; an enterprise user its own enterprises'; no one else any."""
    role = role_of(user)
    if role in _CITY:
        return qs
    if role == Role.DEPARTMENT:
        return qs.filter(department_id=user.agency_id) if user.agency_id else qs.none()
    if role == Role.ENTERPRISE:
        return qs.filter(enterprise__in=user.enterprises.all())
    return qs.none()
