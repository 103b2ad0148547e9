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
from django.db.models import Q

from huiqi.core import audit
from huiqi.core.i18n import Joined

from .models import ROLE_ORGANISATION, ApiToken, EnterpriseMembership, Role, User

__all__ = ["ApiToken", "AuditPeople", "BearerTokenAuthentication", "CITY_WIDE_READERS", "ROLE_ORGANISATION", "EnterpriseMembership",
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


# --- the people of the audit log ---------------------------------------------------------------------
_ORGANISATION_FIELDS = tuple(dict.fromkeys(ROLE_ORGANISATION.values()))
# Roles whose staff act for the city itself: the role names their place.
_CITY_ROLES = (Role.BUREAU, Role.AUDITOR, Role.ADMIN)


def _organisation_text(user) -> str:
    organisation = user.organisation
    if organisation is not None:
        return str(organisation)
    if user.role == Role.ENTERPRISE:
        return str(Joined((e.name for e in user.enterprises.all()), "、", ", "))
    return str(user.get_role_display()) if user.role else ""


class AuditPeople(audit.People):
    """Who the audit log's people are: the full name and the organisation each acts for (a district, a
    department, a bank, a fund institution, the enterprises of an enterprise user, or, for the city's own
    staff, their role); the ``organisation`` filter offers the organisations that have users."""

    def describe(self, ids):
        users = (User.objects.filter(pk__in=set(ids)).select_related(*_ORGANISATION_FIELDS)
                 .prefetch_related("enterprises"))
        return {u.pk: audit.Person(str(u), _organisation_text(u)) for u in users}

    def matching(self, text):
        people = User.objects.filter(Q(display_name__icontains=text) | Q(username__icontains=text))
        return Q(actor__in=people) | Q(actor__isnull=True, actor_label__icontains=text)

    def organisations(self):
        options = []
        for field in _ORGANISATION_FIELDS:
            model = User._meta.get_field(field).related_model
            used = User.objects.filter(**{f"{field}__isnull": False}).values(field)
            options += sorted(((f"{field}:{row.pk}", str(row)) for row in model._default_manager.filter(pk__in=used)),
                              key=lambda o: o[1])
        roles = dict(Role.choices)
        options += [(f"role:{role}", roles[role]) for role in (Role.ENTERPRISE, *_CITY_ROLES)]
        return options

    def of_organisation(self, key):
        kind, _sep, value = key.partition(":")
        if kind == "role" and value in Role.values:
            people = User.objects.filter(role=value)
        elif kind in _ORGANISATION_FIELDS and value:
            try:
                pk = User._meta.get_field(kind).target_field.to_python(value)
                people = User.objects.filter(**{f"{kind}_id": pk})
            except Exception:  # noqa: BLE001 - a value that is no key of the organisation
                return Q(pk__in=[])
        else:
            return Q(pk__in=[])
        return Q(actor__in=people)
