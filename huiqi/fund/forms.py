"""The fund's forms: thin, each hands its cleaned values to one service."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiqi.core import clock
from huiqi.core.forms import MoneyField

from . import rules

_DATE = {"type": "date"}


def _day(label, **kw):
    return forms.DateField(label=label, widget=forms.DateInput(attrs=_DATE), initial=clock.today, **kw)


class Irreversible(forms.Form):
    """A step that cannot be undone: the person ticks that they checked it (the page asks again before it
    submits)."""

    confirm = forms.BooleanField(label=_("我已核对，确认办理（此操作不可撤销）"),
                                 error_messages={"required": _("此操作不可撤销，请勾选确认后再提交")})


class ApplicationForm(forms.Form):
    """A channel registers an application; an enterprise applies online (its USCC and the day are its own)."""

    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    channel = forms.ChoiceField(label=_("渠道"))
    amount = MoneyField(label=_("申请金额（元）"))
    term_months = forms.IntegerField(label=_("申请期限（月）"))
    received_date = _day(_("受理日期"))
    purpose = forms.CharField(label=_("资金用途"), max_length=300, required=False)
    impact = forms.CharField(label=_("疫情对企业现金流的影响"), widget=forms.Textarea(attrs={"rows": 4}),
                             max_length=2000, required=False,
                             help_text=_("说明订单、收入、成本和现金流受疫情影响的情况"))

    def __init__(self, *args, channels=(), enterprises=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(c.code, c.name) for c in channels]
        if enterprises is not None:
            self.fields["uscc"] = forms.ChoiceField(label=_("企业"), choices=[(e.uscc, e.name) for e in enterprises])
            del self.fields["received_date"]


class AdvanceForm(forms.Form):
    day = _day(_("日期"))
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class PauseForm(forms.Form):
    day = _day(_("日期"))
    note = forms.CharField(label=_("等待企业补充的内容"), max_length=300)


class ResumeForm(forms.Form):
    day = _day(_("企业补充材料的日期"))


class ProposeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("决策意见"), widget=forms.RadioSelect,
                                choices=[("approve", _("批准")), ("reject", _("不批准"))])
    amount = MoneyField(label=_("拟批准金额（元）"), required=False)
    term_months = forms.IntegerField(label=_("期限（月）"), required=False)
    rate = forms.DecimalField(label=_("年利率（不填按本计划利率）"), required=False, max_digits=9, decimal_places=6,
                              help_text=_("如 0.042；只能低于或等于本计划利率"))
    reason = forms.ChoiceField(label=_("不批准原因"), required=False,
                               choices=[("", "—"), *rules.REJECTION_REASONS.items()])
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class ConfirmForm(forms.Form):
    day = _day(_("决策日期"))
    note = forms.CharField(label=_("复核意见"), max_length=500, required=False)


class ContractForm(forms.Form):
    day = _day(_("签约日期"))


class TrancheForm(forms.Form):
    day = _day(_("放款日期"))
    amount = MoneyField(label=_("放款金额（元）"))


class RepaymentForm(forms.Form):
    day = _day(_("还款日期"))
    kind = forms.ChoiceField(label=_("类别"), choices=[("interest", _("利息")), ("principal", _("本金"))])
    amount = MoneyField(label=_("金额（元）"))


class WithdrawForm(Irreversible):
    day = _day(_("日期"))
    note = forms.CharField(label=_("说明"), max_length=300, required=False)
    field_order = ["day", "note", "confirm"]


class TransferForm(Irreversible):
    channel = forms.ChoiceField(label=_("转至渠道"))
    received_date = _day(_("新渠道受理日期"))
    note = forms.CharField(label=_("说明"), max_length=300, required=False)
    field_order = ["channel", "received_date", "note", "confirm"]

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(c.code, c.name) for c in channels]


class PriorityForm(forms.Form):
    reason = forms.ChoiceField(label=_("优先支持理由"), choices=list(rules.PRIORITY_REASONS.items()))
    note = forms.CharField(label=_("说明"), max_length=300)


class CancelRestForm(Irreversible):
    day = _day(_("日期"))
    note = forms.CharField(label=_("说明"), max_length=300, required=False)
    field_order = ["day", "note", "confirm"]


class ExtendForm(forms.Form):
    maturity_date = forms.DateField(label=_("展期后到期日"), widget=forms.DateInput(attrs=_DATE))
    note = forms.CharField(label=_("展期理由"), max_length=300)


class CloseForm(Irreversible):
    day = _day(_("结清日期"))
    field_order = ["day", "confirm"]
