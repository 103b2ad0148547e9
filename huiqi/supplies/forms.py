"""The producers directory's forms: listing a producer (with its first product lines), editing its entry,
suspending and resuming it, and a product line. They only read input; every rule is the services'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from . import selectors

DATE = {"widget": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})}
# Lines of products on the listing form: the first is required, the others may stay blank.
LINES = 3


def _product_choices():
    return [("", "—")] + [(p.code, p.label_with_unit) for p in selectors.products()]


def _line_fields(prefix: str = "", required: bool = True) -> dict:
    """A product line's fields; ``prefix`` tells the listing form's extra lines apart."""
    return {
        f"{prefix}product": forms.ChoiceField(label=_("产品"), required=required, choices=_product_choices),
        f"{prefix}capacity_per_day": forms.IntegerField(label=_("日产能"), required=required,
                                                       help_text=_("按产品的计量单位，每天的产量")),
        f"{prefix}reported_from": forms.DateField(label=_("报告起始日"), required=False,
                                                  help_text=_("不填则为列入目录日期"), **DATE),
        f"{prefix}reported_to": forms.DateField(label=_("报告截止日"), required=False, **DATE),
    }


class EntryFields(forms.Form):
    """The producer's entry: its listing period (an end date with a reason), converted flag and contacts."""

    active_from = forms.DateField(label=_("列入目录日期"), **DATE)
    active_to = forms.DateField(label=_("有效期至"), required=False, help_text=_("移出目录的最后一天；不填为长期有效"),
                                **DATE)
    reason = forms.CharField(label=_("移出原因"), required=False, max_length=300,
                                     help_text=_("填写有效期至时必填"))
    converted = forms.BooleanField(label=_("转产企业"), required=False)
    contact_name = forms.CharField(label=_("联系人"), required=False, max_length=50)
    contact_phone = forms.CharField(label=_("联系电话"), required=False, max_length=30)


class ListingForm(EntryFields):
    """A new producer: its USCC, its entry and its first product lines (at least one)."""

    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    field_order = ["uscc", "active_from", "active_to", "reason", "converted", "contact_name",
                   "contact_phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_line_fields())
        for i in range(2, LINES + 1):
            self.fields.update(_line_fields(f"line{i}_", required=False))

    def clean(self):
        data = super().clean()
        for i in range(2, LINES + 1):
            p = f"line{i}_"
            capacity = f"{p}capacity_per_day"
            if data.get(f"{p}product") and data.get(capacity) is None and capacity not in self.errors:
                self.add_error(capacity, forms.ValidationError(_("填写了产品时须填写日产能"), code="required"))
        return data

    def lines(self) -> list[dict]:
        """The product lines filled in, in order, each with its fields' prefix on the form."""
        d, out = self.cleaned_data, []
        for p in ["", *(f"line{i}_" for i in range(2, LINES + 1))]:
            if d.get(f"{p}product"):
                out.append({"prefix": p, "code": d[f"{p}product"], "capacity_per_day": d[f"{p}capacity_per_day"],
                            "reported_from": d.get(f"{p}reported_from"), "reported_to": d.get(f"{p}reported_to")})
        return out


class SuspendForm(forms.Form):
    start = forms.DateField(label=_("暂停日期"), help_text=_("自该日起不再是在册生产企业"), **DATE)
    reason = forms.CharField(label=_("暂停原因"), max_length=300)


class ResumeForm(forms.Form):
    resume_on = forms.DateField(label=_("恢复日期"), help_text=_("自该日起恢复为在册生产企业"), **DATE)


class ProductLineForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_line_fields())
