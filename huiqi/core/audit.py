"""Writing the audit log. Every service that changes a domain record calls ``record``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.db import models
from django.utils import timezone

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


def actor_label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "系统 system"
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
