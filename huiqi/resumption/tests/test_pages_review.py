"""The pages as their users meet them: each role sees its own rows only, lists filter by URL, a follow-up
is recorded once, irreversible decisions ask first, and the enterprise sees what became of its requests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huiqi.core.errors import Conflict
from huiqi.resumption import services
from huiqi.resumption.models import Difficulty

from .conftest import check_values, filing_data

pytestmark = pytest.mark.django_db


def _report(users, city, day=None):
    """Today's reports: ns1 (南山) asks help with funds, ft1 (福田) with logistics."""
    day = day or timezone.localdate()
    services.submit_daily_check(users["enterprise"], city["ns1"], day, check_values(),
                                [{"kind": "funds", "note": "南山工资发放困难", "needs_help": True}])
    services.submit_daily_check(users["enterprise2"], city["ft1"], day, check_values(),
                                [{"kind": "logistics", "note": "福田物流不畅", "needs_help": True}])
    return day


def test_a_follow_up_is_recorded_once(users, city, client_for):
    _report(users, city)
    difficulty = Difficulty.objects.get(kind="funds")
    page = client_for("district").get(reverse("resumption:follow_ups")).content.decode()
    assert 'data-action="follow-up"' in page and "data-ask=" in page, "recording asks first"
    services.follow_up(users["district"], difficulty, "已对接贴息政策")
    with pytest.raises(Conflict):
        services.follow_up(users["admin"], difficulty, "另一条说明")
    resp = client_for("district").post(reverse("resumption:follow_ups"),
                                       {"difficulty": difficulty.pk, "note": "覆盖前一条"})
    assert resp.status_code == 409 and b"difficulty.already_followed_up" in resp.content
    difficulty.refresh_from_db()
    assert difficulty.follow_up_note == "已对接贴息政策" and difficulty.followed_up_by == users["district"]


def test_a_follow_up_of_another_district_is_not_found(users, city, client_for):
    _report(users, city)
    foreign = Difficulty.objects.get(kind="logistics")
    resp = client_for("district").post(reverse("resumption:follow_ups"), {"difficulty": foreign.pk, "note": "x"})
    assert resp.status_code == 404
    assert client_for("bureau").post(reverse("resumption:follow_ups"),
                                     {"difficulty": foreign.pk, "note": "x"}).status_code == 403
    foreign.refresh_from_db()
    assert foreign.followed_up_at is None


def test_the_enterprise_sees_its_help_requests_and_their_follow_up(users, city, client_for):
    _report(users, city)
    services.follow_up(users["district"], Difficulty.objects.get(kind="funds"), "已对接贴息政策")
    html = client_for("enterprise").get(reverse("resumption:index")).content.decode()
    assert "南山工资发放困难" in html and "已对接贴息政策" in html
    assert "福田物流不畅" not in html
    other = client_for("enterprise2").get(reverse("resumption:index")).content.decode()
    assert "福田物流不畅" in other and "南山工资发放困难" not in other and "已对接贴息政策" not in other


def test_follow_up_list_filters(users, city, client_for):
    _report(users, city)
    bureau = client_for("bureau")
    html = bureau.get(reverse("resumption:follow_ups"), {"kind": "funds"}).content.decode()
    assert "南山工资发放困难" in html and "福田物流不畅" not in html
    html = bureau.get(reverse("resumption:follow_ups"), {"q": "福田"}).content.decode()
    assert "福田物流不畅" in html and "南山工资发放困难" not in html
    html = bureau.get(reverse("resumption:follow_ups"), {"q": "没有这家"}).content.decode()
    assert "没有符合条件的困难" in html
    assert bureau.get(reverse("resumption:follow_ups"), {"kind": "<script>"}).status_code == 200


def test_daily_check_list_filters_and_scope(users, city, client_for):
    day = _report(users, city)
    bureau = client_for("bureau")
    html = bureau.get(reverse("resumption:check_list"), {"day": day.isoformat(), "district": "440304"}).content.decode()
    assert city["ft1"].name in html and city["ns1"].name not in html
    html = bureau.get(reverse("resumption:check_list"), {"day": day.isoformat(), "q": "南山"}).content.decode()
    assert city["ns1"].name in html and city["ft1"].name not in html
    missing = bureau.get(reverse("resumption:check_list"),
                         {"day": day.isoformat(), "missing": "1", "q": city["ns2"].uscc}).content.decode()
    assert f'data-missing="{city["ns2"].uscc}"' in missing and city["ba1"].name not in missing
    # A district officer's district filter cannot reach another district.
    html = client_for("district").get(reverse("resumption:check_list"),
                                      {"day": day.isoformat(), "district": "440304"}).content.decode()
    assert city["ns1"].name in html and city["ft1"].name not in html


