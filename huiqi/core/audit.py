"""Writing the audit log. Every service that changes a domain record calls ``record``."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal

from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy as _

from . import formats
from .i18n import Joined, Message, pick, shown
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
# What the pages and the export show of a record: when (Beijing time), who (the person's name and
# organisation), the action, the record's title and its page, and each field by its name in the reader's
# language with its values as people read them (choices by their labels, money in yuan, times in Beijing
# time). The codes stay in the database and the API. Apps add their own actions (``AUDIT_ACTIONS`` of
# their ``site.py``) and their records' pages (``AUDIT_LINKS``); an action no one named is shown as it is
# written.

ACTIONS = {
    "create": _("新建"), "update": _("修改"), "delete": _("删除"), "upload": _("上传"), "import": _("导入"),
    "demo": _("生成演示数据"), "lock": _("锁定账户"), "revoke": _("撤销"), "login": _("登录"),
    "propose": _("提交参数修改"), "approve": _("批准参数修改"), "reject": _("驳回参数修改"),
}
# {"app.Model": AuditLink}: where a record of a model is shown (the apps' ``AUDIT_LINKS``).
LINKS: dict = {}
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
# What a money field's name says of its unit; its value is shown in yuan, so the label goes without it.
_FEN_UNIT = _("（分）")


@dataclass(frozen=True)
class Person:
    """Who did something, as an auditor reads it: the full name and the organisation acted for."""

    name: str
    organisation: str = ""

    def __str__(self) -> str:
        if not self.organisation:
            return self.name
        return str(Message(_("%(name)s（%(organisation)s）"), name=self.name, organisation=self.organisation))


class People:
    """The people of the log. ``core`` knows no roles or organisations: the site puts the accounts' own
    answer in ``PEOPLE`` (``accounts.selectors.AuditPeople``); this one knows only the user's name."""

    def describe(self, ids: Iterable[int]) -> dict[int, Person]:
        users = get_user_model()._default_manager.filter(pk__in=set(ids))
        return {u.pk: Person(str(u)) for u in users}

    def matching(self, text: str) -> Q:
        """The events of the people whose name (or user name) holds ``text``."""
        return Q(actor_label__icontains=text)

    def organisations(self) -> list[tuple[str, object]]:
        """(key, name) of the organisations the ``organisation`` filter offers."""
        return []

    def of_organisation(self, key: str) -> Q:
        """The events of the people of the organisation ``key`` (one of ``organisations()``)."""
        return Q(pk__in=[])


PEOPLE = People()


def action_label(action: str):
    return ACTIONS.get(action, action)


SYSTEM_NAME = _("系统")


def actor_text(event):
    return SYSTEM_NAME if event.actor_id is None and event.actor_label in _SYSTEM_LABELS else event.actor_label


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
        except (ValueError, TypeError, ValidationError):
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


def _is_money(field, name: str) -> bool:
    return name.endswith("_fen") and (field is None or isinstance(field, models.IntegerField))


def field_label(field, name: str):
    """A field's name for people: its model's verbose name (a money field's without its unit), else a
    name of ``FIELDS``, else the key as it is written."""
    if field is None:
        return FIELDS.get(name, name)
    label = field.verbose_name
    if _is_money(field, name):
        key = (field, get_language())
        if key not in _MONEY_LABELS:
            text, unit = str(label), str(_FEN_UNIT)
            bare = text.endswith(unit) and len(text) > len(unit)
            _MONEY_LABELS[key] = text[: -len(unit)].rstrip() if bare else text
        return _MONEY_LABELS[key]
    return label


_MONEY_LABELS: dict = {}  # (field, language) -> the money field's name without its unit


def _when(value: str):
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return value
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.timezone.utc)
    return formats.beijing(moment, "second")  # in Beijing time, as every time on the page


