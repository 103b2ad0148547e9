"""The one way permissions are written: ``rules`` predicates over the signed-in user's role.

Each app grants its permissions in its own ``permissions.py`` (found by ``huiqi.site``); pages, the
API and services ask ``user.has_perm(name[, obj])``, never the role directly.
"""

from __future__ import annotations

import rules


def has_role(*roles):
    """A predicate: the user is signed in, active and in one of ``roles``."""
    @rules.predicate
    def predicate(user):
        return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role in roles)

    predicate.__name__ = "is_" + "_or_".join(str(r) for r in roles)
    return predicate


def grant(permissions: dict) -> None:
    """Register ``{name: predicate}``; a name registered already keeps its predicate (tests reload)."""
    for name, predicate in permissions.items():
        if not rules.perm_exists(name):
            rules.add_perm(name, predicate)
