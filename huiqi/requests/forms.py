"""Forms of the request pages. They check shape only; the rules (lengths, attachments, who may file)
are the services', so the page, the API and Open311 refuse the same input the same way."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huiqi.core.forms import MultipleFileField, add_domain_error

from . import rules
from .models import Category


class RequestForm(forms.Form):
    enterprise = forms.ChoiceField(label=_("企业"))
    category = forms.ModelChoiceField(queryset=Category.objects.filter(active=True), label=_("诉求类别"),
                                      to_field_name="code", empty_label=None)
    title = forms.CharField(label=_("标题"), max_length=200)
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 6}), max_length=100_000)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("电子邮箱"), required=False)
    attachments = MultipleFileField(label=_("附件"))

    def __init__(self, *args, enterprises=(), hotline=False, limits=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits  # the request parameters in force: the same rules the service applies
        if limits is not None:
            self.fields["attachments"].help_text = _("可上传 %(types)s，每个不超过 %(mb)s MB，最多 %(files)s 个。") % {
                "types": ", ".join(t.upper() for t in sorted(limits["attachment_types"])),
                "mb": format(limits["attachment_max_bytes"] / 1024 / 1024, "g"), "files": limits["attachment_max_files"]}
        if hotline:
            self.fields["contact_name"].label = _("来电人")
            self.fields["enterprise"] = forms.CharField(
                label=_("企业统一社会信用代码"), max_length=18,
                help_text=_("来电企业的统一社会信用代码（18 位）"))
        else:
            self.fields["enterprise"].choices = [(e.uscc, e.name) for e in enterprises]

    def clean(self):
        """Every problem at once: the service's rules on the text and the files (``rules``), each beside
        its field, so that the person fixes all of them in one go (the service checks again)."""
        data = super().clean()
        if self.limits is None:
            return data
        p = self.limits
        problems = [pr for pr in rules.check_text(data.get("title", ""), data.get("description", ""), p)
                    if pr.field in data]  # an empty field has its own error already
        files = data.get("attachments") or []
        if len(files) > p["attachment_max_files"]:
            problems.append(rules.Problem("request.attachment_count", _("附件最多 %(attachment_max_files)s 个"),
                                          field="attachments", attachment_max_files=p["attachment_max_files"]))
        for f in files:
            f.seek(0)
            head = f.read(16)
            f.seek(0)
            problem = rules.check_attachment(rules.safe_filename(f.name), f.size, head, p)
            if problem:
                problems.append(problem)
        for problem in problems:
            add_domain_error(self, problem.error())
        return data
