"""Who may do what with accounts (django-rules predicates)."""

from __future__ import annotations

import rules

from huiqi.core.permissions import grant, has_role

from .models import Role


@rules.predicate
def owns_token(user, token) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and token is not None
                and token.user_id == user.pk)


grant({
    "accounts.manage_users": has_role(Role.ADMIN),
    # Anyone signed in revokes its own tokens; an administrator anyone's.
    "accounts.revoke_token": owns_token | has_role(Role.ADMIN),
})
