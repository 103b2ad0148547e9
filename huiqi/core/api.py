"""REST conventions shared by every app: pagination and one error body shape.

Every error body is ``{"error": {"code", "message_zh", "message_en", "field"?, "details"?}}``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


_DRF_MESSAGES = {
    exceptions.NotAuthenticated: ("not_authenticated", "需要登录或提供令牌", "authentication required"),
    exceptions.AuthenticationFailed: ("authentication_failed", "身份验证失败", "authentication failed"),
    exceptions.PermissionDenied: ("permission_denied", "无权执行此操作", "you may not do this"),
    exceptions.NotFound: ("not_found", "未找到", "not found"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    exceptions.Throttled: ("throttled", "请求过于频繁", "too many requests"),
    exceptions.ParseError: ("parse_error", "请求格式错误", "malformed request"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持的内容类型", "unsupported media type"),
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
        body = {
            "code": "invalid",
            "message_zh": "输入有误，请查看各字段的说明",
            "message_en": "invalid input; see the details of each field",
            "details": details,
        }
        if first_field:
            body["field"] = first_field
        response.data = {"error": body}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    # An exception that says its reason in both languages (``bilingual``: code, zh, en) is shown as it says.
    code, zh, en = getattr(exc, "bilingual", None) or next(
        (v for k, v in _DRF_MESSAGES.items() if isinstance(exc, k)),
        ("error", "请求失败", str(getattr(exc, "detail", "error"))),
    )
    response.data = {"error": {"code": code, "message_zh": zh, "message_en": en}}
    return response
