"""The fast path of ``POST /api/v1/daily-checks/`` (``api_fast``) answers exactly as the full path would.

The same requests — well-formed reports by every role, repeats and corrections, and every kind of
input the fast path must leave to the full path — are sent once with the fast path and once without
it, from the same starting data; statuses, bodies and every row written (checks, difficulties, audit
records, rollup) must be the same.
"""

from __future__ import annotations

import json

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huiqi.core.models import AuditEvent
from huiqi.resumption import api_fast
from huiqi.resumption.models import DailyCheck, DailyRollup, Difficulty

from .conftest import check_values

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'",
                                   reason="the fast path and prepared statements are PostgreSQL's")

_VOLATILE = {"id", "submitted_at", "updated_at", "at"}


def _requests(users, city):
    """(token owner, body or raw bytes, content type) in order; later ones correct earlier ones."""
    today = timezone.localdate().isoformat()
    ns1, ft1, ba1 = city["ns1"].uscc, city["ft1"].uscc, city["ba1"].uscc
    ok = {"enterprise": ns1, "day": today, **check_values()}
    helped = {**ok, "enterprise": ft1, "difficulties": [{"kind": "logistics", "note": "物流不畅", "needs_help": True},
                                                        {"kind": "funds"}]}
    return [
        ("enterprise", ok, "application/json"),  # an enterprise user for its own: fast
        ("enterprise", ok, "application/json"),  # the same again: 200, nothing written
        ("enterprise", {**ok, "capacity_pct": 70}, "application/json"),  # a correction
        ("department", helped, "application/json"),  # an aggregator, with difficulties
        ("department", {**helped, "difficulties": [{"kind": "funds", "needs_help": True}]}, "application/json"),
        ("bureau", {**ok, "enterprise": ba1, "is_open": False, "staff_returned": 0, "staff_on_site": 0,
                    "capacity_pct": 0}, "application/json"),
        ("admin", {**ok, "enterprise": ba1, "staff_returned": 65}, "application/json; charset=utf-8"),
        # Everything below is the full path's to answer.
        ("enterprise2", ok, "application/json"),  # not its enterprise: 403
        ("bank", ok, "application/json"),  # a role that may not report: 403
        ("district", ok, "application/json"),
        ("auditor", ok, "application/json"),
        ("inactive", ok, "application/json"),  # 401
        ("unknown", ok, "application/json"),  # 401
        ("department", {**ok, "enterprise": "91440300MA5XXXXXX0"}, "application/json"),  # unknown enterprise
        ("department", {**ok, "capacity_pct": 120}, "application/json"),  # the service refuses: 400
        ("department", {**ok, "staff_returned": 101}, "application/json"),
        ("department", {**ok, "capacity_pct": "65"}, "application/json"),  # a string number (DRF accepts it)
        ("department", {**ok, "is_open": "true"}, "application/json"),
        ("department", {**ok, "staff_total": 100.0}, "application/json"),
        ("department", {**ok, "day": "2020-02-30"}, "application/json"),
        ("department", {**ok, "day": "2099-01-01"}, "application/json"),  # a future day
        ("department", {**ok, "enterprise": f" {ns1}"}, "application/json"),  # DRF trims
        ("department", {**ok, "difficulties": [{"kind": "weather"}]}, "application/json"),
        ("department", {**ok, "difficulties": [{"kind": "other"}]}, "application/json"),  # needs a note
        ("department", {**ok, "difficulties": [{"kind": "staff", "note": " 缺人 "}]}, "application/json"),
        ("department", {**ok, "difficulties": [{"kind": "staff", "note": "x" * 501}]}, "application/json"),
        ("department", {**ok, "difficulties": {"kind": "staff"}}, "application/json"),
        ("department", {k: v for k, v in ok.items() if k != "enterprise"}, "application/json"),
        ("department", b"{not json", "application/json"),
        ("department", b"[1, 2]", "application/json"),
        ("department", b'{"capacity_pct": NaN}', "application/json"),
        ("department", "enterprise=x", "application/x-www-form-urlencoded"),
        ("department", json.dumps(ok).encode("utf-16"), "application/json"),  # not UTF-8
        ("department", b"\xef\xbb\xbf" + json.dumps(ok).encode(), "application/json"),  # a BOM
        ("department", json.dumps({**ok, "day": "\u0662\u0660\u0662\u0660-03-02"}), "application/json"),
        ("department", json.dumps(ok).encode("gbk"), "application/json; charset=gbk"),
    ]


