"""Display helpers of the return-to-work pages."""

from __future__ import annotations

import re

from django import template
from django.utils.translation import get_language

register = template.Library()

_BILINGUAL = re.compile(r"^(\S*[\u3400-\u9fff]\S*) ([\x20-\x7e]+)$")


@register.filter
def one_language(label) -> str:
    """A bilingual choice label ('已提交 submitted') → the part in the page's language."""
    text = str(label)
    m = _BILINGUAL.match(text)
    if not m:
        return text
    return m.group(2) if (get_language() or "").startswith("en") else m.group(1)


@register.filter
def pct(value) -> str:
    return "—" if value is None else f"{value}%"


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def filing_status(code) -> str:
    from huiqi.resumption.models import FilingStatus

    return one_language(dict(FilingStatus.choices).get(code, code)) if code else "—"
