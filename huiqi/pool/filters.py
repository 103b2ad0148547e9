"""The pool's list filters (``core.filters``), one ``FilterSet`` per list for the page and the API alike: the
ledger's entries, the registered loans and the classifications. A value a filter cannot take is left out on the
page."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huiqi.core.filters import iso_date
from huiqi.lending.selectors import identifier_search

from . import rules
from .models import Classification, PoolEntry

# A registration's outcome as the list offers it: in the pool, screened out, or screened out for one reason.
OUTCOMES = [("covered", _("已入库")), ("screened", _("未入库")), *rules.REASONS.items()]


class EntryFilter(django_filters.FilterSet):
    """Ledger entries by kind, bank code, days (inclusive) and ``q``: a claim's number, a loan number or
    words of the note."""

    kind = django_filters.ChoiceFilter(choices=PoolEntry.Kind.choices)
    bank = django_filters.CharFilter(field_name="bank__code", lookup_expr="iexact")
    vars()["from"] = iso_date(field_name="on", lookup_expr="gte")
    to = iso_date(field_name="on", lookup_expr="lte")
    q = django_filters.CharFilter(method="search")

    def search(self, queryset, name, value):
        value = value.strip().lstrip("#")
        found = Q(claim__loan__loan_no__icontains=value) | Q(note__icontains=value)
        if value.isdigit() and len(value) < 18:
            found |= Q(claim_id=int(value))
        return queryset.filter(found)


class RegistrationFilter(django_filters.FilterSet):
    """Registered loans by bank code, outcome (in the pool, screened out, or a reason), registration days
    (inclusive), re-priced or not, and ``q``: part of the loan number or the borrower's name or USCC."""

    bank = django_filters.CharFilter(field_name="loan__bank__code", lookup_expr="iexact")
    outcome = django_filters.ChoiceFilter(choices=OUTCOMES, method="with_outcome")
    vars()["from"] = iso_date(field_name="registered_date", lookup_expr="gte")
    to = iso_date(field_name="registered_date", lookup_expr="lte")
    repriced = django_filters.BooleanFilter(field_name="repriced_at", lookup_expr="isnull", exclude=True)
    q = django_filters.CharFilter(method="search")

    def with_outcome(self, queryset, name, value):
        if value == "covered":
            return queryset.filter(reason="")
        if value == "screened":
            return queryset.exclude(reason="")
        return queryset.filter(reason=value)

    def search(self, queryset, name, value):
        return queryset.filter(Q(loan__loan_no__icontains=value) | Q(loan__borrower_name__icontains=value)
                               | identifier_search("loan__borrower_id", value))


class ClassificationFilter(django_filters.FilterSet):
    """A loan's classification history (``loan_no``, with ``bank`` for the bureau's readers), or a tier."""

    loan_no = django_filters.CharFilter(field_name="loan__loan_no")
    bank = django_filters.CharFilter(field_name="loan__bank__code")
    tier = django_filters.ChoiceFilter(choices=Classification.Tier.choices)

    class Meta:
        model = Classification
        fields = ["loan_no", "bank", "tier"]
