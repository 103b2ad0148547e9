"""Turn domain errors raised in a page into a clear 4xx page, never a 500; refuse oversized bodies."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .errors import DomainError, ValidationFailed


class ContentSecurityPolicyMiddleware:
    """Send ``HUIQI_CSP`` as the Content-Security-Policy of every response that has none: scripts and
    everything else from this site only (the pages carry no inline script; styles may be inline)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.HUIQI_CSP and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.HUIQI_CSP
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body above ``HUIQI_MAX_UPLOAD_BYTES`` (413) from its declared length, before
    anything reads it: Django would otherwise spool a huge upload to disk before any view could say no."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.HUIQI_MAX_UPLOAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            mb = limit // (1024 * 1024)
            return _refuse(request, ValidationFailed("request.too_large", _("提交的内容超过 %(mb)s MB 的上限"),
                                                     field="file", mb=mb),
                           413)
        field = _field_with_nul(request)
        if field is not None:
            # PostgreSQL cannot compare a NUL character: a filter holding one is refused here, named.
            return _refuse(request, ValidationFailed("request.nul", _("%(field_text)s 含有不允许的空字符（NUL）"),
                                                     field=field, field_text=field), 400)
        return self.get_response(request)


def _field_with_nul(request) -> str | None:
    """The first query parameter whose name or value holds a NUL, or None. (Forms and request bodies
    check their own fields: a NUL there is refused by the form, naming the field.)"""
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return name.replace("\x00", "") or "?"
    return None


def _refuse(request, error: ValidationFailed, status: int):
    if request.path.startswith("/api/") or request.path.startswith("/open311/"):
        return JsonResponse({"error": error.as_dict()}, status=status)
    return render(request, "core/error.html", {"error": error}, status=status)


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return render(request, "core/error.html", {"error": exception}, status=exception.status)
        return None
