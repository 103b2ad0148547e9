"""Issue 17.5: each program's parameters on a page of typed fields derived from its schema, with the
effective date, a preview of what changes, maker-checker for money, and the history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import IntegrityError, transaction

from huiqi.core import clock, parameter_changes, params
from huiqi.core.errors import PermissionDenied, ValidationFailed
from huiqi.core.forms import ParameterForm
from huiqi.core.models import AuditEvent, Parameter, ParameterProposal

pytestmark = pytest.mark.django_db


def _url(key):
    return f"/core/parameters/{key}/"


def _form_data(key, changes=None, effective_from=None) -> dict:
    """What the page's form posts when the person changes ``changes`` ({field: posted value}; None unticks)."""
    form = ParameterForm(key, initial=parameter_changes.fields_in_force(key))
    data = {}
    for bound in form:
        value = bound.value()
        if isinstance(value, bool):
            value = "on" if value else None
        elif isinstance(value, (dt.date, dt.time)):
            value = value.isoformat()
        data[bound.name] = value
    data.update(changes or {})
    data["effective_from"] = (effective_from or clock.today()).isoformat()
    return {k: v for k, v in data.items() if v is not None and v != ""}


@pytest.fixture
def bureau2(users):
    from huiqi.accounts.services import create_user

    return create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)


# Per program key: one field changed as a person would, and the stored value that results.
CHANGES = [
    ("subsidy.params", {"months": "7"}, "months", 7),
    ("requests.params", {"auto_close_days": "7"}, "auto_close_days", 7),
    ("resumption.daily_check", {"deadline": "11:30"}, "deadline", "11:30"),
    ("resumption.filing_required", {"value": "on"}, None, True),
    ("resumption.attachment_max_bytes", {"value": "1000000"}, None, 1_000_000),
    ("core.issuing_office", {"name_en": "Shenzhen Small and Medium Enterprise Service Bureau"}, "name_en",
     "Shenzhen Small and Medium Enterprise Service Bureau"),
]


@pytest.mark.parametrize("key,change,field,stored", CHANGES)
def test_each_programs_form_is_derived_from_its_schema_and_saves_a_valid_change(users, client_for, key, change,
                                                                                 field, stored):
    c = client_for("bureau")
    page = c.get(_url(key)).content.decode()
    schema = params.field_set(key)
    for name, check in schema.checks.items():
        assert f'name="{name}"' in page, name
        if check.label:
            assert str(check.label) in page
    assert 'type="date"' in page and 'name="effective_from"' in page
    tomorrow = clock.today() + dt.timedelta(days=1)
    data = _form_data(key, change, tomorrow)
    preview = c.post(_url(key), data)
    assert preview.status_code == 200 and "data-action=\"confirm\"" in preview.content.decode()
    assert not Parameter.objects.filter(key=key, effective_from=tomorrow).exists()  # a preview saves nothing
    done = c.post(_url(key), {**data, "confirm": "1"})
    assert done.status_code == 302, done.content.decode()[:2000]
    in_force = params.value(key, on=tomorrow)
    assert (in_force[field] if field else in_force) == stored
    row = Parameter.objects.get(key=key, effective_from=tomorrow)
    assert AuditEvent.objects.filter(model="core.Parameter", object_id=str(row.pk), actor=users["bureau"]).exists()
    assert tomorrow.isoformat() in c.get(_url(key)).content.decode()  # in the history


def test_the_page_shows_the_value_in_force_units_and_history_with_who(users, client_for):
    c = client_for("bureau")
    day = clock.today() + dt.timedelta(days=3)
    params.set_value(users["bureau"], "requests.params", "requests", {"auto_close_days": 9}, day, note="试行")
    page = c.get(_url("requests.params")).content.decode()
    assert "个工作日" in page and "答复后自动办结" in page
    history = page[page.index('data-section="history"'):]
    assert day.isoformat() in history and "试行" in history and users["bureau"].get_username() in history


def test_bad_values_are_all_named_at_once_and_nothing_is_saved(users, client_for):
    c = client_for("bureau")
    before = Parameter.objects.count()
    r = c.post(_url("requests.params"), _form_data("requests.params", {"auto_close_days": "999",
                                                                       "title_max_chars": "abc"}))
    page = r.content.decode()
    assert r.status_code == 400
    summary = page[page.index("data-error-summary"):]
    assert 'data-field="auto_close_days"' in summary and 'data-field="title_max_chars"' in summary
    assert "答复后自动办结" in summary and "标题最多字数" in summary
    assert 'data-action="confirm"' not in page and Parameter.objects.count() == before


