"""The policy hub's forms: an item's texts, and the criteria editor (rows of field, operator and value, in
groups that are each all/any, under a top all/any; a row may be negated). The editor reads criteria of that
shape back into rows; the rows compile to the criteria the rules validate."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from huiqi.core.forms import MoneyField, MultipleFileField

from . import rules
from .models import Mode, Tag

ROWS = 10
GROUPS = 4
COMBINATORS = [("all", _("全部满足")), ("any", _("满足其一"))]
_SPLIT = re.compile(r"[,，、;；\s]+")


class ItemForm(forms.Form):
    code = forms.CharField(label=_("事项编码"), max_length=40)
    title = forms.CharField(label=_("事项名称"), max_length=200)
    summary = forms.CharField(label=_("政策解读"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    guide = forms.CharField(label=_("办事指南"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    faq = forms.CharField(label=_("常见问题"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                          help_text=_("每行一问一答，问与答之间用“｜”分开"))
    mode = forms.ChoiceField(label=_("办理方式"), choices=Mode.choices)
    benefit = forms.CharField(label=_("支持方式"), max_length=40, required=False)
    opens = forms.DateField(label=_("申报开始"), required=False)
    closes = forms.DateField(label=_("申报截止"), required=False)
    subject_tags = forms.MultipleChoiceField(label=_("主题"), required=False, widget=forms.CheckboxSelectMultiple)
    benefit_tags = forms.MultipleChoiceField(label=_("支持方式标签"), required=False,
                                             widget=forms.CheckboxSelectMultiple)
    exclusion_group = forms.CharField(label=_("不得重复享受组"), max_length=40, required=False)

    def __init__(self, *args, code_fixed=None, **kwargs):
        super().__init__(*args, **kwargs)
        by_facet: dict[str, list] = {}
        for tag in Tag.objects.all():
            by_facet.setdefault(tag.facet, []).append((tag.code, str(tag)))
        self.fields["subject_tags"].choices = by_facet.get("subject", [])
        self.fields["benefit_tags"].choices = by_facet.get("benefit", [])
        if code_fixed:
            self.fields["code"].required = False
            self.fields["code"].disabled = True
            self.initial["code"] = code_fixed

    def clean_faq(self):
        out = []
        for n, line in enumerate((self.cleaned_data.get("faq") or "").splitlines(), start=1):
            if not line.strip():
                continue
            q, sep, a = line.partition("｜")
            if not sep:
                q, sep, a = line.partition("|")
            if not (q.strip() and a.strip()):
                raise forms.ValidationError(_("第 %(n)s 行须为“问题｜回答”"), params={"n": n}, code="faq")
            out.append({"q": q.strip(), "a": a.strip()})
        return out

    def content(self) -> dict:
        d = self.cleaned_data
        tags = {k: v for k, v in (("subject", d["subject_tags"]), ("benefit", d["benefit_tags"])) if v}
        return {"title": d["title"], "summary": d["summary"], "guide": d["guide"], "faq": d["faq"], "mode": d["mode"],
                "benefit": d["benefit"], "opens": d["opens"], "closes": d["closes"], "tags": tags,
                "exclusion_group": d["exclusion_group"]}

    @staticmethod
    def initial_from(version) -> dict:
        if version is None:
            return {"mode": Mode.APPLICATION}
        return {"code": version.item.code, "title": version.title, "summary": version.summary,
                "guide": version.guide, "faq": "\n".join(f"{x['q']}｜{x['a']}" for x in version.faq or []),
                "mode": version.mode, "benefit": version.benefit, "opens": version.opens, "closes": version.closes,
                "subject_tags": (version.tags or {}).get("subject", []),
                "benefit_tags": (version.tags or {}).get("benefit", []), "exclusion_group": version.exclusion_group}


class CriteriaEditorForm(forms.Form):
    """Rows of (group, not, field, operator, value). Values of a list operator are separated by commas or
    spaces; ``between`` takes two; a yes/no field takes 是/否."""

    top = forms.ChoiceField(label=_("各组之间"), choices=COMBINATORS, initial="all")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for g in range(1, GROUPS + 1):
            self.fields[f"g{g}"] = forms.ChoiceField(label=_("第 %(n)s 组内") % {"n": g}, choices=COMBINATORS,
                                                     initial="all")
        field_choices = [("", "—")] + [(name, f.label) for name, f in rules.FIELDS.items()]
        op_choices = [("", "—")] + list(rules.OPERATORS.items())
        for i in range(ROWS):
            self.fields[f"r{i}_group"] = forms.TypedChoiceField(
                label=_("组"), choices=[(g, g) for g in range(1, GROUPS + 1)], coerce=int, initial=1)
            self.fields[f"r{i}_negate"] = forms.BooleanField(label=_("不满足"), required=False)
            self.fields[f"r{i}_field"] = forms.ChoiceField(label=_("字段"), choices=field_choices, required=False)
            self.fields[f"r{i}_op"] = forms.ChoiceField(label=_("运算符"), choices=op_choices, required=False)
            self.fields[f"r{i}_value"] = forms.CharField(label=_("取值"), max_length=500, required=False)

    def rows(self):
        return [[self[f"r{i}_{part}"] for part in ("group", "negate", "field", "op", "value")] for i in range(ROWS)]

    def groups(self):
        return [self[f"g{g}"] for g in range(1, GROUPS + 1)]

    def clean(self):
        data = super().clean()
        if not any(data.get(f"r{i}_field") for i in range(ROWS)):
            raise forms.ValidationError(_("至少填写一个条件"), code="no_rows")
        for i in range(ROWS):
            if data.get(f"r{i}_field") and not data.get(f"r{i}_op"):
                self.add_error(f"r{i}_op", _("请选择运算符"))
        return data

    def add_criteria_errors(self, exc, paths: dict[str, int]) -> None:
        """Each error of the criteria beside the row it names (by its JSON path), else at the top."""
        for error in getattr(exc, "errors", None) or [exc]:
            path = error.field or ""
            row = next((i for p, i in sorted(paths.items(), key=lambda kv: -len(kv[0])) if path.startswith(p)), None)
            part = path.rsplit(".", 1)[-1]
            name = f"r{row}_{part}" if row is not None and part in ("field", "op", "value") else None
            self.add_error(name, forms.ValidationError(error.message, code=error.code))


def _typed(field: rules.Field, op: str, text: str):
    """A row's value text as the criteria's JSON value (a wrong type stays as written: the rules name it)."""
    text = text.strip()
    if op in rules.LIST_OPERATORS or op == "between":
        return [_one(field, part) for part in _SPLIT.split(text) if part]
    return _one(field, text)


def _one(field: rules.Field, text: str):
    if field.type == rules.INTEGER:
        try:
            return int(text)
        except ValueError:
            return text
    if field.type == rules.BOOLEAN:
        return {"是": True, "true": True, "yes": True, "否": False, "false": False, "no": False}.get(text.lower(), text)
    if field.type == rules.CODE:
        return text.upper()
    return text


def criteria_from_rows(data: dict) -> tuple[dict, dict[str, int]]:
    """(criteria, JSON path → row) of the editor's rows: each group's rows under its all/any, the groups under
    the top all/any; a group of one row is that row."""
    groups: dict[int, list[tuple[int, dict]]] = {}
    n = 0
    for i in range(ROWS):
        name = data.get(f"r{i}_field")
        if not name:
            continue
        n += 1
        field = rules.FIELDS[name]
        leaf = {"id": f"L{n}", "field": name, "op": data.get(f"r{i}_op") or "eq",
                "value": _typed(field, data.get(f"r{i}_op") or "eq", data.get(f"r{i}_value") or "")}
        groups.setdefault(data.get(f"r{i}_group") or 1, []).append((i, {"not": leaf} if data.get(f"r{i}_negate") else leaf))
    top = data.get("top") or "all"
    parts, paths = [], {}
    for g in sorted(groups):
        members = groups[g]
        index = len(parts)
        if len(members) == 1:
            row, node = members[0]
            parts.append(node)
            paths[f"$.{top}[{index}]"] = row
        else:
            comb = data.get(f"g{g}") or "all"
            parts.append({comb: [node for _row, node in members]})
            for j, (row, _node) in enumerate(members):
                paths[f"$.{top}[{index}].{comb}[{j}]"] = row
    return {top: parts}, paths


def rows_from_criteria(criteria) -> dict:
    """The editor's initial rows for criteria of its shape (deeper criteria open with their first leaves)."""
    initial: dict = {"top": "all"}
    if not criteria:
        return initial
    top = "all" if "all" in criteria else "any" if "any" in criteria else None
    parts = criteria[top] if top else [criteria]
    initial["top"] = top or "all"
    row = 0
    for g, part in enumerate(parts[:GROUPS], start=1):
        comb = "all" if "all" in part else "any" if "any" in part else None
        members = part[comb] if comb else [part]
        initial[f"g{g}"] = comb or "all"
        for member in members:
            negate = "not" in member
            leaf = member["not"] if negate else member
            if "field" not in leaf or row >= ROWS:
                continue
            value = leaf["value"]
            shown = ", ".join(str(v) for v in value) if isinstance(value, list) else (
                ("是" if value else "否") if isinstance(value, bool) else str(value))
            initial.update({f"r{row}_group": g, f"r{row}_negate": negate, f"r{row}_field": leaf["field"],
                            f"r{row}_op": leaf["op"], f"r{row}_value": shown})
            row += 1
    return initial


