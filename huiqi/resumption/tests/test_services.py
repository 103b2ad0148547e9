"""Filings along their state machine, daily checks with their rollup, and the bad input of the issue:
each refusal names the field and leaves nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from huiqi.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from huiqi.core.models import AuditEvent
from huiqi.resumption import services
from huiqi.resumption.models import (
    DailyCheck,
    DailyRollup,
    Difficulty,
    FilingAttachment,
    FilingEvent,
    FilingStatus,
    ReturnToWorkFiling,
)

from .conftest import check_values, filing_data, pdf, png

pytestmark = pytest.mark.django_db


def _state():
    return {"filings": list(ReturnToWorkFiling.objects.values_list("id", "status", "updated_at")),
            "events": FilingEvent.objects.count(), "attachments": FilingAttachment.objects.count(),
            "checks": list(DailyCheck.objects.values_list("id", "staff_returned", "capacity_pct", "updated_at")),
            "difficulties": Difficulty.objects.count(),
            "rollup": list(DailyRollup.objects.values_list("day", "reports", "staff_returned").order_by("day")),
            "audit": AuditEvent.objects.count()}


def refused(call, exc_type, field):
    before = _state()
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.field == field, f"the error names {info.value.field!r}, not {field!r}"
    assert info.value.zh and info.value.en
    assert _state() == before, "a refused action changed the database"
    return info.value


# --- filings -------------------------------------------------------------------------------------


def test_filing_journey(users, city, filing_required, media):
    ent, officer = users["enterprise"], users["district"]
    filing = services.submit_filing(ent, city["ns1"], filing_data(), attachments=[pdf()])
    assert filing.status == FilingStatus.SUBMITTED and filing.district_id == "440305"
    assert [i["checked"] for i in filing.checklist if i["group"] == "four_in_place"] == [True] * 4
    assert filing.attachments.get().content_type == "application/pdf"

    services.assign_inspector(officer, filing, officer)
    services.record_check(officer, filing, "passed", "消毒记录齐全", photos=[png()])
    services.approve_filing(officer, filing, "同意复工")
    filing.refresh_from_db()
    assert filing.status == FilingStatus.APPROVED and filing.inspector == officer
    assert filing.attachments.filter(kind="photo").count() == 1
    steps = list(filing.events.values_list("action", "from_status", "to_status"))
    assert steps == [("submit", "", "submitted"), ("assign", "submitted", "assigned"),
                     ("record_check", "assigned", "inspected"), ("approve", "inspected", "approved")]
    assert AuditEvent.objects.filter(action__startswith="filing.").count() >= 5


def test_return_and_resubmit(users, city, filing_required, media):
    ent, officer = users["enterprise"], users["district"]
    filing = services.submit_filing(ent, city["ns1"], filing_data())
    services.return_filing(officer, filing, "缺少防疫物资清单")
    filing.refresh_from_db()
    assert filing.status == FilingStatus.RETURNED and filing.decision_note == "缺少防疫物资清单"
    services.resubmit_filing(ent, filing, filing_data(masks=5000), attachments=[png("stock.png")])
    filing.refresh_from_db()
    assert filing.status == FilingStatus.SUBMITTED and filing.masks == 5000
    assert [e.action for e in filing.events.all()] == ["submit", "return", "resubmit"]


def test_failed_check_cannot_be_approved(users, city, filing_required, media):
    officer = users["district"]
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    services.assign_inspector(officer, filing, officer)
    services.record_check(officer, filing, "failed", "未设置隔离观察区")
    refused(lambda: services.approve_filing(officer, filing), Conflict, "check_result")
    services.return_filing(officer, filing, "请设置隔离观察区后重新报备")


def test_illegal_transition_is_a_conflict(users, city, filing_required):
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    refused(lambda: services.approve_filing(users["district"], filing), Conflict, "status")
    refused(lambda: services.resubmit_filing(users["enterprise"], filing, filing_data()), Conflict, "status")


def test_declaration_after_the_switch(users, city):
    """With the defaults (not required since 2020-02-20) an enterprise declares, and cannot file."""
    assert services.filing_required(dt.date(2020, 2, 19)) is True
    assert services.filing_required(dt.date(2020, 2, 20)) is False
    refused(lambda: services.submit_filing(users["enterprise"], city["ns1"], filing_data()), Conflict, "kind")
    filing = services.declare_resumed(users["enterprise"], city["ns1"], {"staff_total": 50, "staff_returning": 40})
    assert filing.status == FilingStatus.DECLARED and filing.kind == "declaration"
    assert filing.events.get().action == "declare"


# --- bad input: filings ----------------------------------------------------------------------------


def test_filing_for_an_enterprise_not_theirs(users, city, filing_required):
    refused(lambda: services.submit_filing(users["enterprise"], city["ft1"], filing_data()),
            PermissionDenied, "enterprise")


def test_approval_by_an_officer_of_another_district(users, city, filing_required, media):
    officer = users["district"]
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    services.assign_inspector(officer, filing, officer)
    services.record_check(officer, filing, "passed", "")
    err = refused(lambda: services.approve_filing(users["district2"], filing), PermissionDenied, "district")
    assert err.status == 403
    refused(lambda: services.assign_inspector(users["district2"], filing, users["district2"]),
            PermissionDenied, "district")


def test_inspector_of_another_district(users, city, filing_required):
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    refused(lambda: services.assign_inspector(users["district"], filing, users["district2"]),
            ValidationFailed, "inspector")


def test_second_filing_while_one_is_pending(users, city, filing_required):
    services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    err = refused(lambda: services.submit_filing(users["enterprise"], city["ns1"], filing_data()),
                  Conflict, "enterprise")
    assert err.status == 409


@pytest.mark.parametrize("name, content", [
    ("virus.exe", b"MZ\x90\x00" + b"\x00" * 60),
    ("notes.txt", b"just text"),
    ("fake.pdf", b"<html>not a pdf</html>"),
])
def test_attachment_that_is_not_an_image_or_pdf(users, city, filing_required, media, name, content):
    bad = SimpleUploadedFile(name, content)
    refused(lambda: services.submit_filing(users["enterprise"], city["ns1"], filing_data(), attachments=[pdf(), bad]),
            ValidationFailed, "attachments")


def test_attachment_over_the_size_limit(users, city, filing_required, media):
    from huiqi.core import params
    from huiqi.resumption.apps import ATTACHMENT_LIMIT_KEY

    params.set_value(None, ATTACHMENT_LIMIT_KEY, "resumption", 1024, timezone.localdate())
    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048)
    err = refused(lambda: services.submit_filing(users["enterprise"], city["ns1"], filing_data(), attachments=[big]),
                  ValidationFailed, "attachments")
    assert err.code == "attachment.too_large"


def test_on_site_photo_must_be_an_image(users, city, filing_required, media):
    officer = users["district"]
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    services.assign_inspector(officer, filing, officer)
    refused(lambda: services.record_check(officer, filing, "passed", "", photos=[SimpleUploadedFile("a.doc", b"DOC")]),
            ValidationFailed, "photos")


@pytest.mark.parametrize("change, field", [
    ({"staff_returning": 200}, "staff_returning"),
    ({"staff_total": -1}, "staff_total"),
    ({"staff_in_quarantine": 90}, "staff_in_quarantine"),
    ({"contact_name": ""}, "contact_name"),
    ({"planned_date": None}, "planned_date"),
    ({"checklist": ["nonsense"]}, "checklist"),
])
def test_bad_filing_figures(users, city, filing_required, change, field):
    refused(lambda: services.submit_filing(users["enterprise"], city["ns1"], filing_data(**change)),
            ValidationFailed, field)


# --- daily checks ----------------------------------------------------------------------------------


def _now(day, hh=9, mm=0):
    return dt.datetime(day.year, day.month, day.day, hh, mm, tzinfo=timezone.get_current_timezone())


def test_daily_check_and_rollup(users, city):
    day = dt.date(2020, 3, 2)
    check, created = services.submit_daily_check(
        users["enterprise"], city["ns1"], day, check_values(),
        [{"kind": "materials", "note": "芯片缺货", "needs_help": True}, {"kind": "orders"}], now=_now(day))
    assert created and check.on_time and check.district_id == "440305" and check.industry_section == "C"
    row = DailyRollup.objects.get(day=day)
    assert (row.reports, row.open_count, row.staff_returned, row.capacity_sum, row.on_time) == (1, 1, 70, 65, 1)
    assert Difficulty.objects.filter(needs_help=True).count() == 1

    # The same report again changes nothing; a correction moves the rollup by the difference.
    audit_before = AuditEvent.objects.count()
    again, created = services.submit_daily_check(
        users["enterprise"], city["ns1"], day, check_values(),
        [{"kind": "materials", "note": "芯片缺货", "needs_help": True}, {"kind": "orders"}], now=_now(day, 11))
    assert not created and again.pk == check.pk and AuditEvent.objects.count() == audit_before
    services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(staff_returned=90, capacity_pct=80),
                                [], now=_now(day, 15))
    row.refresh_from_db()
    assert (row.reports, row.staff_returned, row.capacity_sum, row.on_time) == (1, 90, 80, 1)
    assert Difficulty.objects.count() == 0

    late, _ = services.submit_daily_check(users["enterprise"], city["ns1"], day + dt.timedelta(days=1),
                                          check_values(is_open=False, capacity_pct=0),
                                          now=_now(day + dt.timedelta(days=1), 10, 30))
    assert not late.on_time
    assert services.rebuild_rollup() == 2
    row = DailyRollup.objects.get(day=day)
    assert (row.reports, row.staff_returned, row.capacity_sum) == (1, 90, 80)
    closed = DailyRollup.objects.get(day=day + dt.timedelta(days=1))
    assert (closed.open_count, closed.on_time, closed.capacity_sum) == (0, 0, 0)


def test_aggregator_reports_for_any_enterprise(users, city):
    day = dt.date(2020, 3, 2)
    check, created = services.submit_daily_check(users["department"], city["ba1"], day, check_values(), source="api",
                                                 now=_now(day))
    assert created and check.submitted_by == users["department"]
    refused(lambda: services.submit_daily_check(users["bank"], city["ba1"], day, check_values(), now=_now(day)),
            PermissionDenied, None)


# --- bad input: daily checks ------------------------------------------------------------------------


def test_daily_check_for_a_future_day(users, city):
    now = timezone.now()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    err = refused(lambda: services.submit_daily_check(users["enterprise"], city["ns1"], tomorrow, check_values(),
                                                      now=now), ValidationFailed, "day")
    assert err.code == "daily_check.future"


def test_daily_check_for_a_locked_day(users, city):
    day = dt.date(2020, 3, 2)
    err = refused(lambda: services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(),
                                                      now=_now(day + dt.timedelta(days=1), 0, 1)),
                  ValidationFailed, "day")
    assert err.code == "daily_check.locked"
    # A correction after the lock is refused the same way, and the report stays as it was.
    services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(), now=_now(day))
    refused(lambda: services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(staff_returned=1),
                                                now=_now(day + dt.timedelta(days=3))), ValidationFailed, "day")


@pytest.mark.parametrize("change, field", [
    ({"staff_returned": 101}, "staff_returned"),
    ({"capacity_pct": 101}, "capacity_pct"),
    ({"capacity_pct": -5}, "capacity_pct"),
    ({"staff_on_site": 80}, "staff_on_site"),
    ({"staff_total": "many"}, "staff_total"),
    ({"is_open": None}, "is_open"),
])
def test_bad_daily_check_figures(users, city, change, field):
    day = dt.date(2020, 3, 2)
    refused(lambda: services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(**change),
                                                now=_now(day)), ValidationFailed, field)


def test_bad_correction_keeps_the_first_report(users, city):
    day = dt.date(2020, 3, 2)
    services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(), now=_now(day))
    refused(lambda: services.submit_daily_check(users["enterprise"], city["ns1"], day,
                                                check_values(staff_returned=500), now=_now(day, 12)),
            ValidationFailed, "staff_returned")


def test_daily_check_for_an_enterprise_not_theirs(users, city):
    day = dt.date(2020, 3, 2)
    refused(lambda: services.submit_daily_check(users["enterprise"], city["ft1"], day, check_values(), now=_now(day)),
            PermissionDenied, "enterprise")


def test_other_difficulty_needs_a_note(users, city):
    day = dt.date(2020, 3, 2)
    refused(lambda: services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(),
                                                [{"kind": "other"}], now=_now(day)), ValidationFailed, "difficulties")


def test_follow_up(users, city):
    day = dt.date(2020, 3, 2)
    check, _ = services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(),
                                           [{"kind": "funds", "note": "工资发放困难", "needs_help": True}], now=_now(day))
    difficulty = check.difficulties.get()
    refused(lambda: services.follow_up(users["district2"], difficulty, "已联系"), PermissionDenied, "district")
    services.follow_up(users["district"], difficulty, "已对接贷款贴息政策")
    difficulty.refresh_from_db()
    assert difficulty.followed_up_by == users["district"] and difficulty.followed_up_at


def test_domain_errors_are_4xx():
    for cls in (ValidationFailed, PermissionDenied, Conflict):
        assert 400 <= cls.status < 500 and issubclass(cls, DomainError)


def test_a_changed_deadline_applies_at_once(users, city):
    """The deadline is kept for a while per process; changing the parameter clears what was kept."""
    from huiqi.core import params
    from huiqi.resumption.apps import DAILY_CHECK_KEY

    day = dt.date(2020, 3, 2)
    first, _ = services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(), now=_now(day, 11))
    assert not first.on_time
    params.set_value(None, DAILY_CHECK_KEY, "resumption", {"deadline": "12:00", "lock_days_after": 1,
                                                           "lock_time": "00:00"}, day)
    second, _ = services.submit_daily_check(users["department"], city["ns2"], day, check_values(), now=_now(day, 11))
    assert second.on_time


def test_only_the_bureau_rebuilds_the_rollup(users):
    from huiqi.core.errors import PermissionDenied

    for role in ("enterprise", "district", "department", "bank", "auditor"):
        with pytest.raises(PermissionDenied):
            services.rebuild_rollup(users[role])
    assert services.rebuild_rollup(users["bureau"]) == 0 and services.rebuild_rollup(users["admin"]) == 0


def test_the_report_pdf_is_queued_in_the_readers_scope(users):
    from huiqi.core import jobs
    from huiqi.resumption import selectors

    day = dt.date(2020, 3, 2)
    officer = users["district"]
    job = services.start_report_pdf(officer, selectors.figures_scope(officer), day)
    assert (job.kind, job.params, job.created_by) == ("resumption.report_pdf",
                                                       {"day": "2020-03-02", "district": "440305", "language": "zh-hans"},
                                                       officer)
    for who in ("enterprise", "bank"):
        with pytest.raises(PermissionDenied):
            services.start_report_pdf(users[who], selectors.figures_scope(users[who]), day)
    assert jobs.run_pending() == 1
