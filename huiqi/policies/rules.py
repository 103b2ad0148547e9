"""The policy hub's criteria language and its per-enterprise evaluator (``shared/specs/policy-hub.md``).

Criteria are data: ``node = {"all": [node, …]} | {"any": [node, …]} | {"not": node} | leaf`` and
``leaf = {"id": "L1", "field": NAME, "op": OP, "value": V}``. ``validate`` refuses what breaks the grammar,
naming each JSON path, field and rule at once; ``evaluate`` and ``explain`` give the three-valued outcome
(met / not met / unknown, Kleene logic) from an enterprise's facts, where ``None`` is a missing fact. The
batch evaluator (``batch.py``) compiles the same criteria to SQL and must agree with this one.

Nothing here reads the database: the vocabularies a value is checked against (district codes) come as
arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import InvalidFields, ValidationFailed
from huiqi.core.i18n import Joined, Message

MET, NOT_MET, UNKNOWN = "met", "not_met", "unknown"
OUTCOMES = {MET: _("符合"), NOT_MET: _("不符合"), UNKNOWN: _("待补充")}
REASONS = {"criteria_not_met": _("不符合申报条件"), "criteria_unknown": _("缺少判断所需的信息"),
           "excluded_by_stacking_rule": _("不得重复享受")}

ENUM, CODE, INTEGER, DECIMAL, DATE, BOOLEAN = "enum", "code", "integer", "decimal", "date", "boolean"


@dataclass(frozen=True)
class Field:
    """A fact the criteria may read: its type, its name for people, where it comes from (and where an
    enterprise supplies it when it is missing), and for an enum the values it takes (None: given by the
    caller, as district codes are)."""

    type: str
    label: object
    source: object
    choices: tuple | None = None
    unit: object = ""


KINDS = ("enterprise", "individual_business")
SIZES = ("large", "medium", "small", "micro")

FIELDS: dict[str, Field] = {
    "kind": Field(ENUM, _("主体类型"), _("企业名录"), KINDS),
    "size_class": Field(ENUM, _("企业规模"), _("企业名录（按中小企业划型标准，补充从业人员、营业收入、资产总额后划型）"),
                        SIZES),
    "district": Field(ENUM, _("所属区"), _("企业名录（注册地址）"), None),
    "industry": Field(CODE, _("行业"), _("企业名录（国民经济行业分类）")),
    "established_on": Field(DATE, _("成立日期"), _("商事登记信息")),
    "employees": Field(INTEGER, _("从业人员"), _("企业名录（上年度数据）"), unit=_("人")),
    "revenue": Field(DECIMAL, _("营业收入"), _("企业名录（上年度数据）"), unit=_("万元")),
    "assets": Field(DECIMAL, _("资产总额"), _("企业名录（上年度数据）"), unit=_("万元")),
    "supplies_producer": Field(BOOLEAN, _("防疫物资生产企业"), _("防疫物资生产企业名录")),
    "key_enterprise": Field(BOOLEAN, _("重点企业"), _("重点企业名单")),
    "credit_blacklisted": Field(BOOLEAN, _("列入失信名单"), _("信用信息（最新一期失信名单）")),
    "pool_loan": Field(BOOLEAN, _("有纳入风险补偿资金池的贷款"), _("风险补偿资金池")),
    "fund_approved": Field(BOOLEAN, _("获批稳企基金"), _("稳企基金")),
}

OPERATORS = {
    "eq": _("等于"), "ne": _("不等于"), "in": _("属于"), "not_in": _("不属于"), "lt": _("小于"),
    "le": _("不大于"), "gt": _("大于"), "ge": _("不小于"), "between": _("介于"), "prefix": _("代码开头为"),
}
# Which operators each type takes (the spec's table).
TYPE_OPERATORS = {
    ENUM: ("eq", "ne", "in", "not_in"),
    CODE: ("eq", "ne", "in", "not_in", "prefix"),
    INTEGER: ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "between"),
    DECIMAL: ("eq", "ne", "lt", "le", "gt", "ge", "between"),
    DATE: ("eq", "ne", "lt", "le", "gt", "ge", "between"),
    BOOLEAN: ("eq", "ne"),
}
LIST_OPERATORS = frozenset({"in", "not_in", "prefix"})
GROUPS = ("all", "any", "not")
CODE_PATTERN = re.compile(r"^[A-T](\d{1,4})?$")


# --- validation ----------------------------------------------------------------------------------------

def _error(path: str, rule: str, message, **params) -> ValidationFailed:
    return ValidationFailed(f"criteria.{rule}", _("%(path)s：%(rule)s"), field=path, path=path,
                            rule=Message(message, **params))


def _scalar(ftype: str, value, choices):
    """The value of one scalar of ``ftype`` as the evaluator compares it, or raises ``ValueError``."""
    if ftype == ENUM:
        if not isinstance(value, str) or (choices is not None and value not in choices):
            raise ValueError
        return value
    if ftype == CODE:
        if not isinstance(value, str) or not CODE_PATTERN.match(value.strip().upper()):
            raise ValueError
        return value.strip().upper()
    if ftype == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError
        return value
    if ftype == DECIMAL:
        return exact_decimal(value)
    if ftype == DATE:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    if ftype == BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError
        return value
    raise ValueError


def exact_decimal(value) -> Decimal:
    """A decimal written as a JSON number or a string, read exactly (a float by its shortest decimal form)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError
    try:
        d = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError from None
    if not d.is_finite():
        raise ValueError
    return d


