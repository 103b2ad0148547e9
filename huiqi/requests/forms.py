"""Forms of the request pages. They check shape only; the rules (lengths, attachments, who may file)
are the services', so the page, the API and Open311 refuse the same input the same way."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class RequestForm(forms.Form):
    enterprise = forms.ChoiceField(label=_("企业"))
    category = forms.ModelChoiceField(queryset=Category.objects.filter(active=True), label=_("诉求类别"),
                                      to_field_name="code", empty_label=None)
    title = forms.CharField(label=_("标题"), max_length=200, required=False)
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 6}), required=False,
                                  max_length=100_000)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("电子邮箱"), required=False)
    attachments = MultipleFileField(label=_("附件"))

    def __init__(self, *args, enterprises=(), hotline=False, **kwargs):
        super().__init__(*args, **kwargs)
        if hotline:
            self.fields["enterprise"] = forms.CharField(
                label=_("企业统一社会信用代码"), max_length=18,
                help_text=_("来电企业的统一社会信用代码（18 位）"))
        else:
            self.fields["enterprise"].choices = [(e.uscc, e.name) for e in enterprises]
