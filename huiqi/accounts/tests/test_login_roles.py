"""The log-in page explains each role in one line, beside the demo accounts of that role."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from huiqi.accounts.models import Role
from huiqi.accounts.views import ROLE_LINES

pytestmark = pytest.mark.django_db


def test_every_role_has_its_line():
    assert set(ROLE_LINES) == set(Role.values)
    assert all(str(line) and "\n" not in str(line) and len(str(line)) <= 60 for line in ROLE_LINES.values())


def test_each_role_is_explained_once_beside_its_accounts(users):
    from huiqi.accounts.models import User

    User.objects.filter(username__in=["ent", "ent2", "bureau", "bank"]).update(is_demo=True)
    page = Client().get("/accounts/login/").content.decode()
    rows = re.findall(r'<tr data-role="([^"]+)">(.*?)</tr>', page, re.S)
    assert [role for role, _ in rows] == ["enterprise", "enterprise", "bureau", "bank"]
    lines = dict(re.findall(r'<td rowspan="(\d+)" class="role-line" data-role-line="([^"]+)">', page)[i][::-1]
                 for i in range(3))
    assert lines == {"enterprise": "2", "bureau": "1", "bank": "1"}
    for role in ("enterprise", "bureau", "bank"):
        assert page.count(str(ROLE_LINES[role])) == 1
    assert "三人分别完成" in page and "报送本行的贷款" in page
