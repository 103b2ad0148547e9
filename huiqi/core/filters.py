"""Query-string filters of core's lists (the audit log), and what every app's ``filters.py`` shares.

A list's filters are one ``django_filters.FilterSet``, used by its page and by its API viewset alike
(``filterset_class``). On a page a value the filter cannot take (a date that is no date, a status
that names none) is left out, as if not given; the API answers it with a 400 naming the field.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from . import audit
from .models import Job


def iso_date(**kwargs) -> django_filters.DateFilter:
    """A YYYY-MM-DD date and no other spelling (the pages' date inputs send that form)."""
    return django_filters.DateFilter(input_formats=["%Y-%m-%d"], **kwargs)


ID_MAX = 2**63 - 1  # a BIGINT column; a larger number is no id (and SQLite cannot bind it)


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": ID_MAX})
class IdFilter(django_filters.NumberFilter):
    """A record's id: whole digits, 1 up to the largest id a column holds (beyond it: a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(*args, **kwargs)


def apply(filterset_class, request, queryset: QuerySet, data=None, **kwargs) -> tuple[QuerySet, dict]:
    """A page's list: ``queryset`` filtered by the URL (or ``data``), and what the reader typed into
    each filter (stripped), for the page to show back."""
    data = request.GET if data is None else data
    filterset = filterset_class(data, queryset=queryset, request=request, **kwargs)
    typed = {name: (data.get(name) or "").strip() for name in filterset.filters}
    return filterset.qs, typed


class AuditFilter(django_filters.FilterSet):
    """The audit log by kind of record, action, who (part of the person's name or user name), their
    organisation (a key of ``audit.PEOPLE.organisations()``), the record (its id), words of the record's
    name or id (``q``), and days in Beijing time (inclusive)."""

    model = django_filters.CharFilter()
    action = django_filters.CharFilter()
    actor = django_filters.CharFilter(method="_actor")
    organisation = django_filters.CharFilter(method="_organisation")
    object_id = django_filters.CharFilter()
    q = django_filters.CharFilter(method="_text")
    # ``from`` and ``to`` are the URL's names; ``from`` is a Python keyword, hence vars().
    vars()["from"] = iso_date(field_name="at", lookup_expr="date__gte")
    to = iso_date(field_name="at", lookup_expr="date__lte")

    def _actor(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        who = audit.PEOPLE.matching(value)
        if value.casefold() in str(audit.SYSTEM_NAME).casefold():
            who |= Q(actor__isnull=True)  # "系统": what the platform did by itself
        return queryset.filter(who)

    def _organisation(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(audit.PEOPLE.of_organisation(value)) if value else queryset

    def _text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(object_repr__icontains=value) | Q(object_id=value))


class JobFilter(django_filters.FilterSet):
    """Background jobs by ``status`` and the day they were started from (``from``, inclusive)."""

    status = django_filters.ChoiceFilter(choices=Job.Status.choices)
    vars()["from"] = iso_date(field_name="created_at", lookup_expr="date__gte")
