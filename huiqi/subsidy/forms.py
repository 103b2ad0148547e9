"""Forms of the interest-subsidy pages: a simulation's cutoff and what-if parameters, running a batch,
the note of a batch action, a bank's reconciliation file.

Money is typed in 元 (commas allowed) and handed to the services as ``Decimal``; never a float.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class YuanField(forms.Field):
    """An amount in 元 with at most two decimals, commas and spaces ignored ('500,000' → 500000.00)."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
    default_error_messages = {
        "invalid": _("请输入金额（元），最多两位小数"),
        "negative": _("金额不能为负数"),
    }

    def to_python(self, value):
        value = (value or "").replace(",", "").replace("，", "").replace(" ", "").strip()
        if not value:
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if amount < 0:
            raise ValidationError(self.error_messages["negative"], code="negative")
        return amount.quantize(Decimal("0.01"))


class ParamsForm(forms.Form):
    """What-if overrides of the parameters in force on the cutoff; a blank field keeps the parameter."""

    rate = forms.DecimalField(label=_("贴息比例"), required=False, min_value=0, max_value=1, max_digits=7,
                              decimal_places=6, widget=forms.TextInput(attrs={"inputmode": "decimal",
                                                                              "placeholder": "0.5"}))
    months = forms.IntegerField(label=_("贴息月数"), required=False, min_value=1, max_value=120,
                                widget=forms.NumberInput(attrs={"placeholder": "6"}))
    cap = YuanField(label=_("每户上限（元）"), required=False)
    budget = YuanField(label=_("总预算（元）"), required=False)
    rationing = forms.ChoiceField(label=_("超预算处理"), required=False, choices=[
        ("", _("按现行参数")), ("pro_rata", _("按比例分配")), ("none", _("全额支付"))])
    window_start = forms.DateField(label=_("新增贷款窗口起"), required=False, widget=DateInput())
    window_end = forms.DateField(label=_("新增贷款窗口止"), required=False, widget=DateInput())

    def overrides(self) -> dict:
        """The filled fields by the spec's names (JSON-ready text, no floats)."""
        out = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            if name in ("window_start", "window_end"):
                out[name] = value.isoformat()
            elif name in ("rate", "cap", "budget"):
                out[name] = str(value)
            else:
                out[name] = value
        return out

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end < start:
            self.add_error("window_end", _("窗口结束日期早于开始日期"))
        return data


class SimulateForm(forms.Form):
    cutoff = forms.DateField(label=_("截止日期"), widget=DateInput())
    compare = forms.BooleanField(label=_("与另一组参数对比（B）"), required=False)


class RunForm(forms.Form):
    cutoff = forms.DateField(label=_("截止日期"), widget=DateInput())
    note = forms.CharField(label=_("备注"), required=False, max_length=500)


class ActionForm(forms.Form):
    note = forms.CharField(label=_("备注"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, note_required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required


class ReconcileForm(forms.Form):
    file = forms.FileField(label=_("对账文件（CSV 或 XLSX）"))

