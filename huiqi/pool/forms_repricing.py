"""The re-pricing page's forms: the set and the table (a preview, then the proposal), and the decision."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiqi.core import clock

from .models import Repricing

DATE = {"widget": forms.DateInput(attrs={"type": "date"})}


class RepricingForm(forms.Form):
    bank = forms.ChoiceField(label=_("银行"), required=False)
    registered_from = forms.DateField(label=_("入库日期起"), required=False, **DATE)
    registered_to = forms.DateField(label=_("入库日期止"), required=False, **DATE)
    product = forms.ChoiceField(label=_("贷款品种"), choices=Repricing.Product.choices, initial="any")
    table_on = forms.DateField(label=_("按此日生效的比例表定价"), help_text=_("该日生效的比例表和上限（项目参数）"), **DATE)
    note = forms.CharField(label=_("重新定价原因"), required=False, max_length=300)

    def __init__(self, *args, banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].choices = [("", _("全部银行")), *((b.code, b.name) for b in banks)]
        self.fields["table_on"].initial = clock.today()

    def clean(self):
        data = super().clean()
        start, end = data.get("registered_from"), data.get("registered_to")
        if start and end and end < start:
            self.add_error("registered_to", _("入库日期止早于入库日期起"))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("审批"), widget=forms.RadioSelect,
                                 choices=[("approve", _("批准并执行重新定价")), ("reject", _("驳回"))])
    confirm = forms.BooleanField(label=_("我已核对涉及的贷款和或有负债变化；批准后所选贷款的补偿比例将被改写，不能撤销。"),
                                 required=False)
    note = forms.CharField(label=_("审批意见"), required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "approve" and not data.get("confirm"):
            self.add_error("confirm", _("批准前请确认已核对重新定价的影响"))
        return data
