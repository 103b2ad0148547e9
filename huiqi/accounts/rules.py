"""Permission predicates (django-rules). Pages, the API and services ask these, never the role directly."""

from __future__ import annotations

import rules

from .models import Role


def has_role(*roles):
    """A predicate: the user is signed in, active and in one of ``roles`` (every app's permissions use it)."""
    @rules.predicate
    def predicate(user):
        return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role in roles)

    predicate.__name__ = "is_" + "_or_".join(roles)
    return predicate


is_enterprise_user = has_role(Role.ENTERPRISE)
is_district_officer = has_role(Role.DISTRICT)
is_bureau_or_admin = has_role(Role.BUREAU, Role.ADMIN)
is_auditor_or_admin = has_role(Role.AUDITOR, Role.ADMIN)
reads_registry = has_role(Role.ENTERPRISE, Role.DISTRICT, Role.DEPARTMENT, Role.BUREAU, Role.AUDITOR, Role.ADMIN)
is_any_role = has_role(*Role.values)

rules.add_perm("registry.view", reads_registry)
rules.add_perm("registry.import", is_bureau_or_admin)
rules.add_perm("core.view_audit", is_auditor_or_admin)
rules.add_perm("core.edit_parameters", is_bureau_or_admin)
rules.add_perm("core.view_parameters", has_role(Role.BUREAU, Role.ADMIN, Role.AUDITOR))
rules.add_perm("accounts.manage_users", has_role(Role.ADMIN))
rules.add_perm("lending.view", has_role(Role.BANK, Role.BUREAU, Role.AUDITOR, Role.ADMIN, Role.ENTERPRISE))
rules.add_perm("lending.upload", has_role(Role.BANK, Role.BUREAU, Role.ADMIN))
rules.add_perm("lending.upload_banks", is_bureau_or_admin)
rules.add_perm("lending.view_uploads", has_role(Role.BANK, Role.BUREAU, Role.AUDITOR, Role.ADMIN))