# A moment as ``snapshot`` keeps it: ISO text with its offset (UTC as Django holds it).
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def _value(field, value, name: str = "", related: dict | None = None):
    if value is None or value == "":
        return None
    if isinstance(value, str) and _MOMENT.match(value):
        return _when(value)  # in Beijing time, as every time on the page, whatever field recorded it
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    if _is_money(field, name) and isinstance(value, int):
        return Message(_("%(amount)s 元"), amount=formats.yuan(value))
    if field is not None and field.many_to_one and related is not None:
        found = related.get((field.related_model._meta.label, str(value)))
        return found if found is not None else f"#{value}"
    if isinstance(field, models.DateTimeField):
        return _when(value)
    if isinstance(value, dict):
        # A record copied with its text in both languages (a filing's checklist item: text / text_en) reads
        # as that text in the reader's language.
        for base in ("text", "name", "title"):
            if isinstance(value.get(base), str) and f"{base}_en" in value:
                return pick(value[base], value[f"{base}_en"] or value[base])
        # A set of named values (a parameter set, say): each by the name a parameter schema gives it.
        from . import params

        return Joined((Message(_("%(name)s：%(value)s"), name=name, value=text)
                       for name, text in params.describe_any(value)), "；", "; ")
    if isinstance(value, list):
        return Joined((_value(None, v) for v in value), "、", ", ") if value else None
    return value


def changes(event) -> list[tuple[object, object, object]]:
    """(field label, before, after) of each field that changed, in the reader's language."""
    return [(c.label, c.before, c.after) for c in _changes(event, _model(event.model), None, every=False)]


@dataclass(frozen=True)
class Change:
    label: object
    before: object
    after: object
    changed: bool = True


def _changes(event, model, related, *, every: bool) -> list[Change]:
    if every:
        before, after = event.before or {}, event.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        triples = [(k, before.get(k), after.get(k)) for k in keys]
    else:
        triples = event.changes
    rows = []
    for name, old, new in triples:
        field = _field(model, name) if model is not None else None
        if field is not None and field.primary_key and field.auto_created:
            continue  # the record's own id: the record is named beside its changes
        shown_before, shown_after = _value(field, old, name, related), _value(field, new, name, related)
        if shown_before is None and shown_after is None and not every:
            continue  # nothing to nothing (an empty text where there was none)
        rows.append(Change(field_label(field, name), shown_before, shown_after, old != new))
    return rows


@dataclass
class Entry:
    """One audit record as the pages and the export show it (``read``)."""

    event: AuditEvent
    person: Person | None           # None: the platform itself
    action: object
    kind: object                    # the record's type, in the reader's language
    title: str                      # the record as it is named now, or as it was named then
    url: str | None                 # its page, when the reader may open it
    changes: list[Change]

    @property
    def who(self):
        return self.person if self.person is not None else actor_text(self.event)

    @property
    def name(self):
        return self.person.name if self.person is not None else actor_text(self.event)

    @property
    def organisation(self) -> str:
        return self.person.organisation if self.person is not None else ""

    @property
    def shown_changes(self) -> list[Change]:
        return self.changes[:4]

    @property
    def more_changes(self) -> int:
        return max(0, len(self.changes) - 4)

    def changes_text(self, texts: dict | None = None) -> str:
        """The changes on one line; ``texts`` keeps the translations already made (an export's many rows
        say the same field names and choices again and again)."""
        texts = {} if texts is None else texts
        pattern = _said(texts, _CHANGE)
        return _said(texts, _SEPARATOR).join(
            pattern % {"field": _said(texts, c.label), "before": _said(texts, _dash(c.before)),
                       "after": _said(texts, _dash(c.after))} for c in self.changes)


_CHANGE = _("%(field)s：%(before)s → %(after)s")
_SEPARATOR = Joined((), "；", "; ")


def _said(texts: dict, value) -> str:
    """``str(value)``, once for each translated text (a field's name, a choice) in ``texts``."""
    if isinstance(value, Promise) or value is _SEPARATOR:
        key = id(value)
        if key not in texts:
            texts[key] = pick(value.zh, value.en) if value is _SEPARATOR else str(value)
        return texts[key]
    return str(value)


