"""Enterprise size classes of 《中小企业划型标准规定》(工信部联企业〔2011〕300号).

Pure functions, no Django. The thresholds are data (``DEFAULT_SIZE_STANDARD``) because the app
stores them as a dated parameter and passes the stored copy back in; see
shared/domain/sme-size-standard.md.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import ValidationFailed
from huiqi.core.i18n import EN, ZH, Joined, Message

FIGURES = ("employees", "revenue", "assets")
FIGURE_LABELS = {"employees": _("从业人员"), "revenue": _("营业收入"), "assets": _("资产总额")}
# A condition on a figure, as a size class's reason states it.
_CONDITIONS = {
    "employees": _("从业人员 %(value)s %(op)s %(limit)s 人"),
    "revenue": _("营业收入 %(value)s %(op)s %(limit)s 万元"),
    "assets": _("资产总额 %(value)s %(op)s %(limit)s 万元"),
}

SIZE_CLASSES = ("large", "medium", "small", "micro", "unknown")

GROUP_LABELS = {
    "agriculture": _("农、林、牧、渔业"),
    "industry": _("工业"),
    "construction": _("建筑业"),
    "wholesale": _("批发业"),
    "retail": _("零售业"),
    "transport": _("交通运输业"),
    "warehousing": _("仓储业"),
    "postal": _("邮政业"),
    "accommodation": _("住宿业"),
    "catering": _("餐饮业"),
    "information_transmission": _("信息传输业"),
    "software_it": _("软件和信息技术服务业"),
    "real_estate_development": _("房地产开发经营"),
    "property_management": _("物业管理"),
    "leasing_business_services": _("租赁和商务服务业"),
    "other": _("其他未列明行业"),
}

# GB/T 4754-2017: divisions 01–97 are numbered continuously across sections A–T.
_SECTION_DIVISIONS = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52),
    "G": (53, 60), "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72),
    "M": (73, 75), "N": (76, 79), "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90),
    "S": (91, 96), "T": (97, 97),
}

# Division -> group, from 统计上大中小微型企业划分办法（2017）. G59 and K70 split at group level.
_DIVISION_GROUPS: dict[int, str] = {}
for _lo, _hi, _group in (
    (1, 5, "agriculture"),
    (6, 46, "industry"),
    (47, 50, "construction"),
    (51, 51, "wholesale"),
    (52, 52, "retail"),
    (53, 58, "transport"),
    (60, 60, "postal"),
    (61, 61, "accommodation"),
    (62, 62, "catering"),
    (63, 64, "information_transmission"),
    (65, 65, "software_it"),
    (71, 72, "leasing_business_services"),
):
    for _d in range(_lo, _hi + 1):
        _DIVISION_GROUPS[_d] = _group

# Group-level splits: G59 装卸搬运和仓储业 and K70 房地产业. K703 中介, K704 租赁经营, K709 其他
# are not named by the standard, so they fall to 其他未列明行业.
_GROUP_SPLITS: dict[int, dict[str, str]] = {
    59: {"1": "transport", **{str(g): "warehousing" for g in range(2, 10)}},
    70: {"1": "real_estate_development", "2": "property_management", "3": "other", "4": "other", "9": "other"},
}

_CODE_RE = re.compile(r"([A-T]?)(\d{2})(\d{0,2})")


def industry_group(code: str) -> str:
    """Map a GB/T 4754-2017 industry code to a size-standard group key of ``GROUP_LABELS``.

    Accepts a division ('C39'), group ('G591') or class ('C3911') code, with or without the section
    letter; the letter, when given, must be the division's section. Raises ``ValidationFailed``:
    ``industry.needs_group`` for bare 'G59' or 'K70' (the standard splits them at group level),
    ``industry.unknown`` for anything malformed or not in the classification.
    """
    raw = code
    value = (code or "").strip().upper() if isinstance(code, str) else ""
    m = _CODE_RE.fullmatch(value)
    division = int(m.group(2)) if m else 0
    section = next((s for s, (lo, hi) in _SECTION_DIVISIONS.items() if lo <= division <= hi), None)
    if not m or section is None or (m.group(1) and m.group(1) != section):
        raise ValidationFailed(
            "industry.unknown", _("行业代码 %(raw)s 不是有效的国民经济行业分类（GB/T 4754-2017）大类、中类或小类代码"),
            field="industry_code", value=raw, raw=repr(raw),
        )
    finer = m.group(3)
    if division in _GROUP_SPLITS:
        if not finer:
            split = (_("装卸搬运（G591）与仓储（G592–G599）") if division == 59
                     else _("房地产开发经营（K701）与物业管理（K702）"))
            raise ValidationFailed(
                "industry.needs_group", _("行业代码 %(raw)s 需细化到中类：划型标准区分%(split)s"), field="industry_code",
                value=raw, raw=repr(raw), split=split,
            )
        group = _GROUP_SPLITS[division].get(finer[0])
        if group is None:
            raise ValidationFailed(
                "industry.unknown", _("行业代码 %(raw)s 不是有效的国民经济行业分类（GB/T 4754-2017）中类或小类代码"),
                field="industry_code", value=raw, raw=repr(raw),
            )
        return group
    return _DIVISION_GROUPS.get(division, "other")


# --- thresholds as data ------------------------------------------------------------------------
# Lists (not tuples) and money as strings so the structure survives a JSON round trip unchanged.

DEFAULT_SIZE_STANDARD: dict[str, dict[str, list[list]]] = {
    "agriculture": {
        "sme_if": [["revenue", "20000"]],
        "medium": [["revenue", "500"]],
        "small": [["revenue", "50"]],
    },
    "industry": {
        "sme_if": [["employees", 1000], ["revenue", "40000"]],
        "medium": [["employees", 300], ["revenue", "2000"]],
        "small": [["employees", 20], ["revenue", "300"]],
    },
    "construction": {
        "sme_if": [["revenue", "80000"], ["assets", "80000"]],
        "medium": [["revenue", "6000"], ["assets", "5000"]],
        "small": [["revenue", "300"], ["assets", "300"]],
    },
    "wholesale": {
        "sme_if": [["employees", 200], ["revenue", "40000"]],
        "medium": [["employees", 20], ["revenue", "5000"]],
        "small": [["employees", 5], ["revenue", "1000"]],
    },
    "retail": {
        "sme_if": [["employees", 300], ["revenue", "20000"]],
        "medium": [["employees", 50], ["revenue", "500"]],
        "small": [["employees", 10], ["revenue", "100"]],
    },
    "transport": {
        "sme_if": [["employees", 1000], ["revenue", "30000"]],
        "medium": [["employees", 300], ["revenue", "3000"]],
        "small": [["employees", 20], ["revenue", "200"]],
    },
    "warehousing": {
        "sme_if": [["employees", 200], ["revenue", "30000"]],
        "medium": [["employees", 100], ["revenue", "1000"]],
        "small": [["employees", 20], ["revenue", "100"]],
    },
    "postal": {
        "sme_if": [["employees", 1000], ["revenue", "30000"]],
        "medium": [["employees", 300], ["revenue", "2000"]],
        "small": [["employees", 20], ["revenue", "100"]],
    },
    "accommodation": {
        "sme_if": [["employees", 300], ["revenue", "10000"]],
        "medium": [["employees", 100], ["revenue", "2000"]],
        "small": [["employees", 10], ["revenue", "100"]],
    },
    "catering": {
        "sme_if": [["employees", 300], ["revenue", "10000"]],
        "medium": [["employees", 100], ["revenue", "2000"]],
        "small": [["employees", 10], ["revenue", "100"]],
    },
    "information_transmission": {
        "sme_if": [["employees", 2000], ["revenue", "100000"]],
        "medium": [["employees", 100], ["revenue", "1000"]],
        "small": [["employees", 10], ["revenue", "100"]],
    },
    "software_it": {
        "sme_if": [["employees", 300], ["revenue", "10000"]],
        "medium": [["employees", 100], ["revenue", "1000"]],
        "small": [["employees", 10], ["revenue", "50"]],
    },
    "real_estate_development": {
        "sme_if": [["revenue", "200000"], ["assets", "10000"]],
        "medium": [["revenue", "1000"], ["assets", "5000"]],
        "small": [["revenue", "100"], ["assets", "2000"]],
    },
    "property_management": {
        "sme_if": [["employees", 1000], ["revenue", "5000"]],
        "medium": [["employees", 300], ["revenue", "1000"]],
        "small": [["employees", 100], ["revenue", "500"]],
    },
    "leasing_business_services": {
        "sme_if": [["employees", 300], ["assets", "120000"]],
        "medium": [["employees", 100], ["assets", "8000"]],
        "small": [["employees", 10], ["assets", "100"]],
    },
    "other": {
        "sme_if": [["employees", 300]],
        "medium": [["employees", 100]],
        "small": [["employees", 10]],
    },
}

_CLASS_LABELS = {"large": _("大型"), "medium": _("中型"), "small": _("小型"), "micro": _("微型"),
                 "unknown": _("无法划型")}


@dataclass(frozen=True)
class SizeResult:
    """A size class with the absent figures it depended on and a one-line reason (a ``Message``,
    shown in the reader's language; empty when not asked for).

    ``size_class`` is one of ``SIZE_CLASSES``; ``missing`` is empty unless the class is 'unknown'.
    """

    size_class: str
    missing: tuple[str, ...]
    reason: object = ""

    @property
    def reason_zh(self) -> str:
        return _in(self.reason, ZH)

    @property
    def reason_en(self) -> str:
        return _in(self.reason, EN)


def _in(text, language: str) -> str:
    with translation.override(language):
        return str(text)


def _to_decimal(value, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationFailed(
            f"size.{name}_invalid", _("%(figure)s %(given)s 不是数字"), field=name,
            value=value, figure=FIGURE_LABELS[name], given=repr(value),
        )
    try:
        d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        d = None
    if d is None or not d.is_finite():
        raise ValidationFailed(
            f"size.{name}_invalid", _("%(figure)s %(given)s 不是有效数字"), field=name,
            value=value, figure=FIGURE_LABELS[name], given=repr(value),
        )
    if name == "employees" and d != d.to_integral_value():
        raise ValidationFailed(
            "size.employees_invalid", _("从业人员 %(given)s 应为整数"), field=name, value=value,
            given=value,
        )
    if d < 0:
        raise ValidationFailed(
            f"size.{name}_negative", _("%(figure)s %(given)s 不能为负数"), field=name,
            value=value, figure=FIGURE_LABELS[name], given=value,
        )
    return d


_PARSED: dict[int, tuple[dict, dict[str, dict]]] = {}


def _parse_rules(group: str, standard: dict) -> dict[str, list[tuple[str, Decimal]]]:
    """The group's conditions with Decimal limits, parsed once per standard object (bulk paths
    classify tens of thousands of rows against the same standard)."""
    cached = _PARSED.get(id(standard))
    if cached is not None and cached[0] is standard and group in cached[1]:
        return cached[1][group]
    parsed = _parse_rules_uncached(group, standard)
    if cached is None or cached[0] is not standard:
        if len(_PARSED) > 32:
            _PARSED.clear()
        cached = _PARSED[id(standard)] = (standard, {})
    cached[1][group] = parsed
    return parsed


def _parse_rules_uncached(group: str, standard: dict) -> dict[str, list[tuple[str, Decimal]]]:
    if group not in standard:
        raise ValidationFailed(
            "size.unknown_group", _("划型标准中没有行业组 %(group)s"), field="industry_group", value=group,
            group=repr(group),
        )
    parsed = {}
    for part in ("sme_if", "medium", "small"):
        conditions = []
        for figure, limit in standard[group][part]:
            if figure not in FIGURES:
                raise ValidationFailed(
                    "size.bad_standard", _("划型标准行业组 %(group)s 使用了未知指标 %(figure)s"), field="standard",
                    value=figure, group=repr(group), figure=repr(figure),
                )
            conditions.append((figure, Decimal(str(limit))))
        parsed[part] = conditions
    return parsed


def _decide(rules: dict[str, list[tuple[str, Decimal]]], values: dict[str, Decimal]) -> str:
    if not any(values[f] < limit for f, limit in rules["sme_if"]):
        return "large"
    if all(values[f] >= limit for f, limit in rules["medium"]):
        return "medium"
    if all(values[f] >= limit for f, limit in rules["small"]):
        return "small"
    return "micro"


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _describe(figure: str, value: Decimal, op: str, limit: Decimal) -> Message:
    return Message(_CONDITIONS[figure], value=_fmt(value), op=op, limit=_fmt(limit))


_THRESHOLDS = {
    "employees": _("从业人员 %(op)s %(limit)s 人"),
    "revenue": _("营业收入 %(op)s %(limit)s 万元"),
    "assets": _("资产总额 %(op)s %(limit)s 万元"),
}


def describe_standard(standard: dict) -> list[tuple[object, Joined]]:
    """(industry group, its thresholds) of a size standard as people read them (the parameters page)."""
    rows = []
    for group, rules in standard.items():
        def conditions(part, op, zh, en):
            return Joined((Message(_THRESHOLDS[f], op=op, limit=_fmt(Decimal(str(limit))))
                           for f, limit in rules.get(part, []) if f in _THRESHOLDS), zh, en)
        rows.append((GROUP_LABELS.get(group, group), Joined([
            Message(_("中小企业：%(conditions)s"), conditions=conditions("sme_if", "<", " 或 ", " or ")),
            Message(_("中型：%(conditions)s"), conditions=conditions("medium", "≥", " 且 ", " and ")),
            Message(_("小型：%(conditions)s"), conditions=conditions("small", "≥", " 且 ", " and ")),
        ])))
    return rows


def _reason(size_class: str, rules, present: dict[str, Decimal]) -> Message:
    """Explain a decided class from the present figures only (the decision never rests on absent ones)."""
    parts: list[Message] = []

    def known(part, want):
        # Conditions on present figures whose truth is ``want``.
        out = []
        for f, limit in rules[part]:
            if f in present:
                holds = present[f] < limit if part == "sme_if" else present[f] >= limit
                if holds == want:
                    if part == "sme_if":
                        out.append(_describe(f, present[f], "<" if want else "≥", limit))
                    else:
                        out.append(_describe(f, present[f], "≥" if want else "<", limit))
        return out

    if size_class == "large":
        return Message(_("大型：不满足中小企业任一条件（%(conditions)s）"), conditions=Joined(known("sme_if", False)))
    parts.append(Message(_("属中小企业（%(conditions)s）"), conditions=Joined(known("sme_if", True)[:1])))
    if size_class == "medium":
        parts.append(Message(_("满足全部中型标准")))
    else:
        parts.append(Message(_("未达中型标准（%(conditions)s）"), conditions=Joined(known("medium", False))))
        if size_class == "small":
            parts.append(Message(_("满足全部小型标准")))
        else:
            parts.append(Message(_("未达小型标准（%(conditions)s）"), conditions=Joined(known("small", False))))
    return Message(_("%(size)s：%(reasons)s"), size=_CLASS_LABELS[size_class],
                   reasons=Joined(parts, "，", ", "))


def classify_size(
    group: str,
    employees: int | None,
    revenue: Decimal | None,
    assets: Decimal | None,
    standard: dict = DEFAULT_SIZE_STANDARD,
    explain: bool = True,
) -> SizeResult:
    """Classify an enterprise of industry ``group`` as large / medium / small / micro / unknown.

    Revenue and assets are in 万元; ``None`` means the record lacks the figure. Reading rules:
    "以下" is strictly below (``figure < limit``), "及以上" at or above (``figure >= limit``). SME
    when any ``sme_if`` condition holds, else large; within SMEs medium when every medium threshold
    holds, else small when every small threshold holds, else micro.

    Missing figures: the class is decided only when it is the same for *every* possible
    (non-negative) value of the absent figures; otherwise it is 'unknown' and ``missing`` lists the
    absent figures the outcome depends on. So a present figure meeting one SME condition makes an
    SME even if the other figure is absent, and an absent figure that no condition names never
    matters; but 工业 with employees absent and revenue 3000 is unknown (it could be medium or
    micro). This is exact: thresholds cut each figure's range into intervals on which every
    condition is constant, and one value from each interval is tried.

    ``standard`` has the shape of ``DEFAULT_SIZE_STANDARD`` (a stored copy may be passed in); a
    caller must not mutate it after passing it in (its parsed form is cached). With
    ``explain=False`` the reasons are left empty, for bulk paths that store only the class.
    Negative or non-numeric figures raise ``ValidationFailed``.
    """
    rules = _parse_rules(group, standard)
    given = {
        "employees": _to_decimal(employees, "employees"),
        "revenue": _to_decimal(revenue, "revenue"),
        "assets": _to_decimal(assets, "assets"),
    }
    present = {f: v for f, v in given.items() if v is not None}
    absent = [f for f in FIGURES if f not in present]

    # Candidate values per absent figure: 0 and every limit on it stand for all its intervals.
    candidates = {}
    for f in absent:
        limits = {limit for part in rules.values() for g, limit in part if g == f}
        candidates[f] = sorted({Decimal(0)} | {lim for lim in limits if lim > 0})

    outcomes: dict[tuple, str] = {}
    for combo in itertools.product(*(candidates[f] for f in absent)):
        values = dict(present)
        values.update(zip(absent, combo))
        outcomes[combo] = _decide(rules, values)

    classes = set(outcomes.values())
    if len(classes) == 1:
        size_class = classes.pop()
        return SizeResult(size_class, (), _reason(size_class, rules, present) if explain else "")

    # A figure is needed when changing it alone (others fixed) can change the class.
    needed = []
    for i, f in enumerate(absent):
        for combo, outcome in outcomes.items():
            if any(
                outcomes[combo[:i] + (alt,) + combo[i + 1:]] != outcome for alt in candidates[f]
            ):
                needed.append(f)
                break
    figures = Joined((FIGURE_LABELS[f] for f in needed), "、", ", ")
    return SizeResult("unknown", tuple(needed), Message(_("无法划型：缺少%(figures)s，其取值决定规模"), figures=figures))