_TYPE_RULES = {
    ENUM: _("不是可选取值之一（%(allowed)s）"), CODE: _("不是行业代码（门类字母加 0 至 4 位数字，如 C27）"),
    INTEGER: _("不是整数"), DECIMAL: _("不是数字"), DATE: _("不是 YYYY-MM-DD 格式的日期"), BOOLEAN: _("不是 true 或 false"),
}
_LIST_RULES = {
    ENUM: _("不是可选取值的列表（%(allowed)s）"), CODE: _("不是行业代码的列表"), INTEGER: _("不是整数的列表"),
}


def _check_leaf(node: dict, path: str, choices_of: Mapping[str, Iterable[str]], errors: list) -> None:
    unknown_keys = sorted(set(node) - {"id", "field", "op", "value"})
    if unknown_keys:
        errors.append(_error(path, "unknown_key", _("未知的键 %(keys)s"), keys=", ".join(unknown_keys)))
    if "id" in node and not (isinstance(node["id"], str) and node["id"].strip()):
        errors.append(_error(f"{path}.id", "id", _("条件编号必须是非空文本")))
    name = node.get("field")
    field = FIELDS.get(name) if isinstance(name, str) else None
    if field is None:
        errors.append(_error(f"{path}.field", "unknown_field", _("未知字段 %(name)s（可用：%(allowed)s）"),
                             name=repr(name), allowed=", ".join(FIELDS)))
        return
    op = node.get("op")
    if op not in OPERATORS:
        errors.append(_error(f"{path}.op", "unknown_operator", _("未知运算符 %(op)s（可用：%(allowed)s）"),
                             op=repr(op), allowed=", ".join(OPERATORS)))
        return
    if op not in TYPE_OPERATORS[field.type]:
        errors.append(_error(f"{path}.op", "operator_for_type", _("字段 %(name)s 不能用运算符 %(op)s（可用：%(allowed)s）"),
                             name=name, op=op, allowed=", ".join(TYPE_OPERATORS[field.type])))
        return
    if "value" not in node:
        errors.append(_error(f"{path}.value", "missing_value", _("缺少取值")))
        return
    try:
        leaf_value(field, op, node["value"], _choices(name, field, choices_of))
    except _BadValue as exc:
        errors.append(_error(f"{path}.value", exc.rule, exc.message, **exc.params))


class _BadValue(Exception):
    def __init__(self, rule, message, **params):
        super().__init__(rule)
        self.rule, self.message, self.params = rule, message, params


def _choices(name: str, field: Field, choices_of: Mapping[str, Iterable[str]]):
    given = choices_of.get(name)
    if given is not None:
        return tuple(given)
    return field.choices


