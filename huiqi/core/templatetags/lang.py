"""The reader's language in templates: ``{% load lang %}``.

``{{ district|localized }}`` shows a reference row (district, industry, department, request category,
fund institution) by its name in the page's language; ``{{ record.message|shown }}`` shows a message
kept in the database as its msgid and params (``core.i18n.stored``) in the page's language.
"""

from __future__ import annotations

from django import template

from huiqi.core import i18n

register = template.Library()


@register.filter
def localized(obj, field: str = "name") -> str:
    return i18n.localized(obj, field)


@register.filter
def shown(text) -> str:
    return i18n.shown(text)
