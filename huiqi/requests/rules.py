"""Pure rules of the request channel: routing, attachment checks, deadline flags, Chinese text similarity.

Plain values in, plain values out; no database. ``services`` feeds them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import ValidationFailed

DEFAULTS: dict = {
    # An answered request the enterprise neither confirms nor reopens is closed after this many working days.
    "auto_close_days": 5,
    # A running deadline this many working days away or closer is flagged "near".
    "near_days": 1,
    # Escalated to the department head when the deadline passes; to the SME service bureau when it is
    # this many working days past.
    "bureau_after_days": 2,
    "title_max_chars": 100,
    "description_max_chars": 5000,
    "attachment_max_bytes": 10 * 1024 * 1024,
    "attachment_max_files": 5,
    "attachment_types": ["pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx"],
    "extension_max_days": 10,
    # Open requests of the same category at least this similar are suggested as related.
    "similarity_threshold": 0.35,
}

# The file's first bytes for each accepted type: the name alone is not trusted.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}
CONTENT_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword", "xls": "application/vnd.ms-excel",
}


class Problem:
    """A rule broken by an input: a stable code, the message (a msgid with params), the field."""

    def __init__(self, code: str, message, field: str | None = None, **params):
        self.code, self.message, self.field, self.params = code, message, field, params

    def error(self) -> ValidationFailed:
        return ValidationFailed(self.code, self.message, field=self.field, **self.params)

    def __repr__(self) -> str:
        return f"Problem({self.code!r}, field={self.field!r})"


# --- text and attachments ----------------------------------------------------------------------


# Control characters no text of a request has a use for: NUL, which PostgreSQL refuses in a text column,
# and the rest of C0 (but tab, line feed and carriage return), which XML 1.0 cannot carry at all.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(text: str | None) -> str:
    """``text`` without control characters: a request's words, whatever the channel sent."""
    return _CONTROL.sub("", text or "")


def check_text(title: str, description: str, p: Mapping) -> list[Problem]:
    """What is wrong with a request's title and description (empty, or longer than the parameters allow)."""
    problems = []
    if not (title or "").strip():
        problems.append(Problem("request.title_empty", _("请填写诉求标题"), field="title"))
    elif len(title) > p["title_max_chars"]:
        problems.append(Problem("request.title_long", _("标题不能超过 %(title_max_chars)s 个字"), field="title",
                                title_max_chars=p["title_max_chars"]))
    if not (description or "").strip():
        problems.append(Problem("request.description_empty", _("请填写诉求内容"), field="description"))
    elif len(description) > p["description_max_chars"]:
        problems.append(Problem(
            "request.description_long",
            _("诉求内容不能超过 %(description_max_chars)s 个字（现有 %(description_len)s 个字）"), field="description",
            description_max_chars=p["description_max_chars"], description_len=len(description)))
    return problems


