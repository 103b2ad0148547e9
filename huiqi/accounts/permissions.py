"""Who may do what with accounts (django-rules predicates)."""

from __future__ import annotations

from huiqi.core.permissions import grant, has_role

from .models import Role

grant({"accounts.manage_users": has_role(Role.ADMIN)})
