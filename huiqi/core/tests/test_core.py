"""Parameters by effective date, the append-only audit log, and the job queue."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext_lazy

from huiqi.core import audit, i18n, jobs, params
from huiqi.core.errors import NotFound, ValidationFailed
from huiqi.core.errors import InvalidFields
from huiqi.core.models import AuditEvent, Job, Parameter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo_schemas():
    """Two parameters of a made-up program, with schemas as a program declares them."""
    params.register("demo.rate", params.scalar(params.decimal(0, 1)))
    params.register("demo.cap", params.scalar(params.integer(0, 1000)))
    yield
    params.SCHEMAS.pop("demo.rate"), params.SCHEMAS.pop("demo.cap")


def test_parameter_value_in_force_by_date():
    params.set_value(None, "demo.rate", "demo", "0.50", dt.date(2020, 2, 1))
    params.set_value(None, "demo.rate", "demo", "0.80", dt.date(2020, 3, 1))
    assert params.value("demo.rate", on=dt.date(2020, 2, 29)) == "0.50"
    assert params.value("demo.rate", on=dt.date(2020, 3, 1)) == "0.80"
    with pytest.raises(NotFound):
        params.value("demo.rate", on=dt.date(2020, 1, 31))
    assert params.value("demo.rate", on=dt.date(2020, 1, 31), default=None) is None


def test_parameter_change_is_audited(users):
    today = dt.date(2020, 2, 1)
    params.set_value(users["bureau"], "demo.cap", "demo", 100, today, today=today)
    params.set_value(users["bureau"], "demo.cap", "demo", 120, today, note="更正", today=today)
    events = list(AuditEvent.objects.filter(model="core.Parameter").order_by("id"))
    assert [e.action for e in events] == ["create", "update"]
    assert events[1].before["value"] == 100 and events[1].after["value"] == 120
    assert events[1].actor == users["bureau"] and events[1].note == "更正"
    with pytest.raises(ValidationFailed):
        params.set_value(users["bureau"], "demo.cap", "demo", 1, None)


def test_a_value_in_force_before_today_is_corrected_by_a_new_row_never_edited(users):
    params.set_value(users["bureau"], "demo.cap", "demo", 100, dt.date(2020, 2, 1))
    with pytest.raises(ValidationFailed) as err:
        params.set_value(users["bureau"], "demo.cap", "demo", 120, dt.date(2020, 2, 1))
    assert err.value.code == "parameter.past" and err.value.field == "effective_from"
    assert params.value("demo.cap", on=dt.date(2020, 2, 1)) == 100
    params.set_value(users["bureau"], "demo.cap", "demo", 120, dt.date.today())
    assert params.value("demo.cap") == 120 and params.value("demo.cap", on=dt.date(2020, 2, 1)) == 100


def test_a_value_is_checked_against_its_schema_when_written_naming_every_bad_field(users):
    params.register("demo.window", params.fields({"deadline": params.time_of_day(),
                                                  "days": params.integer(0, 7)}))
    try:
        with pytest.raises(InvalidFields) as err:
            params.set_value(users["bureau"], "demo.window", "demo", {"deadline": "25:99", "days": "x", "extra": 1},
                             dt.date.today())
        assert sorted(e.field for e in err.value.errors) == ["days", "deadline", "extra"]
        assert {d["field"] for d in err.value.as_dict()["details"]} == {"days", "deadline", "extra"}
        with pytest.raises(ValidationFailed) as err:
            params.set_value(users["bureau"], "no.such.key", "demo", 1, dt.date.today())
        assert err.value.code == "parameter.unknown"
        assert not Parameter.objects.filter(key__in=["demo.window", "no.such.key"]).exists()
    finally:
        params.SCHEMAS.pop("demo.window")


def test_a_stored_value_that_fails_its_schema_is_passed_over_when_read(users):
    params.set_value(users["bureau"], "demo.cap", "demo", 100, dt.date(2020, 2, 1))
    # Written around the service (by hand in the database, or before the schema existed).
    Parameter.objects.create(key="demo.cap", program="demo", value="lots", effective_from=dt.date(2020, 3, 1))
    assert params.value("demo.cap", on=dt.date(2020, 3, 2)) == 100


def test_audit_records_cannot_be_changed():
    event = audit.record(None, "create", None, model="x.Y", object_id="1", after={"a": 1})
    event.note = "tampered"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_the_audit_log_is_filtered_alike_on_its_page_and_api(users, client_for):
    audit.record(users["bureau"], "create", None, model="x.Y", object_id="1")
    audit.record(users["admin"], "update", None, model="x.Y", object_id="2")
    audit.record(users["admin"], "create", None, model="x.Z", object_id="1")
    c = client_for("auditor")
    today = dt.date.today().isoformat()
    for query, found in (({"model": "x.Y"}, {("x.Y", "1"), ("x.Y", "2")}),
                         ({"action": "create", "object_id": "1"}, {("x.Y", "1"), ("x.Z", "1")}),
                         ({"actor": users["admin"].username, "model": "x.Y"}, {("x.Y", "2")}),
                         ({"from": "2000-01-01", "to": "2000-01-02"}, set())):
        rows = c.get("/api/v1/audit/", {**query, "page_size": 500}).json()["results"]
        assert {(r["model"], r["object_id"]) for r in rows if r["model"].startswith("x.")} == found, query
        page = c.get("/core/audit/", query).content.decode()
        shown = set(re.findall(r'data-event="(\d+)"', page))
        assert {(e.model, e.object_id) for e in AuditEvent.objects.filter(pk__in=shown, model__startswith="x.")} \
            == found, query
    resp = c.get("/api/v1/audit/", {"from": "yesterday"})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "from"
    assert c.get("/core/audit/", {"from": "yesterday", "to": today}).status_code == 200


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_database_refuses_audit_update_on_postgresql():
    from django.db import DatabaseError, transaction

    audit.record(None, "create", None, model="x.Y", object_id="1")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(note="tampered")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_database_refuses_audit_truncate_on_postgresql():
    from django.db import DatabaseError, connection, transaction

    audit.record(None, "create", None, model="x.Y", object_id="1")
    with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
        with connection.cursor() as cur:
            # As in a real database: only the test databases carry the setting their reset needs.
            cur.execute("SET LOCAL huiqi.allow_audit_truncate = off")
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the insert's deferred checks, run now
            cur.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.filter(model="x.Y").exists()


@jobs.handler("test.ok")
def _ok(ctx):
    for i in range(1, 4):
        ctx.progress(i, 3, f"step {i}", force=True)
    return {"answer": 42}


@jobs.handler("test.fails")
def _fails(ctx):
    # A message of core's catalogue, so that its English is there to be shown.
    raise ValidationFailed("x.bad", gettext_lazy("必填项为空"))


@jobs.handler("test.crashes")
def _crashes(ctx):
    raise ZeroDivisionError("boom")


def test_jobs_run_and_report_outcome(users):
    ok = jobs.enqueue("test.ok", {}, user=users["bureau"])
    bad = jobs.enqueue("test.fails", {}, user=users["bureau"])
    crash = jobs.enqueue("test.crashes", {}, user=users["bureau"])
    assert jobs.run_pending() == 3
    ok.refresh_from_db(), bad.refresh_from_db(), crash.refresh_from_db()
    assert ok.status == "succeeded" and ok.result == {"answer": 42}
    # A failure is kept as its message and shown in the language of whoever reads it.
    assert bad.status == "failed" and i18n.shown(bad.error) == "必填项为空"
    with translation.override("en"):
        assert i18n.shown(bad.error) == "required value is missing"
    assert crash.status == "failed" and "ZeroDivisionError" in i18n.shown(crash.error)
    assert jobs.run_pending() == 0


def test_unknown_job_kind_refused():
    with pytest.raises(ValueError):
        jobs.enqueue("no.such.kind", {})


def test_claim_takes_each_job_once(users):
    for _ in range(3):
        jobs.enqueue("test.ok", {})
    first, second = jobs.claim_next("w1"), jobs.claim_next("w2")
    assert first.pk != second.pk
    assert Job.objects.filter(status="running").count() == 2


def test_job_page_shows_progress_and_failure(users, client_for):
    job = jobs.enqueue("test.fails", {}, user=users["bureau"])
    jobs.run_pending()
    html = client_for("bureau").get(f"/core/jobs/{job.pk}/").content.decode()
    assert 'data-status="failed"' in html and "必填项为空" in html
    assert client_for("bureau").get(f"/core/jobs/{job.pk}/progress/").status_code == 200
    assert client_for("enterprise").get(f"/core/jobs/{job.pk}/").status_code == 404


def test_connection_is_utf8_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cur:
        cur.execute("SHOW server_encoding")
        assert cur.fetchone()[0] == "UTF8"


@pytest.mark.django_db
def test_an_oversized_body_is_refused_before_it_is_read(client, settings):
    """A body above HUIQI_MAX_UPLOAD_BYTES is refused from its declared length, with the field and the
    limit named in the reader's language (a page, or the API's error body)."""
    settings.HUIQI_MAX_UPLOAD_BYTES = 1024 * 1024
    big = b"x" * (1024 * 1024 + 1)
    resp = client.post("/registry/import/", data=big, content_type="application/octet-stream")
    assert resp.status_code == 413
    assert "超过 1 MB 的上限" in resp.content.decode() and "larger than" not in resp.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    resp = client.post("/registry/import/", data=big, content_type="application/octet-stream")
    assert "larger than the 1 MB limit" in resp.content.decode() and "上限" not in resp.content.decode()
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    resp = client.post("/api/v1/ledger-uploads/", data=big, content_type="application/octet-stream")
    assert resp.status_code == 413
    assert resp.json()["error"]["field"] == "file" and resp.json()["error"]["code"] == "request.too_large"
    assert client.post("/accounts/login/", {"username": "x", "password": "y"}).status_code == 200
