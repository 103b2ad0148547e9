"""Pages, API and command of return to work: the journey through the pages, refusals shown with a 4xx
naming the field, the API's idempotent push, and a report PDF whose Chinese text reads back."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from huiqi.core import jobs
from huiqi.resumption import services
from huiqi.resumption.models import DailyCheck, DailyRollup, FilingStatus, ReturnToWorkFiling

from .conftest import check_values, filing_data, pdf, png

pytestmark = pytest.mark.django_db


def _post_filing(c, **kw):
    data = {"enterprise": "", "planned_date": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
            "staff_total": 50, "staff_returning": 30, "staff_from_outside": 3, "staff_in_quarantine": 1, "masks": 500,
            "thermometers": 4, "disinfectant_litres": 20, "contact_name": "陈晓东", "contact_phone": "13800138000",
            "checklist": ["mechanism", "screening"]}
    data.update(kw)
    return c.post(reverse("resumption:filing_new"), {k: v for k, v in data.items() if v is not None})


def test_filing_through_the_pages(users, city, client_for, filing_required, media):
    ent, dist = client_for("enterprise"), client_for("district")
    page = ent.get(reverse("resumption:filing_new"))
    assert page.status_code == 200 and "四个到位" in page.content.decode()
    resp = _post_filing(ent, enterprise=city["ns1"].uscc, attachments=pdf())
    assert resp.status_code == 302
    filing = ReturnToWorkFiling.objects.get()
    url = reverse("resumption:filing_detail", args=[filing.pk])

    queue = dist.get(reverse("resumption:filing_list"), {"status": "pending"}).content.decode()
    assert city["ns1"].name in queue
    assert dist.post(url, {"action": "assign", "inspector": users["district"].pk}).status_code == 302
    assert dist.post(url, {"action": "check", "check_result": "passed", "check_findings": "符合",
                           "photos": png()}).status_code == 302
    assert dist.post(url, {"action": "approve", "note": "同意"}).status_code == 302
    filing.refresh_from_db()
    assert filing.status == FilingStatus.APPROVED

    # The enterprise sees every step on the history.
    html = ent.get(url).content.decode()
    for step in ("assign", "record_check", "approve"):
        assert f'data-event="{step}"' in html
    att = filing.attachments.first()
    assert ent.get(reverse("resumption:attachment", args=[att.pk])).status_code == 200


def test_page_refusals_name_the_field(users, city, client_for, filing_required, media):
    ent = client_for("enterprise")
    resp = _post_filing(ent, enterprise=city["ft1"].uscc)
    assert resp.status_code == 403 and b'data-field="enterprise"' in resp.content
    resp = _post_filing(ent, enterprise=city["ns1"].uscc, staff_returning=999)
    assert resp.status_code == 400 and b'data-field="staff_returning"' in resp.content
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = _post_filing(ent, enterprise=city["ns1"].uscc, attachments=SimpleUploadedFile("x.txt", b"hello"))
    assert resp.status_code == 400 and b'data-field="attachments"' in resp.content
    assert not ReturnToWorkFiling.objects.exists()

    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    resp = client_for("district2").post(reverse("resumption:filing_detail", args=[filing.pk]),
                                        {"action": "return", "note": "x"})
    assert resp.status_code == 404, "another district's filing is not even shown"
    resp = client_for("district").post(reverse("resumption:filing_detail", args=[filing.pk]),
                                       {"action": "approve", "note": ""})
    assert resp.status_code == 409 and b'data-field="status"' in resp.content


def test_declaration_page_after_the_switch(users, city, client_for):
    ent = client_for("enterprise")
    page = ent.get(reverse("resumption:filing_new")).content.decode()
    assert 'data-filing-required="0"' in page and "无需报备" in page
    resp = ent.post(reverse("resumption:filing_new"), {"enterprise": city["ns1"].uscc,
                                                       "planned_date": timezone.localdate().isoformat(),
                                                       "staff_total": 10, "staff_returning": 8})
    assert resp.status_code == 302
    assert ReturnToWorkFiling.objects.get().status == FilingStatus.DECLARED


def test_daily_check_page_and_dashboard(users, city, client_for):
    ent = client_for("enterprise")
    today = timezone.localdate()
    resp = ent.post(reverse("resumption:check_form"), {
        "enterprise": city["ns1"].uscc, "day": today.isoformat(), "is_open": "1", "staff_total": 100,
        "staff_returned": 80, "staff_on_site": 70, "capacity_pct": 75, "suspected_cases": 0, "confirmed_cases": 0,
        "difficulty_materials": "on", "note_materials": "缺少芯片", "help_materials": "on"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert DailyCheck.objects.get().staff_returned == 80
    bad = ent.post(reverse("resumption:check_form"), {
        "enterprise": city["ns1"].uscc, "day": (today + dt.timedelta(days=1)).isoformat(), "is_open": "1",
        "staff_total": 100, "staff_returned": 80, "staff_on_site": 70, "capacity_pct": 75, "suspected_cases": 0,
        "confirmed_cases": 0})
    assert bad.status_code == 400 and b'data-field="day"' in bad.content

    dist = client_for("district")
    html = dist.get(reverse("resumption:dashboard"), {"day": today.isoformat()}).content.decode()
    assert 'data-figure="open">1<' in html and "80.0%" in html
    assert city["ft1"].name not in html
    other = client_for("district2").get(reverse("resumption:dashboard"), {"district": "440305"}).content.decode()
    assert 'data-figure="open">0<' in other, "a district officer's filter on another district is ignored"
    missing = dist.get(reverse("resumption:check_list"), {"day": today.isoformat(), "missing": "1"}).content.decode()
    assert city["ns2"].name in missing and city["ns1"].name not in missing
    follow = dist.get(reverse("resumption:follow_ups")).content.decode()
    assert "缺少芯片" in follow
    xlsx = client_for("bureau").get(reverse("resumption:dashboard_export"), {"day": today.isoformat()})
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"


def test_api_push_is_idempotent(users, city):
    from django.test import Client

    from huiqi.accounts.services import issue_token

    c = Client(HTTP_AUTHORIZATION=f"Token {issue_token(None, users['enterprise'])[1]}")
    body = {"day": timezone.localdate().isoformat(), **check_values(),
            "difficulties": [{"kind": "logistics", "note": "物流不畅", "needs_help": True}]}
    url = reverse("resumption-daily-check-list")
    first = c.post(url, json.dumps(body), content_type="application/json")
    assert first.status_code == 201, first.content
    again = c.post(url, json.dumps(body), content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert DailyCheck.objects.count() == 1 and DailyRollup.objects.get().reports == 1

    bad = c.post(url, json.dumps({**body, "capacity_pct": 120}), content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "capacity_pct"
    foreign = c.post(url, json.dumps({**body, "enterprise": city["ft1"].uscc}), content_type="application/json")
    assert foreign.status_code == 403 and foreign.json()["error"]["field"] == "enterprise"
    assert DailyCheck.objects.count() == 1

    # An aggregator (a department account) pushes for an enterprise of the city.
    agg = issue_token(None, users["department"])[1]
    resp = Client(HTTP_AUTHORIZATION=f"Token {agg}").post(
        url, json.dumps({**body, "enterprise": city["ft1"].uscc}), content_type="application/json")
    assert resp.status_code == 201 and resp.json()["enterprise"] == city["ft1"].uscc
    bank = issue_token(None, users["bank"])[1]
    resp = Client(HTTP_AUTHORIZATION=f"Token {bank}").post(
        url, json.dumps({**body, "enterprise": city["ba1"].uscc}), content_type="application/json")
    assert resp.status_code == 403 and DailyCheck.objects.count() == 2


@pytest.mark.parametrize("role", ["anonymous", "enterprise", "enterprise2", "district", "district2", "department",
                                  "bureau", "bank", "institution", "auditor", "admin"])
def test_api_write_roles(role, users, city, client_for):
    """The write table of the access matrix: who may push a daily check (for ns1, or for their own)."""
    from django.test import Client

    from .access import AGGREGATORS, WRITE_TABLE

    c = Client() if role == "anonymous" else client_for(role)
    own = {"enterprise": city["ns1"], "enterprise2": city["ft1"]}.get(role, city["ns1"])
    body = {"enterprise": own.uscc, "day": timezone.localdate().isoformat(), **check_values()}
    resp = c.post(reverse("resumption-daily-check-list"), json.dumps(body), content_type="application/json")
    allowed = WRITE_TABLE["resumption-daily-check-list"]["post"]
    if role in allowed:
        assert resp.status_code == 201, resp.content
    else:
        assert resp.status_code in (401, 403) and "error" in resp.json()
        assert not DailyCheck.objects.exists()
    assert AGGREGATORS <= allowed


def _cjk_font_missing() -> str:
    """Reading Chinese back out of a PDF needs a CJK font on the machine (README: the PDF report's system
    parts); without one the report is still written, and what is missing is said."""
    from huiqi.core.pdf import missing_system_parts

    return "; ".join(missing_system_parts())


def _needs_cjk_font():
    if missing := _cjk_font_missing():
        pytest.skip(missing)


def _extract(path) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)


def _seed_days(users, city):
    base = timezone.localdate() - dt.timedelta(days=9)
    for i in range(8):
        day = base + dt.timedelta(days=i)
        now = dt.datetime.combine(day, dt.time(9), tzinfo=timezone.get_current_timezone())
        services.submit_daily_check(users["enterprise"], city["ns1"], day,
                                    check_values(staff_returned=40 + 5 * i, staff_on_site=30 + i), now=now,
                                    difficulties=[{"kind": "orders", "note": "订单减少", "needs_help": i == 7}])
        if i % 2:
            services.submit_daily_check(users["department"], city["ft1"], day, check_values(capacity_pct=30), now=now)
    return base + dt.timedelta(days=7)


def test_report_pdf_reads_back_in_chinese(users, city, tmp_path):
    """The PDF embeds a CJK font: the headline's Chinese comes back out of the text layer."""
    from pypdf import PdfReader

    _needs_cjk_font()
    day = _seed_days(users, city)
    out = tmp_path / "report.pdf"
    xlsx = tmp_path / "report.xlsx"
    stdout = io.StringIO()
    call_command("resumption", "report", "--date", day.isoformat(), "--out", str(out), "--xlsx", str(xlsx),
                 stdout=stdout)
    text = _extract(out)
    assert f"深圳市企业复工复产分析研判报告（{day.year}年{day.month}月{day.day}日）" in text.replace("\n", "")
    for phrase in ("总体情况", "复工率", "企业反映的主要困难", "订单", "申请协调解决的企业", "深圳市南山云创电子科技有限公司"):
        assert phrase in text, f"{phrase!r} is not in the PDF's text"
    fonts = {str(f.get_object().get("/BaseFont")) for page in PdfReader(str(out)).pages
             for f in page["/Resources"]["/Font"].values()}
    assert fonts and all("+" in f for f in fonts), f"fonts not embedded as subsets: {fonts}"
    assert xlsx.read_bytes()[:2] == b"PK"


