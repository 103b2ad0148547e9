"""The business clock (core.clock): the real day in production, a demo's fixed day when HUIQI_DEMO_TODAY is
set, with the real time of day; and every form default and dashboard "today" asks it."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from huiqi.core import clock

ROOT = Path(__file__).resolve().parents[3]
DAY = dt.date(2020, 4, 2)


def test_without_a_demo_day_the_clock_is_the_real_one(settings):
    settings.HUIQI_DEMO_TODAY = None
    assert clock.demo_today() is None
    assert clock.today() == timezone.localdate()
    assert abs(clock.now() - timezone.now()) < dt.timedelta(seconds=5)


def test_a_demo_day_keeps_the_real_time_of_day(settings):
    settings.HUIQI_DEMO_TODAY = "2020-04-02"
    assert clock.today() == DAY
    now, real = clock.now(), timezone.localtime()
    assert timezone.is_aware(now) and timezone.localtime(now).date() == DAY
    assert abs(dt.datetime.combine(DAY, real.time()) - timezone.localtime(now).replace(tzinfo=None)) \
        < dt.timedelta(seconds=5)


def test_fixed_holds_a_day_within_a_block_only(settings):
    settings.HUIQI_DEMO_TODAY = None
    with clock.fixed(DAY):
        assert clock.today() == DAY
        with clock.fixed(dt.date(2020, 3, 1)):
            assert clock.today() == dt.date(2020, 3, 1)
        assert clock.today() == DAY
    assert clock.today() == timezone.localdate()


def test_the_demo_run_sets_the_demo_citys_day_and_the_readme_says_so():
    dev = (ROOT / "dev.py").read_text(encoding="utf-8")
    assert f'DEMO_TODAY = "{clock.DEMO_CITY_TODAY.isoformat()}"' in dev
    assert 'os.environ.setdefault("HUIQI_DEMO_TODAY", DEMO_TODAY)' in dev
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `HUIQI_DEMO_TODAY`"))
    assert "2020-04-02" in row and "production" in row
    from huiqi.resumption import demo

    assert demo.LAST_DAY == clock.DEMO_CITY_TODAY, "the demo is shown on the last day of its daily checks"


def test_a_day_that_is_no_date_is_refused_when_the_settings_load(tmp_path):
    env = {**os.environ, "HUIQI_DEMO_TODAY": "2020-02-30", "HUIQI_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "huiqi.settings"}
    run = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode != 0 and "HUIQI_DEMO_TODAY='2020-02-30' is not a date" in run.stderr


@pytest.mark.django_db
def test_a_daily_check_sent_on_the_demo_day_stays_in_2020(settings, users, city, client_for):
    """The form offers the demo's day; the report is stored on it; the dashboard stays on that day."""
    from huiqi.resumption.models import DailyCheck

    settings.HUIQI_DEMO_TODAY = DAY.isoformat()
    ent = client_for("enterprise")
    form = ent.get(reverse("resumption:check_form")).content.decode()
    assert re.search(r'name="day"[^>]*value="2020-04-02"', form), "the form's day is the demo's"
    resp = ent.post(reverse("resumption:check_form"), {
        "enterprise": city["ns1"].uscc, "day": "2020-04-02", "is_open": "1", "staff_total": 20,
        "staff_returned": 15, "staff_on_site": 12, "capacity_pct": 60, "suspected_cases": 0,
        "confirmed_cases": 0})
    assert resp.status_code == 302
    check = DailyCheck.objects.get()
    assert check.day == DAY and timezone.localtime(check.submitted_at).date() == DAY
    dashboard = client_for("bureau").get(reverse("resumption:dashboard")).content.decode()
    assert 'name="end" value="2020-04-02"' in dashboard and 'data-day="2020-04-02"' in dashboard
    real = timezone.localdate()
    assert f'data-day="{real:%Y-%m-%d}"' not in dashboard
    assert f'name="end" value="{real:%Y-%m-%d}"' not in dashboard
    overview = client_for("district").get(reverse("resumption:index")).content.decode()
    assert "2020-04-02 当日" in overview


@pytest.mark.django_db
def test_requests_and_subsidy_forms_take_the_demo_day(settings, users, city, client_for):
    from huiqi.requests import services
    from huiqi.requests.models import Category

    settings.HUIQI_DEMO_TODAY = DAY.isoformat()
    req = services.submit_request(users["enterprise"], enterprise=city["ns1"],
                                  category=Category.objects.get(code="policy"), title="政策咨询",
                                  description="请问如何申请？")
    assert req.number.startswith("SZQ-20200402-") and timezone.localtime(req.submitted_at).date() == DAY
    assert req.due_date is not None and req.due_date.year == 2020
    page = client_for("bureau").get(reverse("subsidy:index")).content.decode()
    assert re.search(r'name="cutoff"[^>]*value="2020-04-02"', page), "the run form's cutoff is the demo's day"
