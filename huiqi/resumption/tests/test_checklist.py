"""The prevention checklist is dated data the bureau edits in the back office."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.resumption.checklist import items_on
from huiqi.resumption.models import ChecklistItem

pytestmark = pytest.mark.django_db


def test_items_in_force_on_a_day():
    codes = [i.code for i in items_on(dt.date(2020, 2, 10))]
    assert len(codes) == 12 and codes[:4] == ["mechanism", "screening", "supplies", "management"]
    assert items_on(dt.date(2020, 1, 1)) == []
    ChecklistItem.objects.create(code="screening", group="four_in_place", text="返岗人员排查到位", order=1,
                                 effective_from=dt.date(2020, 3, 1))
    ChecklistItem.objects.filter(code="canteen").update(effective_to=dt.date(2020, 3, 1))
    before = {i.code: i.text for i in items_on(dt.date(2020, 2, 29))}
    after = {i.code: i.text for i in items_on(dt.date(2020, 3, 1))}
    assert before["screening"] == "人员排查到位" and after["screening"] == "返岗人员排查到位"
    assert "canteen" in before and "canteen" not in after


def test_bureau_edits_the_checklist_in_the_back_office(client_for):
    from huiqi.core.models import AuditEvent

    item = ChecklistItem.objects.get(code="temperature")
    url = f"/admin/resumption/checklistitem/{item.pk}/change/"
    bureau = client_for("bureau")
    assert bureau.get("/admin/resumption/checklistitem/").status_code == 200
    resp = bureau.post(url, {"code": "temperature", "group": "eight_implemented", "text": "落实每日两次体温检测",
                             "text_en": "temperatures taken twice a day", "order": 6, "effective_from": "2020-02-01",
                             "effective_to": ""})
    assert resp.status_code == 302, resp.content[:500]
    item.refresh_from_db()
    assert item.text == "落实每日两次体温检测"
    assert AuditEvent.objects.filter(model="resumption.ChecklistItem", action="update").exists()
    assert client_for("district").get("/admin/resumption/checklistitem/").status_code == 302
