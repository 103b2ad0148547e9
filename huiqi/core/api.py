"""REST conventions shared by every app: pagination and one error body shape.

Every error body is ``{"error": {"code", "message", "message_zh", "message_en", "field"?, "details"?}}``:
``message`` in the requester's language (the language cookie, else Chinese), and both languages for
clients written before ``message`` existed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError
from .i18n import shown


class ShownField(serializers.CharField):
    """A message kept as its msgid and params (``core.i18n.stored``), in the requester's language."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return shown(value)


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


_DRF_MESSAGES = {
    exceptions.NotAuthenticated: ("not_authenticated", _("需要登录或提供令牌")),
    exceptions.AuthenticationFailed: ("authentication_failed", _("身份验证失败")),
    exceptions.PermissionDenied: ("permission_denied", _("无权执行此操作")),
    exceptions.NotFound: ("not_found", _("未找到")),
    exceptions.MethodNotAllowed: ("method_not_allowed", _("不支持该请求方法")),
    exceptions.Throttled: ("throttled", _("请求过于频繁")),
    exceptions.ParseError: ("parse_error", _("请求格式错误")),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", _("不支持的内容类型")),
}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response({"error": exc.as_dict()}, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = response.data
        first_field = next(iter(details), None) if isinstance(details, dict) else None
        body = {**DomainError("invalid", _("输入有误，请查看各字段的说明")).as_dict(), "details": details}
        if first_field:
            body["field"] = first_field
        response.data = {"error": body}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    # An exception that carries its reason as a domain error (``error``) is shown as it says.
    error = getattr(exc, "error", None)
    if error is None:
        code, message = next((v for k, v in _DRF_MESSAGES.items() if isinstance(exc, k)),
                             ("error", _("请求失败")))
        error = DomainError(code, message)
    response.data = {"error": error.as_dict()}
    return response
