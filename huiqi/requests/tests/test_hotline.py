"""The 12345 operator files a caller's request: finds the enterprise by name, picks it, sees its registry
facts, files; the channel reads "12345 热线" in Chinese and "12345 hotline" in English."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from huiqi.requests.models import Channel, EnterpriseRequest, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(staff):
    c = Client()
    c.force_login(staff["hotline"])
    return c


def test_the_operator_finds_the_enterprise_by_name_and_files_the_call(operator, city, category):
    page = operator.get(reverse("requests:new")).content.decode()
    assert "data-find-enterprise" in page and 'name="find"' in page

    found = operator.get(reverse("requests:new"), {"find": "南山云创"}).content.decode()
    assert re.findall(r'data-match="([^"]+)"', found) == [city["ns1"].uscc]
    assert f'href="?enterprise={city["ns1"].uscc}"' in found
    # Part of a name matches every enterprise that has it, by name; the USCC's start finds one too.
    several = operator.get(reverse("requests:new"), {"find": "深圳市"}).content.decode()
    assert set(re.findall(r'data-match="([^"]+)"', several)) == {city[k].uscc for k in ("ns1", "ns2", "ft1")}
    by_code = operator.get(reverse("requests:new"), {"find": city["ft1"].uscc[:10]}).content.decode()
    assert re.findall(r'data-match="([^"]+)"', by_code) == [city["ft1"].uscc]
    none = operator.get(reverse("requests:new"), {"find": "不存在的公司"}).content.decode()
    assert "data-no-match" in none and "不存在的公司" in none

    picked = operator.get(reverse("requests:new"), {"enterprise": city["ns1"].uscc}).content.decode()
    assert re.search(rf'name="enterprise"[^>]*value="{city["ns1"].uscc}"', picked)
    assert "企业信息（来自企业名录）" in picked and city["ns1"].name in picked

    resp = operator.post(reverse("requests:new"), {
        "enterprise": city["ns1"].uscc, "category": "policy", "title": "来电咨询政策",
        "description": "来电人询问惠企政策的申请条件。", "contact_name": "陈先生", "contact_phone": "13800138000"})
    assert resp.status_code == 302
    req = EnterpriseRequest.objects.get()
    assert req.enterprise == city["ns1"] and req.channel == Channel.HOTLINE


def test_an_enterprise_user_has_no_finder(users, client_for, city):
    page = client_for("enterprise").get(reverse("requests:new"), {"find": "福田"}).content.decode()
    assert "data-find-enterprise" not in page and city["ft1"].uscc not in page


@pytest.mark.parametrize("label, zh, en", [
    (Channel.HOTLINE.label, "12345 热线", "12345 hotline"),
    (Channel.WEB.label, "企业网上提交", "Enterprise form"),
    (Channel.API.label, "接口", "API"),
    (Channel.OPEN311.label, "Open311", "Open311"),
    (Status.WAITING.label, "待企业补充", "Waiting for the enterprise"),
])
def test_a_label_in_each_language(label, zh, en):
    """A channel's or status's label is one msgid: each language reads its own (the "12345" in both)."""
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(label) == zh
    with translation.override("en"):
        assert str(label) == en


def test_the_hotline_channel_reads_right_in_both_languages(operator, city, client_for):
    from huiqi.requests import services
    from huiqi.requests.models import Category

    from huiqi.accounts.models import User

    req = services.submit_request(User.objects.get(username="hotline"), enterprise=city["ns1"],
                                  category=Category.objects.get(code="policy"), title="来电",
                                  description="来电咨询", channel=Channel.HOTLINE)
    bureau = client_for("bureau")
    for lang, expected, wrong in (("zh-hans", "12345 热线", "热线 hotline"), ("en", "12345 hotline", "热线")):
        bureau.cookies["django_language"] = lang
        listing = bureau.get(reverse("requests:index")).content.decode()
        option = re.search(r'<option value="hotline"[^>]*>([^<]*)</option>', listing).group(1)
        assert option == expected, (lang, option)
        detail = bureau.get(reverse("requests:detail", args=[req.number])).content.decode()
        shown = re.search(r'data-channel="hotline">([^<]*)<', detail).group(1)
        assert shown == expected and wrong not in shown, (lang, shown)
