"""The import page's form: the file; the importer checks every row (one place)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("文件类型"), required=False, initial="registry",
                             help_text=_("企业名录、所有制性质或失信被执行人名单，各有模板"))
    file = forms.FileField(label=_("名录文件"), help_text=_("CSV 或 XLSX，按模板填写"),
                           widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))

    def __init__(self, *args, **kwargs):
        from .models import RegistryImport

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = RegistryImport.Kind.choices

    def clean_kind(self):
        return self.cleaned_data.get("kind") or "registry"
