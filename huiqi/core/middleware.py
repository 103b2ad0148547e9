"""Turn domain errors raised in a page into a clear 4xx page, never a 500; refuse oversized bodies and text
that cannot be stored before any view reads it."""

from __future__ import annotations

import json
import time
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .errors import DomainError, InvalidFields, ValidationFailed


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


class SlidingSessionMiddleware:
    """Keep a session alive while it is used: its idle expiry (``SESSION_COOKIE_AGE``) starts again from
    the last write, and a session in use is written again once ``HUIQI_SESSION_REFRESH_SECONDS`` have
    passed since the last one, not on every request (a write and a commit per page). So a session
    expires between AGE − REFRESH and AGE after its last use. Anonymous visitors get no session."""

    KEY = "_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.session_key is None or session.modified:
            return response
        try:
            last = int(session.get(self.KEY, 0))
        except (TypeError, ValueError):
            last = 0
        now = int(time.time())
        if now - last >= settings.HUIQI_SESSION_REFRESH_SECONDS and not session.is_empty():
            session[self.KEY] = now
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body above ``HUIQI_MAX_UPLOAD_BYTES`` (413) from its declared length, before
    anything reads it: Django would otherwise spool a huge upload to disk before any view could say no.
    Then refuse (400, naming the fields) a NUL in a query's filter, and a form or JSON body whose text
    is not valid UTF-8: Django would read a form's bad bytes as "�" (or the whole body as Latin-1), and
    DRF answers a JSON body's with a parse error that names nothing."""

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
        try:
            fields = _fields_not_utf8(request)
        except MultiPartParserError as exc:
            return _refuse(request, ValidationFailed(
                "request.bad_multipart", _("请求正文不是有效的 multipart/form-data（%(reason)s）"),
                reason=str(exc)), 400)
        if fields is not None:
            return _refuse(request, _not_utf8(fields), 400)
        return self.get_response(request)


def _field_with_nul(request) -> str | None:
    """The first query parameter whose name or value holds a NUL, or None. (Forms and request bodies
    check their own fields: a NUL there is refused by the form, naming the field.)"""
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            return name.replace("\x00", "") or "?"
    return None


_BODY_METHODS = ("POST", "PUT", "PATCH")


def _fields_not_utf8(request) -> list[str] | None:
    """The fields of a form or JSON body whose text is not valid UTF-8, every one of them (an empty list
    when the body is at fault but no field can be named); None when the body is good or of another kind.
    A file's bytes are the upload pipeline's to judge, not this."""
    if request.method not in _BODY_METHODS:
        return None
    kind = request.content_type or ""
    if kind == "multipart/form-data":
        # Django decodes a part's bytes with errors="replace": what could not be decoded is a "�".
        bad = [name for name, values in request.POST.lists()
               if "\ufffd" in name or any("\ufffd" in v for v in values)]
        return bad or None
    if kind not in ("application/x-www-form-urlencoded", "application/json") and not kind.endswith("+json"):
        return None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not length or length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return None  # nothing to read, or Django refuses it as too big when it is read
    body = request.body
    encoding = request.encoding or settings.DEFAULT_CHARSET
    if kind == "application/x-www-form-urlencoded":
        bad = _form_fields_not_decodable(body, encoding)
        return bad or None
    try:
        body.decode(encoding)
    except UnicodeDecodeError:
        return _json_fields_not_utf8(body.decode(encoding, "surrogateescape"))
    return None


def _form_fields_not_decodable(body: bytes, encoding: str) -> list[str]:
    """The names of the form fields whose name or value, once unquoted, does not decode strictly."""
    bad: list[str] = []
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, _sep, value = pair.partition(b"=")
        name, value = unquote_to_bytes(name.replace(b"+", b" ")), unquote_to_bytes(value.replace(b"+", b" "))
        try:
            shown = name.decode(encoding)
            value.decode(encoding)
        except UnicodeDecodeError:
            shown = name.decode(encoding, "replace")
            if shown not in bad:
                bad.append(shown)
    return bad


def _json_fields_not_utf8(text: str) -> list[str]:
    """Where in a JSON document, its undecodable bytes read as lone surrogates (``surrogateescape``), a key
    or string holds one: ``title``, ``items[2].name``. An empty list when the document does not parse
    (then the body is at fault as a whole)."""
    try:
        document = json.loads(text)
    except ValueError:
        return []
    found: list[str] = []

    def bad(s: str) -> bool:
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False

    def walk(value, path: str) -> None:
        if isinstance(value, str):
            if bad(value):
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                if bad(key):
                    found.append(where.encode("utf-8", "replace").decode())
                else:
                    walk(item, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    walk(document, "")
    return found


def _not_utf8(fields: list[str]) -> ValidationFailed:
    if not fields:
        return ValidationFailed("request.not_utf8", _("请求正文不是有效的 UTF-8 文本（含有无法解码的字节）"))
    return InvalidFields([ValidationFailed("request.not_utf8",
                                           _("%(field_text)s 不是有效的 UTF-8 文本（含有无法解码的字节）"),
                                           field=f, field_text=f)
                          for f in fields])


def _refuse(request, error: ValidationFailed, status: int):
    if request.path.startswith("/api/") or request.path.startswith("/open311/"):
        return JsonResponse({"error": {**error.as_dict(), "field": error.field}}, status=status)
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
