"""The fund's API: a channel registers by POST (refused whole naming each field, or 409 while another
application is live), reads its own; another channel's application is a 404; others may not register."""

from __future__ import annotations

import json

from django.test import Client

from conftest import PASSWORD
from huiqi.fund.models import Application

URL = "/api/v1/fund-applications/"


def _client(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def _post(c, body):
    return c.post(URL, json.dumps(body), content_type="application/json")


def test_a_channel_registers_and_reads_its_own(fund_world):
    hti, sgg = _client(fund_world.staff["hti"][0]), _client(fund_world.staff["sgg"][0])
    body = {"uscc": fund_world.ent["E6"], "channel": "hti", "amount": "3000000.00", "term_months": 12,
            "received_date": "2020-04-20", "impact": "订单取消"}
    made = _post(hti, body)
    assert made.status_code == 201, made.content
    data = made.json()
    assert (data["state"], data["requested"], data["channel"]) == ("prechecked", "3000000.00", "hti")
    assert Application.objects.get().source == "api"
    again = _post(hti, {**body, "received_date": "2020-04-21"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "fund.live_application_exists"
    assert [a["number"] for a in hti.get(URL).json()["results"]] == [data["number"]]
    assert sgg.get(URL).json()["results"] == []
    assert sgg.get(f"{URL}{data['id']}/").status_code == 404
    assert Application.objects.count() == 1


def test_bad_input_is_refused_whole(fund_world):
    hti = _client(fund_world.staff["hti"][0])
    bad = _post(hti, {"uscc": "123", "channel": "xyz", "amount": "0", "term_months": 99,
                      "received_date": "2020-04-20", "impact": ""})
    assert bad.status_code == 400
    fields = [d["field"] for d in bad.json()["error"]["details"]]
    assert fields == ["uscc", "channel", "amount", "term_months"]
    assert Application.objects.count() == 0


def test_the_bureau_does_not_register(fund_world):
    bureau = _client(fund_world.bureau)
    refused = _post(bureau, {"uscc": fund_world.ent["E6"], "channel": "hti", "amount": "1.00", "term_months": 1,
                             "received_date": "2020-04-20", "impact": "x"})
    assert refused.status_code == 403 and Application.objects.count() == 0
