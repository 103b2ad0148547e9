"""The common case of ``POST /api/v1/daily-checks/``, answered without the generic API machinery.

Every open enterprise reports every morning before the deadline, most of them through aggregators'
systems, so this one call carries the platform's peak load. The full path (``api.DailyCheckViewSet``:
DRF's request, authentication, parsers, serializers and renderer, then ``services.submit_daily_check``)
spends most of its time in that machinery, not in the report. This module takes the requests that are
plainly well-formed — a token in ``Authorization``, a JSON object whose fields all have their exact
types, a caller that may report for the named enterprise — reads the token, its user and the
enterprise in one query, and hands them to ``services.record_daily_check``, the same service the full
path ends in (on PostgreSQL a first report is one statement there).

It decides nothing the full path would decide differently: anything it is not sure of (another
content type, a string where a number belongs, an unknown token, an inactive user, an enterprise it
cannot place, a role it does not know, any refusal by the service) makes it step aside before it has
written anything, and the full path answers — with the same error bodies as every other endpoint.
A test sends the same requests both ways and requires the same statuses, bodies and rows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re

from django.core import signals
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.utils import timezone

from huiqi.accounts.models import EnterpriseMembership, Role, User
from huiqi.accounts.selectors import CITY_WIDE_READERS
from huiqi.core.errors import DomainError
from huiqi.registry.models import Enterprise, Industry

from . import services
from .models import DifficultyKind

logger = logging.getLogger(__name__)

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_INTS = ("staff_total", "staff_returned", "staff_on_site", "capacity_pct")
_OPTIONAL_INTS = ("suspected_cases", "confirmed_cases")
_KINDS = frozenset(DifficultyKind.values)
_NOTE_MAX = 500  # api.DifficultySerializer.note
_USCC_MAX = 18  # api.DailyCheckRequest.enterprise


def _token(authorization: str) -> str | None:
    """The key of ``Authorization: Token <key>`` or ``Bearer <key>`` (``accounts.api_auth``), else None.
    Split as DRF splits it: the header's bytes, on ASCII whitespace only."""
    try:
        parts = authorization.encode("iso-8859-1").split()  # DRF's HTTP_HEADER_ENCODING
    except UnicodeEncodeError:
        return None
    if len(parts) != 2 or parts[0].lower() not in (b"token", b"bearer") or not parts[1].isascii():
        return None
    return parts[1].decode()


def _json_in(content_type: str) -> bool:
    """A JSON body in UTF-8, as DRF's JSONParser takes it."""
    media_type, *options = [part.strip().lower() for part in content_type.split(";")]
    return media_type == "application/json" and not any(
        o.startswith("charset=") and o not in ("charset=utf-8", 'charset="utf-8"') for o in options)


def _json_out(accept: str | None) -> bool:
    """An ``Accept`` for which DRF's negotiation picks the plain JSON renderer (absent, ``*/*`` or
    ``application/json``); any other goes the full way (406, the browsable API, an indented JSON…)."""
    return accept is None or accept.strip().lower() in ("*/*", "application/json")


def _key_if_plain(authorization: str, content_type: str, accept: str | None) -> str | None:
    """The token's key when the headers are ones this module answers (a token, a JSON body in, JSON
    out); else None. Decided before the body is read."""
    key = _token(authorization)
    return key if key is not None and _json_in(content_type) and _json_out(accept) else None


def _plain_int(value) -> bool:
    return type(value) is int


