"""The workflow of item versions: draft → review → published (by another person) → superseded or withdrawn;
every step audited, illegal steps refused, a published version never edited."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.accounts.services import create_user
from huiqi.core.errors import Conflict, InvalidFields, PermissionDenied, ValidationFailed
from huiqi.core.models import AuditEvent
from huiqi.policies import selectors, services

from .example import P2, P3


@pytest.fixture
def staff(users):
    second = create_user(None, username="bureau2", password="x-Long-enough-9", role="bureau", check_password=False)
    return users["bureau"], second


def _content(criteria=P3, **extra):
    return {"title": "稳岗补贴", "summary": "按在岗人数补贴", "mode": "application", "opens": "2020-03-01",
            "closes": "2020-06-30", "criteria": criteria, "tags": {"subject": ["employment"]}, **extra}


def test_draft_review_publish_supersede(staff):
    author, reviewer = staff
    v1 = services.save_draft(author, "WAGE", _content())
    assert v1.number == 1 and v1.status == "draft"
    services.submit(author, v1)
    with pytest.raises(Conflict, match="起草人不能审核"):
        services.publish(author, v1, dt.date(2020, 3, 1))
    services.publish(reviewer, v1, dt.date(2020, 3, 1))
    assert (v1.status, v1.reviewer, v1.in_force_from) == ("published", reviewer, dt.date(2020, 3, 1))

    v2 = services.save_draft(author, "WAGE", _content(criteria=P2))  # a change makes a new version
    assert v2.number == 2 and v1.criteria == P3
    assert services.save_draft(author, "WAGE", _content(criteria=P2, title="稳岗补贴（修订）")).pk == v2.pk
    services.submit(author, v2)
    services.publish(reviewer, v2, dt.date(2020, 4, 1))
    v1.refresh_from_db()
    assert (v1.status, v1.in_force_to) == ("superseded", dt.date(2020, 4, 1))
    assert selectors.version_on("WAGE", dt.date(2020, 3, 31)).number == 1
    assert selectors.version_on("WAGE", dt.date(2020, 4, 1)).number == 2
    actions = list(AuditEvent.objects.filter(model="policies.ItemVersion").order_by("id").values_list("action", flat=True))
    assert actions == ["policies.draft", "policies.submit", "policies.publish", "policies.draft", "policies.draft",
                       "policies.submit", "policies.supersede", "policies.publish"]


def test_withdrawal_needs_a_reason_and_ends_the_version(staff):
    author, reviewer = staff
    v = services.save_draft(author, "RENT", _content())
    services.submit(author, v)
    services.publish(reviewer, v, dt.date(2020, 3, 1))
    with pytest.raises(ValidationFailed):
        services.withdraw(reviewer, v, "  ")
    services.withdraw(reviewer, v, "政策调整", dt.date(2020, 5, 1))
    assert (v.status, v.in_force_to, v.withdraw_reason) == ("withdrawn", dt.date(2020, 5, 1), "政策调整")
    assert selectors.versions_in_force(dt.date(2020, 4, 30)).filter(pk=v.pk).exists()
    assert not selectors.versions_in_force(dt.date(2020, 5, 1)).filter(pk=v.pk).exists()
    with pytest.raises(Conflict):
        services.submit(author, v)


def test_bad_content_names_every_field_and_saves_nothing(staff):
    author, _ = staff
    with pytest.raises(InvalidFields) as caught:
        services.save_draft(author, "BAD", {"title": "", "mode": "sometimes", "opens": "2020-06-01",
                                            "closes": "2020-05-01", "criteria": {"any": []},
                                            "tags": {"colour": ["red"]}})
    assert [e.field for e in caught.value.errors] == ["title", "mode", "closes", "$.any", "tags.colour"]
    assert not selectors.item_exists("BAD")


def test_only_the_bureau_drafts(users):
    with pytest.raises(PermissionDenied):
        services.save_draft(users["enterprise"], "X", _content())


def test_a_bad_date_renders_its_message(staff):
    with pytest.raises(InvalidFields) as caught:
        services.save_draft(staff[0], "D", _content(opens="2020-13-01"))
    assert "2020-13-01" in caught.value.zh
