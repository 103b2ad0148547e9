"""The common case of ``POST /api/v1/daily-checks/``, answered without the generic API machinery.

Every open enterprise reports every morning before the deadline, most of them through aggregators'
systems, so this one call carries the platform's peak load. The full path (``api.DailyCheckViewSet``:
DRF's request, authentication, parsers, serializers and renderer, then ``services.submit_daily_check``)
spends most of its time in that machinery, not in the report. The view of this route (``view``) takes
the requests that are plainly well-formed — a token in ``Authorization``, a JSON object whose fields all
have their exact types, a caller that may report for the named enterprise — reads the token, its user
and the enterprise in the same statement that writes a first report, and otherwise hands them to
``services.record_daily_check``, the same service the full path ends in.

It is a plain view inside Django's request path: the middleware (hosts, sizes, security headers,
sessions, languages) and the URL resolution apply to it as to any view. It decides nothing the full
path would decide differently: anything it is not sure of (another content type, a string where a
number belongs, an unknown, expired or revoked token, an inactive user, an enterprise it cannot place,
a role it does not know, any refusal by the service) makes it step aside before it has written
anything, and the full path answers — with the same error bodies as every other endpoint. It stands in
for DRF's token authentication and has no throttling: a system check (``stack_problems``) fails if the
viewset is given others. A test sends the same requests both ways and requires the same statuses,
headers, bodies and rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re

from django.db import DatabaseError, connection
from django.http import HttpResponse

from huiqi.accounts.selectors import (
    CITY_WIDE_READERS,
    ApiToken,
    EnterpriseMembership,
    Role,
    User,
    live_token_sql,
    token_digest,
)
from huiqi.core import clock
from huiqi.core.errors import DomainError
from huiqi.registry.selectors import Enterprise, Industry

from . import services
from .models import DifficultyKind

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
    """The ``src`` of ``services.first_report`` (parameters: the USCC, the key's digest, now): the token's
    user, when the token is live (``accounts.selectors.live_token_sql``: neither expired nor revoked) and
    its user is active and may report for the enterprise named by USCC, and the enterprise — no row
    otherwise. The two ways to be allowed are those of ``services.own_enterprise``: an aggregator whose
    role reads the whole city, an enterprise user for an enterprise it acts for."""
    global _CALLER_SQL
    if _CALLER_SQL is None:
        def listed(roles):
            return ", ".join(f"'{r}'" for r in roles) or "NULL"

        aggregators = listed(_roles("resumption.aggregate", set(CITY_WIDE_READERS)))
        members = listed(_roles("resumption.report_daily", {Role.ENTERPRISE}))
        _CALLER_SQL = (
            f"SELECT e.id AS enterprise_id, e.district_id, i.section AS industry_section, e.size_class, "
            f"e.is_key_enterprise AS is_key, u.id AS actor_id, u.username AS actor_label, "
            f"e.name, e.industry_id, u.role, u.district_id AS user_district_id "
            f"FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
            f"JOIN {Enterprise._meta.db_table} e ON e.uscc = %s "
            f"JOIN {Industry._meta.db_table} i ON i.code = e.industry_id "
            f"WHERE t.digest = %s AND {live_token_sql('t')} AND u.is_active "
            f"AND (u.role IN ({aggregators}) OR (u.role IN ({members}) AND EXISTS "
            f"(SELECT 1 FROM {EnterpriseMembership._meta.db_table} m WHERE m.user_id = u.id AND m.enterprise_id = e.id)))")
    return _CALLER_SQL


def view(full):
    """The view of the daily checks' list route: a POST that ``submit`` answers, else ``full`` (DRF's
    view of the route), which answers everything else. ``functools.wraps`` keeps what DRF's router and
    schema read from ``full`` (its viewset, actions and ``csrf_exempt``)."""

    @functools.wraps(full)
    def daily_checks(request, *args, **kwargs):
        if request.method == "POST" and not kwargs:
            response = submit(request)
            if response is not None:
                return response
        return full(request, *args, **kwargs)

    return daily_checks


def submit(request) -> HttpResponse | None:
    """The response to a plainly well-formed report, or None: the full path then answers."""
    meta = request.META
    if connection.vendor != "postgresql":
        return None  # SQLite: one writer at a time anyway; the full path is as fast there
    if meta.get("QUERY_STRING"):
        return None  # ?format=… and the like: DRF's to read
    key = _key_if_plain(meta.get("HTTP_AUTHORIZATION", ""), meta.get("CONTENT_TYPE", ""), meta.get("HTTP_ACCEPT"))
    # In autocommit (as served) the statement itself tells a dead connection (see ``_attempt``); inside a
    # transaction a failed statement would leave nothing usable for the full path, so Django checks first.
    answer = None if key is None else _attempt(key, request.body, check_health=connection.in_atomic_block)
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

    ``check_health=False`` (only in autocommit): the statement is sent without Django's per-request health
    check of the connection (a round trip). A database error (a dead connection, a deadlock, a timeout)
    then gives None and the full path answers, checking and renewing the connection first: the
    statement is one autocommitted statement, so it wrote nothing unless it had committed before the
    error, in which case the full path finds the report stored and answers 200 (unchanged) instead of
    201 — never a second row."""
    report = _body(body)
    if report is None:
        return None
    now = clock.now()
    day, values, difficulties = report["day"], report["values"], report["difficulties"]
    try:
        clean, wanted, on_time = services.check_report(day, values, difficulties, now)
        check = services.new_check(None, None, day, clean, on_time, "api", now)
        caller = [report["uscc"], token_digest(key), now]
        row = services.first_report(_caller_sql(), caller, check, wanted, "api", check_health=check_health)
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


def stack_problems(app_configs=None, **kwargs):
    """System check: the view answers for ``api.DailyCheckViewSet``'s POST as its token authentication
    and without throttling; a viewset given other authentication first, or throttles, would be
    bypassed by it, so that is an error until the view is taught the same."""
    from django.core import checks

    from huiqi.accounts.selectors import BearerTokenAuthentication

    from .api import DailyCheckViewSet

    problems = []
    if list(DailyCheckViewSet.authentication_classes[:1]) != [BearerTokenAuthentication]:
        problems.append("its first authentication is no longer BearerTokenAuthentication")
    if DailyCheckViewSet.throttle_classes:
        problems.append("it has throttles")
    return [checks.Error(f"resumption.api.DailyCheckViewSet: {p}, which the daily-check fast path "
                         "(resumption.api_fast.view) would bypass",
                         hint="Teach resumption.api_fast the same, or route the POST to DRF alone.",
                         id="huiqi.E101") for p in problems]