def _body(body: bytes) -> dict | None:
    """The report, when every field has exactly the type the API documents; else None (the content
    type is ``_key_if_plain``'s to check)."""
    try:  # as DRF's JSONParser reads it: UTF-8 text (a BOM or another encoding is its to refuse)
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    uscc, day = data.get("enterprise"), data.get("day")
    if not (isinstance(uscc, str) and uscc and uscc == uscc.strip() and len(uscc) <= _USCC_MAX):
        return None
    if not (isinstance(day, str) and _DAY.match(day)):
        return None
    try:
        day = dt.date.fromisoformat(day)
    except ValueError:
        return None
    if type(data.get("is_open")) is not bool:
        return None
    if not all(_plain_int(data.get(k)) for k in _INTS):
        return None
    if not all(k not in data or _plain_int(data[k]) for k in _OPTIONAL_INTS):
        return None
    values = {k: data[k] for k in ("is_open", *_INTS)}
    for k in _OPTIONAL_INTS:
        values[k] = data.get(k, 0)
    difficulties = data.get("difficulties", [])
    if not isinstance(difficulties, list):
        return None
    wanted = []
    for item in difficulties:
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str) or item["kind"] not in _KINDS:
            return None
        note, needs_help = item.get("note", ""), item.get("needs_help", False)
        if not (isinstance(note, str) and len(note) <= _NOTE_MAX and note == note.strip()) \
                or type(needs_help) is not bool:
            return None
        wanted.append({"kind": item["kind"], "note": note, "needs_help": needs_help})
    return {"uscc": uscc, "day": day, "values": values, "difficulties": wanted}


def _refuse(constant):
    raise ValueError(f"{constant} is not JSON")


_CALLER_SQL = None


def _roles(perm: str, scoped_to: set) -> list[str]:
    """The roles ``perm``'s rule allows (asked of the rule itself) whose enterprise scope is ``scoped_to``."""
    found = [r for r in Role.values if r in scoped_to and services.rule_allows(perm, User(role=r, is_active=True))]
    assert all(re.fullmatch(r"[a-z_]+", r) for r in found)  # inlined in SQL below
    return found


def _caller_sql() -> str:
    """The ``src`` of ``services.first_report``: the token's user, when it is active and may report
    for the enterprise named by USCC, and the enterprise — no row otherwise. The two ways to be
    allowed are those of ``services.own_enterprise``: an aggregator whose role reads the whole city,
    an enterprise user for an enterprise it acts for."""
    global _CALLER_SQL
    if _CALLER_SQL is None:
        from rest_framework.authtoken.models import Token

        def listed(roles):
            return ", ".join(f"'{r}'" for r in roles) or "NULL"

        aggregators = listed(_roles("resumption.aggregate", set(CITY_WIDE_READERS)))
        members = listed(_roles("resumption.report_daily", {Role.ENTERPRISE}))
        _CALLER_SQL = (
            f"SELECT e.id AS enterprise_id, e.district_id, i.section AS industry_section, e.size_class, "
            f"e.is_key_enterprise AS is_key, u.id AS actor_id, u.username AS actor_label, "
            f"e.name, e.industry_id, u.role, u.district_id AS user_district_id "
            f"FROM {Token._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
            f"JOIN {Enterprise._meta.db_table} e ON e.uscc = %s "
            f"JOIN {Industry._meta.db_table} i ON i.code = e.industry_id "
            f"WHERE t.key = %s AND u.is_active AND (u.role IN ({aggregators}) OR (u.role IN ({members}) AND EXISTS "
            f"(SELECT 1 FROM {EnterpriseMembership._meta.db_table} m WHERE m.user_id = u.id AND m.enterprise_id = e.id)))")
    return _CALLER_SQL


def submit(request) -> HttpResponse | None:
    """The response to a plainly well-formed report, or None: the full path then answers."""
    meta = request.META
    if connection.vendor != "postgresql":
        return None  # SQLite: one writer at a time anyway; the full path is as fast there
    if meta.get("QUERY_STRING"):
        return None  # ?format=… and the like: DRF's to read
    key = _key_if_plain(meta.get("HTTP_AUTHORIZATION", ""), meta.get("CONTENT_TYPE", ""), meta.get("HTTP_ACCEPT"))
    answer = None if key is None else _attempt(key, request.body, check_health=True)
    if answer is None:
        return None
    status, payload = answer
    response = HttpResponse(payload, content_type="application/json", status=status)
    response["Vary"] = "Accept"
    response["Allow"] = _ALLOW
    return response