def test_a_rule_across_fields_is_shown_at_its_field(users, client_for):
    r = client_for("bureau").post(_url("subsidy.params"), _form_data("subsidy.params", {
        "window_start": "2020-07-01", "window_end": "2020-06-30"}))
    assert r.status_code == 400
    assert 'data-field="window_end"' in r.content.decode()


def test_a_past_effective_date_is_refused_naming_the_field(users, client_for):
    yesterday = clock.today() - dt.timedelta(days=1)
    before = Parameter.objects.count()
    r = client_for("bureau").post(_url("requests.params"),
                                  _form_data("requests.params", {"auto_close_days": "7"}, yesterday))
    assert r.status_code == 400
    summary = r.content.decode()
    summary = summary[summary.index("data-error-summary"):]
    assert 'data-field="effective_from"' in summary and "生效日期" in summary
    with pytest.raises(ValidationFailed) as err:
        parameter_changes.submit(users["bureau"], "requests.params", {"auto_close_days": 7}, yesterday)
    assert err.value.field == "effective_from"
    assert Parameter.objects.count() == before


def test_the_preview_marks_only_the_changed_fields(users, client_for):
    r = client_for("bureau").post(_url("requests.params"), _form_data("requests.params", {
        "auto_close_days": "8", "near_days": "3"}))
    page = r.content.decode()
    changed = set(re.findall(r'data-field="(\w+)" data-changed', page))
    assert changed == {"auto_close_days", "near_days"}
    assert 'data-field="title_max_chars"' in page  # unchanged fields are listed, not marked
    assert "<mark>8</mark>" in page and "data-needs-approval" not in page


