"""Forms the GOV.UK way, one mechanism for every program's pages: ``{% load form_ui %}``.

``{% error_summary form %}`` puts at the top of the page a box (``role=alert``, focused when the page
opens) that says how many things need changing and lists every error of the form, field and non-field,
each a link to its field (``#id_<field>``). A ``DomainError`` a service raised joins the form's errors
with ``core.forms.add_domain_error(form, exc)`` (beside its field when it names one of the form's).

``{% field form.name %}`` renders one field: its label, a required marker (``aria-required``), the help
text, the error next to it, and the input as wide as what it takes (``w-num``, ``w-date``, ``w-s``, ``w-m``,
``w-l``, ``w-full``: the stylesheet's classes; every one full width on a phone).

``{% form_fields form %}`` renders every field of the form in order (hidden ones hidden), and
``core/_form.html`` a whole simple form: its fields and the submit button.
"""

from __future__ import annotations

from django import forms, template

register = template.Library()

SHORT, MEDIUM = 20, 60


def width_class(field: forms.Field) -> str:
    """The input's width from what it takes: numbers and dates narrow, texts by their longest length."""
    widget = field.widget
    if isinstance(widget, forms.Textarea):
        return "w-full"
    if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect,
                           forms.FileInput, forms.HiddenInput)):
        return ""
    if isinstance(field, (forms.DateField, forms.TimeField, forms.DateTimeField)):
        return "w-date"
    if isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField)):
        return "w-num"
    if isinstance(widget, forms.Select):
        return "w-m"
    if isinstance(field, forms.EmailField):
        return "w-l"
    length = getattr(field, "max_length", None)
    if length is None:
        return "w-l"
    return "w-s" if length <= SHORT else "w-m" if length <= MEDIUM else "w-l"


def is_group(bf) -> bool:
    """A field of several inputs (radios, checkboxes): a fieldset with a legend, not one label."""
    return isinstance(bf.field.widget, (forms.CheckboxSelectMultiple, forms.RadioSelect))


def anchor(bf) -> str:
    """The id a summary link points at: the input's (``id_<field>``; for radios and boxes the wrapper
    Django gives that id, whose first input the page's script focuses)."""
    return bf.id_for_label or bf.auto_id or f"id_{bf.name}"


def _describedby(bf) -> list[str]:
    ids = []
    if bf.help_text:
        ids.append(f"{bf.auto_id}_help")
    if bf.errors:
        ids.append(f"{bf.auto_id}_error")
    return ids


@register.inclusion_tag("core/_field.html")
def field(bf, wide=False):
    """One field with its label, required marker, help text and error (see the module)."""
    attrs = {}
    classes = [c for c in (bf.field.widget.attrs.get("class", ""), width_class(bf.field)) if c]
    if classes and not is_group(bf):
        attrs["class"] = " ".join(classes)
    if bf.field.required:
        attrs["aria-required"] = "true"
    if bf.errors:
        attrs["aria-invalid"] = "true"
    described = _describedby(bf)
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return {"f": bf, "widget": bf.as_widget(attrs=attrs), "group": is_group(bf), "wide": wide,
            "required": bf.field.required, "hidden": bf.is_hidden,
            "check": isinstance(bf.field.widget, forms.CheckboxInput)}


@register.inclusion_tag("core/_form_fields.html")
def form_fields(form, skip=""):
    """Every field of ``form`` in order (``skip``: names, comma separated, rendered by the page itself)."""
    left_out = {s.strip() for s in skip.split(",") if s.strip()}
    return {"fields": [bf for bf in form if bf.name not in left_out]}


def summary_items(form) -> list[dict]:
    """Every error of ``form`` as {"text", "href", "label", "field", "code"}: the form's own first (they
    concern the whole), then each field's in the form's order. A service's refusal is among them once
    the view added it (``core.forms.add_domain_error``)."""
    if form is None or not form.errors:
        return []
    data = form.errors.as_data()
    items = [{"text": message, "href": "#form", "label": "", "field": getattr(e, "field", ""), "code": e.code or ""}
             for e in data.get("__all__", []) for message in e]
    for bf in form:
        for e in data.get(bf.name, []):
            for message in e:
                items.append({"text": message, "href": f"#{anchor(bf)}", "label": bf.label, "field": bf.name,
                              "code": e.code or ""})
    return items


@register.inclusion_tag("core/_error_summary.html")
def error_summary(form=None):
    """The box of every error at the top of the page (nothing when there is none)."""
    items = summary_items(form)
    return {"items": items, "count": len(items)}
