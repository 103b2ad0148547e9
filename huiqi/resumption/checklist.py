"""The prevention checklist (防控条件): the items in force on a day, and the defaults of the 2020 notice."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from .models import ChecklistGroup, ChecklistItem

DEFAULTS_FROM = dt.date(2020, 2, 1)
# 深圳 2020: enterprises confirmed the "four in place" and the "eight implemented" before resuming.
DEFAULT_ITEMS = [
    ("mechanism", ChecklistGroup.FOUR_IN_PLACE, "防控机制到位", "prevention mechanism in place"),
    ("screening", ChecklistGroup.FOUR_IN_PLACE, "人员排查到位", "staff screening in place"),
    ("supplies", ChecklistGroup.FOUR_IN_PLACE, "物资保障到位", "protective supplies in place"),
    ("management", ChecklistGroup.FOUR_IN_PLACE, "内部管理到位", "internal management in place"),
    ("responsibility", ChecklistGroup.EIGHT_IMPLEMENTED, "落实主体责任", "responsibility assigned"),
    ("registration", ChecklistGroup.EIGHT_IMPLEMENTED, "落实返岗人员登记", "returning staff registered"),
    ("temperature", ChecklistGroup.EIGHT_IMPLEMENTED, "落实体温检测", "temperatures taken"),
    ("disinfection", ChecklistGroup.EIGHT_IMPLEMENTED, "落实环境消杀", "premises disinfected"),
    ("protection", ChecklistGroup.EIGHT_IMPLEMENTED, "落实个人防护", "personal protection worn"),
    ("canteen", ChecklistGroup.EIGHT_IMPLEMENTED, "落实食堂分餐", "canteen meals served apart"),
    ("dormitory", ChecklistGroup.EIGHT_IMPLEMENTED, "落实宿舍管理", "dormitories managed"),
    ("emergency", ChecklistGroup.EIGHT_IMPLEMENTED, "落实应急处置", "emergency plan ready"),
]


def ensure_default_items() -> None:
    """Seed the items the first time; never touch what the bureau has edited."""
    if ChecklistItem.objects.exists():
        return
    ChecklistItem.objects.bulk_create([
        ChecklistItem(code=code, group=group, text=zh, text_en=en, order=i, effective_from=DEFAULTS_FROM)
        for i, (code, group, zh, en) in enumerate(DEFAULT_ITEMS)
    ])


def items_on(day: dt.date) -> list[ChecklistItem]:
    """The items in force on ``day``: for each code the row with the latest start not after it."""
    rows = (ChecklistItem.objects.filter(effective_from__lte=day)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=day))
            .order_by("code", "-effective_from"))
    latest: dict[str, ChecklistItem] = {}
    for row in rows:
        latest.setdefault(row.code, row)
    return sorted(latest.values(), key=lambda r: (r.group != ChecklistGroup.FOUR_IN_PLACE, r.order, r.code))
