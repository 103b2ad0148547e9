"""Display helpers of the return-to-work pages."""

from __future__ import annotations

from django import template

register = template.Library()

@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def filing_status(code) -> str:
    from huiqi.resumption.models import FilingStatus

    return dict(FilingStatus.choices).get(code, code) if code else "—"
