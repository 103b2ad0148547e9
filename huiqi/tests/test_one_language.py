"""One language per screen: every role's main pages, in Chinese and in English.

A Chinese page shows no English word and an English page no Chinese, except what is data: the names
of enterprises, owners and people, and the texts people typed, which are shown as they were written.
The language is the reader's choice (the language cookie, ``core.locale``). Only the text a person
reads is checked: tags, scripts and attribute values are not, and neither are codes and identifiers
(USCCs, loan and request numbers, bank codes, file names, numbers and units).

A failure names the page, the language and the words that leaked, so that the string can be given to
gettext (or the reference row its English name).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from conftest import build_city, build_users, enterprise_maker, fast_known_password, rows_kept_for_scope

LOANS = ("银行机构代码,贷款合同编号,借款人证件号码,借款人名称,借款人类型,所属企业证件号码,贷款用途,担保方式,是否首贷,"
         "贷款金额（元）,年利率（%）,放款日期,到期日期,原贷款合同编号\n")
PAYMENTS = "银行机构代码,贷款合同编号,计息起日,计息止日,付息日期,实付利息（元）\n"

# What people type is shown as they typed it: these are the world's texts that are data.
TYPED = ["申请续贷延期", "受疫情影响，我司一笔流动资金贷款即将到期，希望银行给予续贷或展期支持。", "陈晓东", "借款人",
         "已联系合作银行，正在办理续贷。", "消毒记录齐全", "资金周转困难", "同意", "核对无误"]

# Names of languages are written in their own language (the switch to the other one); products are
# called by their names.
OWN_NAMES = {"zh-hans": {"English", "Excel", "Word", "WPS", "Open311"}, "en": {"中文"}}

# Codes and identifiers are not words of either language.
_IDENTIFIERS = re.compile("|".join((
    r"https?://\S+|\S+@\S+|[\w.-]+\.(?:csv|xlsx|pdf|png|jpe?g|json|txt)\b",  # links, e-mail, file names
    r"\b[0-9a-f]{16,}\b",                                                  # digests (SHA-256)
    r"\b[0-9A-Z]{15,18}\b|\b\d{4,6}\*+\d{3}[0-9X]\b",                       # USCCs, masked resident IDs
    r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\b",                                   # bank codes, loan, request nos.
    r"\b[A-Z]{2,}\d*\b",                                                    # abbreviations: CSV, PDF, MB
    r"\b[A-Z]\b|\b\d+[a-z]{0,2}\b",                                         # A/B, 3rd, 5s
    r"\b(?:pdf|jpe?g|png|docx?|xlsx?|csv)\b",                              # file types
)))
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_'-]*")
_LATIN_NAME = re.compile(r"[A-Za-z0-9_.@+-]+")
_CHINESE = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]+")


class _VisibleText(HTMLParser):
    """The text of a page as it is read: no scripts, styles or attribute values, and no ``<kbd>``, which
    shows what a person types as it must be typed (a file's column names, say). A chart's data (a JSON
    script the page draws) is read too: its labels and series names are on the screen."""

    SKIPPED = {"script", "style", "template", "kbd"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.json = False

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
            self.json = tag == "script" and ("type", "application/json") in attrs

    def handle_endtag(self, tag):
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1
            self.json = False

    def handle_data(self, data):
        if self.json:
            self.parts.extend(_strings(json.loads(data)))
        elif not self.skipping:
            self.parts.append(data)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(p for p in parser.parts if p.strip())


def leaks(html: str, language: str, data: list[str]) -> list[str]:
    """The words of ``html``'s visible text that are not in ``language``, codes and ``data`` aside."""
    text = visible_text(html)
    for name in sorted(data, key=len, reverse=True):
        if _LATIN_NAME.fullmatch(name):  # a user name ("ent") is a word of its own, not a piece of one
            text = re.sub(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", " ", text)
        else:
            text = text.replace(name, " ")
    for name in OWN_NAMES[language]:
        text = text.replace(name, " ")
    text = _IDENTIFIERS.sub(" ", text)
    if language == "en":
        return sorted(set(_CHINESE.findall(text)))
    return sorted({w for w in _LATIN_WORD.findall(text) if len(w) > 1})


# --- the world ---------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def _world_once(request, django_db_setup, django_db_blocker, password_hash, tmp_path_factory):
    """Every program with something to show, built once: each test rolls back to it."""
    from django.test import override_settings

    with rows_kept_for_scope(request, django_db_blocker):
        with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as mp, \
                override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                                  HUIQI_PROGRESS_CONNECTION=False):
            fast_known_password(mp, password_hash)
            city = build_city(enterprise_maker())
            world = build_world(city, build_users(city), tmp_path_factory.mktemp("one-language"))
        yield world


def build_world(city, users, tmp_path):
    from huiqi.accounts.services import create_user
    from huiqi.core import params
    from huiqi.core.identifiers import generate_resident_id
    from huiqi.lending.imports import start_upload
    from huiqi.registry import services as registry
    from huiqi.registry.models import Agency
    from huiqi.requests import services as requests
    from huiqi.requests.models import Category
    from huiqi.resumption import services as resumption
    from huiqi.resumption.apps import FILING_REQUIRED_KEY
    from huiqi.resumption.tests.conftest import check_values, filing_data
    from huiqi.subsidy import services as subsidy

    import random

    w = dict(city, users=users)
    registry.register_owner(None, resident_id=generate_resident_id(random.Random(11), address="440305"),
                            name="司马南福", owns=[city["ns1"].uscc])
    # The ledger, interest paid, a released batch and a later open one.
    loans = LOANS + "".join(
        f"{bank},{no},{uscc},借款人,企业,,经营性,信用,否,\"1,000,000.00\",4.35,2020-03-10,2021-03-10,\n"
        for bank, no, uscc in (("ICBC-SZ", "LANG-LOAN-A", city["ns1"].uscc), ("CMB-SZ", "LANG-LOAN-B",
                                                                               city["ft1"].uscc)))
    stored = start_upload(users["bureau"], "loans", SimpleUploadedFile("loans.csv", loans.encode()))
    assert stored.status == "stored"
    w["upload"] = stored
    paid = PAYMENTS + "".join(f"{bank},{no},2020-03-10,2020-06-10,2020-06-10,{interest}\n"
                              for bank, no, interest in (("ICBC-SZ", "LANG-LOAN-A", "30000.00"),
                                                         ("CMB-SZ", "LANG-LOAN-B", "20000.00")))
    stored = start_upload(users["bureau"], "payments", SimpleUploadedFile("payments.csv", paid.encode()))
    assert stored.status == "stored"
    w["upload"] = stored
    runner = create_user(None, username="runner", password=None, role="bureau", check_password=False)
    w["released"] = subsidy.run_batch(runner, dt.date(2020, 8, 31))
    subsidy.review(users["bureau"], w["released"])
    subsidy.approve(users["admin"], w["released"])
    subsidy.release(users["admin"], w["released"], tmp_path / "release")
    w["open"] = subsidy.run_batch(runner, dt.date(2020, 12, 31))
    # Return to work: a filing on its way, a daily check with a difficulty.
    params.set_value(None, FILING_REQUIRED_KEY, "resumption", True, timezone.localdate(), note="核对无误")
    w["filing"] = resumption.submit_filing(users["enterprise"], city["ns1"], filing_data())
    resumption.assign_inspector(users["district"], w["filing"], users["district"])
    resumption.record_check(users["district"], w["filing"], "passed", "消毒记录齐全")
    w["check"], _created = resumption.submit_daily_check(
        users["enterprise"], city["ns1"], timezone.localdate(), check_values(),
        [{"kind": "funds", "note": "资金周转困难", "needs_help": True}])
    # A request, accepted and answered.
    w["request"] = requests.submit_request(
        users["enterprise"], enterprise=city["ns1"], category=Category.objects.get(code="financing"),
        title="申请续贷延期", description="受疫情影响，我司一笔流动资金贷款即将到期，希望银行给予续贷或展期支持。")
    handler = _handler_of(w["request"])
    requests.accept(handler, w["request"])
    requests.answer(handler, w["request"], "已联系合作银行，正在办理续贷。")
    w["handler"] = handler
    # One accepted and waiting for its answer (the handler's page offers the answer templates); a 12345
    # operator, who files calls.
    w["accepted"] = requests.submit_request(
        users["enterprise"], enterprise=city["ns1"], category=Category.objects.get(code="financing"),
        title="申请续贷延期", description="受疫情影响，我司一笔流动资金贷款即将到期，希望银行给予续贷或展期支持。")
    assert w["accepted"].agency == handler.agency
    requests.accept(handler, w["accepted"])
    w["hotline"] = create_user(None, username="hotline", password=None, role="department", check_password=False,
                               agency=Agency.objects.get(code="HOTLINE-12345"))
    return w


def _handler_of(req):
    from huiqi.accounts.services import create_user

    return create_user(None, username=f"handler-{req.agency.code.lower()}", password=None, role="department",
                       agency=req.agency, check_password=False)


@pytest.fixture
def world(_world_once, db):
    from django.core.cache import cache

    cache.clear()
    return _world_once


def data_of(world) -> list[str]:
    """The names and texts that are data: shown as they are in both languages."""
    from huiqi.accounts.models import User
    from huiqi.core.models import AuditEvent, Parameter
    from huiqi.registry.models import Bank, BusinessOwner, Enterprise

    names = list(Enterprise.objects.values_list("name", flat=True))
    names += BusinessOwner.objects.values_list("name", flat=True)
    names += [n for n in Bank.objects.values_list("name", flat=True)]
    for u in User.objects.all():
        names += [u.username, u.display_name]
    # What the audit log recorded is shown as it was recorded (values of the time, in their language).
    for before, after in AuditEvent.objects.values_list("before", "after"):
        names += [v for d in (before or {}, after or {}) for v in d.values() if isinstance(v, str)]
    # The issuing office's names are a parameter's value: the parameters page shows both as the bureau wrote them.
    for value in Parameter.objects.filter(key="core.issuing_office").values_list("value", flat=True):
        names += [v for v in value.values() if isinstance(v, str)]
    # A department's answer templates are its own texts, shown as written.
    from huiqi.requests.models import ResponseTemplate

    names += [text for pair in ResponseTemplate.objects.values_list("title", "body") for text in pair]
    return [n for n in names + TYPED if n]


def pages(world) -> list[str]:
    """The representative pages: home, registry, ledger, subsidy, return to work, requests, audit,
    parameters (a role that may not see one gets a 403 or 404 there, which is skipped)."""
    return [
        "/",
        "/registry/", f"/registry/e/{world['ns1'].uscc}/", "/registry/banks/",
        "/lending/",
        "/subsidy/", f"/subsidy/b/{world['released'].pk}/", f"/subsidy/b/{world['open'].pk}/",
        f"/subsidy/b/{world['released'].pk}/beneficiaries/", f"/subsidy/b/{world['released'].pk}/loans/",
        "/resumption/", "/resumption/filings/", f"/resumption/filings/{world['filing'].pk}/",
        "/resumption/dashboard/", "/resumption/follow-ups/",
        "/requests/", f"/requests/r/{world['request'].number}/", f"/requests/r/{world['accepted'].number}/",
        "/requests/figures/",
        "/core/audit/", "/core/parameters/", "/core/jobs/",
        # and the other pages of the same journeys
        "/subsidy/simulate/", f"/subsidy/b/{world['released'].pk}/reconcile/",
        "/requests/new/", "/requests/messages/", "/requests/problems/",
        "/resumption/checks/", "/resumption/checks/new/", "/resumption/report/", "/resumption/filings/new/",
        "/registry/import/", "/lending/upload/", f"/lending/upload/{world['upload'].pk}/", "/accounts/account/",
        # the confirmations after a form (each its submitter's)
        f"/resumption/filings/{world['filing'].pk}/submitted/", f"/resumption/checks/{world['check'].pk}/submitted/",
        f"/requests/r/{world['request'].number}/submitted/", f"/lending/upload/{world['upload'].pk}/submitted/",
    ]


ROLES = ["enterprise", "district", "department", "hotline", "bureau", "bank", "institution", "auditor", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_each_page_is_in_one_language(world, role):
    user = {"department": world["handler"], "hotline": world["hotline"]}.get(role) or world["users"][role]
    data = data_of(world)
    found, shown = {}, 0
    for language in ("zh-hans", "en"):
        client = Client()
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for url in pages(world):
            resp = client.get(url)
            if resp.status_code in (403, 404) and url != "/":
                continue
            assert resp.status_code == 200, (url, resp.status_code)
            shown += 1
            words = leaks(resp.content.decode(), language, data)
            if words:
                found[f"{language} {url}"] = words
    assert shown > 4
    assert not found, "words in the other language:\n" + "\n".join(f"  {k}: {v}" for k, v in found.items())


def test_the_log_in_and_error_pages_are_in_one_language(world):
    data = data_of(world)
    found = {}
    for language in ("zh-hans", "en"):
        anonymous, enterprise = Client(), Client()
        enterprise.force_login(world["users"]["enterprise"])  # who may not read the audit log
        for client, url, status in ((anonymous, "/accounts/login/", 200), (enterprise, "/no-such-page/", 404),
                                    (enterprise, "/core/audit/", 403)):
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            resp = client.get(url)
            assert resp.status_code == status, url
            words = leaks(resp.content.decode(), language, data)
            if words:
                found[f"{language} {url}"] = words
    assert not found, found


def test_the_detector_sees_what_leaks():
    """The check itself: a label in the other language is found, codes and data are not."""
    zh = ('<p title="english title">已签收 accepted <code>91440300708461136X</code> ICBC-SZ '
          'SZQ-20200210-000001 loans.csv 10 MB</p><script>var x = "words";</script>')
    assert leaks(zh, "zh-hans", []) == ["accepted"]
    assert leaks("<p>ent 上传了 payments.csv，共 2 行</p>", "zh-hans", ["ent"]) == []  # a name inside a word stays
    assert leaks("<p>ent 签收了 Documents</p>", "zh-hans", ["ent"]) == ["Documents"]
    en = "<p>Accepted 深圳市南山云创电子科技有限公司 已签收</p>"
    assert leaks(en, "en", ["深圳市南山云创电子科技有限公司"]) == ["已签收"]
    chart = ('<script id="c" type="application/json">{"labels": ["南山区"], "series": [{"name": "Rate"}]}'
             '</script>')
    assert leaks(chart, "en", []) == ["南山区"]
