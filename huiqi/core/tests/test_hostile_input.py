"""Issue 16.6: a NUL character in a query's filter (which PostgreSQL cannot compare) is a 400 naming the
field, on pages, the API and Open311, never a 500; in a form's field it is refused, naming the field."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/registry/?q=%00", "/registry/?district=44%0005", "/lending/?q=a%00b",
                                  "/requests/?q=%00", "/core/audit/?actor=%00"])
def test_a_nul_in_a_page_filter_is_a_400_naming_it(users, client_for, path):
    r = client_for("bureau").get(path)
    assert r.status_code == 400 and "NUL" in r.content.decode()


@pytest.mark.parametrize("path", ["/api/v1/enterprises/?search=%00", "/api/v1/loans/?q=%00",
                                  "/open311/v2/requests.json?service_code=%00"])
def test_a_nul_in_an_api_query_is_a_400_naming_it(users, client_for, path):
    r = client_for("bureau").get(path)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "request.nul" and r.json()["error"]["field"]


def test_a_nul_in_a_form_field_is_refused_naming_the_field_not_a_500(users, city, client_for):
    from huiqi.requests.models import EnterpriseRequest

    body = {"enterprise": city["ns1"].uscc, "category": "financing", "title": "续贷\x00", "description": "说明",
            "contact_name": "陈", "contact_phone": "13800000000", "contact_email": ""}
    r = client_for("enterprise").post("/requests/new/", body)
    assert r.status_code == 400
    assert "title" in r.content.decode() and "不能含有空字符（NUL）" in r.content.decode()
    assert not EnterpriseRequest.objects.exists()
    body["title"] = "续贷"
    assert client_for("enterprise").post("/requests/new/", body).status_code == 302
