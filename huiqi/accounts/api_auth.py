"""Token authentication for machine clients: `Authorization: Token <key>` or `Authorization: Bearer <key>`."""

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

KEYWORDS = (b"token", b"bearer")


class BearerTokenAuthentication(TokenAuthentication):
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