def test_approve_and_return_ask_first(users, city, client_for, filing_required, media):
    officer = users["district"]
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    services.assign_inspector(officer, filing, officer)
    services.record_check(officer, filing, "passed", "符合")
    html = client_for("district").get(reverse("resumption:filing_detail", args=[filing.pk])).content.decode()
    for value in ("approve", "return"):
        button = html.split(f'value="{value}"', 1)[1].split(">", 1)[0]
        assert "data-ask=" in button, f"the {value} button does not ask first: {button}"
    assert "onclick=\"return confirm(" not in html


def test_report_for_a_district_of_the_bureaus_choice(users, city, client_for):
    day = _report(users, city)
    bureau = client_for("bureau")
    html = bureau.get(reverse("resumption:report"), {"day": day.isoformat(), "district": "440304"}).content.decode()
    assert "福田区企业复工复产分析研判报告" in html and 'name="district"' in html
    assert "district=440304" in html.split("report/export.xlsx", 1)[1].split('"', 1)[0]
    dist = client_for("district").get(reverse("resumption:report"),
                                      {"day": day.isoformat(), "district": "440304"}).content.decode()
    assert "南山区企业复工复产分析研判报告" in dist and 'name="district"' not in dist
    assert "福田物流不畅" not in dist


def test_pages_are_empty_not_broken_before_any_report(users, city, client_for):
    for role in ("district", "bureau"):
        c = client_for(role)
        for name in ("resumption:index", "resumption:check_list", "resumption:follow_ups", "resumption:dashboard",
                     "resumption:report", "resumption:filing_list"):
            assert c.get(reverse(name)).status_code == 200, (role, name)
    assert client_for("enterprise").get(reverse("resumption:index")).status_code == 200
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert client_for("district").get(reverse("resumption:check_list"), {"day": yesterday}).status_code == 200


