"""The stable-development fund in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``): an enterprise of its own that the matrix's enterprise user acts for (besides
``ns1``), and its application at 高新投, the matrix institution; the institution thus reads an applicant's
name and nothing of the matrix's own enterprises. The bureau, auditors and administrators see every application; the
institution its own channel's; an enterprise its own (another enterprise's is a 404); districts,
departments and banks have no part in the fund. Channels and enterprises register applications; the
funnel report (page, workbook, PDF) is the bureau's (and auditors' and administrators')."""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NF, NO, OK, UNAUTH, row

EXPECT = {
    #                                     anon   ent  ent2 dist dist2 dept bureau bank inst audit admin
    "fund:index":                    row(LOGIN, OK,  OK,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund:funnel_export":            row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    # A funnel PDF is its asker's (and administrators'): no one else learns that the job exists.
    "fund:funnel_pdf":               row(LOGIN, NO,  NO,  NO,  NO,  NO,  NF,  NO,  NO,  NF,  NF),
    "fund:list":                     row(LOGIN, OK,  OK,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund:export":                   row(LOGIN, OK,  OK,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund:new":                      row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  OK,  NO,  OK),
    "fund:detail":                   row(LOGIN, OK,  NF,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund:registered":               row(LOGIN, OK,  NF,  NO,  NO,  NO,  NO,  NO,  OK,  NO,  OK),
    # A channel's status files: its staff their own, the city's readers all; the confirmation is the sender's.
    "fund:uploads":                  row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund:template":                 row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund:upload_detail":            row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund:upload_submitted":         row(LOGIN, NO,  NO,  NO,  NO,  NO,  NF,  NO,  OK,  NF,  NF),
    "fund:upload_error_report":      row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  OK,  OK,  OK),
    "fund-status-file-list":         row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "fund-status-file-detail":       row(UNAUTH, NF, NF,  NF,  NF,  NF,  OK,  NF,  OK,  OK,  OK),
    # ... and its registration files (申请登记), the same way; the world's is the matrix institution's.
    "fund-application-file-list":    row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "fund-application-file-detail":  row(UNAUTH, NF, NF,  NF,  NF,  NF,  OK,  NF,  OK,  OK,  OK),
    # --- API: lists are scoped (empty for those without a part in the fund), one outside it is a 404 ---
    "fund-application-list":         row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "fund-application-detail":       row(UNAUTH, OK, NF,  NF,  NF,  NF,  OK,  NF,  OK,  OK,  OK),
}

FILL = {
    "fund:export": lambda w: {"fmt": "csv"},
    "fund:funnel_pdf": lambda w: {"job": 2**31 - 1},
    "fund:detail": lambda w: {"pk": w["fund_application"].pk},
    "fund:registered": lambda w: {"pk": w["fund_application"].pk},
    "fund-application-detail": lambda w: {"pk": w["fund_application"].pk},
    "fund:template": lambda w: {"kind": "applications", "lang": "zh", "fmt": "csv"},
    "fund:upload_detail": lambda w: {"pk": w["fund_upload"].pk},
    "fund:upload_submitted": lambda w: {"pk": w["fund_upload"].pk},
    "fund:upload_error_report": lambda w: {"pk": w["fund_upload"].pk, "fmt": "csv"},
    "fund-status-file-detail": lambda w: {"pk": w["fund_upload"].pk},
    "fund-application-file-detail": lambda w: {"pk": w["fund_application_file"].pk},
}

# Channels (and enterprises applying online) register applications.
WRITE_TABLE = {"fund-application-list": {"post": {"institution", "enterprise", "enterprise2", "admin"}},
               "fund-status-file-list": {"post": {"institution", "admin"}},
               # the channel is the sender's institution: only a channel's staff send registration files
               "fund-application-file-list": {"post": {"institution"}}}


def prepare(world):
    if "fund_application" in world:
        return world
    import datetime as dt
    import random

    from huiqi.accounts.models import EnterpriseMembership
    from huiqi.core.identifiers import generate_uscc
    from huiqi.fund.models import Application
    from huiqi.registry import services as registry
    from huiqi.registry.models import FundInstitution

    applicant = registry.register_enterprise(None, uscc=generate_uscc(random.Random(1919)), name="深圳市基金申请测试有限公司",
                                             district="440305", industry="C39", employees=50, revenue_wan="3000",
                                             figures_year=2019)
    EnterpriseMembership.objects.create(user=world["users"]["enterprise"], enterprise=applicant)
    world["fund_application"] = Application.objects.create(
        number="HTI-000001", uscc=applicant.uscc, enterprise=applicant, channel="hti",
        institution=FundInstitution.objects.get(code="SZHTI"), requested_fen=500_000_000, term_months=12,
        received_date=dt.date(2020, 3, 2), impact="订单减少", state="due_diligence")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.fund.imports import start_upload

    world["fund_upload"] = start_upload(world["users"]["institution"], SimpleUploadedFile(
        "status.csv", "申请编号,事项,日期,金额（元）\nNOPE-1,放款,2020-06-30,100.00\n".encode(), content_type="text/csv"))
    assert world["fund_upload"].status == "refused", world["fund_upload"].message
    world["fund_application_file"] = start_upload(world["users"]["institution"], SimpleUploadedFile(
        "applications.csv", "统一社会信用代码,申请金额（万元）,申请期限（月）,受理日期\nNOPE,100,12,2020-03-02\n".encode(),
        content_type="text/csv"), kind="applications")
    assert world["fund_application_file"].status == "refused", world["fund_application_file"].message
    return world
