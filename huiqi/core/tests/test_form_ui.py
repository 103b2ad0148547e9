"""The shared form components (``core.templatetags.form_ui``, ``core.forms.add_domain_error``,
``core.formpages``): widths by what a field takes, every error in the summary linked to its field, a
service's refusal among them, a guide's numbers filled from its values; and the bank upload and registry
import pages built on them (guide before the form, errors listed, confirmation for the uploader only)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import InvalidFields, ValidationFailed
from huiqi.core.formpages import Guide, guide_context
from huiqi.core.forms import add_domain_error
from huiqi.core.templatetags.form_ui import summary_items, width_class


class Sample(forms.Form):
    code = forms.CharField(label="代码", max_length=18)
    name = forms.CharField(label="名称", max_length=50)
    address = forms.CharField(label="地址", max_length=200, required=False)
    count = forms.IntegerField(label="人数")
    day = forms.DateField(label="日期")
    note = forms.CharField(label="说明", widget=forms.Textarea, required=False)
    kind = forms.ChoiceField(label="类型", choices=[("a", "甲"), ("b", "乙")], widget=forms.RadioSelect)


def test_inputs_are_as_wide_as_what_they_take():
    f = Sample().fields
    assert [width_class(f[n]) for n in ("code", "name", "address", "count", "day", "note", "kind")] == [
        "w-s", "w-m", "w-l", "w-num", "w-date", "w-full", ""]


def test_every_error_is_summarised_in_field_order_with_a_link_and_a_service_error_joins_them():
    form = Sample({"code": "", "name": "x", "count": "many", "day": "", "kind": "z"})
    assert not form.is_valid()
    add_domain_error(form, InvalidFields([
        ValidationFailed("rule.name", _("名称不合规"), field="name"),
        ValidationFailed("rule.enterprise", _("未找到该企业"), field="enterprise")]))  # not a field of the form
    items = summary_items(form)
    assert [i["href"] for i in items] == ["#form", "#id_code", "#id_name", "#id_count", "#id_day", "#id_kind"]
    assert items[0]["field"] == "enterprise" and items[0]["code"] == "rule.enterprise"
    assert items[2]["code"] == "rule.name" and str(items[2]["label"]) == "名称"
    html = Template("{% load form_ui %}{% error_summary form %}{% field form.name %}{% field form.address %}"
                    ).render(Context({"form": form}))
    assert 'role="alert"' in html and 'tabindex="-1"' in html and "有 6 处需要修改" in html
    assert re.search(r'<input[^>]*name="name"[^>]*aria-invalid="true"', html)
    assert 'aria-describedby="id_name_error"' in html and 'id="id_name_error"' in html
    assert re.search(r'<input[^>]*name="name"[^>]*aria-required="true"', html)
    assert not re.search(r'<input[^>]*name="address"[^>]*aria-required', html)


def test_no_errors_no_summary():
    form = Sample({"code": "A", "name": "B", "count": "1", "day": "2020-02-10", "kind": "a"})
    assert form.is_valid() and summary_items(form) == []
    assert "error-summary" not in Template("{% load form_ui %}{% error_summary form %}").render(Context({"form": form}))


def test_a_guide_fills_its_numbers_from_its_values_and_folds_once_the_form_is_bound():
    guide = Guide(title=_("办事"), who=_("企业"), needs=(_("材料"),), time=_("%(days)s 个工作日内办结"),
                  next=(_("等待"),), values=lambda today: {"days": today.day})
    shown = guide_context(guide, Sample(), today=dt.date(2020, 2, 7))
    assert shown["guide"]["time"] == "7 个工作日内办结" and not shown["guide_folded"]
    assert guide_context(guide, Sample({}), today=dt.date(2020, 2, 7))["guide_folded"]


# --- the upload pages built on them --------------------------------------------------------------------


def _summary(html: str) -> str:
    start = html.index('class="error-summary"')
    return html[start:html.index("</div>", start)]


@pytest.mark.django_db
def test_the_bank_upload_page_guides_lists_errors_and_confirms_to_the_uploader(client_for):
    bank = client_for("bank")
    page = bank.get(reverse("lending:upload")).content.decode()
    assert page.index("data-guide") < page.index('data-form="upload"')
    resp = bank.post(reverse("lending:upload"), {"kind": "nonsense"})
    summary = _summary(resp.content.decode())
    assert resp.status_code == 400 and "有 2 处需要修改" in summary
    assert re.findall(r'href="(#\w+)"', summary) == ["#id_kind", "#id_file"]

    header = "银行机构代码,贷款合同编号\n"
    resp = bank.post(reverse("lending:upload"), {"kind": "loans", "file": SimpleUploadedFile("l.csv", header.encode())})
    assert resp.status_code == 302 and resp["Location"].endswith("/submitted/")
    html = bank.get(resp["Location"]).content.decode()
    assert "data-confirmation" in html and 'data-view' in html
    assert client_for("bureau").get(resp["Location"]).status_code == 404  # reads the upload, not this page


@pytest.mark.django_db
def test_the_registry_import_page_guides_and_lists_a_missing_file(client_for):
    bureau = client_for("bureau")
    page = bureau.get(reverse("registry:import")).content.decode()
    assert page.index("data-guide") < page.index('data-form="import"')
    resp = bureau.post(reverse("registry:import"), {})
    summary = _summary(resp.content.decode())
    assert resp.status_code == 400 and re.findall(r'href="(#\w+)"', summary) == ["#id_file"]
