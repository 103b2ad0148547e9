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

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import audit
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


def _bad(field, message, value=None, **params) -> ValidationFailed:
    return ValidationFailed(f"parameter.{field}", message, field=field, value=value, **params)


def fields(checks: dict[str, Callable[[str, object], object]], *, partial: bool = False):
    """A schema for a value that is a set of named fields, each with its check; every bad, missing (unless
    ``partial``: then the program's defaults fill it) or unknown field is named at once. A check made
    with a ``label`` names its field by it in messages and on pages (the schema's ``labels``)."""
    labels = {name: getattr(check, "label", None) or name for name, check in checks.items()}

    def check_all(value):
        if not isinstance(value, dict):
            raise _bad("value", _("取值必须是一组具名字段"))
        errors: list[DomainError] = [_bad(name, _("未知字段 %(name)s"), name=name)
                                     for name in sorted(set(value) - set(checks))]
        for name, check in checks.items():
            if name not in value:
                if not partial:
                    errors.append(_bad(name, _("缺少字段 %(name)s"), name=labels[name]))
                continue
            try:
                check(labels[name], value[name], field=name)
            except DomainError as exc:
                errors.append(exc)
        if errors:
            raise InvalidFields(errors)
        return value
    check_all.labels = labels
    return check_all


def require_fields(value) -> dict:
    """A schema's first step for a value that must be a non-empty set of named fields."""
    if not isinstance(value, dict) or not value:
        raise _bad("value", _("取值必须是一组具名字段"))
    return value


def scalar(check: Callable[[str, object], object], name: str = "value"):
    """A schema for a value that is one number, flag or text."""
    def check_one(value):
        check(getattr(check, "label", None) or name, value, field=name)
        return value
    return check_one


def _labelled(check, label):
    check.label = label
    return check


def integer(minimum: int | None = None, maximum: int | None = None, unit="", label=None):
    """A whole number within bounds; ``unit`` (a lazy translation) follows the bounds in messages."""
    def check(name, v, field=None):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _bad(field or name, _("%(name)s 必须是整数"), v, name=name)
        if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
            raise _bad(field or name, _("%(name)s 必须在 %(minimum)s 到 %(maximum)s%(unit)s 之间"), v,
                       name=name, minimum=minimum, maximum=maximum,
                       unit=format_lazy(" {}", unit) if unit else "")
        return v
    return _labelled(check, label)


def decimal(minimum, maximum, label=None):
    """A number (given as text or a number, never a float's approximation of money) within bounds."""
    from decimal import Decimal, InvalidOperation

    def check(name, v, field=None):
        try:
            d = Decimal(str(v)) if not isinstance(v, bool) else None
        except InvalidOperation:
            d = None
        if d is None or not d.is_finite():
            raise _bad(field or name, _("%(name)s 必须是数字"), v, name=name)
        if not Decimal(str(minimum)) <= d <= Decimal(str(maximum)):
            raise _bad(field or name, _("%(name)s 必须在 %(minimum)s 到 %(maximum)s 之间"), v,
                       name=name, minimum=minimum, maximum=maximum, unit="")
        return v
    return _labelled(check, label)


def boolean(label=None):
    def check(name, v, field=None):
        if not isinstance(v, bool):
            raise _bad(field or name, _("%(name)s 必须是“是”或“否”"), v, name=name)
        return v
    return _labelled(check, label)


def time_of_day(label=None):
    def check(name, v, field=None):
        hours, minutes = (v[:2], v[3:]) if isinstance(v, str) and len(v) == 5 and v[2] == ":" else ("", "")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise _bad(field or name, _("%(name)s 必须是 00:00 到 23:59 之间的时刻（时:分）"), v, name=name)
        return v
    return _labelled(check, label)


def choices_list(allowed, label=None):
    def check(name, v, field=None):
        if not isinstance(v, list) or not v or any(not isinstance(x, str) or x not in allowed for x in v):
            raise _bad(field or name, _("%(name)s 必须是以下取值中的一个或多个：%(allowed)s"), v,
                       name=name, allowed=", ".join(sorted(allowed)))
        return v
    return _labelled(check, label)


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
    on = on or timezone.localdate()
    row = None
    for candidate in Parameter.objects.filter(key=key, effective_from__lte=on).order_by("-effective_from"):
        bad = problem(key, candidate.value) if key in SCHEMAS else None
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
    today = today or timezone.localdate()
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