def _run(users, city, tokens, *, fast: bool, monkeypatch) -> tuple[list, dict, int]:
    taken = []
    real = api_fast.submit

    def spy(request):
        response = real(request) if fast else None
        taken.append(response is not None)
        return response

    monkeypatch.setattr(api_fast, "submit", spy)
    url = reverse("resumption-daily-check-list")
    answers = []
    for who, body, content_type in _requests(users, city):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        resp = Client(HTTP_AUTHORIZATION=f"Token {tokens[who]}").post(url, data, content_type=content_type)
        payload = resp.json()
        if isinstance(payload, dict):
            payload = {k: v for k, v in payload.items() if k not in _VOLATILE}
        answers.append((who, resp.status_code, payload, resp["Content-Type"], resp.get("Allow"), resp.get("Vary")))
    return answers, _rows(), sum(taken)


def _rows() -> dict:
    def plain(obj):
        return {k: v for k, v in obj.items() if k not in _VOLATILE and not k.endswith("_id") or k in (
            "enterprise_id", "district_id", "submitted_by_id", "actor_id")}

    audit = []
    for e in AuditEvent.objects.filter(model=DailyCheck._meta.label).order_by("id"):
        after = {k: v for k, v in (e.after or {}).items() if k not in _VOLATILE}
        before = {k: v for k, v in (e.before or {}).items() if k not in _VOLATILE} if e.before else None
        audit.append((e.actor_id, e.actor_label, e.action, e.object_repr, e.note, before, after,
                      e.object_id == str((e.after or {}).get("id"))))
    return {
        "checks": [plain(x) for x in DailyCheck.objects.order_by("enterprise_id").values()],
        "difficulties": [plain(x) for x in Difficulty.objects.order_by("enterprise_id", "kind").values()],
        "rollup": [plain(x) for x in DailyRollup.objects.order_by("district_id", "industry_section").values()],
        "audit": audit,
    }


@postgres_only
def test_the_fast_path_answers_as_the_full_path(users, city, monkeypatch):
    tokens = _tokens(users)
    results = {}
    for fast in (True, False):
        with transaction.atomic():
            results[fast] = _run(users, city, tokens, fast=fast, monkeypatch=monkeypatch)
            transaction.set_rollback(True)
    (fast_answers, fast_rows, fast_taken), (full_answers, full_rows, full_taken) = results[True], results[False]
    for a, b in zip(fast_answers, full_answers, strict=True):
        assert a == b
    assert fast_rows == full_rows
    # The rows are real: three enterprises reported, with difficulties and one audit record per change.
    assert len(fast_rows["checks"]) == 3 and len(fast_rows["difficulties"]) == 1  # the GBK body cleared ns1's
    assert [a[2] for a in fast_rows["audit"]].count("daily_check.submit") == 3
    assert all(a[-1] for a in fast_rows["audit"])  # every record names its check
    assert sum(r["reports"] for r in fast_rows["rollup"]) == 3
    # The well-formed first reports and repeats went the fast way; every refusal the full way.
    assert full_taken == 0 and fast_taken == 7
    statuses = [a[1] for a in fast_answers]
    assert statuses[:7] == [201, 200, 200, 201, 200, 201, 200]
    assert statuses[7:15] == [403, 403, 403, 403, 401, 401, 403, 400]


@postgres_only
def test_a_first_report_is_one_statement(users, city):
    """Check, difficulties, audit record and rollup are written by one statement: a failure in any
    part leaves nothing behind (here the rollup upsert fails on a check constraint added for the test)."""
    from huiqi.resumption import services

    with connection.cursor() as cur:
        cur.execute("ALTER TABLE resumption_dailyrollup ADD CONSTRAINT test_no_rollup CHECK (reports < 0) NOT VALID")
    day = timezone.localdate()
    before = AuditEvent.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(),
                                    [{"kind": "staff", "note": "缺人"}], source="api")
    assert not DailyCheck.objects.exists() and not Difficulty.objects.exists()
    assert AuditEvent.objects.count() == before and not DailyRollup.objects.exists()


def test_the_fast_path_steps_aside_off_postgresql(users, city, rf):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    request = rf.post("/api/v1/daily-checks/", json.dumps({"enterprise": city["ns1"].uscc}),
                      content_type="application/json", HTTP_AUTHORIZATION="Token x")
    assert api_fast.submit(request) is None


