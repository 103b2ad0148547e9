"""Template tags through which a page of one app shows what the others declare (the site wires them)."""

from __future__ import annotations

from django import template

from ..todos import programs_of

register = template.Library()


@register.inclusion_tag("site/_enterprise_programs.html", takes_context=True)
def enterprise_programs(context, enterprise):
    """参与的惠企项目: each program's summary of ``enterprise`` for the signed-in user."""
    return {"programs": programs_of(context["request"].user, enterprise)}
