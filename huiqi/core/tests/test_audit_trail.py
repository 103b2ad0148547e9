"""The audit trail as an auditor reads it: names, titles and links, field labels and values in the reader's
language, filters in the URL, and the export of exactly what the page lists, to those who may read it."""

import csv
import io
import re

import pytest
from python_calamine import CalamineWorkbook

from huiqi.core import audit
from huiqi.core.models import AuditEvent
from huiqi.registry.models import District

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(users, city):
    """A district officer (王小明, 南山区) changes an enterprise's figures, size class and district; a
    department handler (李红, a department) writes another record; the platform writes a third."""
    officer, handler = users["district"], users["department"]
    officer.display_name, handler.display_name = "王小明", "李红"
    officer.save(update_fields=["display_name"])
    handler.save(update_fields=["display_name"])
    ns1 = city["ns1"]
    before = audit.snapshot(ns1)
    ns1.revenue_fen, ns1.size_class = 123_456_789, "medium"
    ns1.district = District.objects.get(code="440304")
    ns1.save()
    changed = audit.record_changes(officer, ns1, before)
    other = audit.record(handler, "create", city["ft1"])
    system = audit.record(None, "demo", None, model="registry.Enterprise", object_id="", object_repr="demo")
    return {"changed": changed, "other": other, "system": system, "ns1": ns1}


def page_ids(resp) -> list[int]:
    assert resp.status_code == 200
    return [int(pk) for pk in re.findall(r'data-event="(\d+)"', resp.content.decode())]


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment")
    return list(csv.reader(io.StringIO(b"".join(resp.streaming_content).decode("utf-8-sig"))))


def xlsx_rows(resp) -> list[list]:
    assert resp.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(resp.streaming_content)))
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


def test_people_records_and_values_are_shown_by_their_names(trail, client_for, users):
    page = client_for("auditor").get("/core/audit/").content.decode()
    row = page.split(f'data-event="{trail["changed"].pk}"')[1].split("</tr>")[0]
    assert "王小明" in row and "南山区" in row and "dist_ns" not in row        # the person and their district
    ns1 = trail["ns1"]
    assert f'href="/registry/e/{ns1.uscc}/"' in row and ns1.name in row  # the record, linked to its page
    assert "营业收入：30,000,000.00 元 → 1,234,567.89 元" in row  # money in yuan, its label without 分
    assert "中型" in row and "medium" not in row                             # a choice by its label
    assert "福田区" in row and "440304" not in row  # a district by its name, not its code
    assert "修改" in row                                                     # the action's name
    system = page.split(f'data-event="{trail["system"].pk}"')[1].split("</tr>")[0]
    assert "系统" in system and "生成演示数据" in system


def test_the_detail_shows_every_field_before_and_after(trail, client_for):
    page = client_for("auditor").get(f"/core/audit/{trail['changed'].pk}/").content.decode()
    assert "王小明" in page and "南山区" in page and trail["ns1"].name in page
    assert page.count('class="changed"') == 3       # revenue, size class, district
    assert "统一社会信用代码" in page and trail["ns1"].uscc in page  # unchanged fields too
    assert "营业收入" in page and "营业收入（分）" not in page and "1,234,567.89 元" in page


def test_field_labels_and_names_are_in_english_for_an_english_reader(trail, client_for):
    c = client_for("auditor")
    c.cookies["django_language"] = "en"
    page = c.get("/core/audit/").content.decode()
    row = page.split(f'data-event="{trail["changed"].pk}"')[1].split("</tr>")[0]
    assert "Size class" in row and "Medium" in row and "Futian" in row and "revenue:" in row
    assert "企业规模" not in row and "中型" not in row and "福田区" not in row and "修改" not in row
    assert "Nanshan" in row                              # the officer's district
    rows = csv_rows(c.get("/core/audit/export.csv", {"model": "registry.Enterprise"}))
    assert rows[0][:3] == ["Record", "Time", "By"]
    assert not any(re.search(r"[\u4e00-\u9fff]", cell) for cell in rows[0])
    changed = next(dict(zip(rows[0], r)) for r in rows[1:] if r[0] == str(trail["changed"].pk))
    assert changed["Action"] == "Changed" and changed["Organisation"] == "Nanshan"
    assert "Size class: Small → Medium" in changed["Changes"] and "1,234,567.89 yuan" in changed["Changes"]


