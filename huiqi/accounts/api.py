"""Who am I, and a token for a machine client."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.response import Response

from huiqi.core.errors import DomainError, ValidationFailed
from huiqi.core.throttling import SharedRateThrottle


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.CharField()
    organisation = serializers.CharField(allow_null=True)
    enterprises = serializers.ListField(child=serializers.CharField())


@extend_schema(responses=MeSerializer)
@api_view(["GET"])
def me(request):
    """The caller: role, organisation and the enterprises it acts for."""
    u = request.user
    return Response({
        "username": u.username, "display_name": u.display_name, "role": u.role,
        "organisation": str(u.organisation) if u.organisation else None,
        "enterprises": list(u.enterprises.values_list("uscc", flat=True)),
    })


class TokenThrottle(SharedRateThrottle):
    scope = "token"
    rate = "30/min"


@extend_schema(
    request=inline_serializer("TokenRequest", {"username": serializers.CharField(),
                                               "password": serializers.CharField()}),
    responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
)
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
@throttle_classes([TokenThrottle])
def obtain_token(request):
    """Exchange a user name and password for the user's API token (same lock-out as the log-in page)."""
    data = request.data if isinstance(request.data, dict) else {}
    credentials = {}
    for field in ("username", "password"):
        value = data.get(field)
        if not isinstance(value, str) or not value or "\x00" in value:
            raise ValidationFailed("auth.credentials", f"请以文本填写 {field}", f"{field} must be given as text",
                                   field=field)
        credentials[field] = value
    user = authenticate(request._request, **credentials)
    if user is None:
        locked = getattr(request._request, "huiqi_locked_until", None)
        if locked:
            raise DomainError("auth.locked", "登录失败次数过多，账户已临时锁定",
                              "too many failed log-ins; the account is locked for a while")
        err = DomainError("auth.invalid", "用户名或密码错误", "wrong user name or password")
        err.status = 401
        raise err
    token, _ = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})


urlpatterns = [
    path("me/", me, name="api-me"),
    path("auth/token/", obtain_token, name="api-token"),
]
