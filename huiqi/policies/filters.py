"""The policy hub's list filters (``core.filters``): the push message log."""

from __future__ import annotations

import django_filters

from huiqi.core.filters import iso_date

from .models import Channel, PushMessage


class PushMessageFilter(django_filters.FilterSet):
    """Messages by channel, state, capped or not, the enterprise's USCC, an item's code and days (inclusive)."""

    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    state = django_filters.ChoiceFilter(choices=PushMessage.State.choices)
    capped = django_filters.BooleanFilter()
    uscc = django_filters.CharFilter(field_name="enterprise__uscc", lookup_expr="iexact")
    item = django_filters.CharFilter(field_name="entries__item__code", lookup_expr="iexact", distinct=True)
    vars()["from"] = iso_date(field_name="day", lookup_expr="gte")
    to = iso_date(field_name="day", lookup_expr="lte")
