"""Token authentication for machine clients: `Authorization: Token <key>` or `Authorization: Bearer <key>`,
and the same check of Open311's ``api_key`` (``token_user``).

A token opens the API while it is neither expired nor revoked and its user is active. Only the key's
SHA-256 digest is stored, so a key is looked up by its digest.
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from huiqi.core import formats
from huiqi.core.errors import DomainError

from .models import ApiToken

KEYWORDS = (b"token", b"bearer")
KEY_BYTES = 20  # a key is 40 hexadecimal characters


def new_key() -> str:
    return secrets.token_hex(KEY_BYTES)


def token_digest(key: str) -> str:
    """What is stored of a key, and looked up."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def live_token_sql(alias: str) -> str:
    """The SQL condition (one parameter: now) that the token row ``alias`` is neither revoked nor expired,
    for a statement that authenticates by itself (``resumption.api_fast``)."""
    return f"{alias}.revoked_at IS NULL AND {alias}.expires_at > %s"


class TokenRefused(exceptions.AuthenticationFailed):
    """A key that opens nothing (401), with the reason as a domain error's message (``core.api`` shows it
    in the requester's language, and in both for older clients)."""

    def __init__(self, code: str, message, **params):
        self.error = DomainError(code, message, **params)
        super().__init__(self.error.en, code=code)

    @property
    def bilingual(self) -> tuple[str, str, str]:
        return self.error.code, self.error.zh, self.error.en


def _refused_unknown() -> TokenRefused:
    # The same answer as any failed authentication: nothing is told of keys that do not exist.
    return TokenRefused("authentication_failed", _("身份验证失败：令牌无效"))


@sensitive_variables("key")
def token_user(key: str, now=None):
    """(user, token) of a key that opens the API at ``now``; else ``TokenRefused`` saying why."""
    if not key or "\x00" in key:
        raise _refused_unknown()
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
    if token is None or not token.user.is_active:
        raise _refused_unknown()
    now = now or timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused("auth.token_revoked", _("该令牌已被撤销，请重新申请令牌"))
    if token.expires_at <= now:
        day = formats.beijing(token.expires_at)
        raise TokenRefused("auth.token_expired", _("该令牌已于 %(day)s 过期，请重新申请令牌"), day=day)
    return token.user, token


class BearerTokenAuthentication(TokenAuthentication):
    model = ApiToken

    @sensitive_variables("parts", "key")
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise TokenRefused("authentication_failed", _("令牌格式应为 'Token <key>'"))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise TokenRefused("authentication_failed", _("令牌含有无效字符")) from None
        return self.authenticate_credentials(key)

    @sensitive_variables("key")
    def authenticate_credentials(self, key):
        return token_user(key)
