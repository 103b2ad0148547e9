"""Issue 16.3: a malformed parameter never takes a program down. Each program's parameters are checked
against their schema when written (page, API) and when read, and a mistaken row of today
is corrected through the API, with audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huiqi.core import params
from huiqi.core.models import AuditEvent, Parameter

pytestmark = pytest.mark.django_db


def _post(client, key, program, value, day):
    return client.post("/api/v1/parameters/", {"key": key, "program": program, "value": value,
                                               "effective_from": day.isoformat()}, content_type="application/json")


@pytest.mark.parametrize("key,program,value,field", [
    ("resumption.daily_check", "resumption", {"deadline": "25:99", "lock_days_after": 1, "lock_time": "00:00"},
     "deadline"),
    ("requests.params", "requests", {"auto_close_days": "five"}, "auto_close_days"),
    ("requests.params", "requests", {"similarity_threshold": "2"}, "similarity_threshold"),
    ("resumption.filing_required", "resumption", "yes", "value"),
    ("subsidy.params", "subsidy", {"rate": "0.5"}, None),
    ("registry.size_standard", "registry", {"industry": {"sme_if": "lots"}}, "industry"),
])
def test_every_program_refuses_a_malformed_value_naming_the_field(users, client_for, key, program, value, field):
    before = Parameter.objects.filter(key=key).count()
    r = _post(client_for("bureau"), key, program, value, timezone.localdate())
    assert r.status_code == 400, r.content
    if field:
        assert field in {r.json()["error"].get("field")} | {d.get("field") for d in r.json()["error"].get("details", [])}
    assert Parameter.objects.filter(key=key).count() == before


def test_a_bad_row_written_around_the_checks_does_not_break_the_pages_or_the_api(users, client_for):
    today = timezone.localdate()
    Parameter.objects.create(key="requests.params", program="requests", value={"auto_close_days": "five"},
                             effective_from=today)
    Parameter.objects.create(key="resumption.daily_check", program="resumption",
                             value={"deadline": "25:99", "lock_days_after": 1, "lock_time": "00:00"},
                             effective_from=today)
    for role, path in (("enterprise", "/requests/"), ("department", "/requests/"), ("enterprise", "/api/v1/requests/"),
                       ("enterprise", "/resumption/checks/new/"), ("district", "/resumption/checks/")):
        assert client_for(role).get(path).status_code == 200, (role, path)


def test_todays_mistaken_row_is_corrected_through_the_api_with_audit(users, client_for):
    today = timezone.localdate()
    good = {"deadline": "10:00", "lock_days_after": 1, "lock_time": "00:00"}
    c = client_for("bureau")
    assert _post(c, "resumption.daily_check", "resumption", {**good, "deadline": "09:30"}, today).status_code == 201
    assert _post(c, "resumption.daily_check", "resumption", {**good, "deadline": "11:00"}, today).status_code == 201
    assert params.value("resumption.daily_check")["deadline"] == "11:00"
    change = AuditEvent.objects.filter(model="core.Parameter", action="update").latest("id")
    assert change.before["value"]["deadline"] == "09:30" and change.after["value"]["deadline"] == "11:00"
    # A day already past is history: refused, and corrected by a row from today.
    r = _post(c, "resumption.daily_check", "resumption", good, dt.date(2020, 2, 3))
    assert r.status_code == 400 and r.json()["error"]["code"] == "parameter.past"


def test_the_back_office_shows_values_read_only_and_points_to_the_page(users, client_for):
    admin = client_for("admin")
    r = admin.post("/admin/core/parameter/add/", {"key": "resumption.daily_check", "program": "resumption",
                                                 "value": '{"deadline": "25:99"}',
                                                 "effective_from": timezone.localdate().isoformat(),
                                                 "description": "", "note": ""})
    assert r.status_code == 403
    assert not Parameter.objects.filter(key="resumption.daily_check", effective_from=timezone.localdate()).exists()
    listing = admin.get("/admin/core/parameter/").content.decode()
    assert "/core/parameters/resumption.daily_check/" in listing
    past = Parameter.objects.filter(effective_from__lt=timezone.localdate()).first()
    page = admin.get(f"/admin/core/parameter/{past.pk}/change/").content.decode()
    assert 'name="value"' not in page  # shown, not editable
