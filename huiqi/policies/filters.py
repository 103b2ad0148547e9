"""The policy hub's list filters (``core.filters``): one ``FilterSet`` per list for the page and the API alike.
A value a filter cannot take is left out on the page and answered with a 400 naming the field on the API.
Also the push message log's."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from huiqi.core import clock
from huiqi.core.filters import iso_date

from .models import OPEN_STATES, ApplicationState, Channel, PushMessage


class ApplicationFilter(django_filters.FilterSet):
    """Online applications by state, item (its code), days submitted (inclusive), overdue (still with the
    department past the due day, today) and ``q``: part of the number, or the enterprise's name or USCC."""

    state = django_filters.ChoiceFilter(choices=ApplicationState.choices)
    item = django_filters.CharFilter(field_name="item__code", lookup_expr="iexact")
    vars()["from"] = iso_date(field_name="submitted_on", lookup_expr="gte")
    to = iso_date(field_name="submitted_on", lookup_expr="lte")
    overdue = django_filters.BooleanFilter(method="only_overdue")
    open = django_filters.BooleanFilter(method="only_open")
    q = django_filters.CharFilter(method="search")

    def only_overdue(self, queryset, name, value):
        late = Q(state__in=OPEN_STATES, due__lt=clock.today())
        return queryset.filter(late) if value else queryset.exclude(late)

    def only_open(self, queryset, name, value):
        return queryset.filter(state__in=OPEN_STATES) if value else queryset.exclude(state__in=OPEN_STATES)

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__icontains=value) | Q(enterprise__name__icontains=value)
                               | Q(enterprise__uscc__iexact=value))


class PushMessageFilter(django_filters.FilterSet):
    """Messages by channel, state, capped or not, the enterprise's USCC, an item's code and days (inclusive)."""

    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    state = django_filters.ChoiceFilter(choices=PushMessage.State.choices)
    capped = django_filters.BooleanFilter()
    uscc = django_filters.CharFilter(field_name="enterprise__uscc", lookup_expr="iexact")
    item = django_filters.CharFilter(field_name="entries__item__code", lookup_expr="iexact", distinct=True)
    vars()["from"] = iso_date(field_name="day", lookup_expr="gte")
    to = iso_date(field_name="day", lookup_expr="lte")