def _dash(value):
    return "—" if value is None else value


def _in_bulk(model, ids: set[str]) -> dict[str, models.Model]:
    found = {}
    ids = [i for i in ids if i]
    for start in range(0, len(ids), 500):
        try:
            rows = model._default_manager.filter(pk__in=ids[start:start + 500])
            found.update({str(obj.pk): obj for obj in rows})
        except (ValueError, TypeError, ValidationError):
            # One id that is no id of this model: look the rest up one by one.
            for one in ids[start:start + 500]:
                try:
                    obj = model._default_manager.filter(pk=one).first()
                except (ValueError, TypeError, ValidationError):
                    obj = None
                if obj is not None:
                    found[str(obj.pk)] = obj
    return found


def _link(user, label: str, obj) -> str | None:
    link = LINKS.get(label)
    if link is None or obj is None or user is None or not user.has_perm(link.permission, obj):
        return None
    try:
        return link.url(obj)
    except NoReverseMatch:
        return None


def read(events: Iterable[AuditEvent], user=None, *, every_field: bool = False) -> list[Entry]:
    """The events as people read them, looked up together (people, records and the records their fields
    point to, one query per model). ``every_field`` gives every field of the record, not only the changed."""
    events = list(events)
    people = PEOPLE.describe({e.actor_id for e in events if e.actor_id is not None})
    by_model: dict[str, set[str]] = {}
    for e in events:
        if e.object_id and _model(e.model) is not None:
            by_model.setdefault(e.model, set()).add(e.object_id)
    objects = {(label, pk): obj for label, ids in by_model.items()
               for pk, obj in _in_bulk(_model(label), ids).items()}
    # The records the changed fields point to (a district, a department): by their names, not their ids.
    pointed: dict[str, set[str]] = {}
    for e in events:
        model = _model(e.model)
        if model is None:
            continue
        before, after = e.before or {}, e.after or {}
        keys = {*before, *after}
        triples = [(k, before.get(k), after.get(k)) for k in keys] if every_field else e.changes
        for name, old, new in triples:
            field = _field(model, name)
            if field is not None and field.many_to_one:
                for value in (old, new):
                    if value is not None and not isinstance(value, (dict, list)):
                        pointed.setdefault(field.related_model._meta.label, set()).add(str(value))
    related = {(label, pk): str(obj) for label, ids in pointed.items()
               for pk, obj in _in_bulk(apps.get_model(label), ids).items()}
    entries = []
    for e in events:
        model = _model(e.model)
        obj = objects.get((e.model, e.object_id))
        entries.append(Entry(
            event=e, person=people.get(e.actor_id) if e.actor_id is not None else None,
            action=action_label(e.action), kind=model._meta.verbose_name if model is not None else e.model,
            title=str(obj) if obj is not None else e.object_repr, url=_link(user, e.model, obj),
            changes=_changes(e, model, related, every=every_field)))
    return entries


def export_rows(events, *, chunk: int = 1000):
    """The rows of the export (``export_header()``), read ``chunk`` events at a time."""
    batch, texts = [], {}

    def rows_of(batch):
        for entry in read(batch):  # no reader: a file has no links
            e = entry.event
            yield [e.pk, timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), str(entry.name),
                   str(entry.organisation), _said(texts, entry.action), _said(texts, entry.kind), e.object_id,
                   entry.title, entry.changes_text(texts), shown(e.note)]

    for event in events:
        batch.append(event)
        if len(batch) >= chunk:
            yield from rows_of(batch)
            batch = []
    if batch:
        yield from rows_of(batch)


def export_header() -> list[str]:
    return [str(h) for h in (_("记录编号"), _("时间"), _("操作人"), _("所属机构"), _("动作"), _("对象类型"),
                             _("对象编号"), _("对象"), _("变化"), _("说明"))]