def leaf_value(field: Field, op: str, value, choices=None):
    """A leaf's value as the evaluators compare it (a tuple for list operators, a pair for ``between``),
    or ``_BadValue`` naming the rule it breaks."""
    allowed = ", ".join(choices) if choices else ""
    if op in LIST_OPERATORS:
        if not isinstance(value, list) or not value:
            rule = _LIST_RULES.get(field.type, _("不是非空列表"))
            raise _BadValue("wrong_type", rule, allowed=allowed)
        try:
            return tuple(_scalar(field.type, v, choices) for v in value)
        except ValueError:
            raise _BadValue("wrong_type", _LIST_RULES.get(field.type, _("不是非空列表")), allowed=allowed) from None
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _BadValue("between", _("between 的取值必须是两个值的列表 [下限, 上限]"))
        try:
            low, high = (_scalar(field.type, v, choices) for v in value)
        except ValueError:
            raise _BadValue("wrong_type", _TYPE_RULES[field.type], allowed=allowed) from None
        if low > high:
            raise _BadValue("between_order", _("between 的下限 %(low)s 大于上限 %(high)s"), low=value[0], high=value[1])
        return (low, high)
    try:
        return _scalar(field.type, value, choices)
    except ValueError:
        raise _BadValue("wrong_type", _TYPE_RULES[field.type], allowed=allowed) from None


def _check(node, path: str, choices_of, errors: list) -> None:
    if not isinstance(node, dict):
        errors.append(_error(path, "not_a_node", _("条件必须是对象（all、any、not 或一个条件）")))
        return
    groups = [key for key in GROUPS if key in node]
    if not groups:
        _check_leaf(node, path, choices_of, errors)
        return
    if len(node) != 1:
        errors.append(_error(path, "group_keys", _("条件组只能有一个键（all、any 或 not）")))
        return
    key = groups[0]
    child = node[key]
    if key == "not":
        _check(child, f"{path}.not", choices_of, errors)
        return
    if not isinstance(child, list):
        errors.append(_error(f"{path}.{key}", "not_a_list", _("%(key)s 必须是条件的列表"), key=key))
        return
    if not child:
        errors.append(_error(f"{path}.{key}", "empty_group", _("条件组不能为空")))
        return
    for i, item in enumerate(child):
        _check(item, f"{path}.{key}[{i}]", choices_of, errors)


def validate(criteria, choices_of: Mapping[str, Iterable[str]] | None = None):
    """``criteria`` if it keeps the grammar; else ``InvalidFields`` naming every JSON path, field and rule.
    ``choices_of`` gives the values an enum field takes when they are reference data (``district``)."""
    errors: list = []
    _check(criteria, "$", choices_of or {}, errors)
    if errors:
        raise InvalidFields(errors)
    return criteria


# --- evaluation ----------------------------------------------------------------------------------------

_COMPARE = {
    "eq": lambda actual, value: actual == value,
    "ne": lambda actual, value: actual != value,
    "in": lambda actual, value: actual in value,
    "not_in": lambda actual, value: actual not in value,
    "lt": lambda actual, value: actual < value,
    "le": lambda actual, value: actual <= value,
    "gt": lambda actual, value: actual > value,
    "ge": lambda actual, value: actual >= value,
    "between": lambda actual, value: value[0] <= actual <= value[1],
    "prefix": lambda actual, value: any(actual.startswith(p) for p in value),
}


def _compare(op: str, actual, value) -> bool:
    try:
        compare = _COMPARE[op]
    except KeyError:
        raise ValueError(op) from None
    return compare(actual, value)


_LATE = object()  # a value that breaks the grammar: read (and refused) when a known fact reaches it


def _compile_leaf(node: dict):
    """A leaf as a function of the facts, its value read once: unknown when the fact is missing, whatever
    the operator."""
    name, op = node["field"], node["op"]
    field = FIELDS[name]
    try:
        value = leaf_value(field, op, node["value"])
    except _BadValue:
        value = _LATE
    compare = _COMPARE.get(op) or (lambda actual, value: _compare(op, actual, value))
    code = field.type == CODE

    def result(facts: Mapping) -> str:
        actual = facts.get(name)
        if actual is None:
            return UNKNOWN
        if code:
            actual = str(actual).upper()
        given = leaf_value(field, op, node["value"]) if value is _LATE else value
        return MET if compare(actual, given) else NOT_MET

    return result


def leaf_result(node: dict, facts: Mapping) -> str:
    """A leaf's value for these facts: unknown when the fact is missing, whatever the operator."""
    return _compile_leaf(node)(facts)


