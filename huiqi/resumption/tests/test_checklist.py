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
    """A changed item is a new dated row: the old text stays in force until the new start, and stays
    on record; a change that does not start later is refused on the effective date, saving nothing."""
    from huiqi.core.models import AuditEvent

    item = ChecklistItem.objects.get(code="temperature")
    url = f"/admin/resumption/checklistitem/{item.pk}/change/"
    bureau = client_for("bureau")
    assert bureau.get("/admin/resumption/checklistitem/").status_code == 200
    form = {"group": "eight_implemented", "text": "落实每日两次体温检测", "text_en": "temperatures taken twice a day",
            "order": 6, "effective_from": "2020-02-01", "effective_to": ""}
    refused = bureau.post(url, form)
    assert refused.status_code == 200 and "须晚于 2020-02-01 生效" in refused.content.decode()
    assert ChecklistItem.objects.filter(code="temperature").count() == 1

    resp = bureau.post(url, {**form, "effective_from": "2020-03-01"})
    assert resp.status_code == 302, resp.content[:500]
    item.refresh_from_db()
    assert (item.text, item.effective_to) == ("落实体温检测", dt.date(2020, 3, 1))  # closed, not rewritten
    new = ChecklistItem.objects.get(code="temperature", effective_from=dt.date(2020, 3, 1))
    assert new.text == "落实每日两次体温检测" and new.effective_to is None
    assert {i.code: i.text for i in items_on(dt.date(2020, 2, 29))}["temperature"] == "落实体温检测"
    assert {i.code: i.text for i in items_on(dt.date(2020, 3, 1))}["temperature"] == "落实每日两次体温检测"
    events = AuditEvent.objects.filter(model="resumption.ChecklistItem")
    assert events.filter(action="update", object_id=str(item.pk)).exists()
    assert events.filter(action="create", object_id=str(new.pk)).exists()

    # Retiring an item sets its end in place.
    retire = f"/admin/resumption/checklistitem/{new.pk}/change/"
    resp = bureau.post(retire, {**form, "effective_from": "2020-03-01", "effective_to": "2020-04-20"})
    assert resp.status_code == 302
    new.refresh_from_db()
    assert new.effective_to == dt.date(2020, 4, 20) and ChecklistItem.objects.filter(code="temperature").count() == 2
    assert "temperature" not in {i.code for i in items_on(dt.date(2020, 4, 20))}
    assert client_for("district").get("/admin/resumption/checklistitem/").status_code == 302
