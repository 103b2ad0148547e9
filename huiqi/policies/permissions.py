"""Who may do what in the policy hub (django-rules predicates). The catalogue is public to every signed-in
person; an enterprise sees its own matches; the bureau drafts, reviews (another person) and publishes."""

from __future__ import annotations

import rules

from huiqi.accounts.selectors import Role
from huiqi.core.permissions import grant, has_role

_bureau_or_admin = has_role(Role.BUREAU, Role.ADMIN)


@rules.predicate
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
