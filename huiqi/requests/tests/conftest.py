"""Fixtures of the request channel: handlers of two departments, a department head, a hotline operator."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def at(y, m, d, h=10, mi=0):
    """An aware Asia/Shanghai datetime."""
    return timezone.make_aware(dt.datetime(y, m, d, h, mi))


def upload(name, data, content_type="application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def staff(users):
    """Department users beyond the root fixture's SME-SZ handler."""
    from conftest import PASSWORD
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import Agency
    from huiqi.requests.models import DepartmentHead

    def mk(username, agency_code, display=""):
        return create_user(None, username=username, password=PASSWORD, role="department", check_password=False,
                           agency=Agency.objects.get(code=agency_code), display_name=display)

    people = {
        "fin": mk("fin_handler", "FINANCE-SZ", "金融局 经办人"),
        "fin_head": mk("fin_head", "FINANCE-SZ", "金融局 负责人"),
        "hr": mk("hr_handler", "HRSS-SZ", "人社局 经办人"),
        "hotline": mk("hotline", "HOTLINE-12345", "12345 坐席"),
    }
    DepartmentHead.objects.create(agency=people["fin_head"].agency, user=people["fin_head"])
    people["fin"].email = "fin@example.org"
    people["fin"].save(update_fields=["email"])
    users["enterprise"].email = "ent@example.org"
    users["enterprise"].phone = "13800000000"
    users["enterprise"].save(update_fields=["email", "phone"])
    return people


@pytest.fixture
def category():
    from huiqi.requests.models import Category

    return {c.code: c for c in Category.objects.select_related("default_agency")}


@pytest.fixture
def submit(users, city, category):
    """``submit(**overrides)``: a financing request of ns1 by its enterprise user."""
    from huiqi.requests import services

    def make(actor=None, **kw):
        kw.setdefault("enterprise", city["ns1"])
        kw.setdefault("category", category["financing"])
        kw.setdefault("title", "申请续贷延期")
        kw.setdefault("description", "受疫情影响，我司一笔流动资金贷款即将到期，希望银行给予续贷或展期支持。")
        kw.setdefault("at", at(2020, 2, 10, 9))
        return services.submit_request(actor or users["enterprise"], **kw)

    return make


__all__ = ["PDF", "PNG", "at", "io", "upload"]
