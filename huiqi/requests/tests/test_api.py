"""The REST API for requests and the Open311 GeoReport v2 endpoints."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse
from huiqi.accounts.services import issue_token
from huiqi.requests import services
from huiqi.requests.models import EnterpriseRequest

pytestmark = pytest.mark.django_db

REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


def _client(user=None):
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def key(user):
    return issue_token(None, user)[1]


# --- /api/v1/requests/ -----------------------------------------------------------------------------
def test_api_files_and_reads_a_request(users, city):
    c = _client(users["enterprise"])
    body = {"category": "rent", "title": "房租减免", "description": "国有物业房租能否减免？"}
    resp = c.post(reverse("enterprise-request-list"), json.dumps(body), content_type="application/json")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["enterprise"] == city["ns1"].uscc and data["channel"] == "api" and data["agency"] == "HOUSING-SZ"
    number = data["number"]
    detail = c.get(reverse("enterprise-request-detail", args=[number])).json()
    assert detail["history"][0]["action"] == "submit"
    assert _client(users["enterprise2"]).get(reverse("enterprise-request-detail", args=[number])).status_code == 404
    listed = _client(users["district2"]).get(reverse("enterprise-request-list")).json()
    assert listed["count"] == 0


def test_the_list_filters_the_page_and_the_api_share(submit, users, staff):
    """One FilterSet for the page and the API: the same query finds the same requests; a value the filter
    cannot take is left out on the page and named in a 400 by the API."""
    first, second = submit(), submit(title="房租减免")
    services.accept(staff["fin"], second)
    c = _client(users["bureau"])
    api = reverse("enterprise-request-list")
    for query, found in (({"status": "accepted"}, [second]), ({"status": "open", "q": "续贷"}, [first]),
                         ({"from": "2020-02-10", "to": "2020-02-10", "channel": "web"}, [second, first]),
                         ({"to": "2020-02-09"}, [])):
        assert [r["number"] for r in c.get(api, query).json()["results"]] == [r.number for r in found], query
        page = c.get(reverse("requests:index"), query).content.decode()
        assert all((r.number in page) == (r in found) for r in (first, second)), query
    for query in ({"status": "lost"}, {"from": "10/02/2020"}, {"flag": "late"}, {"channel": "fax"}):
        resp = c.get(api, query)
        assert resp.status_code == 400 and resp.json()["error"]["field"] == next(iter(query)), query
        page = c.get(reverse("requests:index"), query).content.decode()
        assert first.number in page and second.number in page, query
    # One request is found by its number, whatever the query string says.
    detail = c.get(reverse("enterprise-request-detail", args=[first.number]), {"status": "closed"})
    assert detail.status_code == 200


@pytest.mark.parametrize("description", ["", "长" * 50_000])
def test_api_refuses_bad_descriptions(users, description):
    body = {"category": "rent", "title": "房租", "description": description}
    resp = _client(users["enterprise"]).post(reverse("enterprise-request-list"), json.dumps(body),
                                             content_type="application/json")
    assert resp.status_code == 400
    assert resp.json()["error"]["field"] == "description"
    assert EnterpriseRequest.objects.count() == 0


@pytest.mark.parametrize("role", ["bank", "bureau", "department", "district"])
def test_api_filing_is_refused_to_others(users, role):
    body = {"category": "rent", "title": "房租", "description": "x", "enterprise": "91440300MA5FXXXX0X"}
    resp = _client(users[role]).post(reverse("enterprise-request-list"), json.dumps(body),
                                     content_type="application/json")
    assert resp.status_code == 403 and "error" in resp.json()
    assert EnterpriseRequest.objects.count() == 0


def test_api_internal_notes_hidden(submit, users, staff):
    req = submit()
    services.add_note(staff["fin"], req, "内部意见")
    hist = _client(users["enterprise"]).get(reverse("enterprise-request-detail", args=[req.number])).json()["history"]
    assert all("内部意见" not in h["note"] for h in hist)


# --- Open311 ---------------------------------------------------------------------------------------
def test_discovery_and_services_in_both_formats(db):
    c = _client()
    d = c.get("/open311/v2/discovery.json").json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert d["endpoints"][0]["url"].endswith("/open311/v2")
    assert set(d["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    x = c.get("/open311/v2/discovery.xml")
    assert x.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert ET.fromstring(x.content).find("endpoints/endpoint/specification").text.endswith("GeoReport_v2")

    services_json = c.get("/open311/v2/services.json").json()
    assert len(services_json) == 10
    s = next(s for s in services_json if s["service_code"] == "financing")
    assert set(s) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert s["metadata"] is True and s["type"] in ("realtime", "batch", "blackbox")
    root = ET.fromstring(c.get("/open311/v2/services.xml").content)
    assert root.tag == "services" and len(root.findall("service")) == 10
    assert root.find("service/metadata").text == "true"

    definition = c.get("/open311/v2/services/financing.json").json()
    assert definition["service_code"] == "financing"
    attr = definition["attributes"][0]
    assert set(attr) == {"variable", "code", "datatype", "required", "datatype_description", "order",
                         "description", "values"}
    xml = ET.fromstring(c.get("/open311/v2/services/financing.xml").content)
    assert xml.tag == "service_definition" and xml.find("attributes/attribute/code").text == "uscc"
    missing = c.get("/open311/v2/services/nothing.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def _post(c, fmt="json", **data):
    return c.post(f"/open311/v2/requests.{fmt}", data)


def test_post_errors(users, staff, city):
    c = _client()
    assert _post(c, service_code="financing", lat="22.5", long="114.0").status_code == 403
    assert _post(c, api_key="wrong", service_code="financing", lat="22.5", long="114.0").status_code == 403
    k = key(users["enterprise"])
    r = _post(c, api_key=k, lat="22.5", long="114.0")
    assert r.status_code == 400 and r.json() == [{"code": 400, "description": "service_code is required"}]
    assert _post(c, api_key=k, service_code="nothing", lat="22.5", long="114.0").status_code == 404
    assert _post(c, api_key=k, service_code="financing", description="x").status_code == 400  # no location
    assert _post(c, api_key=k, service_code="financing", lat="abc", long="114", description="x").status_code == 400
    r = _post(c, "xml", api_key=k, service_code="financing", lat="22.5", long="114.0", description="")
    assert r.status_code == 400 and ET.fromstring(r.content).find("error/code").text == "400"
    assert _post(c, api_key=key(users["bank"]), service_code="financing", lat="1", long="1",
                 description="x").status_code == 403
    assert EnterpriseRequest.objects.count() == 0


def test_post_and_read_back(users, staff, city):
    c = _client()
    k = key(users["enterprise"])
    r = _post(c, api_key=k, jurisdiction_id="shenzhen", service_code="financing", lat="22.533", long="113.930",
              description="贷款即将到期，希望续贷。", email="a@example.org", first_name="晓东", last_name="陈",
              phone="13800000000", account_id="", device_id="")
    assert r.status_code == 201, r.content
    body = r.json()
    assert isinstance(body, list) and set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    number = body[0]["service_request_id"]
    req = EnterpriseRequest.objects.get(number=number)
    assert req.channel == "open311" and req.enterprise == city["ns1"] and req.contact_name == "陈 晓东"

    one = c.get(f"/open311/v2/requests/{number}.json", {"api_key": k}).json()
    assert isinstance(one, list) and len(one) == 1
    doc = one[0]
    assert set(doc) == REQUEST_FIELDS
    assert doc["status"] == "open" and doc["service_code"] == "financing" and doc["lat"] == 22.533
    assert doc["requested_datetime"].endswith("+08:00") and doc["address_id"] is None
    x = ET.fromstring(c.get(f"/open311/v2/requests/{number}.xml", {"api_key": k}).content)
    assert x.tag == "service_requests" and x.find("request/service_request_id").text == number
    assert x.find("request/zipcode").text is None  # unknown: an empty element

    # Another enterprise's key cannot read it; the session of its own user can.
    assert c.get(f"/open311/v2/requests/{number}.json", {"api_key": key(users["enterprise2"])}).status_code == 404
    assert _client(users["enterprise"]).get(f"/open311/v2/requests/{number}.json").status_code == 200

    # A hotline operator names the enterprise by attribute[uscc]; address_string is a location.
    h = key(staff["hotline"])
    r = _post(c, api_key=h, service_code="rent", address_string="福田区深南大道", description="房租减免",
              **{"attribute[uscc]": city["ft1"].uscc, "attribute[title]": "房租"})
    assert r.status_code == 201, r.content
    assert EnterpriseRequest.objects.get(number=r.json()[0]["service_request_id"]).channel == "hotline"
    # Without attribute[uscc] the operator's key names no enterprise: a missing required field.
    r = _post(c, api_key=h, service_code="rent", address_string="x", description="y")
    assert r.status_code == 400 and "attribute[uscc]" in r.json()[0]["description"], r.content


def test_list_filters(submit, users, staff):
    old = submit()  # 2020: outside the default 90 days
    c = _client()
    k = key(users["bureau"])
    assert c.get("/open311/v2/requests.json", {"api_key": k}).json() == []
    got = c.get("/open311/v2/requests.json", {"api_key": k, "start_date": "2020-01-01T00:00:00+08:00",
                                                "end_date": "2020-12-31T00:00:00+08:00"}).json()
    assert [g["service_request_id"] for g in got] == [old.number]
    assert c.get("/open311/v2/requests.json", {"api_key": k, "service_request_id": old.number, "status": "closed",
                                                "service_code": ""}).json()[0]["service_request_id"] == old.number
    assert c.get("/open311/v2/requests.json", {"api_key": k, "start_date": "2020-01-01T00:00:00+08:00",
                                                "status": "closed"}).json() == []
    assert len(c.get("/open311/v2/requests.json", {"api_key": k, "start_date": "2020-01-01T00:00:00+08:00",
                                                    "status": "open,closed", "service_code": "financing,rent"}
                     ).json()) == 1
    assert c.get("/open311/v2/requests.json", {"api_key": k, "status": "pending"}).status_code == 400
    assert c.get("/open311/v2/requests.json").status_code == 403
    xml = c.get("/open311/v2/requests.xml", {"api_key": k, "start_date": "2020-01-01T00:00:00+08:00"})
    assert ET.fromstring(xml.content).find("request/status_notes").text.startswith("已提交")
    assert c.get("/open311/v2/requests.json", {"api_key": key(users["enterprise2"]),
                                                "start_date": "2020-01-01T00:00:00+08:00"}).json() == []


def test_api_actions_move_a_request(submit, users, staff):
    req = submit()
    h = _client(staff["fin"])
    url = lambda a: reverse("enterprise-request-act", args=[req.number, a])
    assert h.post(url("accept")).json()["status"] == "accepted"
    assert h.post(url("answer"), json.dumps({"note": "已办理"}), content_type="application/json").status_code == 200
    e = _client(users["enterprise"])
    assert e.post(url("close"), {"rating": 9}).status_code == 400
    assert e.post(url("close"), {"rating": 5}).json()["status"] == "closed"
    again = e.post(url("close"), {"rating": 5})
    assert again.status_code == 409 and again.json()["error"]["code"] == "requests.transition"
    assert _client(staff["hr"]).post(url("note"), {"note": "x"}).status_code == 404  # not its department's
    assert _client(users["enterprise2"]).post(url("reopen"), {"note": "x"}).status_code == 404
    assert h.post(url("nothing")).status_code == 404


def test_open311_dates_beyond_any_calendar_are_refused(users):
    """Year 1 or 9999 cannot be compared with a stored datetime: a 400, not a server error."""
    c, k = _client(), key(users["enterprise"])
    for when in ("0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        r = c.get("/open311/v2/requests.json", {"api_key": k, "start_date": when})
        assert r.status_code == 400 and r.json()[0]["code"] == 400, (when, r.content)
        assert c.get("/open311/v2/requests.xml", {"api_key": k, "end_date": when}).status_code == 400
    assert c.get("/open311/v2/requests.json", {"api_key": k, "start_date": "2020-01-01"}).status_code == 200


def test_open311_control_characters_neither_stored_nor_break_the_xml(users, city):
    """NUL (which PostgreSQL refuses) and the other C0 controls (which XML cannot carry) are dropped at
    intake; the XML document stays well-formed, the markup stays text."""
    c, k = _client(), key(users["enterprise"])
    r = _post(c, api_key=k, service_code="financing", lat="22.5", long="114.0",
              description="贷款\x00到期\x0b希望续贷<script>alert(1)</script>", last_name="陈\x01")
    assert r.status_code == 201, r.content
    req = EnterpriseRequest.objects.get(number=r.json()[0]["service_request_id"])
    assert req.description == "贷款到期希望续贷<script>alert(1)</script>" and req.contact_name == "陈"
    # Even text stored before (or by another path) with a control character renders as XML.
    EnterpriseRequest.objects.filter(pk=req.pk).update(description="a\x0bb\x1fc")
    doc = ET.fromstring(c.get(f"/open311/v2/requests/{req.number}.xml", {"api_key": k}).content)
    assert doc.find("request/description").text == "abc"
    listed = ET.fromstring(c.get("/open311/v2/requests.xml", {"api_key": k}).content)
    assert listed.find("request/service_request_id").text == req.number


def test_open311_email_is_checked(users, city):
    c, k = _client(), key(users["enterprise"])
    for bad in ("notanemail", "a" * 250 + "@example.org"):
        r = _post(c, api_key=k, service_code="financing", lat="22.5", long="114.0", description="续贷", email=bad)
        assert r.status_code == 400 and "email" in r.json()[0]["description"]
    assert EnterpriseRequest.objects.count() == 0
    r = _post(c, api_key=k, service_code="financing", lat="22.5", long="114.0", description="续贷",
              email="chen@example.org")
    assert r.status_code == 201


def test_actions_with_garbled_fields_are_refused_not_a_500(submit, users, staff):
    """Ids that are not numbers name no record (404, nothing created); a NUL in a note is dropped; the
    API's JSON values (a number for a note, true for approve) are understood."""
    from huiqi.requests.models import CommonProblem, Extension, RequestEvent

    req = submit()
    h = _client(staff["fin"])
    page = lambda a: reverse("requests:act", args=[req.number, a])
    api = lambda a: reverse("enterprise-request-act", args=[req.number, a])
    assert h.post(page("accept")).status_code == 302
    for bad in ("abc", "1e3", "٣", "9" * 30):
        assert h.post(page("link"), {"problem": bad}).status_code == 404
        assert h.post(page("decide_extension"), {"extension": bad, "approve": "1"}).status_code == 404
    assert CommonProblem.objects.count() == 0
    assert h.post(page("note"), {"note": "待核实\x00银行意见"}).status_code == 302
    assert RequestEvent.objects.filter(request=req, action="note").get().note == "待核实银行意见"
    r = h.post(api("note"), json.dumps({"note": 12345}), content_type="application/json")
    assert r.status_code == 200
    r = h.post(api("note"), json.dumps({"note": ["x"], "public": True}), content_type="application/json")
    assert r.status_code == 400  # an empty note

    req.refresh_from_db()
    ext = services.request_extension(staff["fin"], req, 3, "需银行总行审批")
    r = _client(staff["fin_head"]).post(api("decide_extension"), json.dumps({"extension": ext.pk, "approve": True}),
                                        content_type="application/json")
    assert r.status_code == 200, r.content
    assert Extension.objects.get(pk=ext.pk).status == Extension.Decision.APPROVED


