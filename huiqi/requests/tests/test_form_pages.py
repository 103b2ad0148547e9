"""Filing a request as pages: the guide before the form (its numbers the parameters' and the categories'),
every mistake at once in the summary linked to its field with nothing saved, the confirmation for the one
who filed it, and a request's page offering each reader only the actions open to them now."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from huiqi.core import params
from huiqi.requests.models import EnterpriseRequest

from .conftest import upload

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _summary(html: str) -> str:
    start = html.index('class="error-summary"')
    return html[start:html.index("</div>", start)]


def test_the_guide_states_the_limits_in_force_before_the_form(users, city):
    params.set_value(None, "requests.params", "requests", {"title_max_chars": 60}, timezone.localdate())
    html = _client(users["enterprise"]).get(reverse("requests:new")).content.decode()
    guide = html[html.index("data-guide"):html.index('data-form="request"')]
    assert "不超过 60 个字" in guide and "工作日" in guide and "开始办理" in guide
    assert re.search(r'<input[^>]*name="title"[^>]*aria-required="true"', html)
    assert re.search(r'<textarea[^>]*name="description"[^>]*aria-required="true"', html)


def test_every_mistake_is_listed_at_once_linked_to_its_field(users, city):
    long_title = "长" * 101  # the parameter allows 100
    resp = _client(users["enterprise"]).post(reverse("requests:new"), {
        "enterprise": city["ns1"].uscc, "category": "financing", "title": long_title, "description": "",
        "contact_email": "不是邮箱", "attachments": [upload("x.exe", b"MZ")]})
    assert resp.status_code == 400
    summary = _summary(resp.content.decode())
    assert "有 4 处需要修改" in summary
    assert re.findall(r'href="(#\w+)"', summary) == ["#id_title", "#id_description", "#id_contact_email",
                                                      "#id_attachments"]
    assert "标题不能超过 100 个字" in summary and "x.exe" in summary
    assert EnterpriseRequest.objects.count() == 0


def test_a_request_filed_leads_to_its_confirmation_for_its_filer_only(users, city, staff):
    c = _client(users["enterprise"])
    resp = c.post(reverse("requests:new"), {"enterprise": city["ns1"].uscc, "category": "financing",
                                            "title": "续贷", "description": "贷款到期，申请续贷。"})
    req = EnterpriseRequest.objects.get()
    url = reverse("requests:submitted", args=[req.number])
    assert resp.status_code == 302 and resp["Location"] == url
    html = c.get(url).content.decode()
    assert "data-confirmation" in html and req.number in html and req.accept_deadline.isoformat() in html
    assert reverse("requests:detail", args=[req.number]) in html
    assert _client(users["enterprise2"]).get(url).status_code == 404
    assert _client(staff["fin"]).get(url).status_code == 403


def _acts(html: str) -> set[str]:
    return set(re.findall(r'<button[^>]*data-action="(\w+)"', html))


def test_a_request_page_offers_each_reader_only_what_they_may_do_now(users, staff, submit):
    req = submit()
    url = reverse("requests:detail", args=[req.number])
    ent, fin, hr = _client(users["enterprise"]), _client(staff["fin"]), _client(staff["hr"])
    assert req.agency == staff["fin"].agency

    # Submitted: its department's handler may accept it (not yet answer); the enterprise and another
    # department have none of the handler's buttons.
    handler = _acts(fin.get(url).content.decode())
    assert "accept" in handler and "answer" not in handler
    assert not _acts(ent.get(url).content.decode()) & {"accept", "answer", "transfer", "note"}
    assert hr.get(url).status_code == 404

    # Accepted: now answering, no longer accepting.
    assert fin.post(reverse("requests:act", args=[req.number, "accept"])).status_code == 302
    handler = _acts(fin.get(url).content.decode())
    assert "answer" in handler and "accept" not in handler

    # Answered: the enterprise may close or reopen it; the handler may no longer answer.
    assert fin.post(reverse("requests:act", args=[req.number, "answer"]), {"note": "已办理"}).status_code == 302
    assert {"close", "reopen"} <= _acts(ent.get(url).content.decode())
    assert "answer" not in _acts(fin.get(url).content.decode())
