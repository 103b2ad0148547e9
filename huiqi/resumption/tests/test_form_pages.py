"""The filing and daily-check forms as pages: the guide before the form (its numbers the parameters'), every
error at once in the summary linked to its field with nothing saved, the confirmation after success (its
owner's only), and a filing's page offering each reader only the actions open to them now."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from huiqi.core import params
from huiqi.resumption import services
from huiqi.resumption.apps import CHECK_DAYS_KEY
from huiqi.resumption.models import DailyCheck, FilingStatus, ReturnToWorkFiling

from .conftest import filing_data, png

pytestmark = pytest.mark.django_db


def _summary(html: str) -> str:
    start = html.index('class="error-summary"')
    return html[start:html.index("</div>", start)]


def _valid_post(city, **kw):
    data = {"enterprise": city["ns1"].uscc, "planned_date": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
            "staff_total": 50, "staff_returning": 30, "staff_from_outside": 3, "staff_in_quarantine": 1, "masks": 500,
            "thermometers": 4, "disinfectant_litres": 20, "contact_name": "陈晓东", "contact_phone": "13800138000",
            "checklist": ["mechanism"]}
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def test_the_guide_comes_before_the_filing_form_with_the_parameters_days(city, client_for, filing_required):
    params.set_value(None, CHECK_DAYS_KEY, "resumption", 7, timezone.localdate())
    html = client_for("enterprise").get(reverse("resumption:filing_new")).content.decode()
    guide = html[html.index("data-guide"):]
    assert html.index("data-guide") < html.index('data-form="filing"')
    assert "7 个工作日" in guide[:guide.index("</section>")] and "开始办理" in guide
    assert 'href="#form"' in guide and 'id="form"' in html
    # Required fields are marked for eyes and for screen readers; optional ones are not.
    assert re.search(r'<input[^>]*name="staff_total"[^>]*aria-required="true"', html)
    assert not re.search(r'<input[^>]*name="contact_name"[^>]*aria-required', html)
    assert html.count('class="req"') >= 8


def test_after_the_switch_the_declaration_has_its_own_guide(city, client_for):
    html = client_for("enterprise").get(reverse("resumption:filing_new")).content.decode()
    assert 'data-filing-required="0"' in html and "办事指南" in html and "提交即完成" in html
    assert html.index("data-guide") < html.index('data-form="filing"')


def test_several_mistakes_are_all_listed_linked_to_their_fields_and_nothing_is_saved(city, client_for,
                                                                                   filing_required):
    resp = client_for("enterprise").post(reverse("resumption:filing_new"), _valid_post(
        city, planned_date="", staff_total="很多", masks="-"))
    assert resp.status_code == 400
    html = resp.content.decode()
    summary = _summary(html)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "有 3 处需要修改" in summary
    assert re.findall(r'href="(#[\w]+)"', summary) == ["#id_planned_date", "#id_staff_total", "#id_masks"]
    for field in ("planned_date", "staff_total", "masks"):  # each error beside its field too
        assert re.search(rf'<input[^>]*name="{field}"[^>]*aria-invalid="true"', html)
        assert f'id="id_{field}_error"' in html
    assert ReturnToWorkFiling.objects.count() == 0
    # Folded away once the person is correcting the form.
    assert "<details" in html[html.index("data-guide") - 40:html.index("data-guide")]


def test_a_service_refusal_joins_the_summary(city, client_for, filing_required):
    # More returning than staff: a rule of the service, named beside its field and in the summary.
    resp = client_for("enterprise").post(reverse("resumption:filing_new"), _valid_post(city, staff_returning=999))
    summary = _summary(resp.content.decode())
    assert resp.status_code == 400 and 'data-field="staff_returning"' in summary and "#id_staff_returning" in summary
    assert ReturnToWorkFiling.objects.count() == 0


def test_a_filing_made_leads_to_its_confirmation_its_owners_only(city, client_for, filing_required, media):
    params.set_value(None, CHECK_DAYS_KEY, "resumption", 5, timezone.localdate())
    resp = client_for("enterprise").post(reverse("resumption:filing_new"), _valid_post(city))
    filing = ReturnToWorkFiling.objects.get()
    url = reverse("resumption:filing_submitted", args=[filing.pk])
    assert resp.status_code == 302 and resp["Location"] == url
    html = client_for("enterprise").get(url).content.decode()
    assert "data-confirmation" in html and f"#{filing.pk}" in html and "5 个工作日" in html
    assert "data-by" in html and reverse("resumption:filing_detail", args=[filing.pk]) in html
    assert 'data-home' in html
    assert client_for("enterprise2").get(url).status_code == 404  # another enterprise
    assert client_for("district").get(url).status_code == 403  # the officer reads the filing, not this


def test_a_daily_check_leads_to_its_confirmation(city, client_for):
    c = client_for("enterprise")
    guide = c.get(reverse("resumption:check_form")).content.decode()
    assert "data-guide" in guide and "10:00" in guide  # the deadline in force (the parameter's default)
    day = timezone.localdate().isoformat()
    resp = c.post(reverse("resumption:check_form"), {
        "enterprise": city["ns1"].uscc, "day": day, "is_open": "1", "staff_total": 10, "staff_returned": 5,
        "staff_on_site": 5, "capacity_pct": 50, "suspected_cases": 0, "confirmed_cases": 0})
    check = DailyCheck.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("resumption:check_submitted", args=[check.pk])
    html = c.get(resp["Location"]).content.decode()
    assert "data-confirmation" in html and day in html and "data-by" in html
    assert client_for("enterprise2").get(resp["Location"]).status_code == 404


def _actions(html: str) -> set[str]:
    found = re.search(r'data-actions="([^"]*)"', html)
    return set(found.group(1).split()) if found else set()


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'data-action="(\w+)"', html)) | set(re.findall(r'name="action" value="(\w+)"', html))


def test_a_filing_page_offers_each_reader_only_what_they_may_do_now(users, city, client_for, filing_required, media):
    filing = services.submit_filing(users["enterprise"], city["ns1"].uscc, filing_data())
    url = reverse("resumption:filing_detail", args=[filing.pk])
    ent, dist, bureau = client_for("enterprise"), client_for("district"), client_for("bureau")

    # Pending: the district officer may assign an inspector or return it, not yet approve; the enterprise
    # and the bureau (who reads but does not handle) see no officer's button.
    officer = dist.get(url).content.decode()
    assert _actions(officer) == {"assign", "return"} and "approve" not in _buttons(officer)
    for reader in (ent, bureau):
        html = reader.get(url).content.decode()
        assert _actions(html) == set() and not _buttons(html) & {"assign", "check", "decide", "approve", "return"}

    # Inspected and passed: now approval is open, assigning is not.
    services.assign_inspector(users["district"], filing, users["district"])
    assert _actions(dist.get(url).content.decode()) == {"assign", "check", "return"}
    services.record_check(users["district"], filing, "passed", "符合", [png()])
    assert _actions(dist.get(url).content.decode()) == {"approve", "return"}

    # Returned: only its enterprise may correct and resubmit it.
    services.return_filing(users["district"], filing, "请补充消毒记录")
    filing.refresh_from_db()
    assert filing.status == FilingStatus.RETURNED
    assert _actions(ent.get(url).content.decode()) == {"resubmit"}
    assert _actions(dist.get(url).content.decode()) == set()
