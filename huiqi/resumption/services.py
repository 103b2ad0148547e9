"""Every write of return to work: one function per user action, transactional, permission- and
state-checked, audited. Filings move along ``models.FILING_TRANSITIONS``; each move is an event on the
filing's history."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rules.permissions import has_perm as rule_allows

from huiqi.accounts.selectors import Role
from huiqi.core import audit, clock, formats, params
from huiqi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from huiqi.core.permissions import require
from huiqi.core.i18n import Joined, stored
from huiqi.registry import selectors as registry_selectors

from . import prepared, rules
from .apps import (
    ATTACHMENT_LIMIT_KEY,
    ATTACHMENT_MAX_BYTES,
    CHECK_DAYS_KEY,
    DAILY_CHECK_DEFAULTS,
    DAILY_CHECK_KEY,
    FILING_CHECK_DAYS,
    FILING_REQUIRED_KEY,
)
from .checklist import items_on
from .models import (
    FILING_TRANSITIONS,
    PENDING,
    RESUMED,
    AttachmentKind,
    CheckResult,
    DailyCheck,
    Difficulty,
    DifficultyKind,
    FilingAttachment,
    FilingEvent,
    FilingKind,
    FilingStatus,
    ReturnToWorkFiling,
)

FILING_NUMBERS = ("staff_total", "staff_returning", "staff_from_outside", "staff_in_quarantine", "masks",
                  "thermometers", "disinfectant_litres")


def _fail(problem: rules.Problem):
    raise problem.error()


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(rules.SHANGHAI).date()


def filing_required(on: dt.date) -> bool:
    """Whether an enterprise must file (and be approved) before resuming on ``on``: a dated parameter."""
    return bool(params.value(FILING_REQUIRED_KEY, on, default=True))


CONFIG_SECONDS = 30


def daily_check_config(on: dt.date) -> dict:
    """The deadline and lock in force on ``on``. Every report reads it, so it is kept for
    ``CONFIG_SECONDS`` per process; a change of the parameter in this process clears it at once
    (``apps._parameter_changed``), other processes see it within that time."""
    generation = cache.get("resumption.daily_check_config:generation", "0")
    key = f"resumption.daily_check_config:{generation}:{on.isoformat()}"
    found = cache.get(key)
    if found is None:
        found = {**DAILY_CHECK_DEFAULTS, **(params.value(DAILY_CHECK_KEY, on, default={}) or {})}
        cache.set(key, found, CONFIG_SECONDS)
    return found


def own_enterprise(user, enterprise):
    """The enterprise, if the user acts for it (or, for an aggregator, may read it); else a refusal
    naming the ``enterprise`` field."""
    uscc = enterprise.uscc if hasattr(enterprise, "uscc") else str(enterprise)
    found = registry_selectors.scope_enterprises(user, registry_selectors.enterprises().select_related("industry")).filter(uscc=uscc).first()
    if found is None:
        raise PermissionDenied("resumption.not_your_enterprise", _("您不能代表企业 %(uscc)s 操作"),
                               field="enterprise", uscc=uscc)
    return found


# --- filings -----------------------------------------------------------------------------------------


def _event(filing, action, before, actor, now, note=""):
    FilingEvent.objects.create(filing=filing, action=action, from_status=before or "", to_status=filing.status,
                               actor=actor if getattr(actor, "is_authenticated", False) else None,
                               actor_label=audit.actor_label(actor), at=now, note=note)


def _move(user, filing: ReturnToWorkFiling, action: str, now, note: str = "", guard=None,
          **changes) -> ReturnToWorkFiling:
    """Move the filing (locked, read again) by ``action``; ``guard(locked)`` may refuse first."""
    starts, to = FILING_TRANSITIONS[action]
    locked = ReturnToWorkFiling.objects.select_for_update().get(pk=filing.pk)
    if locked.status not in starts:
        raise Conflict("filing.illegal_transition", _("报备当前状态为「%(status)s」，不能执行此操作"), field="status",
                       status=locked.get_status_display())
    if guard is not None:
        guard(locked)
    before = audit.snapshot(locked)
    old = locked.status
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.status = to
    locked.updated_at = now
    locked.save()
    _event(locked, action, old, user, now, note)
    audit.record(user, f"filing.{action}", locked, before=before, note=note)
    filing.__dict__.update(locked.__dict__)
    return locked


def _handler_of(user, filing):
    """Only an officer of the filing's district (or an administrator) may handle it."""
    require(user, "resumption.handle")
    if not user.has_perm("resumption.handle", filing):
        raise PermissionDenied("filing.other_district", _("该报备不属于您所在的区，不能处理"), field="district")


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


