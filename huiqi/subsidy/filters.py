"""The interest subsidy's list filters, shared by its pages and its API (see ``core.filters``)."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huiqi.core.filters import IdFilter
from huiqi.lending.selectors import BorrowerKind, identifier_search

from . import rules
from .models import BatchStatus, PaymentStatus

# A loan line's outcome as the pages offer it: counted, left out, or left out for one reason.
OUTCOMES = [("eligible", _("计入")), ("ineligible", _("不计入"))] + list(rules.REASONS.items())


class BatchFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BatchStatus.choices)


class PaymentFilter(django_filters.FilterSet):
    """Beneficiary lines: of a batch, by part of the beneficiary's name or USCC (a person's resident ID, shown
    masked, only whole), kind, status."""

    batch = IdFilter(field_name="batch_id")
    q = django_filters.CharFilter(method="search")
    kind = django_filters.ChoiceFilter(choices=BorrowerKind.choices)
    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices)

    def search(self, queryset, name, value):
        return queryset.filter(identifier_search("beneficiary_id", value) | Q(name__icontains=value))


class LoanLineFilter(django_filters.FilterSet):
    """Loan lines: of a batch, by part of the loan number, borrower's name or USCC (a resident ID only whole),
    bank code, and ``outcome`` (the pages': eligible, ineligible or a reason) or ``eligible`` and ``reason``
    (the API's)."""

    batch = IdFilter(field_name="batch_id")
    q = django_filters.CharFilter(method="search")
    bank = django_filters.CharFilter(field_name="loan__bank__code", lookup_expr="iexact")
    outcome = django_filters.ChoiceFilter(choices=OUTCOMES, method="with_outcome")
    eligible = django_filters.BooleanFilter()
    reason = django_filters.ChoiceFilter(choices=list(rules.REASONS.items()))

    def search(self, queryset, name, value):
        return queryset.filter(Q(loan__loan_no__icontains=value) | identifier_search("beneficiary_id", value)
                               | Q(loan__borrower_name__icontains=value))

    def with_outcome(self, queryset, name, value):
        if value in ("eligible", "ineligible"):
            return queryset.filter(eligible=value == "eligible")
        return queryset.filter(reason=value)
