"""Token authentication for machine clients: `Authorization: Token <key>` or `Authorization: Bearer <key>`,
and the same check of Open311's ``api_key`` (``token_user``).

A token opens the API while it is neither expired nor revoked and its user is active. Only the key's
SHA-256 digest is stored, so a key is looked up by its digest.
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

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
    """A key that opens nothing (401), with the reason in Chinese and English (``core.api`` shows both)."""

    def __init__(self, code: str, zh: str, en: str):
        super().__init__(f"{zh} / {en}", code=code)
        self.bilingual = (code, zh, en)


def _refused_unknown() -> TokenRefused:
    # The same answer as any failed authentication: nothing is told of keys that do not exist.
    return TokenRefused("authentication_failed", "身份验证失败：令牌无效", "authentication failed: invalid token")


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
        raise TokenRefused("auth.token_revoked", "该令牌已被撤销，请重新申请令牌",
                           "the token was revoked; get a new one")
    if token.expires_at <= now:
        day = timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")
        raise TokenRefused("auth.token_expired", f"该令牌已于 {day} 过期，请重新申请令牌",
                           f"the token expired at {day} (Beijing time); get a new one")
    return token.user, token


class BearerTokenAuthentication(TokenAuthentication):
    model = ApiToken

    @sensitive_variables("parts", "key")
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("令牌格式应为 'Token <key>' / token header must be 'Token <key>'")
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("令牌含有无效字符 / token has invalid characters") from None
        return self.authenticate_credentials(key)

    @sensitive_variables("key")
    def authenticate_credentials(self, key):
        return token_user(key)