def file_kind(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_attachment(name: str, size: int, head: bytes, p: Mapping) -> Problem | None:
    """Refuse a file whose type is not allowed, whose content is not of its type, or which is too large."""
    kind = file_kind(name)
    allowed = [t.lower() for t in p["attachment_types"]]
    if kind not in allowed:
        return Problem("request.attachment_type", _("附件“%(name)s”的类型不允许，只接受 %(allowed)s"),
                       field="attachments", name=name, allowed=", ".join(allowed),
                       items=", ".join(allowed))
    if size <= 0:
        return Problem("request.attachment_empty", _("附件“%(name)s”是空文件"), field="attachments", name=name,
                       name_2=repr(name))
    if size > p["attachment_max_bytes"]:
        mb = p["attachment_max_bytes"] / 1024 / 1024
        return Problem("request.attachment_size", _("附件“%(name)s”超过 %(mb)s MB"), field="attachments",
                       name=name, mb=format(mb, "g"))
    signatures = SIGNATURES.get(kind)
    if signatures and not any(head.startswith(s) for s in signatures):
        return Problem("request.attachment_content", _("附件“%(name)s”的内容与其扩展名 .%(kind)s 不符"),
                       field="attachments", name=name, kind=kind)
    return None


def safe_filename(name: str) -> str:
    """The file's own name without folders or characters a file system or header would misread."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[\x00-\x1f\"<>:|?*]", "_", base).strip(" .")
    return base[:150] or "file"


# --- routing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: int
    category: str | None
    district: str | None
    keywords: tuple[str, ...]
    size_class: str
    industry_section: str
    key_enterprise: bool | None
    agency: int
    handler: int | None


@dataclass(frozen=True)
class Subject:
    """What routing looks at: the request's category and text, the enterprise's attributes."""

    category: str
    district: str
    text: str
    size_class: str
    industry_section: str
    key_enterprise: bool


def split_keywords(text: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in re.split(r"[,，、;；\s]+", text or "") if k.strip())


def matches(rule: Rule, s: Subject) -> bool:
    if rule.category and rule.category != s.category:
        return False
    if rule.district and rule.district != s.district:
        return False
    if rule.size_class and rule.size_class != s.size_class:
        return False
    if rule.industry_section and rule.industry_section != s.industry_section:
        return False
    if rule.key_enterprise is not None and rule.key_enterprise != s.key_enterprise:
        return False
    if rule.keywords:
        text = s.text.lower()
        if not any(k.lower() in text for k in rule.keywords):
            return False
    return True


def route(rules: Sequence[Rule], s: Subject) -> Rule | None:
    """The first rule (in the given order) that matches, or None: the category's default then applies."""
    return next((r for r in rules if matches(r, s)), None)


# --- deadlines -----------------------------------------------------------------------------------


def deadline_flag(due: dt.date | None, today: dt.date, near_limit: dt.date) -> str:
    """'overdue' when the deadline is before today, 'near' when it is on or before ``near_limit`` (today
    plus the near-days parameter, in working days), '' otherwise or when no deadline runs."""
    if due is None:
        return ""
    if due < today:
        return "overdue"
    if due <= near_limit:
        return "near"
    return ""


# --- the clock ---------------------------------------------------------------------------------------
# What the services do to a request's deadlines, as plain functions of the working-day calendar (any
# object with ``add_working_days`` and ``working_days_between``), so that the demo city's histories are
# built by the same rules the services apply.

ONE_DAY = dt.timedelta(days=1)


def resumed_deadline(cal, answer_deadline: dt.date | None, paused_on: dt.date,
                     resumed_on: dt.date) -> tuple[int, dt.date | None]:
    """The enterprise replies to the department's question: (the working days in (paused_on, resumed_on]
    the wait covered, the answer deadline moved by as many working days)."""
    paused = cal.working_days_between(paused_on, resumed_on)
    return paused, (cal.add_working_days(answer_deadline, paused) if answer_deadline else None)


def escalation_days(cal, due: dt.date, bureau_after_days: int) -> tuple[dt.date, dt.date]:
    """The days the daily sweep raises a request still running with deadline ``due``: to the department's
    heads the day after it, to the SME service bureau on the first day more than ``bureau_after_days``
    working days past it (and never on the same day: one level a day)."""
    first = due + ONE_DAY
    return first, max(cal.add_working_days(due, bureau_after_days + 1), first + ONE_DAY)


def auto_close_day(cal, answered_on: dt.date, auto_close_days: int) -> dt.date:
    """The day the sweep closes an answered request the enterprise neither confirmed nor reopened: the
    first day more than ``auto_close_days`` working days after the answer."""
    return cal.add_working_days(answered_on, auto_close_days + 1)


# --- similarity ------------------------------------------------------------------------------------

_STOP = {"的", "了", "和", "是", "在", "我", "我们", "我司", "公司", "企业", "有", "也", "就", "都", "而", "及", "与", "或", "一个", "没有", "这", "那", "请", "希望", "能否", "是否", "如何", "怎么", "需要", "进行", "目前", "因为", "由于", "问题", "情况", "相关", "以及", "对", "为", "被", "把", "让", "给", "向", "从", "到", "等", "吗", "呢", "啊", "您好", "你好", "谢谢"}
_WORD = re.compile(r"[\u3400-\u9fffA-Za-z0-9]")


def tokenize(text: str) -> list[str]:
    """jieba tokens of ``text`` without punctuation, single characters and common words."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # its dictionary-loading chatter would go to every command's stderr
    return [t for t in (w.strip().lower() for w in jieba.lcut(text or ""))
            if len(t) > 1 and _WORD.search(t) and t not in _STOP]


def similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Cosine similarity of two token bags (0..1)."""
    ca, cb = Counter(a), Counter(b)
    if not ca or not cb:
        return 0.0
    dot = sum(ca[t] * cb[t] for t in ca.keys() & cb.keys())
    return dot / (math.sqrt(sum(v * v for v in ca.values())) * math.sqrt(sum(v * v for v in cb.values())))


# --- Open311 ---------------------------------------------------------------------------------------


def open311_status(status: str) -> str:
    """Open311 knows two states: a request is open until it is closed."""
    return "closed" if status == "closed" else "open"
