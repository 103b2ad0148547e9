"""The parameter page's form, derived from the parameter's registered schema (``params.FieldSet``): each
field's kind gives its input, its label and unit come from the schema, and the schema checks the whole."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import clock, params
from .errors import DomainError
from .money import yuan_to_fen


def add_domain_error(form: forms.Form, exc: DomainError, skip=frozenset()) -> None:
    """A service's refusal among the form's errors, so the page's error summary lists it with the rest:
    each error of ``exc`` (``InvalidFields`` has several) beside the field it names, at the form's top
    when it names none of the form's fields. The error keeps its code (``data-error`` in the summary)."""
    form.errors  # a bound form is cleaned first (once), so the error is not cleaned away
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    for error in getattr(exc, "errors", None) or [exc]:
        for sub in getattr(error, "errors", None) or [error]:  # a table's cells: <field>.<row>.<column>
            base = (sub.field or "").split(".")[0]
            if base in skip or (skip and base not in form.fields):
                continue  # the field has its error already; a rule across fields waits until every field reads
            invalid = forms.ValidationError(sub.message, code=sub.code)
            invalid.field = sub.field or ""  # named in the summary (data-field) when the form has no such input
            form.add_error(base if base in form.fields else None, invalid)


class MoneyField(forms.DecimalField):
    """An amount in 元 with at most two places, cleaned to whole fen."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=16, decimal_places=2, min_value=Decimal("0"), **kwargs)

    def to_python(self, value):
        # People write amounts with thousands separators and full-width digits: "1,000,000.00".
        if isinstance(value, str):
            value = value.translate(str.maketrans("０１２３４５６７８９．，", "0123456789.,")).replace(",", "").strip()
        return super().to_python(value)

    def clean(self, value):
        amount = super().clean(value)
        return None if amount is None else yuan_to_fen(amount)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (attachments), cleaned to a list (empty when none); ``accept`` narrows what
    the browser offers to choose. What a file may be is the service's rule, not the field's."""

    def __init__(self, *args, accept: str | None = None, **kwargs):
        attrs = {"multiple": True, **({"accept": accept} if accept else {})}
        kwargs.setdefault("widget", MultipleFileInput(attrs=attrs))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class UploadForm(forms.Form):
    """An upload page's form (``core.uploads``): which kind of file, and the file; the app's importer checks
    every row (one place). ``kinds``: the (code, label) choices the page offers."""

    kind = forms.ChoiceField(label=_("文件类型"))
    file = forms.FileField(label=_("文件"), help_text=_("CSV 或 XLSX，按模板填写"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)


def _bound(value):
    return None if value is None else Decimal(str(value))


class RowsWidget(forms.Widget):
    """A table of inputs, one row per row of the value and ``spare`` empty rows to add more; each cell is
    posted as ``<name>-<row>-<column>`` (rows from 0)."""

    spare = 3

    def __init__(self, columns, attrs=None):
        super().__init__(attrs)
        self.columns = columns

    def _cell(self, name, i, col, check, value):
        cell = f"{name}-{i}-{col}"
        label = format_html('aria-label="{} {}"', check.label or col, i + 1)
        if check.kind in ("choice",):
            options = format_html_join("", '<option value="{}"{}>{}</option>',
                                       ((v, mark_safe(" selected") if str(value) == str(v) else "", lab)
                                        for v, lab in (("", "—"), *check.choices)))
            return format_html('<select name="{}" {}>{}</select>', cell, label, options)
        kind = {"date": "date", "integer": "number"}.get(check.kind, "text")
        mode = ' inputmode="decimal"' if check.kind in ("decimal", "money") else ""
        return format_html('<input type="{}" name="{}" value="{}" {}{}>', kind, cell, value or "", label,
                           mark_safe(mode))

    def render(self, name, value, attrs=None, renderer=None):
        rows = list(value or []) + [{}] * self.spare
        head = format_html_join("", "<th scope=\"col\">{}</th>", ((c.label or n,) for n, c in self.columns))
        body = format_html_join("", "<tr>{}</tr>", (
            (format_html_join("", "<td>{}</td>", ((self._cell(name, i, col, check, row.get(col, "")),)
                                                  for col, check in self.columns)),)
            for i, row in enumerate(rows)))
        return format_html('<table class="rows-input" id="{}" data-rows="{}"><thead><tr>{}</tr></thead>'
                           "<tbody>{}</tbody></table>", (attrs or {}).get("id", f"id_{name}"), name, head, body)

    def value_from_datadict(self, data, files, name):
        out, i = [], 0
        while any(f"{name}-{i}-{col}" in data for col, _check in self.columns):
            row = {col: (data.get(f"{name}-{i}-{col}") or "").strip() for col, _check in self.columns}
            if any(row.values()):
                out.append(row)
            i += 1
        return out


class RowsField(forms.Field):
    """A table's rows as a list of {column: text}; blank rows are dropped, the schema checks the cells."""

    def __init__(self, columns, **kwargs):
        self.columns = columns
        super().__init__(widget=RowsWidget(columns), **kwargs)

    def to_python(self, value):
        return [dict(row) for row in (value or [])]

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


def _form_field(name: str, check: params.Check, required: bool) -> forms.Field:
    label = check.label or name
    common = {"label": label, "required": required, "help_text": check.unit}
    if check.kind == "rows":
        return RowsField(check.columns, **{**common, "required": False})
    if check.kind == "codes":
        return CodesField(**{**common, "required": False})
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
    if check.kind == "text":
        return forms.CharField(max_length=check.maximum, **common)
    return forms.CharField(**common)


class CodesField(forms.CharField):
    """Codes typed as one line, separated by commas, spaces or 、 (stored as a list, upper-case)."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [c.upper() for c in text.replace("、", ",").replace("，", ",").replace(" ", ",").split(",") if c]


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
    if check.kind in ("choices", "codes"):
        return list(value)
    if check.kind == "rows":
        return [{col: cell for col, cell in row.items() if cell != ""} for row in value]
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
        # The schema checks what the inputs could read even when some could not, so that every error of
        # the form is named at once; a field that already has its error gets no second one.
        failed = set(self.errors)
        if self.schema.scalar and failed:
            return data
        try:
            params.validate(self.key, self.schema.stored(self.values()))
        except DomainError as exc:
            self.add_domain_error(exc, skip=failed)
        return data

    def add_domain_error(self, exc: DomainError, skip=frozenset()) -> None:
        """Each error of ``exc`` beside the field it names (the form's top when it names none)."""
        add_domain_error(self, exc, skip)
