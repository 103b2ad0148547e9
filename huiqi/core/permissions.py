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


def require(actor, perm: str, obj=None, *, allow_system: bool = False) -> None:
    """Refuse (a domain ``PermissionDenied`` that pages show as 403 and the API as its error) unless
    ``actor`` is signed in and holds ``perm`` (on ``obj``); ``None`` (the system: a migration, a timer)
    passes only where ``allow_system`` says so."""
    from django.utils.translation import gettext_lazy as _

    from .errors import PermissionDenied

    if actor is None and allow_system:
        return
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("login_required", _("此操作需要登录用户完成并留痕"))
    allowed = actor.has_perm(perm, obj) if obj is not None else actor.has_perm(perm)
    if not allowed:
        raise PermissionDenied("forbidden", _("无权执行此操作（%(perm)s）"), perm=perm)


def require_page(request, perm: str) -> None:
    """A page's check: 403 unless the signed-in person holds ``perm`` (every app's views use this one)."""
    from django.core.exceptions import PermissionDenied as Forbidden

    if not request.user.has_perm(perm):
        raise Forbidden
