"""Page forms: they only coerce types; every rule is the services' (one place)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiqi.core import clock
from huiqi.core.forms import MultipleFileField
from huiqi.core.i18n import localized

from .models import CheckResult, DifficultyKind


def _count(label):
    return forms.IntegerField(label=label, initial=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))


class FilingForm(forms.Form):
    planned_date = forms.DateField(label=_("计划复工日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    staff_total = _count(_("员工总数"))
    staff_returning = _count(_("返岗人数"))
    staff_from_outside = _count(_("省外返深人数"))
    staff_in_quarantine = _count(_("隔离观察人数"))
    masks = _count(_("口罩（只）"))
    thermometers = _count(_("体温计（支）"))
    disinfectant_litres = _count(_("消毒液（升）"))
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    checklist = forms.MultipleChoiceField(label=_("防控条件"), required=False, widget=forms.CheckboxSelectMultiple)
    attachments = MultipleFileField(label=_("附件（图片或 PDF）"), accept="image/*,application/pdf")
    note = forms.CharField(label=_("整改说明"), required=False, max_length=500)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checklist"].choices = [(i.code, localized(i, "text")) for i in items]
        self.items = items


class DeclareForm(forms.Form):
    planned_date = forms.DateField(label=_("复工日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    staff_total = _count(_("员工总数"))
    staff_returning = _count(_("返岗人数"))
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)


class AssignForm(forms.Form):
    inspector = forms.ChoiceField(label=_("核查员"))

    def __init__(self, *args, inspectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspector"].choices = [(u.pk, str(u)) for u in inspectors]


class CheckForm(forms.Form):
    check_result = forms.ChoiceField(label=_("核查结果"), choices=CheckResult.choices)
    check_findings = forms.CharField(label=_("核查发现"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label=_("现场照片"), accept="image/*,application/pdf")


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("意见或退回原因"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DailyCheckForm(forms.Form):
    day = forms.DateField(label=_("排查日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    is_open = forms.TypedChoiceField(label=_("今日是否开工"), coerce=lambda v: v == "1",
                                     choices=[("1", _("已开工")), ("0", _("未开工"))], widget=forms.RadioSelect)
    staff_total = _count(_("员工总数"))
    staff_returned = _count(_("已返岗人数"))
    staff_on_site = _count(_("今日在岗人数"))
    capacity_pct = forms.IntegerField(label=_("产能恢复（%）"), initial=0,
                                      widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    suspected_cases = _count(_("疑似病例"))
    confirmed_cases = _count(_("确诊病例"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].initial = clock.today()
        for kind, label in DifficultyKind.choices:
            self.fields[f"difficulty_{kind}"] = forms.BooleanField(label=label, required=False)
            self.fields[f"note_{kind}"] = forms.CharField(label=_("说明"), required=False, max_length=500)
            self.fields[f"help_{kind}"] = forms.BooleanField(label=_("需要协调"), required=False)

    def difficulty_rows(self):
        return [{"kind": kind, "label": label, "on": self[f"difficulty_{kind}"], "note": self[f"note_{kind}"],
                 "help": self[f"help_{kind}"]} for kind, label in DifficultyKind.choices]

    def difficulties(self) -> list[dict]:
        """The difficulties reported: a kind whose box is ticked, or that has a note or asks for help (a
        request for help must not be lost because the kind's own box was left empty)."""
        d = self.cleaned_data
        return [{"kind": kind, "note": d.get(f"note_{kind}", ""), "needs_help": d.get(f"help_{kind}", False)}
                for kind in DifficultyKind.values
                if d.get(f"difficulty_{kind}") or d.get(f"help_{kind}") or (d.get(f"note_{kind}") or "").strip()]

    def values(self) -> dict:
        d = self.cleaned_data
        return {k: d[k] for k in ("is_open", "staff_total", "staff_returned", "staff_on_site", "capacity_pct",
                                  "suspected_cases", "confirmed_cases")}


class FollowUpForm(forms.Form):
    difficulty = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("跟进情况"), max_length=500)