# At most this many files in one submission (each within the size limit).
MAX_ATTACHMENTS = 10
_EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
               "image/webp": "webp"}


def attachment_limit(on: dt.date) -> int:
    """The size limit of one attachment in bytes (a dated parameter)."""
    return int(params.value(ATTACHMENT_LIMIT_KEY, on, default=ATTACHMENT_MAX_BYTES))


def filing_check_days(on: dt.date) -> int:
    """Within how many working days the district inspects and decides a filing (a dated parameter)."""
    return int(params.value(CHECK_DAYS_KEY, on, default=FILING_CHECK_DAYS))


def check_attachments(files, on: dt.date, field: str = "attachments") -> list[tuple[object, str]]:
    """Every file must be an image or a PDF (by its bytes, not its name) within the size limit, and at most
    ``MAX_ATTACHMENTS`` of them."""
    limit = attachment_limit(on)
    files = list(files or ())
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed("attachment.too_many", _("一次最多上传 %(max_attachments)s 个附件"), field=field,
                               max_attachments=MAX_ATTACHMENTS)
    checked = []
    for f in files or ():
        name = getattr(f, "name", "file")
        if f.size > limit:
            raise ValidationFailed("attachment.too_large", _("附件「%(name)s」超过大小上限 %(limit)s KB"), field=field,
                                   name=name, limit=limit // 1024)
        f.seek(0)
        kind = _sniff(f.read(16))
        f.seek(0)
        if kind is None:
            raise ValidationFailed("attachment.type", _("附件「%(name)s」不是图片或 PDF 文件"), field=field, name=name)
        checked.append((f, kind))
    return checked


def _store_attachments(filing, checked, kind, user, now):
    """Store the files and their rows: the last step of a service, so that nothing refuses after the files
    are on disk. A failure part-way removes the files already written (their rows roll back)."""
    stored = []
    try:
        for f, content_type in checked:
            att = FilingAttachment(filing=filing, kind=kind, name=str(getattr(f, "name", "file"))[-200:],
                                   content_type=content_type, size=f.size,
                                   uploaded_by=user if getattr(user, "is_authenticated", False) else None,
                                   uploaded_at=now)
            # Stored under a name of our own with the extension of what the bytes are; the sender's name
            # is kept for display and download only.
            att.file.save(f"{uuid.uuid4().hex}.{_EXTENSIONS[content_type]}", f, save=False)
            stored.append(att.file.name)
            att.save()
            audit.record(user, "filing.attachment", att, note=f"{filing} {att.name}",
                         after={"filing": filing.pk, "kind": kind, "name": att.name, "file": att.file.name,
                                "content_type": content_type, "size": att.size})
    except BaseException:
        storage = FilingAttachment._meta.get_field("file").storage
        for name in stored:
            storage.delete(name)
        raise


def _filing_values(data: dict, on: dt.date) -> dict:
    values = {name: data.get(name, 0) for name in FILING_NUMBERS}
    problems = rules.filing_problems(values)
    if problems:
        _fail(problems[0])
    planned = data.get("planned_date")
    if not isinstance(planned, dt.date):
        raise ValidationFailed("filing.planned_date", _("请填写计划复工日期"), field="planned_date")
    problem = rules.planned_date_problem(planned, on)
    if problem:
        _fail(problem)
    checked = set(data.get("checklist") or ())
    items = items_on(on)
    unknown = checked - {i.code for i in items}
    if unknown:
        raise ValidationFailed("filing.checklist", _("未知的防控条件：%(unknown)s"), field="checklist",
                               unknown=", ".join(sorted(unknown)))
    values["checklist"] = [{"code": i.code, "group": i.group, "text": i.text, "text_en": i.text_en,
                            "checked": i.code in checked} for i in items]
    values["planned_date"] = planned
    values["contact_name"] = str(data.get("contact_name", ""))[:50]
    values["contact_phone"] = str(data.get("contact_phone", ""))[:20]
    if not values["contact_name"] or not values["contact_phone"]:
        raise ValidationFailed("filing.contact", _("请填写联系人和联系电话"),
                               field="contact_name" if not values["contact_name"] else "contact_phone")
    return values


def _no_open_filing(enterprise):
    current = (ReturnToWorkFiling.objects.select_for_update()
               .filter(enterprise=enterprise, status__in=[*PENDING, *RESUMED]).first())
    if current is None:
        return
    if current.status in RESUMED:
        raise Conflict("filing.already_resumed", _("该企业已获准或已申报复工"), field="enterprise")
    raise Conflict("filing.pending", _("该企业已有待处理的报备（#%(pk)s），请勿重复报备"), field="enterprise", pk=current.pk)


@transaction.atomic
def submit_filing(user, enterprise, data: dict, attachments=(), now: dt.datetime | None = None) -> ReturnToWorkFiling:
    """An enterprise user files to resume work; refused when filing is no longer required (declare
    instead), for another enterprise, or while a filing is pending."""
    now = now or clock.now()
    require(user, "resumption.file")
    enterprise = own_enterprise(user, enterprise)
    today = _today(now)
    if not filing_required(today):
        raise Conflict("filing.not_required", _("现已无需复工报备，请直接申报已复工"), field="kind")
    values = _filing_values(data, today)
    checked = check_attachments(attachments, today)
    registry_selectors.enterprises().select_for_update().filter(pk=enterprise.pk).first()  # one filing at a time per firm
    _no_open_filing(enterprise)
    filing = ReturnToWorkFiling.objects.create(
        enterprise=enterprise, district_id=enterprise.district_id, kind=FilingKind.FILING,
        status=FilingStatus.SUBMITTED, submitted_by=user, submitted_at=now, updated_at=now, **values)
    _event(filing, "submit", "", user, now)
    audit.record(user, "filing.submit", filing)
    _store_attachments(filing, checked, AttachmentKind.DOCUMENT, user, now)
    return filing


@transaction.atomic
def declare_resumed(user, enterprise, data: dict, now: dt.datetime | None = None) -> ReturnToWorkFiling:
    """After the switch an enterprise simply declares it has resumed (no check, no approval)."""
    now = now or clock.now()
    require(user, "resumption.file")
    enterprise = own_enterprise(user, enterprise)
    today = _today(now)
    if filing_required(today):
        raise Conflict("filing.required", _("目前复工须先报备并经核查同意"), field="kind")
    planned = data.get("planned_date") or today
    if not isinstance(planned, dt.date):
        raise ValidationFailed("filing.planned_date", _("请填写复工日期"), field="planned_date")
    numbers = {name: data.get(name, 0) for name in ("staff_total", "staff_returning")}
    problems = rules.filing_problems({**{n: 0 for n in FILING_NUMBERS}, **numbers})
    if problems:
        _fail(problems[0])
    problem = rules.planned_date_problem(planned, today, declared=True)
    if problem:
        _fail(problem)
    registry_selectors.enterprises().select_for_update().filter(pk=enterprise.pk).first()
    _no_open_filing(enterprise)
    filing = ReturnToWorkFiling.objects.create(
        enterprise=enterprise, district_id=enterprise.district_id, kind=FilingKind.DECLARATION,
        status=FilingStatus.DECLARED, planned_date=planned, submitted_by=user, submitted_at=now, updated_at=now,
        contact_name=str(data.get("contact_name", ""))[:50], contact_phone=str(data.get("contact_phone", ""))[:20],
        **numbers)
    _event(filing, "declare", "", user, now)
    audit.record(user, "filing.declare", filing)
    return filing


@transaction.atomic
def assign_inspector(user, filing, inspector, now=None) -> ReturnToWorkFiling:
    """The district assigns an inspector (an officer of the same district) to check on site."""
    now = now or clock.now()
    _handler_of(user, filing)
    if inspector is None or inspector.role != Role.DISTRICT or inspector.district_id != filing.district_id \
            or not inspector.is_active:
        raise ValidationFailed("filing.inspector", _("核查员须为本区在职的区级人员"), field="inspector")
    return _move(user, filing, "assign", now, note=stored(_("核查员：%(name)s"), name=str(inspector)),
                 inspector=inspector)


@transaction.atomic
def record_check(user, filing, result: str, findings: str, photos=(), now=None) -> ReturnToWorkFiling:
    """The on-site check: result, findings and photos."""
    now = now or clock.now()
    _handler_of(user, filing)
    if result not in CheckResult.values:
        raise ValidationFailed("filing.check_result", _("请选择核查结果"), field="check_result")
    if result == CheckResult.FAILED and not findings.strip():
        raise ValidationFailed("filing.findings", _("核查不通过时须写明发现的问题"), field="check_findings")
    checked = check_attachments(photos, _today(now), field="photos")
    moved = _move(user, filing, "record_check", now, note=findings, check_result=result,
                  check_findings=findings, checked_at=now)
    _store_attachments(moved, checked, AttachmentKind.PHOTO, user, now)
    return moved


@transaction.atomic
def approve_filing(user, filing, note: str = "", now=None) -> ReturnToWorkFiling:
    """Allow the enterprise to resume: only after a passed on-site check."""
    now = now or clock.now()
    _handler_of(user, filing)

    def passed(locked):  # read under the lock: the check may have been recorded since the page was shown
        if locked.check_result != CheckResult.PASSED:
            raise Conflict("filing.check_failed", _("现场核查未通过，不能同意复工，请退回整改"), field="check_result")

    return _move(user, filing, "approve", now, note=note, guard=passed, decision_note=note, decided_at=now)


@transaction.atomic
def return_filing(user, filing, reasons: str, now=None) -> ReturnToWorkFiling:
    """Send the filing back to the enterprise with reasons, to correct and resubmit."""
    now = now or clock.now()
    _handler_of(user, filing)
    if not (reasons or "").strip():
        raise ValidationFailed("filing.reasons", _("退回须写明原因"), field="reasons")
    return _move(user, filing, "return", now, note=reasons, decision_note=reasons, decided_at=now)


@transaction.atomic
def resubmit_filing(user, filing, data: dict, attachments=(), now=None) -> ReturnToWorkFiling:
    """The enterprise corrects a returned filing and submits it again (the inspection starts over)."""
    now = now or clock.now()
    require(user, "resumption.file")
    own_enterprise(user, filing.enterprise)
    values = _filing_values(data, _today(now))
    checked = check_attachments(attachments, _today(now))
    moved = _move(user, filing, "resubmit", now, note=str(data.get("note", ""))[:500], inspector=None,
                  check_result="", check_findings="", checked_at=None, **values)
    _store_attachments(moved, checked, AttachmentKind.DOCUMENT, user, now)
    return moved


# --- daily checks ------------------------------------------------------------------------------------

_ROLLUP_SUMS = ("reports", "on_time", "open_count", "staff_total", "staff_returned", "staff_on_site",
                "capacity_sum", "suspected_cases", "confirmed_cases")


def _contribution(check: DailyCheck | None) -> dict:
    if check is None:
        return dict.fromkeys(_ROLLUP_SUMS, 0)
    return {"reports": 1, "on_time": int(check.on_time), "open_count": int(check.is_open),
            "staff_total": check.staff_total, "staff_returned": check.staff_returned,
            "staff_on_site": check.staff_on_site, "capacity_sum": check.capacity_pct if check.is_open else 0,
            "suspected_cases": check.suspected_cases, "confirmed_cases": check.confirmed_cases}


def _add_to_rollup(check: DailyCheck, delta: dict) -> None:
    """One upsert adds a report's change to its group's row (PostgreSQL and SQLite both speak it)."""
    if not any(delta.values()):
        return
    cols = ", ".join(_ROLLUP_SUMS)
    marks = ", ".join(["%s"] * len(_ROLLUP_SUMS))
    sets = ", ".join(f"{c} = resumption_dailyrollup.{c} + excluded.{c}" for c in _ROLLUP_SUMS)
    sql = (f"INSERT INTO resumption_dailyrollup (day, district_id, industry_section, size_class, is_key, {cols}) "
           f"VALUES (%s, %s, %s, %s, %s, {marks}) "
           f"ON CONFLICT (day, district_id, industry_section, size_class, is_key) DO UPDATE SET {sets}")
    with connection.cursor() as cur:
        cur.execute(sql, [check.day, check.district_id, check.industry_section, check.size_class, check.is_key,
                          *(delta[c] for c in _ROLLUP_SUMS)])


def _check_values(values: dict) -> dict:
    clean = {}
    for name in rules.CHECK_FIELDS:
        v = values.get(name, 0 if name in ("suspected_cases", "confirmed_cases") else None)
        clean[name] = v
    is_open = values.get("is_open")
    if not isinstance(is_open, bool):
        raise ValidationFailed("daily_check.is_open", _("请说明今日是否开工"), field="is_open")
    problems = rules.figure_problems({**clean, "is_open": is_open})
    if problems:
        _fail(problems[0])
    clean["is_open"] = is_open
    return clean


def _difficulties(items) -> list[dict]:
    out, seen = [], set()
    for item in items or ():
        kind = item.get("kind")
        if kind not in DifficultyKind.values:
            raise ValidationFailed("daily_check.difficulty_kind", _("未知的困难类型：%(kind)s"),
                                   field="difficulties", kind=kind)
        if kind in seen:
            raise ValidationFailed("daily_check.difficulty_twice", _("同一类困难只能填一次"), field="difficulties")
        seen.add(kind)
        note = str(item.get("note") or "").strip()
        if kind == DifficultyKind.OTHER and not note:
            raise ValidationFailed("daily_check.difficulty_note", _("「其他」困难须写明说明"), field="difficulties")
        out.append({"kind": kind, "note": note[:500], "needs_help": bool(item.get("needs_help"))})
    return out


def submit_daily_check(user, enterprise, day: dt.date, values: dict, difficulties=(), *, source: str = "web",
                       now: dt.datetime | None = None) -> tuple[DailyCheck, bool]:
    """Report (or correct, until the day locks) an enterprise's daily check; returns (check, created).

    Idempotent per enterprise and day: the same report again changes nothing. The enterprise's own
    users report for it; an aggregator (``resumption.aggregate``) for any enterprise it may read."""
    # The rules alone decide (no per-user permission rows): one pass, no query.
    if not may_report(user):
        raise PermissionDenied("resumption.forbidden", _("无权填报每日排查"))
    if not isinstance(day, dt.date):
        raise ValidationFailed("daily_check.day", _("请填写排查日期（YYYY-MM-DD）"), field="day")
    return record_daily_check(user, own_enterprise(user, enterprise), day, values, difficulties, source=source,
                              now=now)


def may_report(user) -> bool:
    return rule_allows("resumption.report_daily", user) or rule_allows("resumption.aggregate", user)


def record_daily_check(user, enterprise, day: dt.date, values: dict, difficulties=(), *,
                       source: str, now: dt.datetime | None = None) -> tuple[DailyCheck, bool]:
    """``submit_daily_check`` once the caller has established that ``user`` reports for ``enterprise``
    (read with its industry): the day, the figures and the difficulties are checked here."""
    now = now or clock.now()
    clean, wanted, on_time = check_report(day, values, difficulties, now)
    check = new_check(user, enterprise, day, clean, on_time, source, now)
    if connection.vendor == "postgresql" and _insert_first_in_one_statement(user, check, wanted, source):
        return check, True
    with transaction.atomic():
        if connection.vendor != "postgresql" and _insert_first(check):
            Difficulty.objects.bulk_create([Difficulty(daily_check=check, enterprise=enterprise, day=day,
                                                       district_id=check.district_id, **d) for d in wanted])
            check.difficulty_rows = wanted
            audit.record(user, "daily_check.submit", check, note=source)
            # Last before the commit: the group's rollup row stays locked for as short a time as possible.
            _add_to_rollup(check, _contribution(check))
            return check, True
        existing = DailyCheck.objects.select_for_update().get(enterprise=enterprise, day=day)
        return _correct(user, existing, clean, wanted, now, source), False


def check_report(day: dt.date, values: dict, difficulties, now: dt.datetime) -> tuple[dict, list[dict], bool]:
    """A report's day, figures and difficulties checked (a refusal is raised): the clean figures, the
    difficulties and whether it is on time."""
    config = daily_check_config(day)
    problem = rules.day_problem(day, now, config)
    if problem:
        _fail(problem)
    return _check_values(values), _difficulties(difficulties), now <= rules.deadline_at(day, config)


def new_check(user, enterprise, day, clean: dict, on_time: bool, source: str, now) -> DailyCheck:
    """The unsaved check; without the enterprise, its columns stay empty (the statement fills them)."""
    check = DailyCheck(day=day, on_time=on_time, source=source, submitted_at=now, updated_at=now,
                       submitted_by=user if getattr(user, "is_authenticated", False) else None, **clean)
    if enterprise is not None:
        check.enterprise = enterprise
        check.district_id, check.industry_section = enterprise.district_id, enterprise.industry.section
        check.size_class, check.is_key = enterprise.size_class, enterprise.is_key_enterprise
    return check


_CHECK_COLUMNS = ("enterprise_id", "day", "district_id", "industry_section", "size_class", "is_key", "is_open",
                  "staff_total", "staff_returned", "staff_on_site", "capacity_pct", "suspected_cases",
                  "confirmed_cases", "on_time", "source", "submitted_by_id", "submitted_at", "updated_at")


def _check_values_for_sql(check: DailyCheck) -> list:
    ops = connection.ops
    values = []
    for name in _CHECK_COLUMNS:
        v = getattr(check, name)
        if isinstance(v, dt.datetime):
            v = ops.adapt_datetimefield_value(v)
        elif isinstance(v, dt.date):
            v = ops.adapt_datefield_value(v)
        values.append(v)
    return values


def _insert_first(check: DailyCheck) -> bool:
    """Insert the day's first report in one statement; False (nothing written) when the enterprise has
    already reported that day, concurrently or before: the caller then corrects that report."""
    sql = (f"INSERT INTO resumption_dailycheck ({', '.join(_CHECK_COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(_CHECK_COLUMNS))}) ON CONFLICT (enterprise_id, day) DO NOTHING RETURNING id")
    with connection.cursor() as cur:
        cur.execute(sql, _check_values_for_sql(check))
        row = cur.fetchone()
    if row is None:
        return False
    mark_stored(check, row[0])
    return True


def mark_stored(check: DailyCheck, pk: int, wanted: list[dict] | None = None) -> None:
    """The check as stored under ``pk`` (with these difficulties, when the caller knows them)."""
    check.pk = pk
    check._state.adding = False
    check._state.db = connection.alias
    if wanted is not None:
        check.difficulty_rows = wanted


def _insert_first_in_one_statement(user, check: DailyCheck, wanted: list[dict], source: str) -> bool:
    """PostgreSQL: the first report of an enterprise already read, in one statement (``first_report``)."""
    actor = user if getattr(user, "is_authenticated", False) else None
    row = first_report(
        "SELECT %s::bigint AS enterprise_id, %s::varchar AS district_id, %s::varchar AS industry_section, "
        "%s::varchar AS size_class, %s::boolean AS is_key, %s::bigint AS actor_id, %s::varchar AS actor_label",
        [check.enterprise_id, check.district_id, check.industry_section, check.size_class, check.is_key,
         actor.pk if actor else None, audit.actor_label(user)], check, wanted, source)
    if row is None or row[-1] is None:
        return False
    mark_stored(check, row[-1], wanted)
    return True


# The columns of a check that come from its enterprise and its reporter: the ``src`` row of ``first_report``.
_FROM_SOURCE = {"enterprise_id": "src.enterprise_id", "district_id": "src.district_id",
                "industry_section": "src.industry_section", "size_class": "src.size_class", "is_key": "src.is_key",
                "submitted_by_id": "src.actor_id"}


def first_report(src_sql: str, src_args: list, check: DailyCheck, wanted: list[dict], source: str, *,
                 check_health: bool = True) -> tuple | None:
    """PostgreSQL: what the other branch of ``record_daily_check`` writes for a first report — the check,
    its difficulties, the audit record with the same snapshot, the rollup upsert — as data-modifying
    CTEs of one statement (atomic by itself, one round trip, prepared once per connection).

    ``src_sql`` gives the enterprise and the reporter as one row with the columns enterprise_id,
    district_id, industry_section, size_class, is_key, actor_id and actor_label (and any others);
    ``check`` holds the rest. Everything hangs on the check's insert. Returns src's row followed by the
    new check's id, or by None when the enterprise had already reported that day (nothing is written);
    None when src gives no row. ``check_health``: as ``prepared.fetchone``."""
    own_values = dict(zip(_CHECK_COLUMNS, _check_values_for_sql(check), strict=True))
    day = own_values["day"]
    args = list(src_args) + [own_values[c] for c in _OWN_COLUMNS]
    if wanted:
        args.append(day)
        for d in wanted:
            args += [d["kind"], d["note"], d["needs_help"]]
    delta = _contribution(check)
    args += [own_values["submitted_at"], "daily_check.submit", DailyCheck._meta.label, check.day.isoformat(),
             json.dumps(audit.snapshot(check)), source, day, *(delta[c] for c in _ROLLUP_SUMS)]
    return prepared.fetchone(_first_report_sql(src_sql, len(wanted)), args, check_health=check_health)


_OWN_COLUMNS = [c for c in _CHECK_COLUMNS if c not in _FROM_SOURCE]


@functools.lru_cache(maxsize=64)
def _first_report_sql(src_sql: str, difficulties: int) -> str:
    """The statement of ``first_report`` (its parameters in the order ``first_report`` lists them)."""
    from huiqi.core.models import AuditEvent

    parts = [f"WITH src AS ({src_sql})",
             f"ins AS (INSERT INTO {DailyCheck._meta.db_table} ({', '.join([*_FROM_SOURCE, *_OWN_COLUMNS])}) "
             f"SELECT {', '.join([*_FROM_SOURCE.values(), *(['%s'] * len(_OWN_COLUMNS))])} FROM src "
             f"ON CONFLICT (enterprise_id, day) DO NOTHING RETURNING id)"]
    if difficulties:
        rows = ", ".join(["(%s, %s, %s)"] * difficulties)
        parts.append(
            f"diff AS (INSERT INTO {Difficulty._meta.db_table} (daily_check_id, enterprise_id, day, district_id, kind, "
            f"note, needs_help, follow_up_note) SELECT ins.id, src.enterprise_id, %s, src.district_id, d.kind, d.note, "
            f"d.needs_help, '' FROM ins CROSS JOIN src CROSS JOIN (VALUES {rows}) AS d(kind, note, needs_help))")
    # The snapshot ``audit.record`` would take, with what only the statement knows filled in.
    known = ", ".join(f"'{c}', {e}" for c, e in {"id": "ins.id", **_FROM_SOURCE}.items())
    parts.append(
        f"aud AS (INSERT INTO {AuditEvent._meta.db_table} (at, actor_id, actor_label, action, model, object_id, "
        "object_repr, before, after, note) SELECT %s, src.actor_id, src.actor_label, %s, %s, ins.id::text, "
        f"src.enterprise_id::text || ' ' || %s, NULL, %s::jsonb || jsonb_build_object({known}), %s "
        "FROM ins CROSS JOIN src)")
    sets = ", ".join(f"{c} = resumption_dailyrollup.{c} + excluded.{c}" for c in _ROLLUP_SUMS)
    parts.append(
        f"roll AS (INSERT INTO resumption_dailyrollup (day, district_id, industry_section, size_class, is_key, "
        f"{', '.join(_ROLLUP_SUMS)}) SELECT %s, src.district_id, src.industry_section, src.size_class, src.is_key, "
        f"{', '.join(['%s'] * len(_ROLLUP_SUMS))} FROM ins CROSS JOIN src "
        f"ON CONFLICT (day, district_id, industry_section, size_class, is_key) DO UPDATE SET {sets})")
    return ",\n".join(parts) + "\nSELECT src.*, ins.id FROM src LEFT JOIN ins ON true"


def _correct(user, check: DailyCheck, clean: dict, wanted: list[dict], now, source) -> DailyCheck:
    current = {d.kind: d for d in check.difficulties.all()}
    same_figures = all(getattr(check, k) == v for k, v in clean.items())
    same_difficulties = (set(current) == {d["kind"] for d in wanted} and all(
        current[d["kind"]].note == d["note"] and current[d["kind"]].needs_help == d["needs_help"] for d in wanted))
    if same_figures and same_difficulties:
        return check
    before = audit.snapshot(check)
    old = _contribution(check)
    for k, v in clean.items():
        setattr(check, k, v)
    check.updated_at = now
    check.save()
    new = _contribution(check)
    _add_to_rollup(check, {k: new[k] - old[k] for k in _ROLLUP_SUMS})
    if not same_difficulties:
        keep = {d["kind"] for d in wanted}
        check.difficulties.exclude(kind__in=keep).delete()
        for d in wanted:
            row = current.get(d["kind"])
            if row is None:
                Difficulty.objects.create(daily_check=check, enterprise_id=check.enterprise_id, day=check.day,
                                          district_id=check.district_id, **d)
            elif row.note != d["note"] or row.needs_help != d["needs_help"]:
                row.note, row.needs_help = d["note"], d["needs_help"]
                row.save(update_fields=["note", "needs_help"])
    audit.record(user, "daily_check.correct", check, before=before,
                 note=stored(_("来源：%(source)s；困难：%(kinds)s"), source=source,
                             kinds=Joined(sorted((DifficultyKind(d["kind"]).label for d in wanted), key=str), "、", ", ")
                             if wanted else "—"))
    return check


@transaction.atomic
def follow_up(user, difficulty: Difficulty, note: str, now=None) -> Difficulty:
    """A district officer records the follow-up of a difficulty that asked for help."""
    now = now or clock.now()
    require(user, "resumption.handle")
    if not user.has_perm("resumption.handle", difficulty):
        raise PermissionDenied("difficulty.other_district", _("该企业不属于您所在的区"), field="district")
    if not (note or "").strip():
        raise ValidationFailed("difficulty.note", _("请填写跟进情况"), field="follow_up_note")
    # Locked and read again: two officers recording at once must not overwrite each other.
    difficulty = Difficulty.objects.select_for_update().get(pk=difficulty.pk)
    if not difficulty.needs_help:
        raise Conflict("difficulty.no_help_asked", _("该困难未申请协调"))
    if difficulty.followed_up_at is not None:
        raise Conflict("difficulty.already_followed_up", _("该困难已于 %(followed_up_at)s 记录跟进"),
                       field="follow_up_note",
                       followed_up_at=formats.beijing(difficulty.followed_up_at))
    before = audit.snapshot(difficulty)
    difficulty.followed_up_at, difficulty.followed_up_by, difficulty.follow_up_note = now, user, note.strip()[:500]
    difficulty.save(update_fields=["followed_up_at", "followed_up_by", "follow_up_note"])
    audit.record(user, "difficulty.follow_up", difficulty, before=before)
    return difficulty


def get_filing(user, pk) -> ReturnToWorkFiling:
    from .selectors import filings_for

    filing = filings_for(user).filter(pk=pk).first()
    if filing is None:
        raise NotFound("filing.not_found", _("未找到该报备"))
    return filing


# --- the rollup --------------------------------------------------------------------------------------


@transaction.atomic
def rebuild_rollup(actor=None, start: dt.date | None = None, end: dt.date | None = None) -> int:
    """Recompute the rollup from the raw checks in one set-based statement (all days, or a range).
    ``actor`` None is the system (the command, the demo); a person must be bureau staff or an administrator."""
    if actor is not None:
        require(actor, "resumption.rebuild_rollup")
    where, args = "", []
    if start is not None:
        where += " AND day >= %s"
        args.append(start)
    if end is not None:
        where += " AND day <= %s"
        args.append(end)
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM resumption_dailyrollup WHERE 1=1{where}", args)
        cur.execute(
            "INSERT INTO resumption_dailyrollup (day, district_id, industry_section, size_class, is_key, reports, "
            "on_time, open_count, staff_total, staff_returned, staff_on_site, capacity_sum, suspected_cases, "
            "confirmed_cases) "
            "SELECT day, district_id, industry_section, size_class, is_key, COUNT(*), "
            f"SUM(CASE WHEN on_time = {true} THEN 1 ELSE 0 END), SUM(CASE WHEN is_open = {true} THEN 1 ELSE 0 END), "
            "SUM(staff_total), SUM(staff_returned), SUM(staff_on_site), "
            f"SUM(CASE WHEN is_open = {true} THEN capacity_pct ELSE 0 END), SUM(suspected_cases), "
            f"SUM(confirmed_cases) FROM resumption_dailycheck WHERE 1=1{where} "
            "GROUP BY day, district_id, industry_section, size_class, is_key", args)
        rows = cur.rowcount
    audit.record(actor, "rollup.rebuild", model="resumption.DailyRollup", object_id="",
                 object_repr=f"{start or '…'} – {end or '…'}", after={"rows": rows})
    return rows


def start_report_pdf(actor, scope, day: dt.date):
    """Queue the analysis report of ``day`` over ``scope`` (the actor's ``selectors.figures_scope``) as a
    PDF, in a background job: a CJK PDF takes seconds. The job scopes the figures to the actor again.
    Returns the job."""
    from huiqi.core import jobs

    from . import report
    from .jobs import REPORT_KIND

    if scope is None or not actor.has_perm("resumption.view_figures"):
        raise PermissionDenied("resumption.forbidden", _("无权查看复工统计"))
    params = {"day": day.isoformat(), "district": scope.district, "language": translation.get_language()}
    return jobs.enqueue(REPORT_KIND, params, user=actor,
                        title=f"{report.title_for(scope, day)} PDF")
