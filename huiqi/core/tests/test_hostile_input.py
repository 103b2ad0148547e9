"""Issue 16.6: a NUL character in a query's filter (which PostgreSQL cannot compare) is a 400 naming the
field, on pages, the API and Open311, never a 500; a form's text drops it at intake."""

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


def test_a_nul_in_a_form_field_is_dropped_at_intake_not_a_500(users, client_for):
    from huiqi.requests.models import EnterpriseRequest

    r = client_for("enterprise").post("/requests/new/", {"title": "标题\x00", "description": "说明"})
    assert r.status_code < 500
    assert not EnterpriseRequest.objects.filter(title__contains="\x00").exists()