# --- precise push: an enterprise's settings --------------------------------------------------------------

class ConsentForm(forms.Form):
    """Consent to pushes by SMS or e-mail, to the address given here."""

    channel = forms.ChoiceField(label=_("渠道"), choices=[("sms", _("短信")), ("email", _("电子邮件"))])
    address = forms.CharField(label=_("接收号码或地址"), max_length=200,
                              help_text=_("短信填写手机号码，电子邮件填写邮箱地址"))
    agree = forms.BooleanField(label=_("我同意通过该渠道接收惠企政策推送，可随时撤回"))


class FilterForm(forms.Form):
    """A facet filter saved for the pushes (and searches) of an enterprise."""

    name = forms.CharField(label=_("筛选名称"), max_length=60)
    subject = forms.MultipleChoiceField(label=_("主题"), required=False, widget=forms.CheckboxSelectMultiple)
    benefit = forms.MultipleChoiceField(label=_("支持方式"), required=False, widget=forms.CheckboxSelectMultiple)
    mode = forms.MultipleChoiceField(label=_("办理方式"), required=False, widget=forms.CheckboxSelectMultiple,
                                     choices=Mode.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        by_facet: dict[str, list] = {}
        for tag in Tag.objects.all():
            by_facet.setdefault(tag.facet, []).append((tag.code, str(tag)))
        self.fields["subject"].choices = by_facet.get("subject", [])
        self.fields["benefit"].choices = by_facet.get("benefit", [])

    def facets(self) -> dict:
        return {f: self.cleaned_data[f] for f in ("subject", "benefit", "mode") if self.cleaned_data.get(f)}


class UnsubscribeForm(forms.Form):
    scope = forms.ChoiceField(label=_("退订范围"), choices=[("item", _("某一事项")), ("channel", _("某一渠道")),
                                                          ("all", _("全部推送"))])
    item = forms.CharField(label=_("事项编码"), max_length=40, required=False,
                           help_text=_("退订某一事项时填写"))
    channel = forms.ChoiceField(label=_("渠道"), required=False,
                                choices=[("", "—"), ("sms", _("短信")), ("email", _("电子邮件"))],
                                help_text=_("退订某一渠道时选择（站内消息始终送达）"))

    def clean(self):
        data = super().clean()
        if data.get("scope") == "item" and not data.get("item"):
            self.add_error("item", _("退订某一事项时须填写事项编码"))
        if data.get("scope") == "channel" and not data.get("channel"):
            self.add_error("channel", _("退订某一渠道时须选择渠道"))
        return data


# --- online application (在线申报) -------------------------------------------------------------------------

_BOOLEAN_CHOICES = [("", "—"), ("true", _("是")), ("false", _("否"))]


def _declared_field(name: str, field: rules.Field, labels: dict) -> forms.Field:
    """The input of a fact the registry lacks: a choice for enums and yes/no, a date, else text the service
    reads by the field's type (it names the rule when a value is not of it)."""
    hint = _("登记库缺少此项，请如实申报（来源：%(source)s）") % {"source": field.source}
    common = {"label": field.label, "required": False, "help_text": hint}
    if field.type == rules.BOOLEAN:
        return forms.ChoiceField(choices=_BOOLEAN_CHOICES, **common)
    if field.type == rules.ENUM:
        names = labels.get(name, {})
        return forms.ChoiceField(choices=[("", "—"), *((v, names.get(v, v)) for v in field.choices or names)], **common)
    if field.type == rules.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), max_length=10, **common)
    if field.type in (rules.INTEGER, rules.DECIMAL):
        return forms.CharField(max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}), **common)
    return forms.CharField(max_length=20, **common)