_ALLOW = "GET, POST, HEAD, OPTIONS"


def _attempt(key: str, body: bytes, *, check_health: bool) -> tuple[int, bytes] | None:
    """PostgreSQL: (status, JSON body) of a plainly well-formed report sent with the token ``key`` and
    headers ``_key_if_plain`` took, or None before anything is written.

    ``check_health=False``: the statement is sent without Django's per-request health check of the
    connection (a round trip). A database error (a dead connection, a deadlock, a timeout) then gives
    None and the full path answers: the statement is one autocommitted statement, so it wrote nothing
    unless it had committed before the error, in which case the full path finds the report stored and
    answers 200 (unchanged) instead of 201 — never a second row."""
    report = _body(body)
    if report is None:
        return None
    now = timezone.now()
    day, values, difficulties = report["day"], report["values"], report["difficulties"]
    try:
        clean, wanted, on_time = services.check_report(day, values, difficulties, now)
        check = services.new_check(None, None, day, clean, on_time, "api", now)
        row = services.first_report(_caller_sql(), [report["uscc"], key], check, wanted, "api",
                                    check_health=check_health)
        if row is None:
            return None  # an unknown token, an inactive user, a refusal, an unknown enterprise: the full path's
        (e_id, e_district, e_section, e_size, e_key, user_id, username, e_name, e_industry, role, user_district,
         check_id) = row
        if check_id is not None:  # the first report: written, answered from what is known
            check.enterprise_id, check.district_id, check.industry_section = e_id, e_district, e_section
            check.size_class, check.is_key, check.submitted_by_id = e_size, e_key, user_id
            services.mark_stored(check, check_id, wanted)
            return 201, _json(check, report["uscc"], e_name)
        # Reported before: the service corrects it (or finds it unchanged).
        user = User(id=user_id, username=username, role=role, is_active=True, district_id=user_district)
        enterprise = Enterprise(id=e_id, uscc=report["uscc"], name=e_name, district_id=e_district,
                                size_class=e_size, is_key_enterprise=e_key, industry_id=e_industry)
        enterprise.industry = Industry(code=e_industry, section=e_section)
        check, created = services.record_daily_check(user, enterprise, day, values, difficulties, source="api",
                                                     now=now)
    except DomainError:
        return None  # nothing was written; the full path gives the refusal in the API's error body
    except DatabaseError:
        if check_health:
            raise
        return None  # e.g. a connection that died: the full path checks it, reconnects and answers
    return (201 if created else 200), _json(check, report["uscc"], enterprise.name)