@pytest.mark.parametrize("action", ["note", "reopen", "transfer", "ask_enterprise"])
def test_a_50000_character_note_is_refused_whole(submit, users, staff, action):
    from huiqi.requests.models import RequestEvent

    req = submit()
    h = _client(staff["fin"])
    events = RequestEvent.objects.count()
    r = h.post(reverse("enterprise-request-act", args=[req.number, action]),
               {"note": "长" * 50_000, "agency": "HRSS-SZ"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "request.note_long"
    assert RequestEvent.objects.count() == events
    assert EnterpriseRequest.objects.get(pk=req.pk).status == req.status


def test_open311_half_a_coordinate_is_refused(users, city):
    c, k = _client(), key(users["enterprise"])
    for half in ({"lat": "22.5"}, {"long": "114.0"}):
        r = _post(c, api_key=k, service_code="financing", address_string="南山区科技园", description="续贷", **half)
        assert r.status_code == 400 and "lat and long" in r.json()[0]["description"]
    assert EnterpriseRequest.objects.count() == 0


def test_open311_description_is_at_most_4000_characters(users, city):
    """The standard's limit holds whatever the platform's own forms allow (their limit is a parameter)."""
    c, k = _client(), key(users["enterprise"])
    post = dict(api_key=k, service_code="financing", address_string="南山区科技园")
    r = _post(c, description="续" * 4001, **post)
    assert r.status_code == 400, r.content
    assert r.json() == [{"code": 400, "description": "description must be at most 4000 characters (it has 4001) / "
                                                     "诉求内容不能超过 4000 个字（现有 4001 个字）"}]
    r = _post(c, "xml", description="续" * 4001, **post)
    assert r.status_code == 400 and ET.fromstring(r.content).find("error/code").text == "400"
    assert EnterpriseRequest.objects.count() == 0
    assert _post(c, description="续" * 4000, **post).status_code == 201


@pytest.mark.parametrize("body", ["[null, null]", "[]", '"accept"', "5", "null"])
def test_an_action_whose_body_is_not_an_object_is_refused_not_a_500(submit, staff, body):
    """Found by schemathesis over the schema: a JSON list (or bare value) as an action's body was a 500."""
    req = submit()
    r = _client(staff["fin"]).post(reverse("enterprise-request-act", args=[req.number, "accept"]), body,
                                   content_type="application/json")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "request.body"
    req.refresh_from_db()
    assert req.status == "submitted"