@pytest.mark.parametrize("query, expected", [
    ({"actor": "王小"}, {"changed"}),
    ({"actor": "dist_ns"}, {"changed"}),
    ({"actor": "系统", "model": "registry.Enterprise"}, {"system"}),
    ({"organisation": "district:440305"}, {"changed"}),
    ({"organisation": "role:department"}, {"other"}),
    ({"organisation": "role:bureau"}, set()),
    ({"action": "create"}, {"other"}),
    ({"model": "registry.Enterprise", "q": "福田华信"}, {"other"}),
    ({"from": "2000-01-01", "to": "2000-12-31"}, set()),
])
def test_filters_narrow_the_trail_and_the_export_holds_exactly_the_page(trail, client_for, query, expected):
    c = client_for("auditor")
    wanted = {trail[name].pk for name in expected}
    listed = [pk for pk in page_ids(c.get("/core/audit/", query)) if pk in {e.pk for e in trail.values()
                                                                           if isinstance(e, AuditEvent)}]
    assert set(listed) == wanted, query
    everything = page_ids(c.get("/core/audit/", {**query, "per_page": 200}))
    exported = [int(r[0]) for r in csv_rows(c.get("/core/audit/export.csv", query))[1:]]
    assert exported == everything, query
    in_xlsx = [int(r[0]) for r in xlsx_rows(c.get("/core/audit/export.xlsx", query))[1:]]
    assert in_xlsx == everything, query


def test_the_export_rows_read_as_the_page(trail, client_for):
    rows = csv_rows(client_for("auditor").get("/core/audit/export.csv", {"actor": "王小明"}))
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1]))
    assert record["操作人"] == "王小明" and record["所属机构"] == "南山区" and record["动作"] == "修改"
    assert record["对象"] == str(trail["ns1"]) and record["对象类型"] == "企业"
    assert "企业规模：小型 → 中型" in record["变化"] and "1,234,567.89 元" in record["变化"]


@pytest.mark.parametrize("role", ["district", "district2", "enterprise", "department", "bureau", "bank"])
def test_who_may_not_read_the_trail_gets_neither_page_nor_export(trail, client_for, role):
    c = client_for(role)
    assert c.get("/core/audit/").status_code == 403
    assert c.get(f"/core/audit/{trail['other'].pk}/").status_code == 403
    for fmt in ("csv", "xlsx"):
        resp = c.get(f"/core/audit/export.{fmt}")
        assert resp.status_code == 403 and "Content-Disposition" not in resp
        assert "福田华信" not in resp.content.decode()


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_administrators_read_the_whole_city(trail, client_for, role):
    c = client_for(role)
    ids = {int(r[0]) for r in csv_rows(c.get("/core/audit/export.csv"))[1:]}
    assert {trail["changed"].pk, trail["other"].pk, trail["system"].pk} <= ids
    assert c.get(f"/core/audit/{trail['other'].pk}/").status_code == 200


def test_times_are_beijing_times_and_days_are_beijing_days(users, client_for, city):
    import datetime as dt

    late = dt.datetime(2020, 2, 9, 17, 30, tzinfo=dt.timezone.utc)  # 2020-02-10 01:30 in Beijing
    event = AuditEvent.objects.create(at=late, actor=users["bureau"], actor_label="bureau", action="update",
                                      model="registry.Enterprise", object_id=str(city["ns1"].pk),
                                      before={"updated_at": "2020-02-09T10:00:00+00:00"},
                                      after={"updated_at": late.isoformat()})
    c = client_for("auditor")
    page = c.get("/core/audit/", {"from": "2020-02-10", "to": "2020-02-10"})
    assert page_ids(page) == [event.pk]
    assert "2020-02-10 01:30:00" in page.content.decode() and "2020-02-09 18:00:00" in page.content.decode()
    assert page_ids(c.get("/core/audit/", {"from": "2020-02-09", "to": "2020-02-09"})) == []
    rows = csv_rows(c.get("/core/audit/export.csv", {"from": "2020-02-10", "to": "2020-02-10"}))
    assert [r[:2] for r in rows[1:]] == [[str(event.pk), "2020-02-10 01:30:00"]]


def test_an_unknown_format_is_not_found(client_for, users):
    assert client_for("auditor").get("/core/audit/export.pdf").status_code == 404


def test_the_empty_trail_says_so(client_for, users):
    page = client_for("auditor").get("/core/audit/", {"action": "no-such-action"}).content.decode()
    assert "没有符合条件的审计记录" in page and "data-event" not in page


def test_every_declared_link_leads_to_a_page():
    from types import SimpleNamespace

    from django.urls import resolve

    record = SimpleNamespace(pk=7, uscc="914403007084611360", number="R-2020-000001", key="subsidy.params",
                             batch_id=7, auto_list_id=7, producer_id=7, item=SimpleNamespace(pk=7, code="FUND-001"))
    assert {"registry.Enterprise", "subsidy.SubsidyBatch", "requests.EnterpriseRequest",
            "resumption.ReturnToWorkFiling", "core.Parameter"} <= audit.LINKS.keys()
    for label, link in audit.LINKS.items():
        resolve(link.url(record))  # raises when the address is no page


def test_a_record_copied_in_both_languages_reads_in_the_readers():
    from django.utils import translation

    from huiqi.core import audit

    item = [{"code": "screening", "group": "four_in_place", "text": "返岗人员排查到位", "text_en": "Returning staff screened"}]
    with translation.override("zh-hans"):
        assert str(audit._value(None, item)) == "返岗人员排查到位"
    with translation.override("en"):
        assert str(audit._value(None, item)) == "Returning staff screened"