class ApplicationForm(forms.Form):
    """An enterprise's application: for each fact of the criteria the registry lacks, its declared value
    (``declared_<field>``); what it says, its contact, its attachments. The registry's facts are shown beside,
    never as inputs."""

    statement = forms.CharField(label=_("申报说明"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                help_text=_("简要说明企业情况和申报理由（不超过 2000 字）"))
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)

    def __init__(self, *args, declarable=(), labels=None, **kwargs):
        super().__init__(*args, **kwargs)
        declared = {f"declared_{name}": _declared_field(name, rules.FIELDS[name], labels or {}) for name in declarable}
        self.fields = {**declared, **self.fields}
        self.fields["attachments"] = MultipleFileField(label=_("附件"), help_text=_(
            "营业执照、证明材料等，可上传 PDF、图片、Word 或 Excel 文件"))
        self.declarable = list(declarable)

    def declared(self) -> dict:
        return {name: self.cleaned_data.get(f"declared_{name}") for name in self.declarable}


class ApplicationActionForm(forms.Form):
    """A department's move of an application: the amount (approve, pay) or the reason (reject), a note."""

    amount = MoneyField(label=_("金额（元）"), required=False)
    note = forms.CharField(label=_("说明"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if action in ("approve", "pay"):
            self.fields["amount"].required = True
            self.fields["amount"].label = _("批准金额（元）") if action == "approve" else _("兑付金额（元）")
        else:
            del self.fields["amount"]
        if action == "reject":
            self.fields["note"].required = True
            self.fields["note"].label = _("未批准原因")
