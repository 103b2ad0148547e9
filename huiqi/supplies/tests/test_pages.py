"""The directory's pages from the outside: the list's filters and exports, scoping role by role, the
bureau's forms on a producer's page (an error saves nothing; a suspension is confirmed, then changes who is
an active producer that day) and a new listing with its guide and confirmation."""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.urls import reverse

from huiqi.core import clock
from huiqi.core.models import AuditEvent
from huiqi.supplies import selectors
from huiqi.supplies.models import Producer, ProducerProduct, Suspension

from .conftest import D


def _text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


def _shown(text, directory) -> set[str]:
    return {key for key, p in directory.items() if f'data-producer="{p.uscc}"' in text}


def test_list_is_scoped_role_by_role(directory, client_for):
    url = reverse("supplies:index") + "?on=2020-03-10"
    expected = {"bureau": {"ns1", "ns2", "ft1"}, "auditor": {"ns1", "ns2", "ft1"}, "admin": {"ns1", "ns2", "ft1"},
                "district": {"ns1", "ns2"}, "district2": {"ft1"}, "enterprise": {"ns1"}, "enterprise2": {"ft1"}}
    for role, keys in expected.items():
        assert _shown(_text(client_for(role).get(url)), directory) == keys, role
    for role in ("department", "bank", "institution"):
        assert client_for(role).get(url).status_code == 403, role
    ent = client_for("enterprise")
    assert ent.get(reverse("supplies:producer", args=[directory["ns2"].pk])).status_code == 404
    assert ent.get(reverse("supplies:producer", args=[directory["ns1"].pk])).status_code == 200
    assert client_for("district2").get(reverse("supplies:producer", args=[directory["ns1"].pk])).status_code == 404
    assert "我的物资生产企业信息" in _text(ent.get(reverse("home")))


def test_filters_in_the_url(directory, client_for):
    c = client_for("bureau")
    base = reverse("supplies:index")
    cases = {"?on=2020-03-10&status=active": {"ns1"}, "?on=2020-03-10&status=suspended": {"ns2"},
             "?on=2020-03-10&status=removed": {"ft1"}, "?on=2020-02-10&status=active": {"ns1", "ns2", "ft1"},
             "?on=2020-01-28&status=not_yet": {"ns2"}, "?district=440304": {"ft1"}, "?product=GOWN-MED": {"ns2"},
             "?converted=1": {"ns1"}, "?converted=0": {"ns2", "ft1"}, f"?q={directory['ft1'].uscc[-6:]}": {"ft1"},
             "?q=前海汇通": {"ns2"}, "?on=nonsense&status=nonsense": {"ns1", "ns2", "ft1"}}
    for query, keys in cases.items():
        assert _shown(_text(c.get(base + query)), directory) == keys, query


def test_list_shows_status_badges_capacity_and_units(directory, client_for):
    text = _text(client_for("bureau").get(reverse("supplies:index") + "?on=2020-03-10"))
    assert 'data-status="suspended"' in text and 'data-status="removed"' in text and 'data-status="active"' in text
    assert "200,000 只" in text and "5,000 件" in text and "南山区" in text
    assert "table class=\"list\"" in text and "data-label=" in text  # cards on a phone


def test_empty_states(db, users, client_for):
    assert "目录中还没有生产企业" in _text(client_for("bureau").get(reverse("supplies:index")))
    assert "您的企业不在防疫物资生产企业目录中" in _text(client_for("enterprise").get(reverse("supplies:index")))


