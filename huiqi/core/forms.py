"""The parameter page's form, derived from the parameter's registered schema (``params.FieldSet``): each
field's kind gives its input, its label and unit come from the schema, and the schema checks the whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from . import clock, params
from .errors import DomainError


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """A service's refusal among the form's errors, so the page's error summary lists it with the rest:
    each error of ``exc`` (``InvalidFields`` has several) beside the field it names, at the form's top
    when it names none of the form's fields. The error keeps its code (``data-error`` in the summary)."""
    form.errors  # a bound form is cleaned first (once), so the error is not cleaned away
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    for error in getattr(exc, "errors", None) or [exc]:
        name = error.field if error.field in form.fields else None
        invalid = forms.ValidationError(error.message, code=error.code)
        invalid.field = error.field or ""  # named in the summary (data-field) when the form has no such input
        form.add_error(name, invalid)


def _bound(value):
    return None if value is None else Decimal(str(value))


def _form_field(name: str, check: params.Check, required: bool) -> forms.Field:
    label = check.label or name
    common = {"label": label, "required": required, "help_text": check.unit}
    if check.kind == "integer":
        return forms.IntegerField(min_value=check.minimum, max_value=check.maximum, **common)
    if check.kind in ("decimal", "money"):
        places = 2 if check.money else None
        step = "0.01" if check.money else "any"
        return forms.DecimalField(min_value=_bound(check.minimum), max_value=_bound(check.maximum),
                                  decimal_places=places, widget=forms.NumberInput(attrs={"step": step}), **common)
    if check.kind == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    if check.kind == "time":
        return forms.TimeField(widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}), **common)
    if check.kind == "date":
        return forms.DateField(widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), **common)
    if check.kind == "choice":
        return forms.ChoiceField(choices=check.choices, **common)
    if check.kind == "choices":
        return forms.MultipleChoiceField(choices=check.choices, widget=forms.CheckboxSelectMultiple, **common)
    return forms.CharField(**common)


def _stored(check: params.Check, value):
    """A cleaned form value as the schema stores it."""
    if value is None:
        return None
    if check.kind == "money":
        return f"{value:.2f}"
    if check.kind == "decimal":
        return str(value) if check.text else float(value)
    if check.kind == "time":
        return value.strftime("%H:%M")
    if check.kind == "date":
        return value.isoformat()
    if check.kind == "choices":
        return list(value)
    return value


class ParameterForm(forms.Form):
    """A parameter's fields as typed inputs, the day the new value takes effect, and the reason."""

    def __init__(self, key: str, *args, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.key, self.schema, self.today = key, params.field_set(key), today or clock.today()
        for name, check in self.schema.checks.items():
            optional = self.schema.partial is False and name in self.schema.optional
            self.fields[name] = _form_field(name, check, required=not optional)
        self.fields["effective_from"] = forms.DateField(
            label=_("生效日期"), initial=self.today, help_text=_("今天或以后的日期"),
            widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "min": self.today.isoformat()}))
        self.fields["note"] = forms.CharField(label=_("修改原因"), required=False, max_length=300)

    def clean_effective_from(self):
        day = self.cleaned_data["effective_from"]
        if day < self.today:
            raise forms.ValidationError(
                _("生效日期不能早于今天（%(today)s）：已生效的取值是历史，只能以今天或以后生效的新取值更正"),
                code="past", params={"today": self.today.isoformat()})
        return day

    def values(self) -> dict:
        """The cleaned fields as the schema reads them ({field: value}; an empty optional field left out)."""
        out = {}
        for name, check in self.schema.checks.items():
            value = _stored(check, self.cleaned_data.get(name))
            if value is not None:
                out[name] = value
        return out

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                params.validate(self.key, self.schema.stored(self.values()))
            except DomainError as exc:
                self.add_domain_error(exc)
        return data

    def add_domain_error(self, exc: DomainError) -> None:
        """Each error of ``exc`` beside the field it names (the form's top when it names none)."""
        add_domain_error(self, exc)
