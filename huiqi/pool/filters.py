"""The pool's list filters, one ``FilterSet`` per list for the page and the API alike."""

from __future__ import annotations

import django_filters

from .models import Classification


class ClassificationFilter(django_filters.FilterSet):
    """A loan's classification history (``loan_no``, with ``bank`` for the bureau's readers), or a tier."""

    loan_no = django_filters.CharFilter(field_name="loan__loan_no")
    bank = django_filters.CharFilter(field_name="loan__bank__code")
    tier = django_filters.ChoiceFilter(choices=Classification.Tier.choices)

    class Meta:
        model = Classification
        fields = ["loan_no", "bank", "tier"]
