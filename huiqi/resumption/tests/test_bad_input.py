"""Bad input from the outside, through the pages, the API and the command: dates far from now, numbers
beyond what a column holds, planned dates out of range, filters that name nothing. Each is a clear 4xx
(or the page's default), never a 500, and nothing is saved."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from huiqi.core.errors import ValidationFailed
from huiqi.resumption import rules, services
from huiqi.resumption.models import DailyCheck, DailyRollup, ReturnToWorkFiling

from .conftest import check_values, filing_data

pytestmark = pytest.mark.django_db

FAR_DAYS = ["0001-01-01", "0001-01-05", "1899-12-31", "9999-12-31", "2150-06-01"]
FIGURE_PAGES = ["resumption:dashboard", "resumption:dashboard_export", "resumption:report", "resumption:report_xlsx",
                "resumption:check_list"]


@pytest.mark.parametrize("day", FAR_DAYS)
def test_pages_take_days_far_from_now(users, city, client_for, day):
    bureau, ent = client_for("bureau"), client_for("enterprise")
    for name in FIGURE_PAGES:
        for params in ({"day": day}, {"end": day}, {"start": day}, {"start": day, "end": day}):
            assert bureau.get(reverse(name), params).status_code == 200, (name, params)
    assert ent.get(reverse("resumption:check_form"), {"day": day}).status_code == 200
    resp = ent.post(reverse("resumption:check_form"), {
        "enterprise": city["ns1"].uscc, "day": day, "is_open": "1", "staff_total": 10, "staff_returned": 5,
        "staff_on_site": 5, "capacity_pct": 50, "suspected_cases": 0, "confirmed_cases": 0})
    assert resp.status_code == 400 and b'data-field="day"' in resp.content
    assert not DailyCheck.objects.exists()


def test_report_command_refuses_a_day_far_from_now(tmp_path):
    for day in ("0001-01-01", "9999-12-31"):
        with pytest.raises(CommandError, match="2000"):
            call_command("resumption", "report", "--date", day, "--out", str(tmp_path / "r.pdf"))


BIG = [rules.MAX_COUNT + 1, 2**63, 10**30]


@pytest.mark.parametrize("big", BIG)
def test_daily_check_numbers_beyond_a_column(users, city, client_for, big):
    """Above 2,147,483,647 PostgreSQL refuses the row and SQLite overflows at 2**63: both were a 500."""
    ent = client_for("enterprise")
    today = timezone.localdate()
    resp = ent.post(reverse("resumption:check_form"), {
        "enterprise": city["ns1"].uscc, "day": today.isoformat(), "is_open": "1", "staff_total": big,
        "staff_returned": 1, "staff_on_site": 1, "capacity_pct": 5, "suspected_cases": 0, "confirmed_cases": 0})
    assert resp.status_code == 400 and b'data-field="staff_total"' in resp.content
    api = ent.post(reverse("resumption-daily-check-list"),
                   json.dumps({"day": today.isoformat(), **check_values(suspected_cases=big)}),
                   content_type="application/json")
    assert api.status_code == 400 and api.json()["error"]["field"] == "suspected_cases"
    assert not DailyCheck.objects.exists() and not DailyRollup.objects.exists()


def test_the_largest_count_a_column_holds_is_taken(users, city):
    _check, created = services.submit_daily_check(users["enterprise"], city["ns1"], timezone.localdate(),
                                                  check_values(staff_total=rules.MAX_COUNT))
    assert created and DailyCheck.objects.get().staff_total == rules.MAX_COUNT


@pytest.mark.parametrize("big", BIG)
def test_filing_numbers_beyond_a_column(users, city, client_for, filing_required, media, big):
    resp = client_for("enterprise").post(reverse("resumption:filing_new"), {
        "enterprise": city["ns1"].uscc, "planned_date": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
        "staff_total": 10, "staff_returning": 1, "staff_from_outside": 0, "staff_in_quarantine": 0, "masks": big,
        "thermometers": 0, "disinfectant_litres": 0, "contact_name": "陈晓东", "contact_phone": "13800138000"})
    assert resp.status_code == 400 and b'data-field="masks"' in resp.content
    assert not ReturnToWorkFiling.objects.exists()


@pytest.mark.parametrize("planned", [
    lambda today: today - dt.timedelta(days=1),
    lambda today: dt.date(1, 1, 1),
    lambda today: today + dt.timedelta(days=rules.PLANNED_WINDOW_DAYS + 1),
    lambda today: dt.date(9999, 12, 31),
])
def test_filing_planned_date_out_of_range(users, city, filing_required, planned):
    planned = planned(timezone.localdate())
    with pytest.raises(ValidationFailed) as info:
        services.submit_filing(users["enterprise"], city["ns1"], filing_data(planned_date=planned))
    assert info.value.field == "planned_date"
    assert not ReturnToWorkFiling.objects.exists()


def test_declared_resumption_cannot_be_in_the_future(users, city, client_for):
    ent = client_for("enterprise")
    resp = ent.post(reverse("resumption:filing_new"), {
        "enterprise": city["ns1"].uscc, "planned_date": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        "staff_total": 10, "staff_returning": 8})
    assert resp.status_code == 400 and b'data-field="planned_date"' in resp.content
    assert not ReturnToWorkFiling.objects.exists()


def test_filters_that_name_nothing_are_ignored(users, city, client_for, recwarn):
    bureau = client_for("bureau")
    html = bureau.get(reverse("resumption:report"), {"district": "<b>zzz</b>"}).content.decode()
    title = html.split('class="report-title">', 1)[1].split("</h1>", 1)[0]
    assert title.startswith("深圳市企业复工复产分析研判报告"), title
    resp = bureau.get(reverse("resumption:dashboard"), {"size": "x" * 500, "district": "nowhere"})
    assert resp.status_code == 200 and resp.context["f"].size == "" and resp.context["f"].district == ""
    assert not [w for w in recwarn if "CacheKeyWarning" in type(w.message).__name__]


def test_xlsx_downloads_leave_no_temporary_files(users, city, client_for, tmp_path, monkeypatch):
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    bureau = client_for("bureau")
    for name in ("resumption:dashboard_export", "resumption:report_xlsx"):
        resp = bureau.get(reverse(name))
        assert resp.status_code == 200 and b"".join(resp.streaming_content)[:2] == b"PK"
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("name", [".png", "x", "../../../etc/passwd.png", "a" * 250 + ".png", "清单.exe"])
def test_attachments_are_stored_under_names_of_our_own(users, city, client_for, filing_required, media, name):
    """The sender's name is shown and offered on download; the stored file is named by us, with the
    extension of what its bytes are (no hidden dot-files, no names that say .exe)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.resumption.models import FilingAttachment

    from .conftest import PNG

    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data(),
                                    attachments=[SimpleUploadedFile(name, PNG)])
    att = FilingAttachment.objects.get(filing=filing)
    stored = att.file.name.rsplit("/", 1)[1]
    assert len(stored) == 36 and stored.endswith(".png") and not stored.startswith(".")
    assert att.name == name.rsplit("/", 1)[-1][-200:]
    resp = client_for("enterprise").get(reverse("resumption:attachment", args=[att.pk]))
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"


