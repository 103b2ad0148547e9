"""Writes on users, audited: creating one in a role, with its organisation; issuing and revoking API tokens."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import audit
from huiqi.core.errors import PermissionDenied, ValidationFailed
from huiqi.core.i18n import stored

from .api_auth import new_key, token_digest
from .models import ROLE_ORGANISATION, ApiToken, Role, User


@transaction.atomic
def create_user(actor, *, username: str, password: str, role: str, display_name: str = "",
                district=None, agency=None, bank=None, institution=None, enterprises=(),
                is_demo: bool = False, check_password: bool = True) -> User:
    """Create a user in one role with the organisation that role requires."""
    if role not in Role.values:
        raise ValidationFailed("user.role", _("未知角色 %(role)s"), field="role", role=role)
    if User.objects.filter(username=username).exists():
        raise ValidationFailed("user.exists", _("用户名 %(username)s 已存在"), field="username", username=username)
    orgs = {"district": district, "agency": agency, "bank": bank, "institution": institution}
    needed = ROLE_ORGANISATION.get(role)
    if needed and orgs[needed] is None:
        raise ValidationFailed("user.organisation", _("角色 %(role)s 必须指定 %(needed)s"), field=needed, needed=needed,
                               role=role)
    if role == Role.ENTERPRISE and not enterprises:
        raise ValidationFailed("user.enterprises", _("企业用户必须关联至少一家企业"), field="enterprises")
    if check_password:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise ValidationFailed("user.password", _("密码不符合要求：%(reasons)s"), field="password",
                                   reasons=" ".join(exc.messages)) from exc
    user = User(username=username, role=role, display_name=display_name, is_demo=is_demo,
                is_staff=role in (Role.ADMIN, Role.BUREAU), is_superuser=role == Role.ADMIN,
                **{k: v for k, v in orgs.items() if k == needed})
    user.set_password(password)
    user.save()
    if enterprises:
        user.enterprises.set(enterprises)
    audit.record(actor, "create", user, after={"username": username, "role": role,
                                                "organisation": str(user.organisation or ""),
                                                "enterprises": [e.uscc for e in enterprises]})
    return user


TOKEN_NAME_MAX = ApiToken._meta.get_field("name").max_length


@transaction.atomic
def issue_token(actor, user: User, *, name: str = "", days: int | None = None, now=None) -> tuple[ApiToken, str]:
    """A new API token of ``user``, valid ``days`` days (at most, and by default, ``HUIQI_API_TOKEN_DAYS``):
    (the token, its key). The key is returned this once and never stored. A user issues its own; an
    administrator, or the command line (``actor`` None), anyone's."""
    if actor is not None and actor.pk != user.pk and not actor.has_perm("accounts.manage_users"):
        raise PermissionDenied("auth.token_forbidden", _("只能为自己申请令牌"))
    longest = settings.HUIQI_API_TOKEN_DAYS
    days = longest if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= longest:
        raise ValidationFailed("auth.token_days", _("有效天数须为 1 至 %(longest)s 之间的整数"), field="days",
                               longest=longest)
    name = (name or "").strip()
    if len(name) > TOKEN_NAME_MAX or "\x00" in name:
        raise ValidationFailed("auth.token_name", _("用途不能超过 %(token_name_max)s 个字，且不能含空字符"), field="name",
                               token_name_max=TOKEN_NAME_MAX)
    now = now or timezone.now()
    key = new_key()
    token = ApiToken.objects.create(user=user, digest=token_digest(key), prefix=key[:8], name=name, created_at=now,
                                    expires_at=now + dt.timedelta(days=days))
    audit.record(actor, "create", token, note=stored(_("签发接口令牌给 %(user)s"), user=user.username))
    return token, key


@transaction.atomic
def revoke_token(actor, token: ApiToken, *, now=None) -> bool:
    """Revoke a token at once (its owner, or an administrator); False when it was revoked already."""
    if not actor.has_perm("accounts.revoke_token", token):
        raise PermissionDenied("auth.token_forbidden", _("无权撤销该令牌"))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return False
    before = audit.snapshot(token)
    token.revoked_at, token.revoked_by = now or timezone.now(), actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(actor, "revoke", token, before=before, note=stored(_("撤销 %(user)s 的接口令牌"), user=token.user.username))
    return True
