"""The registry's list filters, shared by its pages and its API (see ``core.filters``)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huiqi.core.identifiers import normalize_uscc

from .models import Enterprise


class EnterpriseFilter(django_filters.FilterSet):
    """``q`` matches a USCC (whole or its start) or any part of the name, Chinese included; ``industry``
    is a section letter, or a division or group code; ``key=1`` the key enterprises."""

    q = django_filters.CharFilter(method="search", label=_("名称或统一社会信用代码"))
    district = django_filters.CharFilter(field_name="district_id")
    industry = django_filters.CharFilter(method="in_industry")
    size = django_filters.ChoiceFilter(field_name="size_class", choices=Enterprise.Size.choices)
    kind = django_filters.ChoiceFilter(choices=Enterprise.Kind.choices)
    key = django_filters.CharFilter(method="key_only")

    def search(self, queryset, name, value):
        code = normalize_uscc(value)
        if len(code) >= 6 and code.isalnum() and code.isascii():
            return queryset.filter(Q(uscc__startswith=code) | Q(name__icontains=value))
        return queryset.filter(name__icontains=value)

    def in_industry(self, queryset, name, value):
        value = value.upper()
        if len(value) == 1:
            return queryset.filter(industry__section=value)
        return queryset.filter(industry__code__startswith=value)

    def key_only(self, queryset, name, value):
        return queryset.filter(is_key_enterprise=True) if value in ("1", "true", "yes") else queryset
