"""The pool's forms: thin, each hands its cleaned values to one service."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiqi.core import clock
from huiqi.core.forms import MoneyField

from .models import BankEvent, Claim
from .services import OUTCOME_REASONS


class ClaimForm(forms.Form):
    loan_no = forms.CharField(label=_("贷款合同编号"), max_length=64)
    outstanding_principal = MoneyField(label=_("不良本金（元）"), required=False,
                             help_text=_("不填则按已报送的不良贷款记录"))
    recovered = MoneyField(label=_("已回收金额（元）"), required=False, help_text=_("不填则按已报送的不良贷款记录"))
    evidence = forms.CharField(label=_("证明材料说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                               help_text=_("列明催收、诉讼、核销等材料及其编号"))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)


class NewClaimForm(ClaimForm):
    """Filing: the NPL date too (a resubmitted claim keeps the one it was filed with)."""

    npl_date = forms.DateField(label=_("不良认定日期"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                               help_text=_("不填则按本行报送的五级分类（首次分为次级或更差的日期），或不良贷款记录"))
    field_order = ["loan_no", "npl_date", "outstanding_principal", "recovered", "evidence", "idempotency_key"]


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=_("审核结果"), choices=Claim.Outcome.choices, widget=forms.RadioSelect)
    amount = MoneyField(label=_("部分补偿金额（元）"), required=False)
    reason = forms.ChoiceField(label=_("原因"), required=False,
                               choices=[("", "—"), *((k, v) for k, v in OUTCOME_REASONS.items())])
    note = forms.CharField(label=_("审核意见"), required=False, max_length=300)


class DecideForm(forms.Form):
    agree = forms.TypedChoiceField(label=_("审批"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                   choices=[("yes", _("同意审核结果")), ("no", _("退回重新审核"))])
    note = forms.CharField(label=_("审批意见"), required=False, max_length=300)


class RecoveryForm(forms.Form):
    recovery = MoneyField(label=_("新增追偿金额（元）"))
    note = forms.CharField(label=_("说明"), required=False, max_length=300)


class ClawbackForm(forms.Form):
    amount = MoneyField(label=_("追回金额（元）"))
    reason = forms.CharField(label=_("追回原因（审计发现）"), max_length=300)
    repaid = forms.BooleanField(label=_("银行已退回款项（否则从该行下次补偿中抵扣）"), required=False)


class BankStepForm(forms.Form):
    bank = forms.CharField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("事项"), choices=BankEvent.Kind.choices)
    on = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    agreement_version = forms.CharField(label=_("协议版本"), required=False, max_length=40)
    note = forms.CharField(label=_("说明"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = clock.today()


class TopUpForm(forms.Form):
    amount = MoneyField(label=_("注资金额（元）"))
    on = forms.DateField(label=_("到账日期"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("说明"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = clock.today()


class EvidenceForm(forms.Form):
    evidence = forms.CharField(label=_("证明材料说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                               help_text=_("列明催收、诉讼、核销等材料及其编号"))