def _json(check, uscc: str, name: str) -> bytes:
    """The body ``DailyCheckViewSet.create`` renders (DRF's JSON renderer: compact, UTF-8)."""
    from .api import check_json

    return json.dumps(check_json(check, uscc, name), ensure_ascii=False, separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------------
# Before Django: the same answer as a WSGI layer

_STATUS = {200: "200 OK", 201: "201 Created"}


class FastDailyChecks:
    """WSGI middleware around Django's handler: a plainly well-formed ``POST /api/v1/daily-checks/``
    with a token and no cookie is answered here, before Django's request machinery (request object,
    URL resolution, the middleware chain, DRF's view); everything else, and anything this layer is
    not sure of, goes on to Django unchanged (the body it read is put back).

    What the middleware chain would do for such a request is done here too: the host is checked
    against ``ALLOWED_HOSTS``, the size limits hold, an HTTP request that must be redirected to HTTPS
    goes on to Django, and the response carries the headers the chain adds (security headers,
    ``X-Frame-Options``, ``Content-Language``, ``Content-Length``). ``request_started`` and
    ``request_finished`` are sent as Django's handler sends them (the database connections are
    recycled on them). A test sends requests through this layer and through Django alone and requires
    the same statuses, headers, bodies and rows."""

    def __init__(self, app):
        self.app = app
        self.path = None

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and self._ours(environ.get("PATH_INFO")):
            answer = self._answer(environ)
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.app(environ, start_response)

    def _ours(self, path) -> bool:
        if self.path is None:
            from django.urls import get_script_prefix, reverse

            # PATH_INFO has no script prefix; reverse() adds the one of the request this thread served last.
            path_with_prefix, prefix = reverse("resumption-daily-check-list"), get_script_prefix()
            self.path = "/" + path_with_prefix[len(prefix):] if path_with_prefix.startswith(prefix) else path_with_prefix
        return path == self.path and connection.vendor == "postgresql"

    def _answer(self, environ):
        from django.conf import settings

        if not _replicated(settings):
            return None
        if environ.get("HTTP_COOKIE") or environ.get("QUERY_STRING") or not _allowed_host(environ, settings):
            return None  # sessions, languages chosen by cookie, odd hosts: Django's
        secure = _is_secure(environ, settings)
        if settings.SECURE_SSL_REDIRECT and not secure:
            return None
        key = _key_if_plain(environ.get("HTTP_AUTHORIZATION", ""), environ.get("CONTENT_TYPE", ""),
                            environ.get("HTTP_ACCEPT"))
        if key is None:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        memory_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length <= 0 or length > settings.HUIQI_MAX_UPLOAD_BYTES or (memory_limit is not None and length > memory_limit):
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # for Django, should it answer after all
        if len(body) != length:
            return None
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            answer = _attempt(key, body, check_health=False)
        except Exception:  # a defect here: logged, and Django answers (and logs what it finds)
            logger.exception("the daily-check fast path failed; Django answers instead")
            answer = None
        finally:
            signals.request_finished.send(sender=self.__class__)
        if answer is None:
            return None
        status, payload = answer
        return _STATUS[status], _headers(settings, secure, payload), payload


# What the layer stands in for. Another middleware, or a DRF setting that changes who may post or how
# often, and the layer steps aside for every request until it is taught the same (a test changes each).
_REPLICATED_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "huiqi.core.locale.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "huiqi.core.middleware.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "huiqi.core.middleware.DomainErrorMiddleware",
)


def _replicated(settings) -> bool:
    """Whether the served stack is still the one this layer answers like."""
    from huiqi.accounts.api_auth import BearerTokenAuthentication

    from .api import DailyCheckViewSet

    view = DailyCheckViewSet
    return (tuple(settings.MIDDLEWARE) == _REPLICATED_MIDDLEWARE and not settings.DISALLOWED_USER_AGENTS
            and not settings.PREPEND_WWW and not view.throttle_classes
            and list(view.authentication_classes[:1]) == [BearerTokenAuthentication])


def _allowed_host(environ, settings) -> bool:
    """``HttpRequest.get_host``'s check, for the common case (no forwarded host)."""
    from django.http.request import split_domain_port, validate_host

    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return False
    # As Django: a Host header, even an empty one, is the host; SERVER_NAME only without it.
    host = environ["HTTP_HOST"] if "HTTP_HOST" in environ else environ.get("SERVER_NAME", "")
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def _is_secure(environ, settings) -> bool:
    """``HttpRequest.is_secure``."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, secure_value = settings.SECURE_PROXY_SSL_HEADER
        value = environ.get(header)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _headers(settings, secure: bool, payload: bytes) -> list[tuple[str, str]]:
    """The headers Django's chain gives this answer: the view's, SecurityMiddleware's, the locale's,
    XFrameOptionsMiddleware's and CommonMiddleware's ``Content-Length``."""
    headers = [("Content-Type", "application/json"), ("Vary", "Accept"), ("Allow", _ALLOW)]
    if settings.SECURE_HSTS_SECONDS and secure:
        sts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            sts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            sts += "; preload"
        headers.append(("Strict-Transport-Security", sts))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        headers.append(("Referrer-Policy", ",".join([v.strip() for v in policy.split(",")]
                                                    if isinstance(policy, str) else policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    headers.append(("Content-Language", settings.LANGUAGE_CODE))
    headers.append(("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper()))
    headers.append(("Content-Length", str(len(payload))))
    return headers