def test_report_page_job_and_download(users, city, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    day = _seed_days(users, city)
    c = client_for("bureau")
    page = c.get(reverse("resumption:report"), {"day": day.isoformat()})
    assert page.status_code == 200 and "分析研判报告" in page.content.decode()
    resp = c.post(reverse("resumption:report"), {"day": day.isoformat()})
    assert resp.status_code == 302
    assert jobs.run_pending() == 1
    from huiqi.core.models import Job

    job = Job.objects.get(kind="resumption.report_pdf")
    assert job.status == "succeeded", job.error
    pdf_resp = c.get(job.result["link"])
    assert pdf_resp.status_code == 200
    path = tmp_path / "downloaded.pdf"
    path.write_bytes(b"".join(pdf_resp.streaming_content))
    assert path.read_bytes()[:5] == b"%PDF-"
    if not _cjk_font_missing():
        assert "复工复产分析研判报告" in _extract(path).replace("\n", "")
    assert client_for("district").get(job.result["link"]).status_code == 404
    xlsx = c.get(reverse("resumption:report_xlsx"), {"day": day.isoformat()})
    assert xlsx.status_code == 200


def test_district_report_is_its_district(users, city, client_for):
    day = _seed_days(users, city)
    html = client_for("district2").get(reverse("resumption:report"), {"day": day.isoformat()}).content.decode()
    assert "福田区企业复工复产分析研判报告" in html and city["ns1"].name not in html


def test_rollup_command(users, city):
    day = _seed_days(users, city)
    before = list(DailyRollup.objects.order_by("day", "district_id").values_list("day", "reports", "staff_returned"))
    DailyRollup.objects.all().delete()
    out = io.StringIO()
    call_command("resumption", "rollup", stdout=out)
    after = list(DailyRollup.objects.order_by("day", "district_id").values_list("day", "reports", "staff_returned"))
    assert after == before and day in {d for d, _, _ in after}


def test_report_command_refuses_bad_arguments(tmp_path):
    from django.core.management.base import CommandError

    out = tmp_path / "r.pdf"
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("resumption", "report", "--date", "2020-13-01", "--out", str(out))
    with pytest.raises(CommandError, match="999"):
        call_command("resumption", "report", "--date", "2020-03-02", "--district", "999", "--out", str(out))
    assert not out.exists()
