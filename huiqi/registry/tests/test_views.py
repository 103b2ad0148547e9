"""Registry pages and API as their users meet them."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_search_by_chinese_name_and_uscc(client_for, city):
    c = client_for("bureau")
    html = c.get("/registry/", {"q": "云创"}).content.decode()
    assert city["ns1"].uscc in html and city["ft1"].uscc not in html
    html = c.get("/registry/", {"q": city["ft1"].uscc.lower()}).content.decode()
    assert city["ft1"].uscc in html and city["ns1"].uscc not in html


def test_filters_and_empty_state(client_for, city):
    c = client_for("bureau")
    html = c.get("/registry/", {"district": "440306"}).content.decode()
    assert city["ba1"].uscc in html and city["ns1"].uscc not in html
    html = c.get("/registry/", {"kind": "individual_business"}).content.decode()
    assert city["ba1"].uscc in html and city["ns2"].uscc not in html
    html = c.get("/registry/", {"industry": "I"}).content.decode()
    assert city["ft1"].uscc in html and city["ns1"].uscc not in html
    html = c.get("/registry/", {"size": city["ns1"].size_class, "district": "440305"}).content.decode()
    assert city["ns1"].uscc in html
    html = c.get("/registry/", {"q": "不存在的企业名"}).content.decode()
    assert "没有符合条件的企业" in html


def test_pagination(client_for, make_enterprise):
    for i in range(30):
        make_enterprise(f"深圳市分页测试{i:02d}有限公司")
    c = client_for("bureau")
    page1 = c.get("/registry/", {"q": "分页测试"}).content.decode()
    page2 = c.get("/registry/", {"q": "分页测试", "page": 2}).content.decode()
    assert "分页测试00" in page1 and "分页测试29" not in page1
    assert "分页测试29" in page2 and 'rel="prev"' in page2


def test_enterprise_page(client_for, city):
    html = client_for("bureau").get(f"/registry/e/{city['ns1'].uscc}/").content.decode()
    assert city["ns1"].name in html and city["ns1"].get_size_class_display() in html


def test_export_keeps_filters(client_for, city):
    r = client_for("bureau").get("/registry/export.csv", {"district": "440305"})
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert city["ns1"].uscc in text and city["ns2"].uscc in text and city["ft1"].uscc not in text


def test_text_is_escaped(client_for, make_enterprise):
    make_enterprise("<script>alert(1)</script>有限公司")
    html = client_for("bureau").get("/registry/", {"q": "script"}).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_api_list_filter_and_error_body(client_for, city):
    c = client_for("bureau")
    data = c.get("/api/v1/enterprises/", {"q": "华信"}).json()
    assert data["count"] == 1 and data["results"][0]["uscc"] == city["ft1"].uscc
    r = c.post("/api/v1/enterprises/", {"uscc": "91440300708461136X", "name": "x", "district": "440305",
                                        "industry": "C39"}, content_type="application/json")
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "uscc.check" and err["field"] == "uscc" and err["message_zh"] and err["message_en"]
    r = c.post("/api/v1/enterprises/", {"uscc": "91440300708461136T", "name": "深圳市接口测试有限公司",
                                        "district": "440305", "industry": "C39", "employees": 10},
               content_type="application/json")
    # 10 employees fail the small threshold whatever the revenue: micro, decided without the missing figure.
    assert r.status_code == 201 and r.json()["size_class"] == "micro"


def test_page_and_api_share_the_filters(client_for, city):
    """One FilterSet: the same query finds the same enterprises on the page and through the API; a value
    the filter cannot take is left out on the page and named in a 400 by the API."""
    c = client_for("bureau")
    query = {"district": "440305", "industry": "F", "kind": "enterprise", "size": city["ns2"].size_class}
    html = c.get("/registry/", query).content.decode()
    found = [e["uscc"] for e in c.get("/api/v1/enterprises/", query).json()["results"]]
    assert found == [city["ns2"].uscc] and city["ns2"].uscc in html and city["ns1"].uscc not in html
    assert c.get("/api/v1/enterprises/", {"key": "1"}).json()["count"] == 0

    resp = c.get("/api/v1/enterprises/", {"size": "huge"})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "size"
    html = c.get("/registry/", {"size": "huge"}).content.decode()
    assert all(city[k].uscc in html for k in ("ns1", "ns2", "ft1", "ba1"))


def test_openapi_schema_and_docs_served_locally(client_for):
    c = client_for("bureau")
    schema = c.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/enterprises/" in schema.content
    docs = c.get("/api/docs/").content.decode()
    # Every file the page loads is served here; nothing names another host (the page also carries a
    # random CSRF token, so a bare "cdn" in it proves nothing either way).
    loaded = re.findall(r'(?:src|href)=["\']([^"\']+)', docs)
    assert "swagger" in docs.lower() and any("swagger-ui-bundle.js" in u for u in loaded)
    assert all(u.startswith("/") and not u.startswith("//") for u in loaded), loaded
    assert not re.search(r"https?://|//unpkg|cdn\.", docs), re.findall(r"https?://\S+", docs)


def test_registry_import_page_shows_row_errors(client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = client_for("bureau")
    data = "统一社会信用代码,企业名称,主体类型,所属区,行业代码,数据年度\n91440300708461136X,坏,企业,440305,C39,2019\n"
    r = c.post("/registry/import/", {"file": SimpleUploadedFile("bad.csv", data.encode("gbk"))}, follow=True)
    assert "data-confirmation" in r.content.decode() and "未通过校验" in r.content.decode()
    r = c.get(r.request["PATH_INFO"].removesuffix("submitted/"))
    html = r.content.decode()
    assert 'data-status="refused"' in html
    assert "校验码" in html and "check character" not in html
    c.cookies["django_language"] = "en"
    html = c.get(r.request["PATH_INFO"]).content.decode()
    assert "check character" in html and "校验码" not in html
