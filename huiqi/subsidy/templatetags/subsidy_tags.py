"""Display helpers of the interest-subsidy pages: reason codes, IDs, badges (money: ``{% load formats %}``)."""

from __future__ import annotations

from django import template

from huiqi.lending.selectors import mask_borrower_id

from .. import rules

register = template.Library()

_mask = mask_borrower_id


@register.filter
def reason_label(code):
    """A reason code of ``rules.REASONS`` in the page's language (the code itself when unknown)."""
    if not code:
        return ""
    return rules.REASONS.get(code, code)


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
