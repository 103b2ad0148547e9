"""Reads of users and roles: what other apps may know of accounts.

``Role`` and ``role_of`` are the vocabulary every app's permissions and scoping are written in; which
records a role reads is decided by the app that owns the records (its ``permissions`` module).
"""

from __future__ import annotations

from .api_auth import (  # noqa: F401 - how API clients are known
    BearerTokenAuthentication,
    TokenRefused,
    live_token_sql,
    token_digest,
    token_user,
)
from .models import ROLE_ORGANISATION, ApiToken, EnterpriseMembership, Role, User

__all__ = ["ApiToken", "BearerTokenAuthentication", "CITY_WIDE_READERS", "ROLE_ORGANISATION", "EnterpriseMembership",
           "Role", "TokenRefused", "User", "demo_users", "live_token_sql", "role_of", "token_digest", "token_user",
           "tokens_expiring", "tokens_for", "users", "users_in_role"]

# Roles that read every district's records (a department's staff read city-wide, act on their own cases).
CITY_WIDE_READERS = frozenset({Role.BUREAU, Role.ADMIN, Role.AUDITOR, Role.DEPARTMENT})


def role_of(user) -> str | None:
    """The signed-in, active user's role; None for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.role


def users():
    """Every user, for another app's own filters (``users().filter(agency_id=…)``); never shown as is."""
    return User.objects.all()


def users_in_role(role: str, **organisation):
    """Active users of a role, optionally of one organisation (``agency=…``, ``district=…``)."""
    return User.objects.filter(role=role, is_active=True, **organisation)


def demo_users():
    return User.objects.filter(is_demo=True).order_by("pk")


def tokens_for(user):
    """The API tokens a user may see and revoke: its own; an administrator's, every user's."""
    if role_of(user) is None:
        return ApiToken.objects.none()
    qs = ApiToken.objects.select_related("user", "revoked_by")
    return qs if user.has_perm("accounts.manage_users") else qs.filter(user=user)


def tokens_expiring(user, now, within, *, everyone: bool = False):
    """Live tokens that expire within ``within`` (a timedelta) of ``now``: the user's own, or with
    ``everyone`` every user's for an administrator (who tells their owners)."""
    if role_of(user) is None:
        return ApiToken.objects.none()
    qs = ApiToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now, expires_at__lte=now + within)
    return qs if everyone and user.has_perm("accounts.manage_users") else qs.filter(user=user)
