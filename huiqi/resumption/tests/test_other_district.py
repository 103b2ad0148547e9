"""A filing of another district answers exactly as a filing that does not exist: same status, same page,
on every page and API call that names a filing, for a district officer and for another enterprise's user.
Nothing tells them that the number is taken."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from huiqi.resumption import services

from .conftest import filing_data, pdf

pytestmark = pytest.mark.django_db

# (url name, method, form): every way a page or the API names one filing (or its attachment).
ASKS = [
    ("resumption:filing_detail", "get", None),
    ("resumption:filing_detail", "post", {"action": "assign", "inspector": "1"}),
    ("resumption:filing_detail", "post", {"action": "check", "check_result": "passed",
                                          "check_findings": "x"}),
    ("resumption:filing_detail", "post", {"action": "approve", "note": "同意"}),
    ("resumption:filing_detail", "post", {"action": "return", "note": "退回"}),
    ("resumption:filing_detail", "post", {"action": "nothing"}),
    ("resumption:filing_edit", "get", None),
    ("resumption:filing_edit", "post", {"planned_date": "2020-04-10"}),
    ("resumption-filing-detail", "get", None),
]


def _answer(client, name, method, data, pk):
    resp = getattr(client, method)(reverse(name, args=[pk]), data or {})
    body = resp.content.decode()
    # What differs by nature and tells nothing: the number asked for, the page's CSRF token.
    body = body.replace(f"/{pk}/", "/N/").replace(f"#{pk}", "#N")
    body = re.sub(r'(X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1-", body)
    return resp.status_code, resp.get("Content-Type"), body


@pytest.mark.parametrize("role", ["district2", "enterprise2"])
def test_another_districts_filing_is_answered_as_a_missing_one(role, users, city, client_for, filing_required,
                                                               media):
    filing = services.submit_filing(users["enterprise"], city["ns1"], filing_data(), attachments=[pdf()])
    missing = filing.pk + 1000
    client = client_for(role)
    for name, method, data in ASKS:
        theirs = _answer(client, name, method, data, filing.pk)
        nobodys = _answer(client, name, method, data, missing)
        assert theirs == nobodys, (f"{role}: {method.upper()} {name} {data} tells a filing of another "
                                   f"district ({theirs[0]}) from a missing one ({nobodys[0]})")
        assert theirs[0] in (403, 404)
    attachment = filing.attachments.get()
    assert client.get(reverse("resumption:attachment", args=[attachment.pk])).status_code == \
        client.get(reverse("resumption:attachment", args=[attachment.pk + 1000])).status_code == 404
    # The filing's own district reads it.
    own = client_for("district").get(reverse("resumption:filing_detail", args=[filing.pk]))
    assert own.status_code == 200
