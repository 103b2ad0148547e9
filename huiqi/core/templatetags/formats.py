"""Figures and times for people in templates: ``{% load formats %}`` (the functions are ``core.formats``).

``{{ fen|yuan }}`` "1,234,567.89" · ``{{ fen|wan }}`` 万元 · ``{{ fen|yi }}`` 亿元 (the unit in the heading) ·
``{{ n|count }}`` "1,234" · ``{{ percent|pct }}`` "12.34%" (``pct:1`` one place) · ``{{ fraction|rate }}``
"12.34%" · ``{{ moment|beijing }}`` "2020-04-02 14:05" in Beijing time (``beijing:"second"``, ``"date"``,
``"time"``, ``"short"``). Nothing shows "—"; text that is not a number ("—" from ``default``) passes
through as it is.
"""

from __future__ import annotations

from django import template

from huiqi.core import formats

register = template.Library()


def _shown(function, value, *args):
    try:
        return function(value, *args)
    except ValueError:
        return value


@register.filter
def yuan(fen, places=2):
    return _shown(formats.yuan, fen, int(places))


@register.filter
def wan(fen, places=2):
    return _shown(formats.wan, fen, int(places))


@register.filter
def yi(fen, places=2):
    return _shown(formats.yi, fen, int(places))


@register.filter
def number(value, places=0):
    """A figure in its own unit (a CSV's yuan text, say) with separators and ``places`` decimals."""
    return _shown(formats.number, value, int(places))


@register.filter
def count(value):
    return _shown(formats.count, value)


@register.filter
def pct(percent, places=2):
    return _shown(formats.pct, percent, int(places))


@register.filter
def rate(fraction, places=2):
    return _shown(formats.rate, fraction, int(places))


@register.filter
def beijing(value, shape="minute"):
    return _shown(formats.beijing, value, shape)


@register.filter
def day(value):
    return _shown(formats.day, value)
