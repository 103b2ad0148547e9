"""The policy hub's parameters (``shared/specs/policy-hub.md``, its first table): names, defaults and the
typed view the rules read. The schema the parameters page edits is declared in ``site.py``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

DEFAULTS = {
    "objection_days": 5,
    "reminder_days": 7,
    "digest_time": "09:00",
    "external_cap": 3,
    "campaign_start": "2020-01-20",
    "published_columns": ["name", "uscc", "amount"],
    # The owning department's time limit for an online application, submission to decision (*assumption*:
    # no public source; the bureau sets it).
    "application_sla_days": 15,
}
LABELS = {
    "objection_days": _("公示异议期（工作日）"),
    "reminder_days": _("截止提醒提前天数"),
    "digest_time": _("新匹配推送时刻"),
    "external_cap": _("短信和邮件每 7 天上限"),
    "campaign_start": _("宣传统计起始日"),
    "published_columns": _("公示名单显示的列"),
    "application_sla_days": _("在线申报办理时限（工作日）"),
}
COLUMNS = {"name": _("企业名称"), "uscc": _("统一社会信用代码"), "amount": _("金额")}


@dataclass(frozen=True)
class Params:
    objection_days: int
    reminder_days: int
    digest_time: dt.time
    external_cap: int
    campaign_start: dt.date
    published_columns: tuple[str, ...]
    application_sla_days: int = DEFAULTS["application_sla_days"]

    @classmethod
    def from_mapping(cls, value: dict) -> "Params":
        v = {**DEFAULTS, **value}
        return cls(int(v["objection_days"]), int(v["reminder_days"]), dt.time.fromisoformat(v["digest_time"]),
                   int(v["external_cap"]), dt.date.fromisoformat(v["campaign_start"]),
                   tuple(v["published_columns"]), int(v["application_sla_days"]))
