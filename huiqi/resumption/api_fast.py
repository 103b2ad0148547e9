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
from django.utils import timezone

from huiqi.accounts.models import EnterpriseMembership, Role, User
from huiqi.accounts.scoping import CITY_WIDE_READERS
from huiqi.core.errors import DomainError
from huiqi.registry.models import Enterprise, Industry

from . import services
from .models import DifficultyKind

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
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
    media_type, *options = [part.strip().lower() for part in request.META.get("CONTENT_TYPE", "").split(";")]
    if media_type != "application/json" or any(o.startswith("charset=") and o not in ("charset=utf-8",
                                                                                        'charset="utf-8"')
                                               for o in options):
        return None
    try:  # as DRF's JSONParser reads it: UTF-8 text (a BOM or another encoding is its to refuse)
        data = json.loads(request.body.decode("utf-8"), parse_constant=_refuse)
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
    if connection.vendor != "postgresql":
        return None  # SQLite: one writer at a time anyway; the full path is as fast there
    key = _token(request)
    if key is None:
        return None
    report = _body(request)
    if report is None:
        return None
    now = timezone.now()
    day, values, difficulties = report["day"], report["values"], report["difficulties"]
    try:
        clean, wanted, on_time = services.check_report(day, values, difficulties, now)
        check = services.new_check(None, None, day, clean, on_time, "api", now)
        row = services.first_report(_caller_sql(), [report["uscc"], key], check, wanted, "api")
        if row is None:
            return None  # an unknown token, an inactive user, a refusal, an unknown enterprise: the full path's
        (e_id, e_district, e_section, e_size, e_key, user_id, username, e_name, e_industry, role, user_district,
         check_id) = row
        if check_id is not None:  # the first report: written, answered from what is known
            check.enterprise_id, check.district_id, check.industry_section = e_id, e_district, e_section
            check.size_class, check.is_key, check.submitted_by_id = e_size, e_key, user_id
            services.mark_stored(check, check_id, wanted)
            return _answer(check, report["uscc"], e_name, 201)
        # Reported before: the service corrects it (or finds it unchanged).
        user = User(id=user_id, username=username, role=role, is_active=True, district_id=user_district)
        enterprise = Enterprise(id=e_id, uscc=report["uscc"], name=e_name, district_id=e_district,
                                size_class=e_size, is_key_enterprise=e_key, industry_id=e_industry)
        enterprise.industry = Industry(code=e_industry, section=e_section)
        check, created = services.record_daily_check(user, enterprise, day, values, difficulties, source="api",
                                                     now=now)
    except DomainError:
        return None  # nothing was written; the full path gives the refusal in the API's error body
    return _answer(check, report["uscc"], enterprise.name, 201 if created else 200)


def _answer(check, uscc: str, name: str, status: int) -> HttpResponse:
    """The body ``DailyCheckViewSet.create`` renders, with the headers DRF adds."""
    from .api import check_json

    response = HttpResponse(json.dumps(check_json(check, uscc, name), ensure_ascii=False, separators=(",", ":")),
                            content_type="application/json", status=status)
    response["Vary"] = "Accept"
    response["Allow"] = "GET, POST, HEAD, OPTIONS"
    return response
