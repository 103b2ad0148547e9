"""Writing the audit log. Every service that changes a domain record calls ``record``."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.apps import apps
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import formats
from .i18n import Joined, Message
from .models import AuditEvent


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model) -> dict:
    """The record's concrete field values as JSON-ready data, personal identifiers masked.

    A model lists fields to mask in ``AUDIT_MASK`` as {field: masking function}.
    """
    mask = getattr(obj, "AUDIT_MASK", {})
    data = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if field.name in mask and value:
            value = mask[field.name](value)
        data[field.attname] = _plain(value)
    return data


SYSTEM = "system"


def actor_label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM
    return user.get_username()


def record(actor, action: str, obj: models.Model | None = None, *, before: dict | None = None,
           after: dict | None = None, note: str = "", model: str | None = None,
           object_id: str | None = None, object_repr: str | None = None) -> AuditEvent:
    """Append one audit record. ``after`` defaults to a snapshot of ``obj`` unless the action deletes it."""
    if obj is not None and after is None and action != "delete":
        after = snapshot(obj)
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor_label(actor),
        action=action,
        model=model or (obj._meta.label if obj is not None else ""),
        object_id=str(object_id if object_id is not None else (obj.pk if obj is not None else "")),
        object_repr=(object_repr if object_repr is not None else (str(obj) if obj is not None else ""))[:300],
        before=before,
        after=after,
        note=note,
    )


def record_changes(actor, obj: models.Model, before: dict, note: str = "") -> AuditEvent | None:
    """Record an update when something changed; returns None when nothing did."""
    after = snapshot(obj)
    if before == after:
        return None
    return record(actor, "update", obj, before=before, after=after, note=note)


def record_each(actor, action: str, changes: Iterable[tuple[models.Model, dict, dict]], *, note: str = "",
                batch_size: int = 2000) -> int:
    """Append one audit record per changed object, in bulk (a file that changes thousands of records at
    once): ``changes`` are (object, before, after) with ``before`` and ``after`` as ``snapshot`` gives
    them. All share one time, actor and note. Returns how many were written."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    label, now = actor_label(actor), timezone.now()
    events = [AuditEvent(actor=user, actor_label=label, action=action, model=obj._meta.label,
                         object_id=str(obj.pk), object_repr=str(obj)[:300], before=before, after=after,
                         note=note, at=now)
              for obj, before, after in changes]
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)
    return len(events)


# --- reading the log ----------------------------------------------------------------------------------
# What the pages show of a record: its action, record type and fields by their names in the reader's
# language (the codes stay in the database and the API). Apps add their own actions (``AUDIT_ACTIONS``
# of their ``site.py``); an action no one named is shown as it is written.

ACTIONS = {
    "create": _("新建"), "update": _("修改"), "delete": _("删除"), "upload": _("上传"), "import": _("导入"),
    "demo": _("生成演示数据"), "lock": _("锁定账户"), "revoke": _("撤销"), "login": _("登录"),
}
# Names of the keys of records that are not a model's fields (what a service wrote beside a snapshot).
FIELDS = {
    "created": _("新增"), "updated": _("更新"), "unchanged": _("无变化"), "rows": _("行数"), "file": _("文件"),
    "digest": _("文件摘要"), "sha256": _("文件摘要"), "kind": _("类型"), "name": _("名称"), "note": _("说明"),
    "organisation": _("所属机构"), "owns": _("所属企业"), "scale": _("规模"), "seed": _("随机种子"), "today": _("日期"),
    "paid": _("已支付"), "failed": _("失败"), "pending": _("待支付"), "reconciliation": _("对账文件"),
    "prepared_by": _("上传人"), "filing": _("报备"), "internal": _("内部备注"), "common_problem": _("共性问题"),
    "locked_until": _("锁定至"),
}
# The actor label of what the platform did by itself, for records written before it was a code.
_SYSTEM_LABELS = {SYSTEM, "系统 system", "系统"}


def action_label(action: str):
    return ACTIONS.get(action, action)


def actor_text(event):
    return _("系统") if event.actor_id is None and event.actor_label in _SYSTEM_LABELS else event.actor_label


def _model(label: str):
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def model_label(event):
    model = _model(event.model)
    return model._meta.verbose_name if model is not None else event.model


def object_text(event) -> str:
    """The record as it is now, named in the reader's language; as it was named then when it is gone."""
    model = _model(event.model)
    if model is not None and event.object_id:
        try:
            obj = model._default_manager.filter(pk=event.object_id).first()
        except (ValueError, TypeError):
            obj = None
        if obj is not None:
            return str(obj)
    return event.object_repr


def _field(model, name: str):
    for candidate in (name, name[:-3] if name.endswith("_id") else None):
        if candidate:
            try:
                return model._meta.get_field(candidate)
            except Exception:  # noqa: BLE001 - FieldDoesNotExist, or a name that is not a field
                continue
    return None


# A moment as ``snapshot`` keeps it: ISO text with its offset (UTC as Django holds it).
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def _value(field, value):
    if value is None:
        return None
    if isinstance(value, str) and _MOMENT.match(value):
        return formats.beijing(value, "second")  # in Beijing time, as every time on the page
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, dict):
        # A set of named values (a parameter set, say): each by the name a parameter schema gives it.
        from . import params

        return Joined((Message(_("%(name)s：%(value)s"), name=name, value=shown)
                       for name, shown in params.describe_any(value)), "；", "; ")
    if isinstance(value, list):
        return Joined((_value(None, v) for v in value), "、", ", ")
    return value


def changes(event) -> list[tuple[object, object, object]]:
    """(field label, before, after) of each field that changed, in the reader's language."""
    model = _model(event.model)
    rows = []
    for name, before, after in event.changes:
        field = _field(model, name) if model is not None else None
        label = field.verbose_name if field is not None else FIELDS.get(name, name)
        rows.append((label, _value(field, before), _value(field, after)))
    return rows
