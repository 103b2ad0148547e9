"""Program parameters as data: read the value in force on a day, write a new dated value with audit.

Every parameter has a schema its program declares (``PARAMETERS`` in the app's ``site.py``: a function
that returns the value cleaned or raises ``ValidationFailed``/``InvalidFields`` naming each bad field).
A value is checked when it is written, and again when it is read: a row that does not pass (written
before its schema, or by hand in the database) is passed over for the latest earlier row that does,
and logged, so that one bad row never takes a program down. A row in force before today is history:
it is corrected by a new dated row, never edited; today's and future rows may be corrected, audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import audit, clock
from .errors import DomainError, InvalidFields, NotFound, ValidationFailed
from .i18n import Joined, Message, stored
from .models import Parameter

log = logging.getLogger("huiqi.params")

SCHEMAS: dict[str, Callable[[object], object]] = {}
LABELS: dict[str, object] = {}


def register(key: str, validate: Callable[[object], object], label=None) -> None:
    """Declare ``key``'s schema: ``validate(value)`` returns the value as stored or raises. ``label``
    is the parameter's name for people (a lazy translation); a schema of named fields carries the
    fields' labels as its ``labels``."""
    SCHEMAS[key] = validate
    if label is not None:
        LABELS[key] = label


def label(key: str, name: str | None = None):
    """The name people read for parameter ``key`` (or for its field ``name``), in the page's
    language; the key itself when none was declared."""
    if name is None:
        return LABELS.get(key, key)
    return getattr(SCHEMAS.get(key), "labels", {}).get(name, name)


def any_label(name: str):
    """The label any parameter schema gives a field called ``name`` (its name when none does)."""
    for schema in SCHEMAS.values():
        found = getattr(schema, "labels", {}).get(name)
        if found is not None:
            return found
    return LABELS.get(name, name)


def describe_any(value: dict) -> list[tuple[object, object]]:
    """(label, value) of a set of named values, by the schema whose fields they are (else each by name)."""
    for key, schema in SCHEMAS.items():
        labels = getattr(schema, "labels", None)
        if labels and set(value) <= set(labels):
            return describe(key, value)
    return [(any_label(name), shown_value(v)) for name, v in value.items()]


def program_label(program: str):
    """A program's name for people: its app's verbose name."""
    try:
        return apps.get_app_config(program).verbose_name
    except LookupError:
        return program


def shown_value(value):
    """A parameter's value (or a field's) as a page shows it: yes/no, lists joined, the rest as written."""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        return Joined((shown_value(v) for v in value), "、", ", ")
    if isinstance(value, dict):
        return Joined(Message(_("%(name)s：%(value)s"), name=k, value=shown_value(v))
                      for k, v in value.items())
    return value


def describe(key: str, value) -> list[tuple[object, object]]:
    """(label, value) of each part of a stored value, in the reader's language. A schema may describe its
    values itself (its ``describe(value)``); else the fields of a set of named fields, each by its label."""
    custom = getattr(SCHEMAS.get(key), "describe", None)
    if custom is not None:
        return custom(value)
    if isinstance(value, dict):
        return [(label(key, name), shown_value(v)) for name, v in value.items()]
    return [(label(key), shown_value(value))]


def validate(key: str, new_value):
    """``new_value`` checked against ``key``'s schema; an undeclared key is refused."""
    schema = SCHEMAS.get(key)
    if schema is None:
        raise ValidationFailed("parameter.unknown", _("没有名为 %(key)s 的项目参数"), field="key", value=key, key=key)
    return schema(new_value)


# --- building a schema ------------------------------------------------------------------------------
#
# A schema built from these helpers also describes itself to the parameter page (``core.forms``): each
# field's check carries its kind, label, unit and bounds, so the form is derived from the one rule.


def _bad(field, message, value=None, **params) -> ValidationFailed:
    return ValidationFailed(f"parameter.{field}", message, field=field, value=value, **params)


@dataclass(frozen=True, eq=False)
class Check:
    """One field's rule, callable as ``check(name, value, field=None)`` (``name`` is what messages call
    the field: its label; ``field`` the key an error names), and what a form needs to show the field.

    ``kind`` is one of integer, decimal, money, boolean, time, date, choice, choices, text, codes, rows;
    ``money`` marks a value whose change needs a second person's approval; ``text`` says a decimal is
    stored as text; ``columns`` are a table's ((name, check), …) for ``rows``."""

    kind: str
    test: Callable[..., object]
    label: object = ""
    unit: object = ""
    minimum: object = None
    maximum: object = None
    choices: tuple = ()
    money: bool = False
    text: bool = False
    columns: tuple = ()

    def __call__(self, name, v, field=None):
        return self.test(name, v, field)


