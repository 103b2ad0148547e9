"""The ledger's list filters, shared by its page and its API (see ``core.filters``)."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from .models import BorrowerKind, Purpose


class LoanFilter(django_filters.FilterSet):
    """``q`` matches part of a loan number or borrower name, or a borrower's whole identifier;
    ``bank`` is a bank's code, ``kind`` the borrower's kind, ``purpose`` the loan's."""

    q = django_filters.CharFilter(method="search")
    bank = django_filters.CharFilter(field_name="bank__code")
    kind = django_filters.ChoiceFilter(field_name="borrower_kind", choices=BorrowerKind.choices)
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices)

    def search(self, queryset, name, value):
        return queryset.filter(Q(loan_no__icontains=value) | Q(borrower_name__icontains=value)
                               | Q(borrower_id=value.upper()))
