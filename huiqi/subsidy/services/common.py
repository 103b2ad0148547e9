"""What the services share: the permission check, status labels, chunks."""

from __future__ import annotations

from huiqi.accounts import selectors as accounts_selectors
from huiqi.core.errors import PermissionDenied

from ..models import BatchStatus

_CHUNK = 5000

# --------------------------------------------------------------------------------------------------
# Permissions


def _require(actor, perm: str, *, allow_system: bool = False) -> None:
    """Refuse unless ``actor`` holds ``perm``; ``None`` (the system) passes only where allowed."""
    if actor is None and allow_system:
        return
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("subsidy.login_required", "此操作需要登录用户完成并留痕",
                               "this action must be done by a signed-in user, on the record")
    if not actor.has_perm(perm):
        raise PermissionDenied("subsidy.forbidden", f"无权执行此操作（{perm}）",
                               f"you may not do this ({perm})")


def acting_user(username: str, perm: str):
    """The user a headless command acts as (``--as``), refused unless there is one by that name, active and
    holding ``perm``: what the command records is theirs, as on the pages."""
    user = accounts_selectors.users().filter(username=username).first()
    if user is None:
        raise PermissionDenied("subsidy.no_such_user", f"没有用户名为 {username} 的用户",
                               f"there is no user {username}", field="as", value=username)
    if not user.is_active:
        raise PermissionDenied("subsidy.user_inactive", f"用户 {username} 已停用", f"user {username} is deactivated",
                               field="as", value=username)
    if not user.has_perm(perm):
        raise PermissionDenied("subsidy.forbidden", f"用户 {username} 无权执行此操作（{perm}）",
                               f"user {username} may not do this ({perm})", field="as", value=username)
    return user


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _status_zh(status: str) -> str:
    return BatchStatus(status).label.split(" ")[0]


def _status_en(status: str) -> str:
    return BatchStatus(status).label.split(" ", 1)[1]