class FieldSet:
    """A schema for a value that is a set of named fields, each with its check; every bad, missing or
    unknown field is named at once. ``partial``: fields may be left out (the program's ``defaults`` fill
    them); ``optional``: these fields may be left out; ``then``: a check of the whole value once every field
    passes (rules across fields), returning the value as stored. A check made with a ``label`` names its
    field by it in messages and on pages (``labels``)."""

    def __init__(self, checks: dict, *, partial: bool = False, optional=(), defaults=None, then=None,
                 scalar: bool = False):
        self.checks, self.partial, self.optional = checks, partial, frozenset(optional)
        self.defaults, self.then, self.scalar = dict(defaults or {}), then, scalar
        self.labels = {name: getattr(check, "label", None) or name for name, check in checks.items()}

    def __call__(self, value):
        if self.scalar:
            ((name, check),) = self.checks.items()
            check(self.labels[name], value, field=name)
            return value
        if not isinstance(value, dict):
            raise _bad("value", _("取值必须是一组具名字段"))
        errors: list[DomainError] = [_bad(name, _("未知字段 %(name)s"), name=name)
                                     for name in sorted(set(value) - set(self.checks))]
        for name, check in self.checks.items():
            if name not in value:
                if not (self.partial or name in self.optional):
                    errors.append(_bad(name, _("缺少字段 %(name)s"), name=self.labels[name]))
                continue
            try:
                check(self.labels[name], value[name], field=name)
            except DomainError as exc:
                errors.append(exc)
        if errors:
            raise InvalidFields(errors)
        return self.then(value) if self.then else value

    def as_fields(self, stored) -> dict:
        """A stored value as {field: value} (a scalar's one field; the defaults under a partial value)."""
        if self.scalar:
            return {next(iter(self.checks)): stored}
        return {**self.defaults, **(stored if isinstance(stored, dict) else {})}

    def stored(self, values: dict):
        """{field: value} as the value is stored (the inverse of ``as_fields``)."""
        return values[next(iter(self.checks))] if self.scalar else dict(values)


def fields(checks: dict[str, Callable[..., object]], *, partial: bool = False, optional=(),
           defaults=None, then=None) -> FieldSet:
    """A schema for a value that is a set of named fields (see ``FieldSet``)."""
    return FieldSet(checks, partial=partial, optional=optional, defaults=defaults, then=then)


def field_set(key: str) -> FieldSet | None:
    """``key``'s schema when it describes its fields (then the parameter page offers a form), else None."""
    schema = SCHEMAS.get(key)
    return schema if isinstance(schema, FieldSet) else None


def require_fields(value) -> dict:
    """A schema's first step for a value that must be a non-empty set of named fields."""
    if not isinstance(value, dict) or not value:
        raise _bad("value", _("取值必须是一组具名字段"))
    return value


def scalar(check: Callable[..., object], name: str = "value") -> FieldSet:
    """A schema for a value that is one number, flag or text."""
    return FieldSet({name: check}, scalar=True)


def _unit(unit):
    """A unit as it follows a number in a message (" 天"), or nothing."""
    return format_lazy(" {}", unit) if unit else ""


def integer(minimum: int | None = None, maximum: int | None = None, unit="", *, label="") -> Check:
    """A whole number within bounds; ``unit`` (a lazy translation) follows the bounds in messages."""
    def check(name, v, field=None):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _bad(field or name, _("%(name)s 必须是整数"), v, name=name)
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            raise _bad(field or name, _("%(name)s 必须在 %(minimum)s 到 %(maximum)s%(unit)s 之间"), v,
                       name=name, minimum=minimum, maximum=maximum, unit=_unit(unit))
        return v
    return Check("integer", check, label, unit, minimum, maximum)


def _decimal_check(minimum, maximum, unit=""):
    from decimal import Decimal, InvalidOperation

    def check(name, v, field=None):
        try:
            d = Decimal(str(v)) if not isinstance(v, bool) else None
        except InvalidOperation:
            d = None
        if d is None or not d.is_finite():
            raise _bad(field or name, _("%(name)s 必须是数字"), v, name=name)
        if not Decimal(str(minimum)) <= d <= Decimal(str(maximum)):
            raise _bad(field or name, _("%(name)s 必须在 %(minimum)s 到 %(maximum)s%(unit)s 之间"), v,
                       name=name, minimum=minimum, maximum=maximum, unit=_unit(unit))
        return v
    return check


def decimal(minimum, maximum, unit="", *, label="", text: bool = False, money: bool = False) -> Check:
    """A number (given as text or a number, never a float's approximation of money) within bounds;
    ``text``: a form stores it as text; ``money``: it sets amounts paid (a ratio), so changing it needs a
    second person."""
    return Check("decimal", _decimal_check(minimum, maximum, unit), label, unit, minimum, maximum, text=text,
                 money=money)


