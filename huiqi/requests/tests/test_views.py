"""The request pages: filing, the journey through the forms, what each reader sees, the bad input."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from huiqi.requests.models import EnterpriseRequest, Status

from .conftest import PDF, at, upload

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _file(c, **data):
    body = {"enterprise": "", "category": "financing", "title": "续贷", "description": "贷款到期，申请续贷。",
            "contact_name": "陈", "contact_phone": "13800000000", "contact_email": ""}
    body.update(data)
    return c.post(reverse("requests:new"), body)


def test_enterprise_files_and_follows_its_request(users, city, staff):
    c = _client(users["enterprise"])
    page = c.get(reverse("requests:new"))
    assert page.status_code == 200
    html = page.content.decode()
    assert city["ns1"].name in html and city["ns1"].uscc in html  # pre-filled from the registry
    resp = _file(c, enterprise=city["ns1"].uscc, attachments=[upload("证明.pdf", PDF)])
    assert resp.status_code == 302
    req = EnterpriseRequest.objects.get()
    assert resp["Location"] == reverse("requests:submitted", args=[req.number])
    assert req.channel == "web" and req.attachments.count() == 1
    mine = c.get(reverse("requests:index")).content.decode()
    assert req.number in mine and "签收期限" in mine

    h = _client(staff["fin"])
    assert h.post(reverse("requests:act", args=[req.number, "accept"])).status_code == 302
    h.post(reverse("requests:act", args=[req.number, "ask_enterprise"]), {"note": "请补充合同"})
    assert EnterpriseRequest.objects.get().status == Status.WAITING
    page = c.get(reverse("requests:detail", args=[req.number])).content.decode()
    assert "请补充合同" in page and 'data-clock="paused"' in page
    c.post(reverse("requests:act", args=[req.number, "reply"]), {"note": "已补充"})
    h.post(reverse("requests:act", args=[req.number, "answer"]), {"note": "已办理"})
    assert c.post(reverse("requests:act", args=[req.number, "close"]), {"rating": "5"}).status_code == 302
    assert EnterpriseRequest.objects.get().status == Status.CLOSED
    again = c.post(reverse("requests:act", args=[req.number, "close"]), {"rating": "5"})
    assert again.status_code == 409 and "已办结" in again.content.decode()


def test_hotline_operator_files_a_call_on_the_page(staff, city):
    c = _client(staff["hotline"])
    page = c.get(reverse("requests:new")).content.decode()
    assert "统一社会信用代码" in page
    resp = _file(c, enterprise=city["ft1"].uscc, contact_name="来电人 王女士")
    assert resp.status_code == 302
    req = EnterpriseRequest.objects.get()
    assert req.channel == "hotline" and req.enterprise == city["ft1"]
    assert _file(c, enterprise="91440300XXXXXXXXXX").status_code == 404


@pytest.mark.parametrize("description, status", [("", 400), ("长" * 50_000, 400)])
def test_bad_descriptions_on_the_page(users, city, description, status):
    resp = _file(_client(users["enterprise"]), enterprise=city["ns1"].uscc, description=description)
    assert resp.status_code == status
    assert "诉求内容" in resp.content.decode()
    assert EnterpriseRequest.objects.count() == 0


def test_wrong_attachment_on_the_page(users, city):
    resp = _file(_client(users["enterprise"]), enterprise=city["ns1"].uscc,
                 attachments=[upload("x.exe", b"MZ")])
    assert resp.status_code == 400 and "附件" in resp.content.decode()
    assert EnterpriseRequest.objects.count() == 0


def test_html_and_script_are_shown_as_text(submit, users, staff):
    req = submit(title="<b>粗体</b>", description="<script>alert('x')</script><img src=x onerror=alert(1)>")
    for who in (users["enterprise"], staff["fin"], users["bureau"]):
        html = _client(who).get(reverse("requests:detail", args=[req.number])).content.decode()
        assert "<script>alert('x')</script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html


def test_guessing_another_enterprises_number_is_404(submit, users):
    req = submit()
    c = _client(users["enterprise2"])
    assert c.get(reverse("requests:detail", args=[req.number])).status_code == 404
    assert c.post(reverse("requests:act", args=[req.number, "close"]), {"rating": "1"}).status_code == 404
    assert c.get(reverse("requests:detail", args=["SZQ-20200210-999999"])).status_code == 404


def test_department_a_cannot_act_on_b(submit, staff):
    req = submit()
    resp = _client(staff["hr"]).post(reverse("requests:act", args=[req.number, "accept"]))
    assert resp.status_code == 404
    assert EnterpriseRequest.objects.get().status == Status.SUBMITTED


def test_internal_notes_are_not_shown_to_the_enterprise(submit, users, staff):
    req = submit()
    _client(staff["fin"]).post(reverse("requests:act", args=[req.number, "note"]), {"note": "内部意见：核查征信"})
    assert "核查征信" not in _client(users["enterprise"]).get(reverse("requests:detail", args=[req.number])).content.decode()
    assert "核查征信" in _client(staff["fin"]).get(reverse("requests:detail", args=[req.number])).content.decode()


def test_list_filters_and_flags(submit, staff):
    submit()
    c = _client(staff["fin"])
    assert "SZQ-" in c.get(reverse("requests:index"), {"flag": "overdue"}).content.decode()
    assert "SZQ-" not in c.get(reverse("requests:index"), {"category": "rent"}).content.decode()


def test_figures_count_and_export(submit, staff, users):
    from python_calamine import CalamineWorkbook

    req = submit()
    h = _client(staff["fin"])
    h.post(reverse("requests:act", args=[req.number, "accept"]))
    h.post(reverse("requests:act", args=[req.number, "answer"]), {"note": "答复"})
    _client(users["enterprise"]).post(reverse("requests:act", args=[req.number, "close"]), {"rating": "4"})
    page = _client(users["bureau"]).get(reverse("requests:figures"))
    html = page.content.decode()
    assert "1 家企业，1 件诉求，办结 1 件" in html
    assert 'data-figure="rating">4.0' in html or 'data-figure="rating">4' in html
    assert "chart-category" in html
    assert "0 件诉求" in _client(users["district2"]).get(reverse("requests:figures")).content.decode()
    resp = _client(users["bureau"]).get(reverse("requests:figures_export", args=["xlsx"]), {"category": "financing"})
    data = b"".join(resp.streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert rows[1][:4] == ["合计", "全部", 1, 1]


def test_common_problem_page_answers_together(submit, staff, users, city, category):
    from huiqi.requests import services

    a = submit()
    b = submit(actor=staff["hotline"], enterprise=city["ft1"])
    problem = services.create_common_problem(staff["fin"], "续贷难", category["financing"], [a, b])
    resp = _client(staff["fin"]).post(reverse("requests:problem", args=[problem.pk]), {"note": "统一答复内容"})
    assert resp.status_code == 302
    assert set(EnterpriseRequest.objects.values_list("status", flat=True)) == {Status.ANSWERED}
    inbox = _client(users["enterprise2"]).get(reverse("requests:inbox")).content.decode()
    assert "统一答复内容" in inbox


def test_attachment_download_is_a_download(submit, users):
    req = submit(attachments=[upload("a.pdf", PDF)])
    a = req.attachments.get()
    resp = _client(users["enterprise"]).get(reverse("requests:attachment", args=[req.number, a.pk]))
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert "attachment" in resp["Content-Disposition"]
    assert _client(users["enterprise2"]).get(reverse("requests:attachment", args=[req.number, a.pk])).status_code == 404


def test_handler_sees_templates_flags_and_similar_requests(submit, staff, users, city):
    from huiqi.requests import services

    req = submit()
    other = submit(actor=staff["hotline"], enterprise=city["ft1"])
    services.accept(staff["fin"], req, at=at(2020, 2, 10, 11))
    html = _client(staff["fin"]).get(reverse("requests:detail", args=[req.number])).content.decode()
    assert "融资贷款 通用答复" in html and "已协调贵司开户银行" in html
    assert 'data-flag="overdue"' in html  # answer deadline in 2020
    assert other.number in html  # a similar open request of the same category
    mine = _client(users["enterprise"]).get(reverse("requests:detail", args=[req.number])).content.decode()
    assert "通用答复" not in mine and other.number not in mine


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_figures_export_leaves_no_temporary_files(users, submit, tmp_path, monkeypatch, fmt):
    import tempfile

    submit()
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    for _ in range(3):
        resp = _client(users["bureau"]).get(reverse("requests:figures_export", args=[fmt]))
        assert resp.status_code == 200 and b"".join(resp.streaming_content)
    assert list(folder.iterdir()) == []


def test_irreversible_steps_ask_first(submit, staff, users):
    """Answering, closing, transferring, sending back, supervising and deciding an extension ask for
    confirmation (data-ask, asked by site.js with window.confirm); accepting does not."""
    from huiqi.requests import services

    req = submit()
    h = _client(staff["fin"])
    html = h.get(reverse("requests:detail", args=[req.number])).content.decode()
    assert 'data-action="accept">' in html
    for action in ("transfer", "send_back"):
        assert f'data-action="{action}" data-ask="' in html
    services.accept(staff["fin"], req)
    services.request_extension(staff["fin"], req, 2, "需银行总行审批")
    html = h.get(reverse("requests:detail", args=[req.number])).content.decode()
    assert 'data-action="answer" data-ask="答复后将通知企业' in html
    head = _client(staff["fin_head"]).get(reverse("requests:detail", args=[req.number])).content.decode()
    assert 'data-action="approve-extension" data-ask="' in head
    assert 'data-action="refuse-extension" data-ask="' in head
    bureau = _client(users["bureau"]).get(reverse("requests:detail", args=[req.number])).content.decode()
    assert 'data-action="supervise" data-ask="' in bureau
    services.answer(staff["fin"], req, "已办理")
    ent = _client(users["enterprise"]).get(reverse("requests:detail", args=[req.number])).content.decode()
    assert 'data-action="close" data-ask="' in ent
    assert "data-ask" not in ent.split('data-action="reopen"')[1].split("</form>")[0]


def test_a_district_officer_cannot_answer_a_common_problem(submit, staff, users, category):
    from huiqi.requests import services
    from huiqi.requests.models import CommonProblem, Notification

    a = submit()
    problem = services.create_common_problem(staff["fin"], "续贷难", category["financing"], [a])
    page = _client(users["district"]).get(reverse("requests:problem", args=[problem.pk]))
    assert page.status_code == 200 and 'data-action="answer-problem"' not in page.content.decode()
    sent = Notification.objects.count()
    resp = _client(users["district"]).post(reverse("requests:problem", args=[problem.pk]), {"note": "已答复"})
    assert resp.status_code == 403
    assert CommonProblem.objects.get().answered_at is None and Notification.objects.count() == sent
    assert EnterpriseRequest.objects.get(pk=a.pk).status == Status.SUBMITTED


def test_the_bureau_filters_the_list_by_department(submit, staff, users, city):
    a = submit()
    b = submit(enterprise=city["ft1"], actor=staff["hotline"])
    from huiqi.registry.models import Agency
    from huiqi.requests import services

    services.transfer(staff["fin"], b, Agency.objects.get(code="HRSS-SZ"), "社保事项")
    page = _client(users["bureau"]).get(reverse("requests:index"), {"agency": "HRSS-SZ"}).content.decode()
    assert '<select name="agency">' in page and '<option value="HRSS-SZ" selected>' in page
    assert b.number in page and a.number not in page
    own = _client(staff["fin"]).get(reverse("requests:index")).content.decode()
    assert '<select name="agency">' not in own  # a department sees its own requests only
