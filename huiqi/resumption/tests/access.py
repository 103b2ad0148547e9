"""Return to work in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``): a filing of ns1 (南山, user "enterprise") with an attachment, ns1's daily
check of today with a difficulty that asks for help, and a finished report job of the bureau user.
Figures (dashboard, report, daily-check lists, follow-ups) are the officials'; district officers see
their district, department, bureau, auditors and administrators the city.
"""

from __future__ import annotations

import datetime as dt

from huiqi.tests.matrix import LOGIN, NF, NO, OK, UNAUTH, row

EXPECT = {
    #                                     anon   ent  ent2 dist dist2 dept bureau bank inst audit admin
    "resumption:index":              row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:filing_list":        row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:filing_new":         row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO),
    "resumption:filing_detail":      row(LOGIN, OK,  NF,  OK,  NF,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:filing_edit":        row(LOGIN, OK,  NF,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    # A confirmation is its enterprise's own (enterprise2 is another enterprise's user).
    "resumption:filing_submitted":   row(LOGIN, OK,  NF,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NF),
    "resumption:check_submitted":    row(LOGIN, OK,  NF,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NF),
    "resumption:attachment":         row(LOGIN, OK,  NF,  OK,  NF,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:check_form":         row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO),
    "resumption:check_list":         row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:follow_ups":         row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:dashboard":          row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:dashboard_export":   row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:report":             row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "resumption:report_xlsx":        row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    # The PDF of a report job is its user's (the bureau's here) and the administrators'.
    "resumption:report_pdf":         row(LOGIN, NO,  NO,  NF,  NF,  NF,  OK,  NO,  NO,  NF,  OK),
    "resumption-daily-check-list":   row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "resumption-daily-check-detail": row(UNAUTH, OK, NF,  OK,  NF,  OK,  OK,  NF,  NF,  OK,  OK),
    "resumption-filing-list":        row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "resumption-filing-detail":      row(UNAUTH, OK, NF,  OK,  NF,  OK,  OK,  NF,  NF,  OK,  OK),
}

FILL = {
    "resumption:filing_detail": lambda w: {"pk": w["rtw_filing"].pk},
    "resumption:filing_edit": lambda w: {"pk": w["rtw_filing"].pk},
    "resumption:filing_submitted": lambda w: {"pk": w["rtw_filing"].pk},
    "resumption:check_submitted": lambda w: {"pk": w["rtw_check"].pk},
    "resumption:attachment": lambda w: {"pk": w["rtw_attachment"].pk},
    "resumption:report_pdf": lambda w: {"job": w["rtw_report_job"].pk},
    "resumption-daily-check-detail": lambda w: {"pk": w["rtw_check"].pk},
    "resumption-filing-detail": lambda w: {"pk": w["rtw_filing"].pk},
}

# An enterprise reports for itself; an aggregator (department, bureau, administrator) for any enterprise.
WRITE_TABLE = {
    "resumption-daily-check-list": {"post": {"enterprise", "enterprise2", "department", "bureau", "admin"}},
}

AGGREGATORS = {"department", "bureau", "admin"}


def prepare(world):
    """Add the return-to-work records to the world (once per test)."""
    if "rtw_filing" in world:
        return world
    from django.conf import settings
    from django.utils import timezone

    from huiqi.core.models import Job
    from huiqi.resumption import services
    from huiqi.resumption.jobs import REPORT_KIND, report_path
    from huiqi.resumption.models import FilingAttachment, FilingStatus, ReturnToWorkFiling

    users, ns1 = world["users"], world["ns1"]
    now = timezone.now()
    filing = ReturnToWorkFiling.objects.create(
        enterprise=ns1, district_id=ns1.district_id, status=FilingStatus.SUBMITTED,
        planned_date=timezone.localdate() + dt.timedelta(days=1), staff_total=10, staff_returning=5,
        contact_name="矩阵联系人", contact_phone="13800000000", submitted_by=users["enterprise"], submitted_at=now)
    stored = "resumption/matrix/plan.pdf"
    path = settings.MEDIA_ROOT / stored
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    world["rtw_filing"] = filing
    world["rtw_attachment"] = FilingAttachment.objects.create(
        filing=filing, kind="document", file=stored, name="plan.pdf", content_type="application/pdf", size=15)
    today = timezone.localdate()
    world["rtw_check"], _ = services.submit_daily_check(
        users["enterprise"], ns1, today,
        {"is_open": True, "staff_total": 10, "staff_returned": 5, "staff_on_site": 5, "capacity_pct": 50},
        [{"kind": "funds", "note": "矩阵困难", "needs_help": True}])
    job = Job.objects.create(kind=REPORT_KIND, params={"day": today.isoformat(), "district": ""},
                             status=Job.Status.SUCCEEDED, created_by=users["bureau"], title="复工报告-矩阵")
    pdf = report_path(job.pk)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    world["rtw_report_job"] = job
    return world