def test_export_follows_the_filters_and_the_readers_language(directory, client_for):
    c = client_for("district")
    body = b"".join(c.get(reverse("supplies:export", args=["csv"]) + "?on=2020-03-10&status=suspended")
                    .streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["统一社会信用代码", "企业名称", "所属区", "2020-03-10 状态"]
    assert [r[0] for r in rows[1:]] == [directory["ns2"].uscc]
    assert rows[1][3] == "暂停" and rows[1][10] == "医用防护服 5,000 件/天"
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = b"".join(c.get(reverse("supplies:export", args=["csv"]) + "?on=2020-03-10").streaming_content)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "Unified social credit code (USCC)" and {r[3] for r in rows[1:]} == {"Active", "Suspended"}
    assert len(rows) == 3  # the district's two, not 福田's
    xlsx = c.get(reverse("supplies:export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_bureau_edit_error_saves_nothing(directory, client_for):
    c = client_for("bureau")
    p = directory["ns1"]
    url = reverse("supplies:producer", args=[p.pk])
    before = AuditEvent.objects.count()
    resp = c.post(url, {"action": "edit", "active_from": "2020-01-25", "active_to": "2020-06-30", "reason": "",
                        "contact_name": "李四", "contact_phone": "0755-1"})
    assert resp.status_code == 400
    assert "填写有效期至（移出目录）时须说明原因" in resp.content.decode()
    p.refresh_from_db()
    assert (p.active_to, p.contact_name) == (None, "张三") and AuditEvent.objects.count() == before
    resp = c.post(url, {"action": "edit", "active_from": "2020-01-25", "active_to": "2020-06-30",
                        "reason": "不再生产", "converted": "on", "contact_name": "李四", "contact_phone": "0755-1"})
    assert resp.status_code == 302
    p.refresh_from_db()
    assert (p.active_to, p.removal_reason, p.contact_name) == (D(2020, 6, 30), "不再生产", "李四")


def test_only_the_bureau_sees_and_posts_the_forms(directory, client_for):
    url = reverse("supplies:producer", args=[directory["ns1"].pk])
    assert "data-action-form=\"suspend\"" in _text(client_for("bureau").get(url))
    for role in ("district", "enterprise", "auditor"):
        assert "data-action-form" not in _text(client_for(role).get(url)), role
        posted = client_for(role).post(url, {"action": "suspend", "start": "2020-04-01", "reason": "x"})
        assert posted.status_code == 403, role
    assert not Suspension.objects.filter(producer=directory["ns1"]).exists()


def test_suspension_is_confirmed_then_changes_active_producers(directory, client_for):
    c = client_for("bureau")
    p = directory["ns1"]
    url = reverse("supplies:producer", args=[p.pk])
    day = D(2020, 4, 2)
    assert selectors.active_producers([p.uscc], day) == {p.uscc}
    events = AuditEvent.objects.count()
    first = c.post(url, {"action": "suspend", "start": "2020-04-01", "reason": "原料短缺"})
    assert first.status_code == 200 and 'data-confirm="suspend"' in first.content.decode()
    # Nothing before it is confirmed (its checks ran and were rolled back).
    assert not Suspension.objects.filter(producer=p).exists() and AuditEvent.objects.count() == events
    bad = c.post(url, {"action": "suspend", "start": "2019-12-01", "reason": "原料短缺"})
    assert bad.status_code == 400 and "不在列入目录期间" in bad.content.decode()
    done = c.post(url, {"action": "suspend", "start": "2020-04-01", "reason": "原料短缺", "confirmed": "1"})
    assert done.status_code == 302
    assert selectors.active_producers([p.uscc], day) == set()
    assert selectors.active_producers([p.uscc], D(2020, 3, 31)) == {p.uscc}
    assert c.post(url, {"action": "resume", "resume_on": "2020-04-10"}).status_code == 302
    assert selectors.active_producers([p.uscc], D(2020, 4, 10)) == {p.uscc}
    assert selectors.active_producers([p.uscc], D(2020, 4, 9)) == set()


def test_product_line_from_the_page(directory, client_for):
    c = client_for("bureau")
    p = directory["ns1"]
    url = reverse("supplies:producer", args=[p.pk])
    assert c.post(url, {"action": "product", "product": "MASK-N95", "capacity_per_day": "-3"}).status_code == 400
    assert not ProducerProduct.objects.filter(producer=p, product__code="MASK-N95").exists()
    assert c.post(url, {"action": "product", "product": "MASK-N95", "capacity_per_day": "30000"}).status_code == 302
    text = _text(c.get(url))
    line = text[text.index('data-line="MASK-N95"'):]
    line = line[:line.index("</tr>")]
    assert 'class="num">30,000</td><td data-label="计量单位">只</td>' in line


def test_new_listing_with_guide_and_confirmation(city, users, client_for):
    c = client_for("bureau")
    page = _text(c.get(reverse("supplies:new")))
    assert "提交即列入，当场生效。" in page and 'name="line2_product"' in page  # the guide, then the form
    bad = c.post(reverse("supplies:new"), {"uscc": city["ns1"].uscc, "active_from": "2020-01-25",
                                           "active_to": "2020-01-01", "product": "MASK-SURG",
                                           "capacity_per_day": "100"})
    assert bad.status_code == 400 and "早于" in bad.content.decode()
    missing = c.post(reverse("supplies:new"), {"uscc": city["ns1"].uscc, "active_from": "2020-01-25"})
    assert missing.status_code == 400
    assert not Producer.objects.exists() and not ProducerProduct.objects.exists()
    with clock.fixed(D(2020, 2, 10)):
        done = c.post(reverse("supplies:new"), {
            "uscc": city["ns1"].uscc, "active_from": "2020-01-25", "contact_name": "王五", "product": "MASK-SURG",
            "capacity_per_day": "100000", "line2_product": "GLOVES", "line2_capacity_per_day": "8000"})
        assert done.status_code == 302, done.content.decode()[:3000]
        p = Producer.objects.get()
        assert done["Location"] == reverse("supplies:listed", args=[p.pk])
        text = _text(c.get(done["Location"]))
    assert "已列入生产企业目录" in text and "在册生产" in text and "100,000" in text
    assert {(x.product.code, x.capacity_per_day) for x in p.products.all()} == {("MASK-SURG", 100_000),
                                                                               ("GLOVES", 8_000)}


def test_audit_records_link_to_the_producer_page(directory, users):
    from huiqi.core import audit

    entries = audit.read(AuditEvent.objects.filter(model__startswith="supplies."), users["auditor"])
    pages = {(e.event.model, e.url) for e in entries}
    ns2 = reverse("supplies:producer", args=[directory["ns2"].pk])
    assert {("supplies.Producer", ns2), ("supplies.Suspension", ns2), ("supplies.ProducerProduct", ns2)} <= pages


def test_the_pages_are_in_one_language(directory, users, client_for):
    """The directory's pages in Chinese and in English (``huiqi/tests/test_one_language.py``'s detector): names
    of enterprises, people, texts typed and file names are data."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.supplies.imports import start_upload
    from huiqi.tests.test_one_language import leaks

    refused = start_upload(users["bureau"], SimpleUploadedFile(
        "bad.csv", "统一社会信用代码,列入目录日期,产品代码,日产能\nNOPE,2020-01-25,MASK-SURG,-1\n".encode()))
    data = [*(p.enterprise.name for p in directory.values()), "张三", "停产整改", "转回原业务", "bad.csv", "NOPE",
            "bureau", "ent", "dist_ns"]
    ns2 = directory["ns2"].pk
    pages = {"bureau": ["/supplies/?on=2020-03-10", f"/supplies/{ns2}/?on=2020-03-10", "/supplies/new/",
                        f"/supplies/{ns2}/listed/", "/supplies/files/", f"/supplies/files/{refused.pk}/"],
             "district": ["/supplies/", f"/supplies/{ns2}/"], "enterprise": ["/supplies/"]}
    for role, urls in pages.items():
        for language in ("zh-hans", "en"):
            c = client_for(role)
            c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for url in urls:
                r = c.get(url)
                assert r.status_code == 200, (role, url)
                found = leaks(r.content.decode(), language, data)
                assert not found, (role, language, url, found)
    c = client_for("bureau")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    shown = c.post(f"/supplies/{ns2}/", {"action": "edit", "active_from": "2020-02-01", "active_to": "2020-06-30"})
    assert shown.status_code == 400 and not leaks(shown.content.decode(), "en", data)


def test_a_product_lines_error_is_shown_beside_that_line(city, users, client_for):
    """The service refuses the third line (the second left empty): the error sits on the third line's
    fields, not the first's, and nothing is listed."""
    c = client_for("bureau")
    bad = c.post(reverse("supplies:new"), {
        "uscc": city["ns1"].uscc, "active_from": "2020-01-25", "product": "MASK-SURG", "capacity_per_day": "100",
        "line3_product": "MASK-SURG", "line3_capacity_per_day": "5", "line3_reported_from": "2020-03-01",
        "line3_reported_to": "2020-02-01"})
    assert bad.status_code == 400
    errors = bad.context["form"].errors
    assert {"line3_product", "line3_reported_to"} <= set(errors) and "product" not in errors
    assert "重复填写" in str(errors["line3_product"]) and "早于" in str(errors["line3_reported_to"])
    assert not Producer.objects.exists()
