"""Return to work's list filters, shared by its pages and its API (see ``core.filters``)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

from huiqi.accounts.selectors import Role, role_of
from huiqi.core.filters import iso_date
from huiqi.registry import selectors as registry_selectors

from .models import PENDING, DifficultyKind, FilingStatus

# Days a page or a filter accepts: a date far outside is a typo (or a probe), and date arithmetic near
# year 1 or 9999 overflows.
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
# What waits for the district: its officers' queue.
AWAITING_DISTRICT = (FilingStatus.SUBMITTED, FilingStatus.ASSIGNED, FilingStatus.INSPECTED)


def day_filter(**kwargs) -> django_filters.DateFilter:
    return iso_date(validators=[MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)], **kwargs)


def known_district(code: str | None) -> str:
    """A district code if it names a district, else "" (the city)."""
    code = (code or "").strip()[:12]
    return code if code and registry_selectors.districts().filter(code=code).exists() else ""


class _ByEnterprise(django_filters.FilterSet):
    """Rows of enterprises (``enterprise_path`` leads from a row to its enterprise): ``q`` is part of the
    enterprise's name or its whole USCC; a ``district`` filter, where a list has one, is a district's code
    and narrows the lists of city-wide readers only (an officer's list is its district's already)."""

    enterprise_path = "enterprise__"

    q = django_filters.CharFilter(method="search")

    def search(self, queryset, name, value):
        value, path = value[:100], self.enterprise_path
        return queryset.filter(Q(**{f"{path}name__contains": value}) | Q(**{f"{path}uscc": value.upper()}))

    def in_district(self, queryset, name, value):
        if role_of(getattr(self.request, "user", None)) in (Role.DISTRICT, Role.ENTERPRISE):
            return queryset
        district = known_district(value)
        return queryset.filter(district_id=district) if district else queryset


class FilingFilter(_ByEnterprise):
    """Filings: ``status`` a status, or "pending" (what waits for the reader: the district's queue for an
    officer, a returned filing for an enterprise); ``q``; ``district``."""

    status = django_filters.ChoiceFilter(choices=[*FilingStatus.choices, ("pending", "pending")],
                                         method="in_status")
    district = django_filters.CharFilter(method="in_district")

    def in_status(self, queryset, name, value):
        if value != "pending":
            return queryset.filter(status=value)
        enterprise = role_of(getattr(self.request, "user", None)) == Role.ENTERPRISE
        return queryset.filter(status__in=PENDING if enterprise else AWAITING_DISTRICT)


class DailyCheckFilter(_ByEnterprise):
    """Daily checks: of a ``day``, of an ``enterprise`` (its USCC); ``q``; ``district``."""

    day = day_filter()
    enterprise = django_filters.CharFilter(field_name="enterprise__uscc")
    district = django_filters.CharFilter(method="in_district")


class MissingReportFilter(_ByEnterprise):
    """The enterprises that have not reported: ``q``; ``district``."""

    enterprise_path = ""

    district = django_filters.CharFilter(method="in_district")


class FollowUpFilter(_ByEnterprise):
    """Difficulties to follow up: of a ``kind``, reported on a ``day``; ``q``."""

    kind = django_filters.ChoiceFilter(choices=DifficultyKind.choices)
    day = day_filter()
