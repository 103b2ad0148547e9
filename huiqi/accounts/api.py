"""Who am I; API tokens for machine clients: issued for a user name and password, listed, revoked."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.response import Response

from huiqi.core.errors import DomainError, ValidationFailed
from huiqi.core.throttling import SharedRateThrottle

from . import selectors, services


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
    request=inline_serializer("TokenRequest", {
        "username": serializers.CharField(), "password": serializers.CharField(),
        "name": serializers.CharField(required=False, max_length=services.TOKEN_NAME_MAX,
                                      help_text="what the token is for, shown in the list of tokens"),
        "days": serializers.IntegerField(required=False, min_value=1,
                                         help_text="its lifetime in days; at most, and by default, the "
                                                   "deployment's HUIQI_API_TOKEN_DAYS"),
    }),
    responses=inline_serializer("TokenResponse", {
        "token": serializers.CharField(help_text="the key: shown this once, never again"),
        "id": serializers.IntegerField(), "expires_at": serializers.DateTimeField()}),
)
@api_view(["POST"])
@permission_classes([permissions.AllowAny])
@throttle_classes([TokenThrottle])
@sensitive_variables("credentials", "data", "key")
def obtain_token(request):
    """Exchange a user name and password for a new API token (same lock-out as the log-in page). The key
    is in this answer only; the token expires at ``expires_at`` and can be revoked before."""
    data = request.data if isinstance(request.data, dict) else {}
    credentials = {}
    for field in ("username", "password"):
        value = data.get(field)
        if not isinstance(value, str) or not value or "\x00" in value:
            raise ValidationFailed("auth.credentials", _("请以文本填写 %(field_text)s"), field=field,
                                   field_text=field)
        credentials[field] = value
    user = authenticate(request._request, **credentials)
    if user is None:
        locked = getattr(request._request, "huiqi_locked_until", None)
        if locked:
            raise DomainError("auth.locked", _("登录失败次数过多，账户已临时锁定"))
        err = DomainError("auth.invalid", _("用户名或密码错误"))
        err.status = 401
        raise err
    name = data.get("name", "")
    days = data.get("days")
    if not isinstance(name, str):
        raise ValidationFailed("auth.token_name", _("请以文本填写令牌名称"), field="name")
    token, key = services.issue_token(user, user, name=name or "API", days=days)
    # Beijing time with its offset, as every other date and time of the API.
    return Response({"token": key, "id": token.pk,
                     "expires_at": serializers.DateTimeField().to_representation(token.expires_at)})


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="the key's first characters (the key itself is never shown again)")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    current = serializers.BooleanField(help_text="the token this request is authenticated with")


def _token_json(request, token) -> dict:
    return ApiTokenSerializer({
        "id": token.pk, "user": token.user, "name": token.name, "prefix": token.prefix,
        "created_at": token.created_at, "expires_at": token.expires_at, "revoked_at": token.revoked_at,
        "state": token.state(timezone.now()), "current": getattr(request.auth, "pk", None) == token.pk,
    }).data


@extend_schema(responses=ApiTokenSerializer(many=True))
@api_view(["GET"])
def tokens(request):
    """The caller's API tokens, newest first (an administrator's: every user's), with their state."""
    return Response([_token_json(request, t) for t in selectors.tokens_for(request.user)[:500]])


@extend_schema(methods=["GET"], responses=ApiTokenSerializer)
@extend_schema(methods=["DELETE"], responses={204: OpenApiResponse(description="revoked (or revoked already)")})
@api_view(["GET", "DELETE"])
def token_detail(request, pk):
    """One of the caller's tokens; ``DELETE`` revokes it at once (the caller's own, or an administrator
    anyone's): every later request with it is refused with 401, ``auth.token_revoked``."""
    token = selectors.tokens_for(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404
    if request.method == "DELETE":
        services.revoke_token(request.user, token)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(_token_json(request, token))


urlpatterns = [
    path("me/", me, name="api-me"),
    path("auth/token/", obtain_token, name="api-token"),
    path("auth/tokens/", tokens, name="api-token-list"),
    path("auth/tokens/<int:pk>/", token_detail, name="api-token-detail"),
]