def money(minimum, maximum, unit=_("元"), *, label="") -> Check:
    """An amount in yuan (text with two decimal places), within bounds; changing it needs a second person."""
    return Check("money", _decimal_check(minimum, maximum, unit), label, unit, minimum, maximum, money=True,
                 text=True)


def boolean(*, label="") -> Check:
    def check(name, v, field=None):
        if not isinstance(v, bool):
            raise _bad(field or name, _("%(name)s 必须是“是”或“否”"), v, name=name)
        return v
    return Check("boolean", check, label)


def time_of_day(*, label="") -> Check:
    def check(name, v, field=None):
        hours, minutes = (v[:2], v[3:]) if isinstance(v, str) and len(v) == 5 and v[2] == ":" else ("", "")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise _bad(field or name, _("%(name)s 必须是 00:00 到 23:59 之间的时刻（时:分）"), v, name=name)
        return v
    return Check("time", check, label)


def date(*, label="") -> Check:
    """A day, stored as YYYY-MM-DD."""
    def check(name, v, field=None):
        try:
            dt.date.fromisoformat(v if isinstance(v, str) and len(v) == 10 else "")
        except ValueError:
            raise _bad(field or name, _("%(name)s 必须是 YYYY-MM-DD 格式的日期"), v, name=name) from None
        return v
    return Check("date", check, label)


def text(max_length: int = 200, *, label="") -> Check:
    """A line of text, not blank, at most ``max_length`` characters (a name, say)."""
    def check(name, v, field=None):
        if not isinstance(v, str) or not v.strip():
            raise _bad(field or name, _("%(name)s 必须填写"), v, name=name)
        if len(v) > max_length:
            raise _bad(field or name, _("%(name)s 不能超过 %(max)s 个字符"), v, name=name, max=max_length)
        return v
    return Check("text", check, label, maximum=max_length)


def choice(allowed, *, label="") -> Check:
    """One of ``allowed`` (a sequence of values, or of (value, label) pairs for the form)."""
    pairs = tuple(a if isinstance(a, tuple) else (a, a) for a in allowed)
    values = [v for v, _label in pairs]

    def check(name, v, field=None):
        if v not in values:
            raise _bad(field or name, _("%(name)s 必须是以下取值之一：%(allowed)s"), v,
                       name=name, allowed=Joined(values, "、", ", "))
        return v
    return Check("choice", check, label, choices=pairs)


def choices_list(allowed, *, label="") -> Check:
    def check(name, v, field=None):
        if not isinstance(v, list) or not v or any(not isinstance(x, str) or x not in allowed for x in v):
            raise _bad(field or name, _("%(name)s 必须是以下取值中的一个或多个：%(allowed)s"), v,
                       name=name, allowed=", ".join(sorted(allowed)))
        return v
    return Check("choices", check, label, choices=tuple((a, a) for a in sorted(allowed)))


def codes(*, label="", max_length: int = 20) -> Check:
    """A list of short codes (industry codes, say), each non-empty text; stored upper-case as given."""
    def check(name, v, field=None):
        if not isinstance(v, list) or any(not isinstance(x, str) or not x.strip() or len(x) > max_length for x in v):
            raise _bad(field or name, _("%(name)s 必须是一组代码（每个不超过 %(max)s 个字符）"), v,
                       name=name, max=max_length)
        return v
    return Check("codes", check, label)


def rows(columns: dict[str, Check], *, label="", money: bool = False, optional=()) -> Check:
    """A table: a list of rows, each a set of the named ``columns`` (``optional`` ones may be blank).
    Every bad cell is named at once, as ``<field>.<row>.<column>`` (rows counted from 1)."""
    optional = frozenset(optional)

    def check(name, v, field=None):
        key = field or name
        if not isinstance(v, list):
            raise _bad(key, _("%(name)s 必须是一组行"), v, name=name)
        errors: list[DomainError] = []
        for i, row in enumerate(v, start=1):
            if not isinstance(row, dict):
                errors.append(_bad(f"{key}.{i}", _("%(name)s 第 %(row)s 行不是一行取值"), row, name=name, row=i))
                continue
            errors += [_bad(f"{key}.{i}.{col}", _("%(name)s 第 %(row)s 行：未知列 %(column)s"), name=name, row=i,
                            column=col) for col in sorted(set(row) - set(columns))]
            for col, col_check in columns.items():
                cell = row.get(col)
                if cell in (None, ""):
                    if col not in optional:
                        errors.append(_bad(f"{key}.{i}.{col}", _("%(name)s 第 %(row)s 行：缺少%(column)s"),
                                           name=name, row=i, column=col_check.label or col))
                    continue
                try:
                    col_check(Message(_("第 %(row)s 行的%(column)s"), row=i, column=col_check.label or col), cell,
                              field=f"{key}.{i}.{col}")
                except DomainError as exc:
                    errors.append(exc)
        if errors:
            raise InvalidFields(errors)
        return v
    return Check("rows", check, label, money=money, columns=tuple(columns.items()))


