"""Return to work in a browser: an enterprise files; the district officer assigns an inspector, records
the on-site check and approves; the enterprise reports its daily check; the dashboard shows it; the
analysis report's PDF downloads and reads back in Chinese."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from conftest import PASSWORD

from .conftest import login

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def submit(page, form_selector, button=None):
    with page.expect_navigation():
        (page.locator(button) if button else page.locator(f"{form_selector} button[type=submit]")).click()


def test_return_to_work_journey(new_page, server, accounts, city, tmp_path, settings):
    from django.utils import timezone

    from huiqi.core import jobs, params
    from huiqi.resumption.apps import FILING_REQUIRED_KEY

    settings.MEDIA_ROOT = tmp_path / "media"
    # The bureau switches filing on from today (by default it ended on 2020-02-20).
    params.set_value(accounts["bureau"], FILING_REQUIRED_KEY, "resumption", True, timezone.localdate())
    today = timezone.localdate()

    # 1. The enterprise files, on a phone.
    ent = new_page(viewport={"width": 390, "height": 844})
    login(ent, server, accounts["enterprise"].username, PASSWORD)
    ent.goto(server.url + "/resumption/")
    assert ent.locator("[data-filing-required='1']").count() == 1
    ent.goto(server.url + "/resumption/filings/new/")
    assert ent.locator("[data-guide]").count() == 1  # 办事指南 before the form
    assert ent.evaluate("document.documentElement.scrollWidth") <= 391  # nothing wider than the phone
    ent.fill("input[name=planned_date]", (today + dt.timedelta(days=1)).isoformat())
    for name, value in (("staff_total", "120"), ("staff_returning", "80"), ("staff_from_outside", "10"),
                        ("staff_in_quarantine", "2"), ("masks", "3000"), ("thermometers", "12"),
                        ("disinfectant_litres", "40"), ("contact_name", "陈晓东"), ("contact_phone", "13800138000")):
        ent.fill(f"input[name={name}]", value)
    ent.set_input_files("input[name=attachments]", files=[{"name": "plan.png", "mimeType": "image/png",
                                                           "buffer": PNG}])
    submit(ent, "form[data-form=filing]")
    # The confirmation (the filing's number, what the district does next and by when), then the filing.
    assert ent.locator("[data-confirmation] [data-reference]").count() == 1, ent.content()[:3000]
    assert ent.locator("[data-by]").count() == 1
    submit(ent, None, "a[data-view]")
    assert ent.locator("[data-status=submitted]").count() == 1, ent.content()[:3000]
    filing_url = ent.url

    # 2. The district officer assigns, checks on site, approves.
    off = new_page()
    login(off, server, accounts["district"].username, PASSWORD)
    off.goto(server.url + "/resumption/filings/?status=pending")
    assert "深圳市南山云创电子科技有限公司" in off.locator("table.filings").inner_text()
    off.goto(filing_url)
    off.select_option("form[data-action=assign] select[name=inspector]", str(accounts["district"].pk))
    submit(off, None, "form[data-action=assign] button")
    assert off.locator("[data-status=assigned]").count() == 1
    off.select_option("form[data-action=check] select[name=check_result]", "passed")
    off.fill("form[data-action=check] textarea[name=check_findings]", "测温、消毒、隔离区均已落实")
    off.set_input_files("form[data-action=check] input[name=photos]",
                        files=[{"name": "site.png", "mimeType": "image/png", "buffer": PNG}])
    submit(off, None, "form[data-action=check] button")
    assert off.locator("[data-status=inspected]").count() == 1
    off.fill("form[data-action=decide] textarea[name=note]", "同意复工")
    # Approval cannot be undone: the page asks first; a "no" leaves the filing as it was.
    asked = []
    off.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    off.locator("form[data-action=decide] button[value=approve]").click()
    off.wait_for_timeout(300)
    assert asked and "同意" in asked[0] and off.locator("[data-status=inspected]").count() == 1
    off.once("dialog", lambda d: d.accept())
    submit(off, None, "form[data-action=decide] button[value=approve]")
    assert off.locator("[data-status=approved]").count() == 1

    # The enterprise sees every step.
    ent.goto(filing_url)
    history = ent.locator("table.history").inner_text()
    assert "同意复工" in history and ent.locator("tr[data-event]").count() == 4

    # 3. The enterprise reports today's daily check.
    ent.goto(server.url + "/resumption/checks/new/")
    ent.check("input[name=is_open][value='1']")
    for name, value in (("staff_total", "120"), ("staff_returned", "90"), ("staff_on_site", "85"),
                        ("capacity_pct", "70")):
        ent.fill(f"input[name={name}]", value)
    ent.check("input[name=difficulty_materials]")
    ent.fill("input[name=note_materials]", "芯片缺货")
    ent.check("input[name=help_materials]")
    submit(ent, "form[data-form=daily-check]")
    assert ent.locator("[data-confirmation]").count() == 1
    submit(ent, None, "a[data-view]")
    assert ent.locator("[data-reported='1']").count() == 1

    # 4. The dashboard shows it (the officer's district).
    off.goto(server.url + f"/resumption/dashboard/?end={today.isoformat()}")
    assert off.locator("[data-figure=open]").inner_text() == "1"
    assert off.locator("[data-figure=staff_returned]").inner_text() == "90"
    off.wait_for_selector("[data-chart=trend-chart] svg")
    off.goto(server.url + "/resumption/follow-ups/")
    assert "芯片缺货" in off.locator("table").inner_text()

    # 5. The report: the PDF is made in the background, then downloads and reads in Chinese.
    off.goto(server.url + f"/resumption/report/?day={today.isoformat()}")
    assert "南山区企业复工复产分析研判报告" in off.locator("h1.report-title").inner_text()
    submit(off, None, "form[data-form=report-pdf] button")
    assert "/core/jobs/" in off.url
    assert jobs.run_pending() == 1
    off.reload()
    with off.expect_download() as info:
        off.locator("a.button", has_text="查看结果").click()
    pdf = tmp_path / "report.pdf"
    info.value.save_as(pdf)
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages).replace("\n", "")
    assert f"南山区企业复工复产分析研判报告（{today.year}年{today.month}月{today.day}日）" in text
    assert "深圳市南山云创电子科技有限公司" in text
