"""The fund's pages from the outside: the funnel with the seed's line from data, the ageing list with the
overdue highlighted, a detail page offering only the reader's actions, registering through the form."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import PASSWORD
from huiqi.core import clock
from huiqi.fund.models import Application

from .conftest import D, apply


def _client(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_funnel_page_prints_the_line_from_data(example):
    c = _client(example.world.bureau)
    page = c.get(reverse("fund:index") + "?on=2020-05-15")
    text = page.content.decode()
    assert page.status_code == 200
    assert "截至5月15日，累计收到6家企业的资金申请；累计决策为3家中小企业提供资金支持0.37亿元；已向2家中小企业发放支持资金0.24亿元。" in text
    export = c.get(reverse("fund:funnel_export") + "?on=2020-05-15")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_channel_list_is_scoped_and_highlights_overdue(fund_world):
    a = apply(fund_world, "E6", "hti", D(2020, 3, 2), 300)
    b = apply(fund_world, "E5", "sgg", D(2020, 3, 2), 300)
    hti = _client(fund_world.staff["hti"][1])
    with clock.fixed(D(2020, 3, 10)):
        text = hti.get(reverse("fund:list")).content.decode()
        assert a.number in text and b.number not in text
        assert "data-overdue" in text  # the pre-check was due 03-04
        overdue = hti.get(reverse("fund:list") + "?overdue=1&state=live").content.decode()
        assert a.number in overdue
    assert hti.get(reverse("fund:detail", args=[b.pk])).status_code == 404


def test_ageing_list_reads_the_same_queries_for_one_row_or_many(fund_world):
    """The list reads only the columns it shows: no row reads another column, enterprise or clock on its own."""
    hti = _client(fund_world.staff["hti"][1])
    url = reverse("fund:list") + "?overdue=1&state=live"
    first = apply(fund_world, "E6", "hti", D(2020, 3, 2), 300)
    with clock.fixed(D(2020, 3, 10)):
        assert hti.get(url).status_code == 200  # what a first request reads once (calendar, parameters)
        with CaptureQueriesContext(connection) as one:
            assert hti.get(url).status_code == 200
    more = [apply(fund_world, key, "hti", D(2020, 3, 2), 200) for key in ("E5", "E2", "E4")]
    with clock.fixed(D(2020, 3, 10)), CaptureQueriesContext(connection) as many:
        text = hti.get(url).content.decode()
    assert len(many) == len(one)
    live = [a for a in [first, *more] if a.state != "precheck_failed"]
    assert len(live) >= 3
    for a in live:
        assert a.number in text and a.enterprise.name in text
    assert "3,000,000.00" in text and "2,000,000.00" in text


def test_detail_offers_only_allowed_actions_and_acts(fund_world):
    a = apply(fund_world, "E6", "hti", D(2020, 3, 2), 300)
    maker = _client(fund_world.staff["hti"][0])
    url = reverse("fund:detail", args=[a.pk])
    text = maker.get(url).content.decode()
    assert 'data-action-form="due_diligence"' in text and 'data-action-form="confirm"' not in text
    assert 'data-action-form="contract"' not in text
    refused = maker.post(url, {"action": "contract", "day": "2020-03-03"})
    assert refused.status_code == 403
    moved = maker.post(url, {"action": "due_diligence", "day": "2020-03-03"})
    assert moved.status_code == 302
    assert Application.objects.get(pk=a.pk).state == "due_diligence"
    bureau_text = _client(fund_world.bureau).get(url).content.decode()
    assert 'data-action-form="priority"' in bureau_text and 'data-action-form="decision"' not in bureau_text


def test_register_through_the_form_names_every_bad_field(fund_world):
    c = _client(fund_world.staff["hti"][0])
    page = c.get(reverse("fund:new"))
    assert page.status_code == 200 and "办事指南" in page.content.decode()
    bad = c.post(reverse("fund:new"), {"uscc": "123", "channel": "hti", "amount": "0", "term_months": "13",
                                       "received_date": "2020-03-02", "impact": "x"})
    text = bad.content.decode()
    assert bad.status_code == 400 and Application.objects.count() == 0
    for field in ("id_uscc", "id_amount", "id_term_months"):
        assert f"#{field}" in text
    ok = c.post(reverse("fund:new"), {"uscc": fund_world.ent["E6"], "channel": "hti", "amount": "3,000,000.00",
                                      "term_months": "12", "received_date": "2020-03-02", "impact": "订单取消"})
    app = Application.objects.get()
    assert ok.status_code == 302 and ok["Location"] == reverse("fund:registered", args=[app.pk])
    assert app.number in c.get(ok["Location"]).content.decode()


def test_enterprise_applies_online_and_follows_its_own(fund_world):
    c = _client(fund_world.enterprise_user)
    with clock.fixed(D(2020, 3, 2)):
        ok = c.post(reverse("fund:new"), {"uscc": fund_world.ent["E1"], "channel": "sgg", "amount": "1000000",
                                          "term_months": "6", "impact": "停工"})
        assert ok.status_code == 302
        app = Application.objects.get()
        assert (app.source, app.received_date, app.channel) == ("online", D(2020, 3, 2), "sgg")
        text = c.get(reverse("fund:index")).content.decode()
        assert app.number in text
        detail = c.get(reverse("fund:detail", args=[app.pk])).content.decode()
        assert "2020-03-04" in detail  # the pre-check's due day (2 working days)


def test_detail_extends_and_closes_with_confirmation_and_refusals_shown(example):
    f05 = example.apps["F-05"]
    maker = _client(example.world.staff["sgg"][0])
    url = reverse("fund:detail", args=[f05.pk])
    text = maker.get(url).content.decode()
    assert 'data-action-form="extend"' in text and 'data-action-form="close"' in text
    assert "此操作不可撤销" in text  # the close asks before it submits
    # An irreversible step without the tick is refused, naming the field; nothing changes.
    unticked = maker.post(url, {"action": "close", "day": "2020-10-01"})
    assert unticked.status_code == 400 and "请勾选确认" in unticked.content.decode()
    # A refused transition is shown: the interest and principal are unpaid.
    refused = maker.post(url, {"action": "close", "day": "2020-10-01", "confirm": "on"})
    assert refused.status_code == 409 and "尚有未还清" in refused.content.decode()
    assert Application.objects.get(pk=f05.pk).state == "disbursed"
    bad = maker.post(url, {"action": "extend", "maturity_date": "2020-09-01", "note": ""})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert "展期理由" in page and "2020-09-01" in page
    from django.conf import settings

    maker.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = maker.get(url).content.decode()
    assert "<h2>Extend</h2>" in english and "This cannot be undone" in english
    moved = maker.post(url, {"action": "extend", "maturity_date": "2020-12-16", "note": "回款延迟"})
    assert moved.status_code == 302
    assert Application.objects.get(pk=f05.pk).maturity_date == D(2020, 12, 16)


def test_enterprise_page_shows_its_application_and_the_stage_deadline(fund_world):
    a = apply(fund_world, "E1", "hti", D(2020, 1, 31), 2000)
    c = _client(fund_world.enterprise_user)
    with clock.fixed(D(2020, 2, 3)):
        text = c.get(reverse("registry:enterprise_detail", args=[fund_world.ent["E1"]])).content.decode()
        assert a.number in text and a.get_state_display() in text
        assert "2020-02-04" in text or "2月4日" in text  # the pre-check's due day
        own = c.get(reverse("fund:list")).content.decode()
        assert a.number in own
