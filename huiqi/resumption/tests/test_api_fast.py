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
    from rest_framework.authtoken.models import Token

    from huiqi.accounts.services import create_user

    inactive = create_user(None, username="gone", password="Str0ng-test-pass-2020", role="department",
                           agency=users["department"].agency, check_password=False)
    inactive.is_active = False
    inactive.save()
    tokens = {role: Token.objects.create(user=user).key for role, user in users.items()}
    tokens["inactive"] = Token.objects.create(user=inactive).key
    tokens["unknown"] = "0" * 40

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
    from huiqi.core import prepared

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
