"""Program parameters as data: read the value in force on a day, write a new dated value with audit."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from . import audit
from .errors import NotFound, ValidationFailed
from .models import Parameter


def value(key: str, on: dt.date | None = None, default=NotFound):
    """The value of ``key`` in force on ``on`` (today when omitted): the row with the latest
    ``effective_from`` not after that day. Raises NotFound when none is in force and no default is given."""
    on = on or timezone.localdate()
    row = Parameter.objects.filter(key=key, effective_from__lte=on).order_by("-effective_from").first()
    if row is None:
        if default is NotFound:
            raise NotFound(
                "parameter.missing",
                f"参数 {key} 在 {on} 没有生效的取值",
                f"parameter {key} has no value in force on {on}",
                field=key,
            )
        return default
    return row.value


def history(key: str):
    return Parameter.objects.filter(key=key).order_by("-effective_from")


@transaction.atomic
def set_value(actor, key: str, program: str, new_value, effective_from: dt.date, *,
              description: str = "", note: str = "") -> Parameter:
    """Store a value of ``key`` taking effect on ``effective_from`` (replacing a value set for that
    same day), with an audit record of before and after."""
    if effective_from is None:
        raise ValidationFailed("parameter.effective_from", "必须填写生效日期", "effective date is required",
                               field="effective_from")
    existing = Parameter.objects.select_for_update().filter(key=key, effective_from=effective_from).first()
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
                                 note="默认值 default from the program documents")