def problem(key: str, stored) -> DomainError | None:
    """Why a stored value does not pass its schema, or None."""
    try:
        validate(key, stored)
    except DomainError as exc:
        return exc
    return None


def value(key: str, on: dt.date | None = None, default=NotFound):
    """The value of ``key`` in force on ``on`` (today when omitted): the row with the latest
    ``effective_from`` not after that day. Raises NotFound when none is in force and no default is given."""
    on = on or clock.today()
    return _in_force(key, Parameter.objects.filter(key=key, effective_from__lte=on).order_by("-effective_from"),
                     on, default)


def values_on(key: str, days, default=NotFound) -> dict:
    """``value(key, day)`` for each of ``days``, from one read of the key's rows (a set-based calculation
    over many days: a pool's registration days)."""
    rows = list(Parameter.objects.filter(key=key).order_by("-effective_from"))
    valid = [r for r in rows if _in_force(key, [r], None, None) is not None]  # each row checked once
    return {day: _in_force(key, (r for r in valid if r.effective_from <= day), day, default, checked=True)
            for day in set(days)}


def _in_force(key: str, candidates, on, default, checked: bool = False):
    """The first of ``candidates`` (latest first) that passes its schema (all do when ``checked``), else
    ``default`` (or NotFound)."""
    row = None
    for candidate in candidates:
        bad = problem(key, candidate.value) if key in SCHEMAS and not checked else None
        if bad is None:
            row = candidate
            break
        log.error("parameter %s from %s does not pass its schema (%s); the row before it is used",
                  key, candidate.effective_from, bad.en)
    if row is None:
        if default is NotFound:
            raise NotFound(
                "parameter.missing", _("参数 %(key)s 在 %(on)s 没有生效的取值"), field=key, key=key, on=on,
            )
        return default
    return row.value


def history(key: str):
    return Parameter.objects.filter(key=key).order_by("-effective_from")


@transaction.atomic
def set_value(actor, key: str, program: str, new_value, effective_from: dt.date, *,
              description: str = "", note: str = "", today: dt.date | None = None) -> Parameter:
    """Store a value of ``key`` taking effect on ``effective_from``, checked against its schema, with an
    audit record of before and after. A value set for the same day is replaced when that day is today
    or later; a day already past is refused (correct it with a new row from today)."""
    if effective_from is None:
        raise ValidationFailed("parameter.effective_from", _("必须填写生效日期"), field="effective_from")
    new_value = validate(key, new_value)
    today = today or clock.today()
    existing = Parameter.objects.select_for_update().filter(key=key, effective_from=effective_from).first()
    if existing is not None and existing.effective_from < today:
        raise ValidationFailed(
            "parameter.past", _("%(effective_from)s 起生效的取值已成历史，不能修改；请新增一条自今日起生效的取值"), field="effective_from",
            value=str(effective_from), effective_from=effective_from)
    if existing is not None:
        before = audit.snapshot(existing)
        existing.value = new_value
        existing.note = note
        if description:
            existing.description = description
        existing.save()
        audit.record(actor, "update", existing, before=before, note=note)
        return existing
    row = Parameter.objects.create(
        key=key, program=program, value=new_value, effective_from=effective_from,
        description=description, note=note,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit.record(actor, "create", row, note=note)
    return row


def ensure_default(key: str, program: str, default_value, effective_from: dt.date, description: str = ""):
    """Seed a default the first time; never overwrite what the bureau has set."""
    if not Parameter.objects.filter(key=key).exists():
        Parameter.objects.create(key=key, program=program, value=default_value,
                                 effective_from=effective_from, description=description,
                                 note=stored(_("默认值，出自项目文件")))


def seed_after_migrate(config, key: str, default_value, effective_from: dt.date, description) -> None:
    """Seed ``key``'s default (``ensure_default``) each time ``config``'s app is migrated, once the
    parameter table exists (not when core is migrated backwards). An app calls it from ``ready()``;
    ``description`` is a lazy msgid, kept as its msgid (``i18n.stored``)."""
    from django.db.models.signals import post_migrate

    def seed(sender, using="default", apps=None, **kwargs):
        if apps is not None:
            try:
                apps.get_model("core", "Parameter")
            except LookupError:
                return
        ensure_default(key, config.label, default_value() if callable(default_value) else default_value,
                       effective_from, description=stored(description))

    post_migrate.connect(seed, sender=config, weak=False, dispatch_uid=f"huiqi.params.seed:{key}")
