"""The forms of the 免申即享 lists' pages: compiling a list, the bureau's actions on one, and an enterprise's
objection or declining. Amounts are entered in 元 (``core.forms.MoneyField``, cleaned to whole fen)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiqi.core.forms import MoneyField

from .models import Objection


class CompileForm(forms.Form):
    item = forms.ChoiceField(label=_("免申即享事项"))
    batch = forms.IntegerField(label=_("贴息批次编号"), required=False, min_value=1,
                               help_text=_("贴息事项的名单由已拨付的贴息批次生成，填写批次编号；其他事项留空"))
    day = forms.DateField(label=_("名单日期"), required=False, help_text=_("留空为今天"))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(v.item.code, f"{v.item.code} {v.title}") for v in items]


class RemoveForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("移出原因"), max_length=300)


class DecideForm(forms.Form):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(label=_("处理结果"), choices=[("upheld", _("异议成立")), ("rejected", _("异议不成立"))],
                                 widget=forms.RadioSelect)
    reason = forms.CharField(label=_("处理理由"), max_length=300)
    granted = MoneyField(label=_("核定补充金额（元）"), required=False,
                         help_text=_("申请列入或金额异议成立时填写，进入补充公示"))


class ResultsForm(forms.Form):
    file = forms.FileField(label=_("支付结果文件"), help_text=_("CSV 或 XLSX：受益人证件号码、状态、金额（元）、备注"))


class ObjectionForm(forms.Form):
    auto_list = forms.IntegerField(widget=forms.HiddenInput)
    uscc = forms.ChoiceField(label=_("企业"))
    kind = forms.ChoiceField(label=_("异议类型"), choices=Objection.Kind.choices)
    text = forms.CharField(label=_("异议内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    requested = MoneyField(label=_("申请金额（元）"), required=False)

    def __init__(self, *args, enterprises=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["uscc"].choices = [(e.uscc, e.name) for e in enterprises]


class DeclineForm(forms.Form):
    entry = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("放弃原因"), max_length=300, required=False)
