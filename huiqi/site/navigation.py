"""The menu each role sees: the site's own entries and every app's ``NAVIGATION``, shown by permission."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.accounts.selectors import Role
from huiqi.core.declarations import Nav

from . import discovery

# Enterprises, banks and district officers find the API's documentation on their account page, where
# their tokens are; the roles that build on the API see it in the menu.
API_DOCS_IN_MENU = frozenset({Role.DEPARTMENT, Role.BUREAU, Role.INSTITUTION, Role.AUDITOR, Role.ADMIN})

SITE_NAVIGATION = [
    Nav("home", _("首页"), order=0),
    Nav("api-docs", _("接口文档"), order=990, roles=API_DOCS_IN_MENU),
]


def entries() -> list[Nav]:
    return sorted(SITE_NAVIGATION + discovery.collect("NAVIGATION"), key=lambda n: n.order)


def items_for(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        {"url": reverse(n.url_name), "name": n.url_name, "label": n.role_labels.get(user.role, n.label)}
        for n in entries()
        if (n.permission is None or user.has_perm(n.permission)) and (n.roles is None or user.role in n.roles)
    ]


def context(request):
    """Template context processor: ``nav_items`` for the signed-in user."""
    return {"nav_items": items_for(request.user)}
