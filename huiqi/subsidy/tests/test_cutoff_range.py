"""Issue 16.13: a batch's cutoff stays inside the program's dates, which its parameters give: from the
window's start (``window_start``) to the program's end (``program_end``). ``9999-12-31`` was accepted,
and once released it would have blocked every later run (cutoffs only increase). Refused with the
field named on the service, the page, the API and the command; nothing is recorded or queued."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from huiqi.core import params as core_params
from huiqi.core.errors import ValidationFailed
from huiqi.core.models import Job
from huiqi.subsidy import rules, services
from huiqi.subsidy.models import SubsidyBatch

pytestmark = pytest.mark.django_db

FAR = dt.date(9999, 12, 31)


def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_program_dates_are_parameters():
    params = rules.Params.defaults()
    assert (params.window_start, params.program_end) == (dt.date(2020, 2, 1), dt.date(2021, 12, 31))
    assert rules.DEFAULTS["program_end"] == "2021-12-31" and "program_end" in rules.PARAMETER_NAMES
    # A value stored before the parameter existed takes the program's default.
    older = {k: v for k, v in rules.DEFAULTS.items() if k != "program_end"}
    assert rules.Params.from_mapping(older).program_end == params.program_end
    with pytest.raises(ValidationFailed) as err:
        rules.Params.from_mapping({**rules.DEFAULTS, "program_end": "2020-06-29"})
    assert err.value.field == "program_end" and "program's end" in err.value.en


@pytest.mark.parametrize("cutoff, ok", [
    (dt.date(2020, 2, 1), True), (dt.date(2021, 12, 31), True), (dt.date(2020, 1, 31), False),
    (dt.date(2022, 1, 1), False), (FAR, False), (dt.date(1, 1, 1), False)])
def test_check_cutoff_names_the_field_and_the_program_dates(cutoff, ok):
    params = rules.Params.defaults()
    if ok:
        assert rules.check_cutoff(cutoff, params) == cutoff
        return
    with pytest.raises(ValidationFailed) as err:
        rules.check_cutoff(cutoff, params)
    e = err.value
    assert (e.code, e.field) == ("subsidy.cutoff_outside_program", "cutoff")
    assert "截止日期" in e.zh and "2020-02-01" in e.zh and "2021-12-31" in e.zh
    assert "cutoff" in e.en and "2020-02-01" in e.en and "2021-12-31" in e.en


def test_run_simulate_and_queue_refuse_a_cutoff_after_the_program(example, staff):
    for call in (lambda: services.run_batch(staff["bureau"], FAR),
                 lambda: services.start_batch_run(staff["bureau"], FAR),
                 lambda: services.simulate(staff["bureau"], FAR)):
        with pytest.raises(ValidationFailed) as err:
            call()
        assert err.value.field == "cutoff" and "program's end" in err.value.en
    assert not SubsidyBatch.objects.exists() and not Job.objects.exists()


def test_the_range_follows_the_parameters_in_force_on_the_cutoff(example, staff):
    # The bureau extends the program by a new dated row: a later cutoff is then inside it.
    later = dt.date(2022, 3, 31)
    with pytest.raises(ValidationFailed):
        services.simulate(staff["bureau"], later)
    core_params.set_value(None, "subsidy.params", "subsidy", {**rules.DEFAULTS, "program_end": "2022-12-31"},
                          dt.date(2022, 1, 1), today=dt.date(2022, 1, 1))
    assert services.simulate(staff["bureau"], later).cutoff == later
    # A row whose window starts after it takes effect: a cutoff between the two is before the window.
    core_params.set_value(None, "subsidy.params", "subsidy", {**rules.DEFAULTS, "window_start": "2020-04-01"},
                          dt.date(2020, 3, 1), today=dt.date(2020, 3, 1))
    with pytest.raises(ValidationFailed) as err:
        services.run_batch(staff["bureau"], dt.date(2020, 3, 15))
    assert err.value.field == "cutoff" and "2020-04-01" in err.value.zh


def test_a_cutoff_before_any_parameter_names_the_field(example, staff):
    with pytest.raises(ValidationFailed) as err:
        services.start_batch_run(staff["bureau"], dt.date(2020, 1, 31))
    assert err.value.field == "cutoff" and "没有生效的取值" in err.value.zh
    assert not Job.objects.exists()


def test_the_page_refuses_it_naming_the_field(example, staff):
    resp = client(staff["bureau"]).post("/subsidy/", {"cutoff": "9999-12-31"})
    page = resp.content.decode()
    assert resp.status_code == 400 and "截止日期 9999-12-31 不在项目期内" in page and "2021-12-31" in page
    assert not Job.objects.exists()
    resp = client(staff["bureau"]).get("/subsidy/simulate/", {"cutoff": "9999-12-31"})
    assert resp.status_code == 400 and "不在项目期内" in resp.content.decode()


def test_the_api_refuses_it_naming_the_field(example, staff):
    resp = client(staff["bureau"]).post("/api/v1/subsidy-batches/run/", json.dumps({"cutoff": "9999-12-31"}),
                                        content_type="application/json")
    assert resp.status_code == 400, resp.content
    error = resp.json()["error"]
    assert (error["code"], error["field"]) == ("subsidy.cutoff_outside_program", "cutoff")
    assert "2021-12-31" in error["message_en"] and "program's end" in error["message_en"]
    assert not Job.objects.exists()


def test_the_command_refuses_it_naming_the_field(example, staff, tmp_path):
    with pytest.raises(CommandError) as err:
        call_command("subsidy", "simulate", "--cutoff", "9999-12-31", "--out", str(tmp_path / "sim"))
    assert "截止日期 9999-12-31 不在项目期内" in str(err.value) and "cutoff 9999-12-31" in str(err.value)
    assert not (tmp_path / "sim").exists()
    with pytest.raises(CommandError) as err:
        call_command("subsidy", "run", "--cutoff", "9999-12-31", "--out", str(tmp_path / "run"),
                     "--as", staff["bureau"].username)
    assert "不在项目期内" in str(err.value)
    assert not SubsidyBatch.objects.exists() and not (tmp_path / "run").exists()


def test_the_forms_offer_a_cutoff_inside_the_program(db):
    assert services.default_cutoff(dt.date(2020, 5, 1)) == dt.date(2020, 5, 1)
    assert services.default_cutoff(dt.date(2030, 1, 1)) == dt.date(2021, 12, 31)  # the program has ended
    assert services.default_cutoff(dt.date(2020, 1, 1)) == dt.date(2020, 1, 1)  # no parameters yet
