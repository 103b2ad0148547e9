"""The request list's filters, shared by its page, its figures and the API (see ``core.filters``)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from huiqi.core import clock
from huiqi.core.filters import iso_date

from . import selectors
from .models import Channel, Status

STATUSES = [("open", "open"), *Status.choices]
FLAGS = [("overdue", "overdue"), ("near", "near"), ("supervised", "supervised"), ("escalated", "escalated"),
         ("extension", "extension")]


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class RequestFilter(django_filters.FilterSet):
    """``status`` a status or "open" (not closed); ``category``, ``agency`` codes, ``district``, ``channel``;
    ``flag`` overdue, near (its deadline within the parameter's working days), supervised, escalated,
    extension (an extension waits for the reader's decision); ``q``
    the whole number or part of the title or the enterprise's name; ``from``–``to`` the days submitted."""

    status = django_filters.ChoiceFilter(choices=STATUSES, method="in_status")
    category = django_filters.CharFilter(field_name="category__code")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    district = django_filters.CharFilter(field_name="district_id")
    agency = django_filters.CharFilter(field_name="agency__code")
    flag = django_filters.ChoiceFilter(choices=FLAGS, method="flagged")
    q = django_filters.CharFilter(method="search")
    # ``from`` and ``to`` are the URL's names; ``from`` is a Python keyword, hence vars().
    vars()["from"] = iso_date(method="submitted_from")
    to = iso_date(method="submitted_to")

    def __init__(self, *args, today: dt.date | None = None, near_limit: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or clock.today()
        self.near_limit = near_limit

    def in_status(self, queryset, name, value):
        return queryset.exclude(status=Status.CLOSED) if value == "open" else queryset.filter(status=value)

    def flagged(self, queryset, name, value):
        today = self.today
        if value == "overdue":
            return queryset.filter(due_date__lt=today, status__in=[Status.SUBMITTED, Status.ACCEPTED,
                                                                   Status.IN_PROGRESS])
        if value == "near":
            if self.near_limit is None:
                self.near_limit = selectors.near_limit(today, selectors.current_params(today)["near_days"])
            if self.near_limit is None:
                return queryset
            return queryset.filter(due_date__gte=today, due_date__lte=self.near_limit)
        if value == "supervised":
            return queryset.filter(supervised=True)
        if value == "extension":
            return queryset.filter(pk__in=selectors.extensions_to_decide(getattr(self.request, "user", None))
                                   .values("request_id"))
        return queryset.filter(escalation_level__gt=0)

    def search(self, queryset, name, value):
        return queryset.filter(Q(number=value) | Q(title__contains=value)
                               | Q(enterprise__name__contains=value))

    def submitted_from(self, queryset, name, value):
        return queryset.filter(submitted_at__gte=_start_of(value))

    def submitted_to(self, queryset, name, value):
        return queryset.filter(submitted_at__lt=_start_of(value + dt.timedelta(days=1)))


class _When(forms.Field):
    """An ISO 8601 datetime (Shanghai time when it has no offset), refused where no stored datetime can be
    compared with it (year 1 in another zone, year 9999)."""

    default_error_messages = {"invalid": "start_date and end_date must be ISO 8601 datetimes"}

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        try:
            when = dt.datetime.fromisoformat(value)
            when = when if timezone.is_aware(when) else timezone.make_aware(when)
            when.astimezone(dt.UTC) + dt.timedelta(days=1)
            when.astimezone(timezone.get_current_timezone()) - dt.timedelta(days=1)
        except (ValueError, OverflowError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        return when


class _Words(forms.Field):
    """A comma-separated list (the standard's form), empty items dropped; ``allowed`` limits the words."""

    default_error_messages = {"invalid": "%(name)s must be one of %(allowed)s"}

    def __init__(self, *args, allowed=None, **kwargs):
        self.allowed = allowed
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        words = [w.strip() for w in (value or "").split(",") if w.strip()]
        if self.allowed is not None and set(words) - set(self.allowed):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return words


class _WordsFilter(django_filters.Filter):
    field_class = _Words


class _WhenFilter(django_filters.Filter):
    field_class = _When


class Open311Filter(django_filters.FilterSet):
    """The Open311 GeoReport v2 list: ``service_request_id`` (numbers, comma-separated; the other filters
    then do not apply, as the standard has it), ``service_code`` (comma-separated), ``start_date`` and
    ``end_date`` (the last ``DEFAULT_DAYS`` days when neither is given), ``status`` open, closed or both."""

    DEFAULT_DAYS = 90

    service_request_id = _WordsFilter(field_name="number", lookup_expr="in")
    service_code = _WordsFilter(field_name="category__code", lookup_expr="in")
    start_date = _WhenFilter(field_name="submitted_at", lookup_expr="gte")
    end_date = _WhenFilter(field_name="submitted_at", lookup_expr="lte")
    status = _WordsFilter(method="in_states", allowed=("open", "closed"),
                          error_messages={"invalid": "status must be open or closed"})

    def filter_queryset(self, queryset):
        given = self.form.cleaned_data
        if given.get("service_request_id"):
            return self.filters["service_request_id"].filter(queryset, given["service_request_id"])
        if given.get("start_date") is None and given.get("end_date") is None:
            since = clock.now() - dt.timedelta(days=self.DEFAULT_DAYS)
            queryset = queryset.filter(submitted_at__gte=since)
        return super().filter_queryset(queryset)

    def in_states(self, queryset, name, value):
        if set(value) == {"open"}:
            return queryset.exclude(status=Status.CLOSED)
        if set(value) == {"closed"}:
            return queryset.filter(status=Status.CLOSED)
        return queryset

    def refusal(self) -> str | None:
        """The first reason the query is refused (its filters other than the numbers apply), or None."""
        if self.is_valid() or self.form.cleaned_data.get("service_request_id"):
            return None
        return next(iter(self.errors.values()))[0]