def _all(results) -> str:
    if NOT_MET in results:
        return NOT_MET
    return UNKNOWN if UNKNOWN in results else MET


def _any(results) -> str:
    if MET in results:
        return MET
    return UNKNOWN if UNKNOWN in results else NOT_MET


def _not(result: str) -> str:
    return {MET: NOT_MET, NOT_MET: MET}.get(result, UNKNOWN)


_COMBINE = {"all": _all, "any": _any}


class Compiled:
    """Valid criteria read once, for evaluating many enterprises' facts (the per-enterprise evaluator):
    every leaf, in document order, as a function of the facts with its value already read, and the groups
    in an order where each comes after its children. One pass gives every leaf's result (no short-circuit,
    so an explanation shows every leaf) and every group's value by Kleene logic; the root's is the outcome."""

    def __init__(self, criteria: dict):
        self.criteria = criteria
        self.leaves: list[dict] = []
        self._tests: list = []
        self._nodes: list[tuple] = []  # (kind, leaf position | child node | child nodes), children first
        self._build(criteria)

    def _build(self, node: dict) -> int:
        for key in ("all", "any"):
            if key in node:
                part = tuple(self._build(child) for child in node[key])
                break
        else:
            if "not" in node:
                key, part = "not", self._build(node["not"])
            else:
                key, part = "leaf", len(self.leaves)
                self.leaves.append(node)
                self._tests.append(_compile_leaf(node))
        self._nodes.append((key, part))
        return len(self._nodes) - 1

    def _values(self, facts: Mapping) -> tuple[list[str], list[str]]:
        """(every leaf's result in document order, every node's value)."""
        results = [test(facts) for test in self._tests]
        values: list[str] = []
        for key, part in self._nodes:
            if key == "leaf":
                values.append(results[part])
            elif key == "not":
                values.append(_not(values[part]))
            else:
                values.append(_COMBINE[key]([values[child] for child in part]))
        return results, values

    def outcome(self, facts: Mapping) -> str:
        return self._values(facts)[1][-1]

    def explain(self, facts: Mapping) -> Explanation:
        results, values = self._values(facts)
        return Explanation(values[-1], tuple(
            LeafResult(node.get("id"), node["field"], node["op"], node["value"], facts.get(node["field"]), result)
            for node, result in zip(self.leaves, results)))

    def why_not(self, facts: Mapping) -> list[tuple[int, bool]]:
        """The positions of the leaves that make the criteria not met for these facts, with ``negated``
        (see ``why_not``)."""
        values = self._values(facts)[1]
        out: list = []
        self._why(len(self._nodes) - 1, values, False, out)
        return out

    def _why(self, at: int, values: list[str], negated: bool, out: list) -> None:
        # ``negated``: we explain why the node is met (it sits under a ``not``), else why it is not met.
        want = MET if negated else NOT_MET
        key, part = self._nodes[at]
        if key == "not":
            self._why(part, values, not negated, out)
        elif key == "leaf":
            if values[at] == want:
                out.append((part, negated))
        else:
            # all not met: any one failing child is enough, show each; any not met: every child failed.
            for child in part:
                if values[child] == want:
                    self._why(child, values, negated, out)


def compile_criteria(criteria: dict) -> Compiled:
    """Valid criteria ready for the per-enterprise evaluator (``Compiled``)."""
    return Compiled(criteria)


def evaluate(criteria: dict, facts: Mapping) -> str:
    """The outcome (``met``, ``not_met`` or ``unknown``) of valid ``criteria`` for an enterprise's facts."""
    return Compiled(criteria).outcome(facts)


@dataclass(frozen=True)
class LeafResult:
    id: str | None
    field: str
    op: str
    value: object
    actual: object
    result: str

    def as_json(self) -> dict:
        return {"id": self.id, "field": self.field, "op": self.op, "value": self.value,
                "actual": json_value(self.actual), "result": self.result}


@dataclass(frozen=True)
class Explanation:
    outcome: str
    leaves: tuple[LeafResult, ...]

    @property
    def missing(self) -> list[str]:
        """The fields whose absence leaves the outcome unknown (each once, in document order)."""
        if self.outcome != UNKNOWN:
            return []
        return list(dict.fromkeys(leaf.field for leaf in self.leaves if leaf.result == UNKNOWN))

    def as_json(self) -> dict:
        return {"outcome": self.outcome, "leaves": [leaf.as_json() for leaf in self.leaves]}


