"""Display helpers of the interest-subsidy pages: money in fen, reason codes, bilingual labels, IDs."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import get_language

from huiqi.core.money import format_yuan
from huiqi.lending.selectors import mask_borrower_id

from .. import rules

register = template.Library()

_mask = mask_borrower_id


def _english() -> bool:
    return (get_language() or "").startswith("en")


@register.filter
def yuan(fen):
    """Whole fen as yuan with thousands separators ('1,234.56'); '—' when there is no amount."""
    if fen is None or fen == "":
        return "—"
    return format_yuan(int(fen))


@register.filter
def reason_label(code):
    """A reason code of ``rules.REASONS`` in the page's language (the code itself when unknown)."""
    if not code:
        return ""
    zh, en = rules.REASONS.get(code, (code, code))
    return en if _english() else zh


_BILINGUAL = re.compile(r"^(\S*[\u3400-\u9fff]\S*) ([\x20-\x7e]+)$")


@register.filter
def one_language(label):
    """'已计算 run' (a bilingual choice label) → the part in the page's language; a label already in
    one language (translated by gettext) as it is."""
    text = str(label or "")
    m = _BILINGUAL.match(text)
    if not m:
        return text
    return m.group(2) if _english() else m.group(1)


@register.filter
def masked(identifier):
    """A person's resident ID masked ('4403**********123X'); a USCC as it is."""
    return _mask(identifier) if identifier else identifier



_BADGES = {"run": "pending", "reviewed": "running", "approved": "unchanged", "released": "succeeded",
           "cancelled": "failed", "pending": "pending", "paid": "succeeded", "failed": "failed",
           "nothing": ""}


@register.filter
def badge(status):
    """The shared badge colour class of a batch or payment status."""
    return _BADGES.get(str(status), "")