def test_too_many_attachments_at_once(users, city, filing_required, media):
    from .conftest import png

    with pytest.raises(ValidationFailed) as info:
        services.submit_filing(users["enterprise"], city["ns1"], filing_data(),
                               attachments=[png(f"{i}.png") for i in range(services.MAX_ATTACHMENTS + 1)])
    assert info.value.code == "attachment.too_many" and info.value.field == "attachments"
    assert not ReturnToWorkFiling.objects.exists() and not list(media.rglob("*.png"))


def test_a_failure_part_way_through_the_attachments_leaves_nothing(users, city, filing_required, media,
                                                                   monkeypatch):
    """The disk fills up at the second file: no filing, no rows, and the first file is removed too."""
    from huiqi.core.models import AuditEvent
    from huiqi.resumption.models import FilingAttachment

    from .conftest import pdf, png

    storage = FilingAttachment._meta.get_field("file").storage
    real, calls = storage.save, []

    def save(name, content, max_length=None):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(name, content, max_length=max_length)

    monkeypatch.setattr(storage, "save", save)
    audit_before = AuditEvent.objects.count()
    with pytest.raises(OSError):
        services.submit_filing(users["enterprise"], city["ns1"], filing_data(), attachments=[pdf(), png()])
    assert len(calls) == 2
    assert not ReturnToWorkFiling.objects.exists() and not FilingAttachment.objects.exists()
    assert AuditEvent.objects.count() == audit_before
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_a_closed_enterprise_reports_no_capacity(users, city):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as info:
        services.submit_daily_check(users["enterprise"], city["ns1"], today, check_values(is_open=False, capacity_pct=60))
    assert info.value.field == "capacity_pct" and info.value.code == "daily_check.capacity_closed"
    assert not DailyCheck.objects.exists()
    _check, created = services.submit_daily_check(users["enterprise"], city["ns1"], today,
                                                  check_values(is_open=False, capacity_pct=0))
    assert created