def test_a_money_change_needs_a_second_person(users, client_for, bureau2):
    key, tomorrow = "subsidy.params", clock.today() + dt.timedelta(days=1)
    cap_before = params.value(key, on=tomorrow)["cap"]
    data = _form_data(key, {"cap": "800000.00"}, tomorrow)
    maker = client_for("bureau")
    preview = maker.post(_url(key), data).content.decode()
    assert "data-needs-approval" in preview and "800,000.00" in preview
    assert maker.post(_url(key), {**data, "confirm": "1", "note": "压减上限"}).status_code == 302
    proposal = ParameterProposal.objects.get(key=key)
    assert proposal.status == "pending" and proposal.proposed_by == users["bureau"]
    assert params.value(key, on=tomorrow)["cap"] == cap_before  # nothing in force yet

    # The proposer cannot approve: refused by the service, by the page, and by the database.
    with pytest.raises(PermissionDenied):
        parameter_changes.approve(users["bureau"], proposal.pk)
    maker.post(f"/core/parameters/proposals/{proposal.pk}/decide/", {"decision": "approve"})
    proposal.refresh_from_db()
    assert proposal.status == "pending"
    with pytest.raises(IntegrityError), transaction.atomic():
        ParameterProposal.objects.filter(pk=proposal.pk).update(status="approved", decided_by=users["bureau"])

    checker = client_for("bureau")
    checker.force_login(bureau2)
    assert 'data-action="approve"' in checker.get(_url(key)).content.decode()
    assert checker.post(f"/core/parameters/proposals/{proposal.pk}/decide/", {"decision": "approve"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == "approved" and proposal.decided_by == bureau2
    assert params.value(key, on=tomorrow)["cap"] == "800000.00"
    assert params.value(key)["cap"] == cap_before  # from its date, not before
    row = Parameter.objects.get(key=key, effective_from=tomorrow)
    written = AuditEvent.objects.get(model="core.Parameter", object_id=str(row.pk))
    assert written.actor == bureau2 and "bureau" in written.note and "bureau2" in written.note
    decided = AuditEvent.objects.filter(model="core.ParameterProposal", object_id=str(proposal.pk))
    assert {(e.action, e.actor_id) for e in decided} == {("propose", users["bureau"].pk), ("approve", bureau2.pk)}


def test_a_rejected_money_change_writes_nothing(users, bureau2):
    key, tomorrow = "subsidy.params", clock.today() + dt.timedelta(days=1)
    values = {**parameter_changes.fields_in_force(key, tomorrow), "budget": "1.00"}
    proposal = parameter_changes.submit(users["bureau"], key, values, tomorrow)
    assert isinstance(proposal, ParameterProposal)
    parameter_changes.reject(bureau2, proposal.pk, note="预算不能为 1 元")
    proposal.refresh_from_db()
    assert proposal.status == "rejected" and not Parameter.objects.filter(key=key, effective_from=tomorrow).exists()


def test_a_change_without_money_applies_at_once(users):
    key, tomorrow = "subsidy.params", clock.today() + dt.timedelta(days=1)
    values = {**parameter_changes.fields_in_force(key, tomorrow), "rationing": "none"}
    row = parameter_changes.submit(users["bureau"], key, values, tomorrow)
    assert isinstance(row, Parameter) and params.value(key, on=tomorrow)["rationing"] == "none"
    assert not ParameterProposal.objects.exists()


@pytest.mark.parametrize("role,status", [("enterprise", 403), ("bank", 403), ("district", 403), ("department", 403),
                                         ("institution", 403), ("auditor", 200), ("bureau", 200), ("admin", 200)])
def test_access_per_role(users, client_for, role, status):
    c = client_for(role)
    r = c.get(_url("requests.params"))
    assert r.status_code == status
    if status == 200:
        has_form = 'data-action="preview"' in r.content.decode()
        assert has_form == (role in ("bureau", "admin"))
    before = Parameter.objects.count()
    posted = c.post(_url("requests.params"), _form_data("requests.params", {"auto_close_days": "7"}) | {"confirm": "1"})
    assert posted.status_code == (302 if role in ("bureau", "admin") else 403)
    assert Parameter.objects.count() == before + (1 if role in ("bureau", "admin") else 0)


def test_an_enterprise_cannot_decide_a_proposal(users, client_for):
    key, tomorrow = "subsidy.params", clock.today() + dt.timedelta(days=1)
    values = {**parameter_changes.fields_in_force(key, tomorrow), "cap": "1.00"}
    proposal = parameter_changes.submit(users["bureau"], key, values, tomorrow)
    r = client_for("enterprise").post(f"/core/parameters/proposals/{proposal.pk}/decide/", {"decision": "approve"})
    assert r.status_code == 404
    with pytest.raises(PermissionDenied):
        parameter_changes.approve(users["auditor"], proposal.pk)
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_the_back_office_offers_no_json_box(users, client_for):
    for role in ("bureau", "admin"):
        c = client_for(role)
        assert c.get("/admin/core/parameter/add/").status_code in (302, 403)
        row = Parameter.objects.first()
        page = c.get(f"/admin/core/parameter/{row.pk}/change/")
        assert 'name="value"' not in page.content.decode()


def test_a_waiting_money_change_is_a_to_do_of_the_other_bureau_people(users, client_for, bureau2):
    from huiqi.site import todos

    key, tomorrow = "subsidy.params", clock.today() + dt.timedelta(days=1)
    values = {**parameter_changes.fields_in_force(key, tomorrow), "cap": "1.00"}
    parameter_changes.submit(users["bureau"], key, values, tomorrow)
    mine = {t["name"]: t for t in todos.todos_for(users["bureau"])}
    theirs = {t["name"]: t for t in todos.todos_for(bureau2)}
    assert "core.parameter_proposals" not in mine
    assert theirs["core.parameter_proposals"]["count"] == 1
    assert theirs["core.parameter_proposals"]["url"] == _url(key)
    c = client_for("bureau")
    c.force_login(bureau2)
    assert "data-section=\"to-decide\"" in c.get("/core/parameters/").content.decode()


def test_the_api_sends_a_money_change_to_approval_too(users, client_for):
    key, tomorrow = "subsidy.params", clock.today() + dt.timedelta(days=1)
    value = {**params.value(key, on=tomorrow), "cap": "900000.00"}
    r = client_for("bureau").post("/api/v1/parameters/", {"key": key, "program": "subsidy", "value": value,
                                                          "effective_from": tomorrow.isoformat()},
                                  content_type="application/json")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert not Parameter.objects.filter(key=key, effective_from=tomorrow).exists()
    assert ParameterProposal.objects.get(pk=r.json()["proposal"]).value["cap"] == "900000.00"