@postgres_only
def test_prepared_statements_keep_django_errors_and_transactions(db):
    from huiqi.resumption import prepared

    assert prepared.fetchone("SELECT %s::int + 1", [41]) == (42,)
    assert prepared.fetchone("SELECT %s::int + 1", [1]) == (2,)  # executed by name the second time
    with pytest.raises(DataError), transaction.atomic():
        prepared.fetchone("SELECT 1 / %s::int", [0])
    # The failed statement was rolled back with its savepoint; the connection goes on.
    assert prepared.fetchone("SELECT count(*) FROM resumption_dailyrollup", []) == (0,)


@postgres_only
def test_the_statement_records_the_snapshot_audit_would_take(users, city):
    """The audit record written inside the statement holds exactly ``audit.snapshot`` of the stored check."""
    from huiqi.core import audit
    from huiqi.resumption import services

    day = timezone.localdate()
    for user, enterprise in ((users["enterprise"], city["ns1"]), (users["department"], city["ba1"])):
        check, created = services.submit_daily_check(user, enterprise, day, check_values(),
                                                     [{"kind": "materials", "note": "缺料", "needs_help": True}],
                                                     source="api")
        assert created
        stored = DailyCheck.objects.get(pk=check.pk)
        record = AuditEvent.objects.get(model=DailyCheck._meta.label, object_id=str(check.pk))
        assert record.after == audit.snapshot(stored) and record.before is None
        assert (record.actor_id, record.actor_label, record.action, record.note) == (
            user.pk, user.username, "daily_check.submit", "api")
        assert record.object_repr == str(stored)
        assert list(stored.difficulties.values_list("kind", "needs_help")) == [("materials", True)]


# --------------------------------------------------------------------------------------------------
# As served: Django's WSGI handler (``huiqi.wsgi``, what ``huiqi serve`` runs), the view inside its middleware


def test_the_served_application_is_djangos_own_handler():
    from django.core.handlers.wsgi import WSGIHandler

    from huiqi import wsgi

    assert type(wsgi.application) is WSGIHandler


@pytest.fixture
def handler():
    """Django's WSGI handler, made anew for each use (its middleware is built from the settings of the
    moment). Within a test's transaction the handler must not recycle the connection, as Django's test
    client arranges."""
    from django.core import signals
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def answered(monkeypatch):
    """Whether the fast view answered each request (``api_fast._attempt`` gave an answer), in order."""
    taken = []
    real = api_fast._attempt

    def spy(*args, **kw):
        answer = real(*args, **kw)
        taken.append(answer is not None)
        return answer

    monkeypatch.setattr(api_fast, "_attempt", spy)
    return taken


def _call(app, rf, token, data, content_type, **extra):
    environ = rf.generic("POST", "/api/v1/daily-checks/", data, content_type=content_type,
                         HTTP_AUTHORIZATION=f"Token {token}", **extra).environ
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    headers = dict(answer["headers"])
    assert int(headers.pop("Content-Length", len(body))) == len(body)
    if not headers["Content-Type"].startswith("application/json"):
        return answer["status"], headers, body
    payload = json.loads(body)
    if isinstance(payload, dict):
        payload = {k: v for k, v in payload.items() if k not in _VOLATILE}
    return answer["status"], headers, payload


def _tokens(users):
    from huiqi.accounts.services import create_user, issue_token

    inactive = create_user(None, username="gone", password="Str0ng-test-pass-2020", role="department",
                           agency=users["department"].agency, check_password=False)
    inactive.is_active = False
    inactive.save()
    tokens = {role: issue_token(None, user)[1] for role, user in users.items()}
    tokens["inactive"] = issue_token(None, inactive)[1]
    tokens["unknown"] = "0" * 40
    return tokens