def test_report_counts_every_help_request_beyond_the_listed_ones(users, city, tmp_path, monkeypatch):
    """The report lists the first requests for help (200); its count and its XLSX are of all of them."""
    from python_calamine import CalamineWorkbook

    from huiqi.resumption import report, selectors

    day = _report(users, city)
    monkeypatch.setattr(selectors.help_requests, "__defaults__", (1,))
    data = report.build(selectors.Scope(), day)
    assert len(data["help_requests"]) == 1 and data["help_total"] == 2
    assert any("申请协调解决的 2 项" in p for p in data["summary"]), data["summary"]
    html = report.render_html(data, for_pdf=False)
    assert 'data-help-total="2"' in html
    path = report.write_xlsx(data, tmp_path / "r.xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("申请协调企业").to_python()
    assert sorted(r[1] for r in rows[1:]) == sorted(
        [city["ns1"].name, city["ft1"].name])


def test_follow_ups_filter_by_day(users, city, client_for):
    day = _report(users, city)
    bureau = client_for("bureau")
    assert "南山工资发放困难" in bureau.get(reverse("resumption:follow_ups"), {"day": day.isoformat()}).content.decode()
    other = bureau.get(reverse("resumption:follow_ups"), {"day": (day - dt.timedelta(days=1)).isoformat()})
    assert "南山工资发放困难" not in other.content.decode() and "没有符合条件的困难" in other.content.decode()


def test_the_officers_queue_is_what_waits_for_the_district(users, city, client_for, filing_required, media):
    officer = users["district"]
    waiting = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    from conftest import PASSWORD
    from huiqi.accounts.services import create_user

    ent3 = create_user(None, username="ent3", password=PASSWORD, role="enterprise", enterprises=[city["ns2"]],
                       check_password=False)
    returned = services.submit_filing(ent3, city["ns2"], filing_data())
    services.return_filing(officer, returned, "缺少物资清单")
    html = client_for("district").get(reverse("resumption:filing_list"), {"status": "pending"}).content.decode()
    assert f'data-filing="{waiting.pk}"' in html and f'data-filing="{returned.pk}"' not in html
    index = client_for("district").get(reverse("resumption:index")).content.decode()
    assert 'data-figure="queue">1<' in index
    # The enterprise's "pending" still shows its returned filing (it waits for the enterprise).
    from django.test import Client

    c = Client()
    c.force_login(ent3)
    assert f'data-filing="{returned.pk}"' in c.get(reverse("resumption:filing_list"), {"status": "pending"}).content.decode()


def test_filing_list_by_district_for_the_bureau(users, city, client_for, filing_required, media):
    ns = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    ft = services.submit_filing(users["enterprise2"], city["ft1"], filing_data())
    html = client_for("bureau").get(reverse("resumption:filing_list"), {"district": "440304"}).content.decode()
    assert f'data-filing="{ft.pk}"' in html and f'data-filing="{ns.pk}"' not in html
    html = client_for("district").get(reverse("resumption:filing_list"), {"district": "440304"}).content.decode()
    assert f'data-filing="{ns.pk}"' in html and f'data-filing="{ft.pk}"' not in html


def test_approval_reads_the_check_under_the_lock(users, city, filing_required, media):
    """A page shown before the check was recorded (a stale object) cannot approve a failed check."""
    officer = users["district"]
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    services.assign_inspector(officer, filing, officer)
    stale = services.get_filing(officer, filing.pk)
    services.record_check(officer, filing, "failed", "未设隔离区")
    stale.check_result, stale.status = "passed", "inspected"
    with pytest.raises(Conflict) as info:
        services.approve_filing(officer, stale)
    assert info.value.field == "check_result"
    filing.refresh_from_db()
    assert filing.status == "inspected"


def _sheet(resp):
    import io

    from python_calamine import CalamineWorkbook

    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    return CalamineWorkbook.from_filelike(io.BytesIO(b"".join(resp.streaming_content))).get_sheet_by_index(0).to_python()


def test_daily_check_lists_export_to_xlsx_within_scope(users, city, client_for):
    day = services.submit_daily_check(users["enterprise"], city["ns1"], timezone.localdate(), check_values())[0].day
    dist = client_for("district")
    page = dist.get(reverse("resumption:check_list"), {"day": day.isoformat(), "missing": "1"}).content.decode()
    assert 'data-export="xlsx"' in page
    rows = _sheet(dist.get(reverse("resumption:check_list"), {"day": day.isoformat(), "missing": "1",
                                                              "format": "xlsx", "district": "440304"}))
    assert [r[1] for r in rows[1:]] == [city["ns2"].uscc], "the district's own who have not reported, only"
    rows = _sheet(client_for("bureau").get(reverse("resumption:check_list"),
                                           {"day": day.isoformat(), "format": "xlsx"}))
    assert [r[1] for r in rows[1:]] == [city["ns1"].uscc] and rows[1][5] == 70


def test_a_request_for_help_is_kept_without_its_box_ticked(users, city, client_for):
    """Ticking "needs help" (or writing a note) reports the difficulty even if its own box was left empty."""
    resp = client_for("enterprise").post(reverse("resumption:check_form"), {
        "enterprise": city["ns1"].uscc, "day": timezone.localdate().isoformat(), "is_open": "1", "staff_total": 10,
        "staff_returned": 5, "staff_on_site": 5, "capacity_pct": 50, "suspected_cases": 0, "confirmed_cases": 0,
        "note_funds": "工资发放困难", "help_funds": "on", "note_orders": "订单减少"})
    assert resp.status_code == 302
    got = {d.kind: d.needs_help for d in Difficulty.objects.all()}
    assert got == {"funds": True, "orders": False}


def test_a_filing_that_is_not_returned_offers_no_edit_form(users, city, client_for, filing_required, media):
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    html = client_for("enterprise").get(reverse("resumption:filing_edit", args=[filing.pk])).content.decode()
    assert 'data-form="filing"' not in html and "只有被退回的报备才能修改后重新提交" in html


def test_the_lists_filters_the_pages_and_the_api_share(users, city, client_for, filing_required, media):
    """One FilterSet per list: the API finds what the page shows for the same query; a value the filter
    cannot take is left out on the page and named in a 400 by the API."""
    day = _report(users, city)
    waiting = services.submit_filing(users["enterprise"], city["ns1"], filing_data())
    bureau = client_for("bureau")
    checks = reverse("resumption-daily-check-list")
    for query, found in (({"day": day.isoformat(), "district": "440304"}, [city["ft1"]]),
                         ({"day": day.isoformat(), "q": "南山"}, [city["ns1"]]),
                         ({"enterprise": city["ft1"].uscc}, [city["ft1"]])):
        assert [c["enterprise"] for c in bureau.get(checks, query).json()["results"]] == [e.uscc for e in found]
    resp = bureau.get(checks, {"day": "02/03/2020"})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "day"
    assert bureau.get(checks, {"day": "0001-01-01"}).status_code == 400

    filings = reverse("resumption-filing-list")
    for who in ("district", "bureau"):
        found = [f["id"] for f in client_for(who).get(filings, {"status": "pending"}).json()["results"]]
        html = client_for(who).get(reverse("resumption:filing_list"), {"status": "pending"}).content.decode()
        assert found == [waiting.pk] and f'data-filing="{waiting.pk}"' in html
    assert [f["id"] for f in bureau.get(filings, {"q": city["ns1"].uscc.lower()}).json()["results"]] == [waiting.pk]
    assert bureau.get(filings, {"q": "福田"}).json()["results"] == []
    resp = bureau.get(filings, {"status": "lost"})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "status"
    html = bureau.get(reverse("resumption:filing_list"), {"status": "lost"}).content.decode()
    assert f'data-filing="{waiting.pk}"' in html
