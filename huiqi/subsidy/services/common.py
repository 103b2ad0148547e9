"""What the services share: the acting user of a headless command, status labels, chunks."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core.errors import PermissionDenied

from ..models import BatchStatus

_CHUNK = 5000

# --------------------------------------------------------------------------------------------------
# Permissions


def acting_user(username: str, perm: str):
    """The user a headless command acts as (``--as``), refused unless there is one by that name, active and
    holding ``perm``: what the command records is theirs, as on the pages."""
    user = accounts_selectors.users().filter(username=username).first()
    if user is None:
        raise PermissionDenied("subsidy.no_such_user", _("没有用户名为 %(username)s 的用户"), field="as",
                               value=username, username=username)
    if not user.is_active:
        raise PermissionDenied("subsidy.user_inactive", _("用户 %(username)s 已停用"), field="as", value=username,
                               username=username)
    if not user.has_perm(perm):
        raise PermissionDenied("subsidy.forbidden", _("用户 %(username)s 无权执行此操作（%(perm)s）"), field="as",
                               value=username, username=username, perm=perm)
    return user


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def status_label(status: str):
    """A batch status as people read it (a lazy translation)."""
    return BatchStatus(status).label