@postgres_only
def test_served_the_fast_view_answers_as_the_full_path(users, city, rf, monkeypatch, handler, answered, settings):
    """Every request of ``_requests`` through Django's handler with the fast view and without it: the
    same statuses, headers (the middleware's security headers included, HSTS on a secure request),
    bodies and rows; the fast view answered the well-formed ones."""
    settings.SECURE_HSTS_SECONDS = 3600
    tokens = _tokens(users)
    results = {}
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(api_fast, "submit", lambda request: None)  # the full path only
        served = handler()
        answers = []
        with transaction.atomic():
            for i, (who, body, content_type) in enumerate(_requests(users, city)):
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                extra = {"secure": True} if i == 3 else {}
                answers.append((who, *_call(served, rf, tokens[who], data, content_type, **extra)))
            results[fast] = answers, _rows()
            transaction.set_rollback(True)
    (fast_answers, fast_rows), (full_answers, full_rows) = results[True], results[False]
    for a, b in zip(fast_answers, full_answers, strict=True):
        assert a == b
    assert fast_rows == full_rows and len(fast_rows["checks"]) == 3
    statuses = [a[1] for a in fast_answers]
    assert statuses[:7] == ["201 Created", "200 OK", "200 OK", "201 Created", "200 OK", "201 Created", "200 OK"]
    assert statuses[7:15] == ["403 Forbidden"] * 4 + ["401 Unauthorized"] * 2 + ["403 Forbidden", "400 Bad Request"]
    first = fast_answers[0][2]
    assert first["X-Frame-Options"] == "DENY" and first["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" in fast_answers[3][2] and "Strict-Transport-Security" not in first
    assert answered.count(True) == 7


def stamping(get_response):
    """A middleware the project does not have, for the test below."""
    def middleware(request):
        response = get_response(request)
        response["X-Stamped"] = "yes"
        return response

    return middleware


@postgres_only
def test_the_middleware_applies_to_the_fast_view(users, city, rf, handler, answered, settings):
    """The view is one of Django's: the language a cookie chose, the allowed hosts, the size limits, the
    redirect to HTTPS and another middleware apply to it as to any view."""
    key = _tokens(users)["department"]
    today = timezone.localdate().isoformat()

    def report(uscc, **kw):
        return json.dumps({"enterprise": city[uscc].uscc, "day": today, **check_values(), **kw})

    status, headers, body = _call(handler(), rf, key, report("ns1"), "application/json",
                                  HTTP_COOKIE="django_language=en")
    assert status == "201 Created" and headers["Content-Language"] == "en" and answered == [True]
    settings.ALLOWED_HOSTS = ["huiqi.example"]
    status, *_ = _call(handler(), rf, key, report("ft1"), "application/json")
    assert status == "400 Bad Request" and answered == [True]  # Django's DisallowedHost, before any view
    settings.ALLOWED_HOSTS = ["*"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50
    status, *_ = _call(handler(), rf, key, report("ft1"), "application/json")
    assert status == "400 Bad Request" and answered == [True]  # RequestDataTooBig: the body is not read
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
    settings.SECURE_SSL_REDIRECT = True
    status, *_ = _call(handler(), rf, key, report("ft1"), "application/json")
    assert status == "301 Moved Permanently" and answered == [True]
    settings.SECURE_SSL_REDIRECT = False
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.stamping"]
    status, headers, body = _call(handler(), rf, key, report("ft1", capacity_pct=55), "application/json")
    assert status == "201 Created" and headers["X-Stamped"] == "yes" and answered == [True, True]
    assert DailyCheck.objects.filter(enterprise=city["ft1"]).count() == 1


@postgres_only
def test_the_fast_view_and_the_full_path_agree_on_odd_requests(users, city, rf, monkeypatch, handler):
    """Requests at the edges of what the fast view takes, each through Django with and without it from
    the same data: the same status, content type and rows (the first four refused)."""
    tokens = _tokens(users)
    key = tokens["department"]
    today = timezone.localdate().isoformat()
    ok = json.dumps({"enterprise": city["ns1"].uscc, "day": today, **check_values()})
    cases = [
        ("no-break space in the header", ok, {"HTTP_AUTHORIZATION": f"Token\xa0{key}"}),
        ("next-line after the key", ok, {"HTTP_AUTHORIZATION": f"Token {key}\x85"}),
        ("empty Host", ok, {"HTTP_HOST": ""}),
        ("JSON not acceptable", ok, {"HTTP_ACCEPT": "application/xml"}),
        ("a kind that is a list", json.dumps({"enterprise": city["ns1"].uscc, "day": today, **check_values(),
                                              "difficulties": [{"kind": []}]}), {}),
        ("HTML wanted", ok, {"HTTP_ACCEPT": "text/html"}),
        ("indented JSON wanted", ok, {"HTTP_ACCEPT": "application/json; indent=4"}),
        ("a format in the query", ok, {"QUERY_STRING": "format=json"}),
        ("any answer", ok, {"HTTP_ACCEPT": "*/*"}),
    ]
    outcomes = {}
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(api_fast, "submit", lambda request: None)
        served = handler()
        seen = []
        for label, body, extra in cases:
            with transaction.atomic():
                environ = rf.generic("POST", "/api/v1/daily-checks/", body, content_type="application/json",
                                     HTTP_AUTHORIZATION=f"Token {key}").environ
                environ.update(extra)
                answer = {}

                def start_response(status, headers, exc_info=None, answer=answer):
                    answer.update(status=status, headers=dict(headers))

                b"".join(served(environ, start_response))
                seen.append((label, answer["status"], answer["headers"]["Content-Type"].split(";")[0],
                             DailyCheck.objects.count()))
                transaction.set_rollback(True)
        outcomes[fast] = seen
    assert outcomes[True] == outcomes[False]
    statuses = {label: status for label, status, _, _ in outcomes[True]}
    assert [statuses[c[0]][:3] for c in cases[:5]] == ["401", "401", "400", "406", "400"]
    assert statuses["HTML wanted"] == "201 Created" and statuses["any answer"] == "201 Created"


@pytest.mark.django_db(transaction=True)
@postgres_only
def test_a_dead_connection_goes_to_the_full_path(users, city, rf, answered):
    """As served (autocommit), the fast view sends no health check: when the server has dropped the kept
    connection, its statement fails, and the full path checks the connection, reconnects and answers."""
    import psycopg
    from django.core.handlers.wsgi import WSGIHandler

    served = WSGIHandler()
    key = _tokens(users)["department"]
    today = timezone.localdate().isoformat()
    for enterprise in ("ns1", "ft1"):
        connection.ensure_connection()
        if enterprise == "ft1":  # the server drops the connection between two requests
            with psycopg.connect(connection.connection.info.dsn, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
        status, _, body = _call(served, rf, key, json.dumps({"enterprise": city[enterprise].uscc, "day": today,
                                                             **check_values()}), "application/json")
        assert status == "201 Created" and body["enterprise"] == city[enterprise].uscc
    assert answered == [True, False]  # the second one answered by the full path
    assert DailyCheck.objects.filter(enterprise=city["ft1"]).count() == 1
    assert AuditEvent.objects.filter(model=DailyCheck._meta.label, action="daily_check.submit").count() == 2


def test_a_viewset_the_fast_view_would_bypass_fails_the_system_check(monkeypatch):
    """The fast view stands in for the viewset's token authentication and has no throttling: throttles or
    another first authentication on the viewset are a system check error, not a silent bypass."""
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.throttling import AnonRateThrottle

    from huiqi.resumption.api import DailyCheckViewSet

    from django.core import checks

    assert api_fast.stack_problems() == []
    monkeypatch.setattr(DailyCheckViewSet, "throttle_classes", [AnonRateThrottle])
    assert [e.id for e in api_fast.stack_problems()] == ["huiqi.E101"]
    assert "huiqi.E101" in [e.id for e in checks.run_checks()]  # what ``huiqi check`` and the server run
    monkeypatch.setattr(DailyCheckViewSet, "authentication_classes", [SessionAuthentication])
    assert len(api_fast.stack_problems()) == 2
    monkeypatch.undo()
    assert api_fast.stack_problems() == []


@postgres_only
def test_an_expired_or_revoked_token_opens_nothing_on_the_fast_path(users, city, rf, handler, answered):
    """The fast view reads the token in its own statement: an expired or revoked one finds no row there, so
    it steps aside, and the full path refuses it (401, saying why); nothing is written."""
    import datetime as dt

    from huiqi.accounts.models import ApiToken
    from huiqi.accounts.services import issue_token, revoke_token

    today = timezone.localdate().isoformat()

    def report(uscc):
        return json.dumps({"enterprise": city[uscc].uscc, "day": today, **check_values()})

    token, key = issue_token(None, users["department"])
    status, _, body = _call(handler(), rf, key, report("ns1"), "application/json")
    assert status == "201 Created" and answered == [True]

    ApiToken.objects.filter(pk=token.pk).update(created_at=token.created_at - dt.timedelta(days=2),
                                                expires_at=token.created_at - dt.timedelta(days=1))
    status, _, body = _call(handler(), rf, key, report("ft1"), "application/json")
    assert status == "401 Unauthorized" and body["error"]["code"] == "auth.token_expired"
    assert answered == [True, False]

    token, key = issue_token(None, users["department"])
    revoke_token(users["department"], token)
    status, _, body = _call(handler(), rf, key, report("ft1"), "application/json")
    assert status == "401 Unauthorized" and body["error"]["code"] == "auth.token_revoked"
    assert answered == [True, False, False]
    assert not DailyCheck.objects.filter(enterprise=city["ft1"]).exists()
