"""The directory's read-only API: scoped like the pages, a status on a day, and the catalogue."""

from __future__ import annotations

from huiqi.core import clock

from .conftest import D

URL = "/api/v1/supplies-producers/"


def _usccs(resp) -> set[str]:
    assert resp.status_code == 200, resp.content
    body = resp.json()
    return {r["uscc"] for r in (body["results"] if isinstance(body, dict) else body)}


def test_producers_are_scoped(directory, client_for):
    all_three = {p.uscc for p in directory.values()}
    assert _usccs(client_for("bureau").get(URL)) == all_three
    assert _usccs(client_for("district").get(URL)) == {directory["ns1"].uscc, directory["ns2"].uscc}
    assert _usccs(client_for("enterprise").get(URL)) == {directory["ns1"].uscc}
    for role in ("department", "bank", "institution"):
        assert _usccs(client_for(role).get(URL)) == set(), role
    assert client_for("enterprise").get(f"{URL}{directory['ns2'].pk}/").status_code == 404
    assert client_for("department").get(f"{URL}{directory['ns1'].pk}/").status_code == 404


def test_status_on_a_day(directory, client_for):
    c = client_for("bureau")
    assert _usccs(c.get(URL + "?on=2020-03-10&status=active")) == {directory["ns1"].uscc}
    assert _usccs(c.get(URL + "?on=2020-03-10&status=suspended")) == {directory["ns2"].uscc}
    assert _usccs(c.get(URL + "?on=2020-02-10&status=active")) == {p.uscc for p in directory.values()}
    one = c.get(f"{URL}{directory['ns2'].pk}/?on=2020-03-10").json()
    assert one["status"] == "suspended" and one["suspensions"][0]["start"] == "2020-03-01"
    assert one["products"] == [{"product": "GOWN-MED", "unit": "garment", "capacity_per_day": 5000,
                                "reported_from": "2020-02-01", "reported_to": None}]
    with clock.fixed(D(2020, 2, 10)):
        assert c.get(f"{URL}{directory['ns2'].pk}/").json()["status"] == "active"
    bad = c.get(URL + "?on=2020-13-01")
    assert bad.status_code == 400 and "on" in bad.content.decode()
    assert c.get(URL + "?status=nope").status_code == 400


def test_catalogue(db, client_for):
    body = client_for("bank").get("/api/v1/supplies-products/").json()
    rows = body["results"] if isinstance(body, dict) else body
    codes = [r["code"] for r in rows]
    assert codes[:3] == ["GOWN-MED", "MASK-N95", "MASK-SURG"] and "TEST-KIT" in codes
    one = client_for("enterprise").get("/api/v1/supplies-products/MASK-SURG/").json()
    assert (one["name"], one["unit"]) == ("医用外科口罩", "piece")
