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
import json
import re

from django.db import connection
from django.http import HttpResponse

from huiqi.accounts.models import EnterpriseMembership, Role, User
from huiqi.accounts.scoping import CITY_WIDE_READERS
from huiqi.core import prepared
from huiqi.core.errors import DomainError
from huiqi.registry.models import Enterprise, Industry

from . import services
from .models import DifficultyKind

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_INTS = ("staff_total", "staff_returned", "staff_on_site", "capacity_pct")
_OPTIONAL_INTS = ("suspected_cases", "confirmed_cases")
_KINDS = frozenset(DifficultyKind.values)
_NOTE_MAX = 500  # api.DifficultySerializer.note
_USCC_MAX = 18  # api.DailyCheckRequest.enterprise


def _token(request) -> str | None:
    """The key of ``Authorization: Token <key>`` or ``Bearer <key>`` (``accounts.api_auth``), else None."""
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0].lower() not in ("token", "bearer") or not parts[1].isascii():
        return None
    return parts[1]


def _plain_int(value) -> bool:
    return type(value) is int


def _body(request) -> dict | None:
    """The report, when every field has exactly the type the API documents; else None."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return None
    try:
        data = json.loads(request.body, parse_constant=_refuse)
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
        if not isinstance(item, dict) or item.get("kind") not in _KINDS:
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


def _caller_sql() -> str:
    global _CALLER_SQL
    if _CALLER_SQL is None:
        from rest_framework.authtoken.models import Token

        _CALLER_SQL = (
            f"SELECT u.id, u.username, u.role, u.is_active, u.district_id, "
            f"e.id, e.name, e.district_id, e.size_class, e.is_key_enterprise, e.industry_id, i.section, "
            f"EXISTS (SELECT 1 FROM {EnterpriseMembership._meta.db_table} m "
            f"        WHERE m.user_id = u.id AND m.enterprise_id = e.id) "
            f"FROM {Token._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id "
            f"LEFT JOIN {Enterprise._meta.db_table} e ON e.uscc = %s "
            f"LEFT JOIN {Industry._meta.db_table} i ON i.code = e.industry_id "
            f"WHERE t.key = %s")
    return _CALLER_SQL


def submit(request) -> HttpResponse | None:
    """The response to a plainly well-formed report, or None: the full path then answers."""
    if connection.vendor != "postgresql":
        return None  # SQLite: one writer at a time anyway; the full path is as fast there
    key = _token(request)
    if key is None:
        return None
    report = _body(request)
    if report is None:
        return None
    row = prepared.fetchone(_caller_sql(), [report["uscc"], key])
    if row is None:
        return None  # an unknown token: the full path answers 401
    (user_id, username, role, is_active, user_district, e_id, e_name, e_district, e_size, e_key, e_industry,
     e_section, member) = row
    if not is_active or e_id is None or e_section is None:
        return None
    user = User(id=user_id, username=username, role=role, is_active=is_active, district_id=user_district)
    # Only the two ways to be allowed that ``services.own_enterprise`` knows; anything else is the full path's.
    aggregator = role in CITY_WIDE_READERS and services.rule_allows("resumption.aggregate", user)
    own = role == Role.ENTERPRISE and member and services.rule_allows("resumption.report_daily", user)
    if not (aggregator or own):
        return None
    enterprise = Enterprise(id=e_id, uscc=report["uscc"], name=e_name, district_id=e_district, size_class=e_size,
                            is_key_enterprise=e_key, industry_id=e_industry)
    enterprise.industry = Industry(code=e_industry, section=e_section)
    try:
        check, created = services.record_daily_check(user, enterprise, report["day"], report["values"],
                                                     report["difficulties"], source="api")
    except DomainError:
        return None  # nothing was written; the full path gives the refusal in the API's error body
    from .api import check_json

    response = HttpResponse(json.dumps(check_json(check), ensure_ascii=False, separators=(",", ":")),
                            content_type="application/json", status=201 if created else 200)
    # What DRF's response carries besides the body.
    response["Vary"] = "Accept"
    response["Allow"] = "GET, POST, HEAD, OPTIONS"
    return response