def explain(criteria: dict, facts: Mapping) -> Explanation:
    """The outcome and every leaf, in document order, with the enterprise's value and the leaf's result."""
    return Compiled(criteria).explain(facts)


def json_value(value):
    """A fact as JSON writes it: dates ISO, decimals as exact text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def leaves_of(criteria: dict) -> list[dict]:
    """Every leaf of valid criteria, in document order."""
    out: list = []
    _walk_leaves(criteria, out)
    return out


def _walk_leaves(node, out):
    for key in ("all", "any"):
        if key in node:
            for child in node[key]:
                _walk_leaves(child, out)
            return
    if "not" in node:
        _walk_leaves(node["not"], out)
        return
    out.append(node)


def fields_used(criteria: dict) -> list[str]:
    return list(dict.fromkeys(leaf["field"] for leaf in leaves_of(criteria)))


def describe_leaf(node: dict, labels: Mapping[str, Mapping] | None = None):
    """A leaf as people read it: field, operator and value in the page's language; ``labels`` gives the
    names of coded values per field (size classes, districts), so no code is shown where a name exists."""
    field = FIELDS[node["field"]]
    names = (labels or {}).get(node["field"], {})
    value = node["value"]
    if isinstance(value, list):
        shown = Joined((names.get(v, v) for v in value), "、", ", ")
    elif field.type == BOOLEAN:
        shown = _("是") if value else _("否")
    else:
        shown = names.get(value, value)
    return Message(_("%(field)s %(op)s %(value)s%(unit)s"), field=field.label, op=OPERATORS[node["op"]],
                   value=shown, unit=field.unit or "")


# --- facets -------------------------------------------------------------------------------------------

def passes_facets(item_tags: Mapping[str, Iterable[str]], chosen: Mapping[str, Iterable[str]]) -> bool:
    """OR within a facet, AND across facets; an empty filter (or an empty facet) passes every item."""
    for facet, wanted in chosen.items():
        wanted = set(wanted)
        if wanted and not wanted & set(item_tags.get(facet, ())):
            return False
    return True


# --- search and stored facts --------------------------------------------------------------------------

def search_tokens(text: str) -> list[str]:
    """The words of a text for search (jieba, as the requests' similarity reads them)."""
    from huiqi.requests.rules import tokenize

    return tokenize(text)


def facts_from_json(data: Mapping) -> dict:
    """An enterprise's facts as a test case stores them (dates ISO, decimals as text, ``null`` missing),
    read as the evaluator compares them; an unknown field or a value of the wrong type is refused."""
    errors: list = []
    out: dict = {name: None for name in FIELDS}
    for name, raw in data.items():
        field = FIELDS.get(name)
        if field is None:
            errors.append(_error(f"$.{name}", "unknown_field", _("未知字段 %(name)s（可用：%(allowed)s）"),
                                 name=repr(name), allowed=", ".join(FIELDS)))
            continue
        if raw is None:
            continue
        try:
            out[name] = _scalar(field.type, raw, field.choices)
        except ValueError:
            errors.append(_error(f"$.{name}", "wrong_type", _TYPE_RULES[field.type], allowed=""))
    if errors:
        raise InvalidFields(errors)
    return out


def why_not(criteria: dict, facts: Mapping) -> list[tuple[dict, bool]]:
    """The leaves that make valid criteria not met for these facts, as (leaf, negated): a leaf not met, or
    (negated) a leaf met under a ``not``. What a page says in plain words to an enterprise that does not
    qualify."""
    compiled = Compiled(criteria)
    return [(compiled.leaves[i], negated) for i, negated in compiled.why_not(facts)]


def matches(in_force: bool, closes: dt.date | None, tags: Mapping, outcome: str, day: dt.date,
            chosen: Mapping[str, Iterable[str]]) -> bool:
    """The one matching rule of search and push: the item is published (in force on the day) and not past
    its close date, passes the facet filter, and its outcome is met."""
    return (in_force and (closes is None or day <= closes) and passes_facets(tags, chosen) and outcome == MET)


# --- 免申即享 and push: the days and the cap -----------------------------------------------------------------

def objection_deadline(calendar, published_on: dt.date, objection_days: int) -> dt.date:
    """The last day objections to a 公示 published on ``published_on`` are taken: the end of the
    ``objection_days``-th working day strictly after it (on China's calendar, 调休 included)."""
    return calendar.add_working_days(published_on, objection_days)


def reminder_day(closes: dt.date, reminder_days: int) -> dt.date:
    """The day a closing-date reminder goes out (at the digest time): ``reminder_days`` calendar days before."""
    return closes - dt.timedelta(days=reminder_days)


def external_allowed(sent_at: Iterable[dt.datetime], at: dt.datetime, cap: int) -> bool:
    """Whether an SMS or e-mail may go to an enterprise at ``at``: fewer than ``cap`` went to it in the 7
    days ``(at − 7 days, at]``; otherwise it goes to the inbox only, marked capped."""
    start = at - dt.timedelta(days=7)
    return sum(1 for t in sent_at if start < t <= at) < cap


def new_matches(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Of the enterprises' outcomes before and after an item is published or its criteria change, those
    that newly match (met now, not met before), sorted: who the next digest tells."""
    return sorted(key for key, outcome in after.items() if outcome == MET and before.get(key) != MET)


def asked_for_facts(after: Mapping[str, str]) -> list[str]:
    """The enterprises whose outcome is unknown: an inbox note asks them for the missing facts (never SMS)."""
    return sorted(key for key, outcome in after.items() if outcome == UNKNOWN)


# --- online application (在线申报) and stacking (不得重复享受) ----------------------------------------------------

_DECLARED_FLAGS = {"true": True, "false": False, "1": True, "0": False, "是": True, "否": False}


def declarable(criteria: dict, registry: Mapping) -> list[str]:
    """The criteria's fields the registry has no value for: what an enterprise may declare on the form
    (each once, in document order)."""
    return [name for name in fields_used(criteria) if registry.get(name) is None]


def _declared_value(field: Field, raw, choices):
    """A declared value as the evaluator compares it; a form's text is read as the API's JSON would be."""
    if isinstance(raw, str):
        text = raw.strip()
        if field.type == INTEGER and re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        if field.type == BOOLEAN and text.lower() in _DECLARED_FLAGS:
            return _DECLARED_FLAGS[text.lower()]
        raw = text
    return _scalar(field.type, raw, choices)


def parse_declared(raw: Mapping, criteria: dict, registry: Mapping,
                   choices_of: Mapping[str, Iterable[str]] | None = None) -> dict:
    """What an enterprise declares for facts the registry lacks, checked whole: a field the criteria do not
    read, a fact the registry already holds (a declaration never replaces it) or a value of the wrong type is
    named (``declared_<field>``) with its rule, all at once. Empty values are left out."""
    errors: list = []
    out: dict = {}
    used = set(fields_used(criteria))
    for name, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        key = f"declared_{name}"
        field = FIELDS.get(name)
        if field is None or name not in used:
            errors.append(ValidationFailed("policies.declared_not_asked", _("本事项的申报条件不需要申报 %(name)s"),
                                           field=key, name=field.label if field else repr(name)))
            continue
        if registry.get(name) is not None:
            errors.append(ValidationFailed(
                "policies.declared_known", _("%(name)s 登记库已有（%(known)s），申报值不能替代登记库信息；如登记有误请申请更正登记信息"),
                field=key, name=field.label, known=json_value(registry[name])))
            continue
        choices = field.choices if field.choices is not None else (choices_of or {}).get(name)
        try:
            out[name] = _declared_value(field, value, choices)
        except ValueError:
            errors.append(ValidationFailed(f"policies.declared_{field.type}", _("%(name)s %(rule)s"), field=key,
                                           name=field.label, rule=Message(_TYPE_RULES[field.type],
                                                                          allowed=", ".join(choices or ()))))
    if errors:
        raise InvalidFields(errors)
    return out


def with_declared(registry: Mapping, declared: Mapping) -> dict:
    """The facts an application is judged on: the registry's, each missing one filled by the declared value
    (a declared value never replaces a registry one)."""
    return {name: (value if value is not None else declared.get(name)) for name, value in registry.items()}


def is_open(day: dt.date, opens: dt.date | None, closes: dt.date | None) -> bool:
    """Whether an item's application window takes applications on ``day`` (no dates: always)."""
    return (opens is None or opens <= day) and (closes is None or day <= closes)


@dataclass(frozen=True)
class Holding:
    """A benefit an enterprise holds (an approved or paid application): the item, the window it was granted
    in (identified by its opening day; None: an item always open), the item's exclusion group then, and the
    application's number."""

    item: str
    window: dt.date | None
    group: str
    number: str


def stacking_conflict(item: str, window: dt.date | None, group: str, repeatable: bool,
                      holdings: Iterable[Holding]) -> Holding | None:
    """The holding that forbids another benefit of ``item`` (None: none does). An item is held at most once
    per application window unless repeatable; of the items sharing an exclusion group one is held at a time.
    Exclusion is a shared group, never one item naming another, so it is symmetric and cannot form a cycle."""
    for h in holdings:
        if h.item == item:
            if not repeatable and h.window == window:
                return h
        elif group and h.group == group:
            return h
    return None


def overdue(state: str, due: dt.date, day: dt.date) -> bool:
    """An application still with its department (submitted or accepted) past its due day."""
    return state in ("submitted", "accepted") and due < day


def attachment_name(name: str) -> str:
    """An attachment's own name, as the platform keeps every attachment's (the requests' rule)."""
    from huiqi.requests.rules import safe_filename

    return safe_filename(name)


def attachment_kind(name: str) -> str:
    from huiqi.requests.rules import file_kind

    return file_kind(name)


def attachment_content_type(kind: str) -> str:
    from huiqi.requests.rules import CONTENT_TYPES

    return CONTENT_TYPES.get(kind, "application/octet-stream")


def control_totals(lines: Iterable[tuple[str, int]]) -> tuple[int, int, str]:
    """A payment list's control totals from its (beneficiary id, amount in fen) lines: the count, Σ amount
    in fen and the SHA-256 (hex) of the lines ``"<id>,<amount in yuan, two places>"`` sorted by id, joined
    by newlines (the same text as the payment list file's lines)."""
    import hashlib

    rows = sorted(lines)
    text = "\n".join(f"{beneficiary},{fen_text(fen)}" for beneficiary, fen in rows)
    return len(rows), sum(fen for _b, fen in rows), hashlib.sha256(text.encode("utf-8")).hexdigest()


def fen_text(fen: int) -> str:
    """Whole fen as yuan with two places, exactly (never through a float): 123456 → "1234.56"."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


NATURAL_PERSONS = ("business_owner", "individual_business")


def masked_name(name: str) -> str:
    """A natural person's name (a small-business owner, an individual business's operator) on a public list:
    the first character kept, the rest starred ("王五" → "王*", "张记餐饮店" → "张****")."""
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def reconciles(list_count: int, list_total_fen: int, paid: Iterable[int], failed: Iterable[int]) -> bool:
    """Whether a payment results file reconciles with its payment list: Σ paid + Σ failed = Σ amount and
    the counts agree."""
    paid, failed = list(paid), list(failed)
    return len(paid) + len(failed) == list_count and sum(paid) + sum(failed) == list_total_fen


# --- the per-policy funnel (政策转化漏斗) --------------------------------------------------------------------

FUNNEL_STEPS = ("views", "pushes", "opens", "applications", "approvals")


def step_rate(count: int, previous: int) -> Decimal | None:
    """A funnel step's rate: its distinct enterprises over the previous step's, as a percentage rounded once,
    half-up, to 0.1 % (exactly, through a fraction); None when the previous step has none."""
    from fractions import Fraction
    from math import floor

    if not previous:
        return None
    tenths = floor(Fraction(count * 1000, previous) + Fraction(1, 2))
    return Decimal(tenths) / 10


def funnel_rates(counts: Mapping[str, int]) -> dict[str, Decimal | None]:
    """Each step after the first over the step before it (``FUNNEL_STEPS`` order): {step: rate}."""
    return {step: step_rate(counts[step], counts[before])
            for before, step in zip(FUNNEL_STEPS, FUNNEL_STEPS[1:])}
