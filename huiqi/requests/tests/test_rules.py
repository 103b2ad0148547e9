"""The pure rules: routing, attachment checks, deadline flags, text similarity, the Open311 status."""

from __future__ import annotations

import datetime as dt

import pytest

from huiqi.requests import rules

P = dict(rules.DEFAULTS)
S = rules.Subject(category="financing", district="440305", text="贷款即将到期，申请续贷", size_class="small",
                  industry_section="C", key_enterprise=False)


def rule(**kw):
    base = dict(id=1, category=None, district=None, keywords=(), size_class="", industry_section="",
                key_enterprise=None, agency=7, handler=None)
    return rules.Rule(**{**base, **kw})


def test_empty_conditions_match_everything():
    assert rules.matches(rule(), S)


@pytest.mark.parametrize("kw, hit", [
    ({"category": "financing"}, True), ({"category": "rent"}, False),
    ({"district": "440304"}, False), ({"keywords": ("房租", "续贷")}, True), ({"keywords": ("房租",)}, False),
    ({"size_class": "small"}, True), ({"size_class": "large"}, False),
    ({"industry_section": "C"}, True), ({"key_enterprise": True}, False), ({"key_enterprise": False}, True),
])
def test_each_condition(kw, hit):
    assert rules.matches(rule(**kw), S) is hit


def test_first_match_in_order():
    found = rules.route([rule(id=1, category="rent"), rule(id=2, keywords=("续贷",)), rule(id=3)], S)
    assert found.id == 2
    assert rules.route([rule(category="rent")], S) is None


def test_keywords_split_on_chinese_and_latin_separators():
    assert rules.split_keywords("口罩，熔喷布、防护服; 消毒 液") == ("口罩", "熔喷布", "防护服", "消毒", "液")


@pytest.mark.parametrize("title, description, code", [
    ("", "x", "request.title_empty"), ("x" * 101, "x", "request.title_long"),
    ("t", "", "request.description_empty"), ("t", "x" * 5001, "request.description_long"),
])
def test_text_problems(title, description, code):
    assert rules.check_text(title, description, P)[0].code == code


def test_text_ok():
    assert rules.check_text("标题", "内容" * 100, P) == []


@pytest.mark.parametrize("name, size, head, code", [
    ("a.pdf", 10, b"%PDF-1.4", None), ("a.PDF", 10, b"%PDF-1.4", None), ("a.png", 10, b"\x89PNG\r\n\x1a\n", None),
    ("a.docx", 10, b"PK\x03\x04", None), ("a.exe", 10, b"MZ", "request.attachment_type"),
    ("noext", 10, b"%PDF", "request.attachment_type"), ("a.pdf", 0, b"", "request.attachment_empty"),
    ("a.pdf", 10 * 1024 * 1024 + 1, b"%PDF-", "request.attachment_size"),
    ("a.jpg", 10, b"<svg onload=alert(1)>", "request.attachment_content"),
])
def test_attachments(name, size, head, code):
    problem = rules.check_attachment(name, size, head, P)
    assert (problem.code if problem else None) == code


def test_safe_filename():
    assert rules.safe_filename("../../etc/passwd") == "passwd"
    assert rules.safe_filename('C:\\x\\证明"<>.pdf') == "证明___.pdf"
    assert rules.safe_filename("...") == "file"


def test_deadline_flags():
    today, near = dt.date(2020, 2, 10), dt.date(2020, 2, 11)
    assert rules.deadline_flag(None, today, near) == ""
    assert rules.deadline_flag(dt.date(2020, 2, 7), today, near) == "overdue"
    assert rules.deadline_flag(today, today, near) == "near"
    assert rules.deadline_flag(near, today, near) == "near"
    assert rules.deadline_flag(dt.date(2020, 2, 12), today, near) == ""


def test_similarity_of_chinese_text():
    a = rules.tokenize("口罩生产急需熔喷布原料")
    b = rules.tokenize("熔喷布原料短缺，影响口罩生产")
    c = rules.tokenize("国有物业房租减免如何申请")
    assert "熔喷布" in a and "的" not in a
    assert rules.similarity(a, b) > 0.5 > rules.similarity(a, c)
    assert rules.similarity([], b) == 0.0


def test_open311_status():
    assert rules.open311_status("closed") == "closed"
    assert {rules.open311_status(s) for s in ("submitted", "waiting", "answered")} == {"open"}
