"""The import page's form: the file; the importer checks every row (one place)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    file = forms.FileField(label=_("名录文件"), help_text=_("CSV 或 XLSX，按模板填写"),
                           widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
