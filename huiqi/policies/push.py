"""Precise push (精准推送, ``shared/specs/policy-hub.md``): every write of it.

- An enterprise's channels: the inbox always; SMS and e-mail only with its consent in force (who, when, how,
  to which address), withdrawable at any time. Its saved filters (facet filters; while one is on, only the
  items it passes are pushed) and its unsubscriptions (an item, a channel, or all).
- A publication that may bring new matches leaves a trigger (``record_trigger``); the day's run (``run``,
  at ``digest_time``, as ``huiqi policies push --on DATE`` and the job ``policies.push``) finds who newly
  matches with the batch evaluator (set-based), who is ``reminder_days`` before an item's close, and asks
  in the inbox for the facts an unknown outcome is missing. Whether an item is pushed to an enterprise is
  decided by ``rules.matches``, the function 政策找我 lists its met items with, under the enterprise's
  saved filters. One message per enterprise, channel and day; SMS and e-mail together at most
  ``external_cap`` per rolling 7 days, else the inbox message is marked ``capped``.
- Every message is logged with its states (queued, sent, delivered, opened, failed); opening it in the
  inbox or following its link marks it opened; delivery receipts are recorded by ``record_receipt``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, InvalidFields, NotFound, ValidationFailed
from huiqi.core.permissions import require

from . import rules, selectors, senders
from .batch import met as batch_met
from .batch import outcomes as batch_outcomes
from .models import (EXTERNAL_CHANNELS, Channel, ItemVersion, ItemView, Mode, PolicyItem, PushConsent, PushEntry,
                     PushMessage, PushTrigger, SavedFilter, Status, Unsubscription)

log = logging.getLogger("huiqi.policies")

BEIJING = ZoneInfo("Asia/Shanghai")
State = PushMessage.State
Reason = PushEntry.Reason
# An external message "went" unless it failed: queued ones are on their way.
WENT = (State.QUEUED, State.SENT, State.DELIVERED, State.OPENED)
MOBILE = re.compile(r"^1\d{10}$")
CHUNK = 2000


def _bad(field_name: str, code: str, message, **params) -> ValidationFailed:
    return ValidationFailed(f"policies.{code}", message, field=field_name, **params)


def moment(day: dt.date, at: dt.time) -> dt.datetime:
    """``day`` at ``at`` in Beijing."""
    return dt.datetime.combine(day, at, tzinfo=BEIJING)


# --- "has applied": the hook online applications will fill ---------------------------------------------------

def applied(item: PolicyItem, day: dt.date) -> set[int]:
    """The ids of the enterprises that have applied online for ``item`` by ``day`` (any state: a refused
    application was still made), whom a closing reminder skips. (Auto items are never reminded.)"""
    from .models import Application

    return set(Application.objects.filter(item=item, submitted_on__lte=day)
               .values_list("enterprise_id", flat=True))


# --- consent, saved filters, unsubscriptions ---------------------------------------------------------------

def _own(actor, enterprise) -> None:
    require(actor, "policies.push_own", enterprise)


def give_consent(actor, enterprise, channel: str, address: str, how: str = PushConsent.How.ONLINE) -> PushConsent:
    """Record the enterprise's consent to pushes by ``channel`` at ``address``; a consent already in force
    on that channel is replaced (withdrawn now, the new one given now)."""
    _own(actor, enterprise)
    address = (address or "").strip()
    errors = []
    if channel not in EXTERNAL_CHANNELS:
        errors.append(_bad("channel", "consent_channel", _("只有短信和电子邮件需要同意（站内消息始终送达）")))
    elif channel == Channel.SMS and not MOBILE.match(address):
        errors.append(_bad("address", "consent_mobile", _("手机号码须为以 1 开头的 11 位数字：%(text)s"), text=address))
    elif channel == Channel.EMAIL:
        try:
            validate_email(address)
        except DjangoValidationError:
            errors.append(_bad("address", "consent_email", _("电子邮件地址格式不正确：%(text)s"), text=address))
    if how not in PushConsent.How.values:
        errors.append(_bad("how", "consent_how", _("同意方式须为 %(allowed)s 之一"),
                           allowed=", ".join(PushConsent.How.values)))
    if errors:
        raise InvalidFields(errors)
    now = clock.now()
    with transaction.atomic():
        for old in PushConsent.objects.select_for_update().filter(enterprise=enterprise, channel=channel,
                                                                    withdrawn_at__isnull=True):
            _withdraw(actor, old, now)
        consent = PushConsent.objects.create(enterprise=enterprise, channel=channel, address=address, how=how,
                                             given_by=actor if getattr(actor, "is_authenticated", False) else None,
                                             given_at=now)
        audit.record(actor, "policies.consent", consent)
    return consent


def _withdraw(actor, consent: PushConsent, now) -> None:
    before = audit.snapshot(consent)
    consent.withdrawn_at = now
    consent.withdrawn_by = actor if getattr(actor, "is_authenticated", False) else None
    consent.save(update_fields=["withdrawn_at", "withdrawn_by"])
    audit.record(actor, "policies.consent_withdraw", consent, before=before)


def withdraw_consent(actor, enterprise, channel: str) -> PushConsent:
    """Withdraw the enterprise's consent on ``channel``: no SMS or e-mail goes there from now on."""
    _own(actor, enterprise)
    with transaction.atomic():
        consent = PushConsent.objects.select_for_update().filter(enterprise=enterprise, channel=channel,
                                                                 withdrawn_at__isnull=True).first()
        if consent is None:
            raise Conflict("policies.no_consent", _("该渠道没有有效的推送同意，无需撤回"), field="channel")
        _withdraw(actor, consent, clock.now())
    return consent


def save_filter(actor, enterprise, name: str, facets: dict) -> SavedFilter:
    """Save a facet filter (known tags only) for the enterprise's pushes and searches."""
    _own(actor, enterprise)
    name = (name or "").strip()
    errors = []
    if not name or len(name) > 60:
        errors.append(_bad("name", "filter_name", _("筛选名称必须填写，不超过 60 个字符")))
    known = {facet: {t.code for t in found} for facet, found in selectors.tags().items()}
    known["mode"] = set(Mode.values)
    clean = {}
    for facet, values in (facets or {}).items():
        if facet not in selectors.FACETS or not isinstance(values, list) or any(v not in known.get(facet, ())
                                                                             for v in values):
            errors.append(_bad(f"facets.{facet}", "filter_tag", _("%(facet)s 的标签必须取自词表（%(allowed)s）"),
                               facet=facet, allowed=", ".join(sorted(known.get(facet, ())))))
        elif values:
            clean[facet] = list(dict.fromkeys(values))
    if errors:
        raise InvalidFields(errors)
    with transaction.atomic():
        saved = SavedFilter.objects.create(enterprise=enterprise, name=name, facets=clean,
                                           created_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, "policies.filter", saved)
    return saved


def set_filter_push(actor, saved: SavedFilter, on: bool) -> SavedFilter:
    """Turn a saved filter's push on or off (unsubscribing from it keeps it for searching)."""
    _own(actor, saved.enterprise)
    with transaction.atomic():
        locked = SavedFilter.objects.select_for_update().get(pk=saved.pk)
        before = audit.snapshot(locked)
        locked.push = bool(on)
        locked.save(update_fields=["push"])
        audit.record(actor, "policies.filter_push", locked, before=before)
    return locked


def delete_filter(actor, saved: SavedFilter) -> None:
    _own(actor, saved.enterprise)
    with transaction.atomic():
        audit.record(actor, "policies.filter_delete", saved, before=audit.snapshot(saved))
        saved.delete()


def unsubscribe(actor, enterprise, scope: str, *, item_code: str = "", channel: str = "") -> Unsubscription:
    """Unsubscribe the enterprise from one item, from SMS or e-mail (the inbox is always delivered to), or
    from every push (in force until it subscribes again); the same unsubscription twice is refused."""
    _own(actor, enterprise)
    errors = []
    item = None
    if scope not in Unsubscription.Scope.values:
        errors.append(_bad("scope", "unsubscribe_scope", _("退订范围须为 %(allowed)s 之一"),
                           allowed=", ".join(Unsubscription.Scope.values)))
    if scope == Unsubscription.Scope.ITEM:
        item = PolicyItem.objects.filter(code=(item_code or "").strip()).first()
        if item is None:
            errors.append(_bad("item", "no_item", _("没有编码为 %(item)s 的政策事项"), item=item_code))
    if scope == Unsubscription.Scope.CHANNEL and channel not in EXTERNAL_CHANNELS:
        errors.append(_bad("channel", "unsubscribe_channel", _("可退订的渠道为 %(allowed)s（站内消息始终送达）"),
                           allowed=", ".join(EXTERNAL_CHANNELS)))
    if errors:
        raise InvalidFields(errors)
    shape = {"scope": scope, "item": item, "channel": channel if scope == Unsubscription.Scope.CHANNEL else ""}
    with transaction.atomic():
        if Unsubscription.objects.select_for_update().filter(enterprise=enterprise, ended_at__isnull=True,
                                                             **shape).exists():
            raise Conflict("policies.already_unsubscribed", _("已经退订，无需重复退订"), field="scope")
        made = Unsubscription.objects.create(enterprise=enterprise, created_at=clock.now(),
                                             created_by=actor if getattr(actor, "is_authenticated", False) else None,
                                             **shape)
        audit.record(actor, "policies.unsubscribe", made)
    return made


def resubscribe(actor, unsubscription: Unsubscription) -> Unsubscription:
    """End an unsubscription: the pushes it stopped come again from the next digest."""
    _own(actor, unsubscription.enterprise)
    with transaction.atomic():
        locked = Unsubscription.objects.select_for_update().get(pk=unsubscription.pk)
        if locked.ended_at is not None:
            raise Conflict("policies.already_resubscribed", _("该退订已经恢复"), field="scope")
        before = audit.snapshot(locked)
        locked.ended_at = clock.now()
        locked.save(update_fields=["ended_at"])
        audit.record(actor, "policies.resubscribe", locked, before=before)
    return locked


# --- triggers ----------------------------------------------------------------------------------------------

def record_trigger(version: ItemVersion, previous: ItemVersion | None) -> PushTrigger | None:
    """After ``version`` is published: a trigger for the next digest when it may bring new matches (the
    item's first version in force, or criteria that differ from the version it replaced)."""
    if previous is not None and previous.criteria == version.criteria:
        return None
    now = timezone.localtime(clock.now(), BEIJING)
    at = selectors.params_on(now.date()).digest_time
    due = now.date() if now.time() < at else now.date() + dt.timedelta(days=1)
    if version.in_force_from and version.in_force_from > due:
        due = version.in_force_from
    return PushTrigger.objects.create(version=version, previous=previous, due_on=due, created_at=clock.now())


# --- the day's run -----------------------------------------------------------------------------------------

@dataclass
class Preferences:
    """What the enterprises chose, read once per run (small tables)."""

    filters: dict[int, list[dict]] = field(default_factory=dict)
    saved: set[int] = field(default_factory=set)
    items_off: set[tuple[int, int]] = field(default_factory=set)
    channels_off: set[tuple[int, str]] = field(default_factory=set)
    all_off: set[int] = field(default_factory=set)
    consents: dict[tuple[int, str], str] = field(default_factory=dict)

    def chosen(self, enterprise_id: int) -> list[dict]:
        """The facet filters an enterprise is pushed under: its saved filters that push, or the empty filter
        (every item) when it saved none."""
        if enterprise_id not in self.saved:
            return [{}]
        return self.filters.get(enterprise_id, [])

    def decides(self, version: ItemVersion, day: dt.date, decide) -> Callable[[int], bool]:
        """``decide(version, day, filters)`` per enterprise, computed once for each distinct set of filters
        (most enterprises share the empty one), and never for an enterprise unsubscribed from the item."""
        memo: dict = {}

        def for_enterprise(ent: int) -> bool:
            if ent in self.all_off or (ent, version.item_id) in self.items_off:
                return False
            chosen = self.chosen(ent)
            key = repr(chosen)
            if key not in memo:
                memo[key] = decide(version, day, chosen)
            return memo[key]

        return for_enterprise


def preferences() -> Preferences:
    prefs = Preferences()
    for ent, facets, push in SavedFilter.objects.values_list("enterprise_id", "facets", "push"):
        prefs.saved.add(ent)
        if push:
            prefs.filters.setdefault(ent, []).append(facets or {})
    for ent, scope, item, channel in Unsubscription.objects.filter(ended_at__isnull=True).values_list(
            "enterprise_id", "scope", "item_id", "channel"):
        if scope == Unsubscription.Scope.ALL:
            prefs.all_off.add(ent)
        elif scope == Unsubscription.Scope.ITEM:
            prefs.items_off.add((ent, item))
        else:
            prefs.channels_off.add((ent, channel))
    for ent, channel, address in PushConsent.objects.filter(withdrawn_at__isnull=True).values_list(
            "enterprise_id", "channel", "address"):
        prefs.consents[(ent, channel)] = address
    return prefs


def pushed(version: ItemVersion, outcome: str, day: dt.date, chosen_filters) -> bool:
    """Whether an item in force on ``day`` is pushed as a match to an enterprise whose outcome is ``outcome``
    and whose saved filters are ``chosen_filters``: exactly when 政策找我 with one of those filters lists it
    as met that day (``rules.matches``)."""
    tags = selectors.item_tags(version)
    return any(rules.matches(True, version.closes, tags, outcome, day, chosen) for chosen in chosen_filters)


def _met(version: ItemVersion, day: dt.date, chosen_filters) -> bool:
    """For an enterprise the batch evaluator found met: ``pushed`` with that outcome."""
    return pushed(version, rules.MET, day, chosen_filters)


def _asked(version: ItemVersion, day: dt.date, chosen_filters) -> bool:
    """Whether 政策找我 with one of the filters lists the item among those the enterprise may meet."""
    tags = selectors.item_tags(version)
    return (version.closes is None or day <= version.closes) and any(rules.passes_facets(tags, chosen)
                                                                     for chosen in chosen_filters)


def newly_met(version: ItemVersion, previous: ItemVersion | None, day: dt.date):
    """The ids of the enterprises whose outcome for ``version`` is met on ``day`` and for ``previous`` was not:
    one set-based query of the batch evaluator."""
    names = set(rules.fields_used(version.criteria)) | (set(rules.fields_used(previous.criteria)) if previous else set())
    found = batch_met(selectors.facts(names, day), version.criteria)
    if previous is not None:
        found = found.exclude(pk__in=batch_met(selectors.facts(names, day), previous.criteria).values("pk"))
    return found.values_list("pk", flat=True)


def unknown_of(version: ItemVersion, day: dt.date):
    """(id, uscc) of the enterprises whose outcome for ``version`` is unknown on ``day`` and that were not
    asked about its item before."""
    asked = PushEntry.objects.filter(item_id=version.item_id, reason=Reason.ASK).values("message__enterprise_id")
    return (batch_outcomes(selectors.facts(rules.fields_used(version.criteria), day), version.criteria)
            .filter(outcome=rules.UNKNOWN).exclude(pk__in=asked).values_list("pk", "uscc"))


def _missing(version: ItemVersion, found: list[tuple[int, str]], day: dt.date) -> dict[int, list[str]]:
    out = {}
    for start in range(0, len(found), CHUNK):
        part = found[start:start + CHUNK]
        facts_now = selectors.facts_of([uscc for _pk, uscc in part], day)
        for pk, uscc in part:
            out[pk] = rules.explain(version.criteria, facts_now[uscc]).missing
    return out


def run(day: dt.date | None = None, *, dispatch_now: bool = True) -> dict:
    """The push of ``day`` at its ``digest_time``: new matches of the triggers due, closing reminders and
    requests for missing facts, one message per enterprise and channel; then the external ones are sent.
    Running a day again adds nothing already there."""
    day = day or clock.today()
    p = selectors.params_on(day)
    at = moment(day, p.digest_time)
    prefs = preferences()
    wanted: dict[int, dict[tuple[int, str], tuple[ItemVersion, list]]] = defaultdict(dict)
    in_force = {v.item_id: v for v in selectors.versions_in_force(day).filter(status=Status.PUBLISHED)
                .select_related("item")}
    with transaction.atomic():
        triggers = list(PushTrigger.objects.select_for_update(of=("self",))
                        .filter(done_at__isnull=True, due_on__lte=day).select_related("version", "previous"))
        for trigger in triggers:
            version = trigger.version
            if getattr(in_force.get(version.item_id), "pk", None) != version.pk:
                continue  # withdrawn, or replaced again before its digest: the newer trigger tells
            told = prefs.decides(version, day, _met)
            for ent in newly_met(version, trigger.previous, day):
                if told(ent):
                    wanted[ent][(version.item_id, Reason.NEW_MATCH)] = (version, [])
            asked = prefs.decides(version, day, _asked)
            unknown = [(pk, uscc) for pk, uscc in unknown_of(version, day) if asked(pk)]
            for ent, missing in _missing(version, unknown, day).items():
                wanted[ent][(version.item_id, Reason.ASK)] = (version, missing)
        for version in in_force.values():
            if version.mode == Mode.AUTO or version.closes is None or rules.reminder_day(
                    version.closes, p.reminder_days) != day:
                continue
            done = applied(version.item, day)
            reminded = prefs.decides(version, day, _met)
            for ent in batch_met(selectors.facts(rules.fields_used(version.criteria), day),
                                 version.criteria).values_list("pk", flat=True):
                if ent not in done and reminded(ent):
                    wanted[ent][(version.item_id, Reason.REMINDER)] = (version, [])
        counts = _write_messages(wanted, day, at, p.external_cap, prefs)
        PushTrigger.objects.filter(pk__in=[t.pk for t in triggers]).update(done_at=clock.now())
    if dispatch_now:
        counts.update(dispatch())
    return counts


def _recent_external(at: dt.datetime) -> dict[int, int]:
    """SMS and e-mail that went to each enterprise in ``(at − 7 days, at]`` (one grouped query: a week's
    external messages are few beside the registry)."""
    rows = (PushMessage.objects.filter(channel__in=EXTERNAL_CHANNELS, state__in=WENT,
                                       scheduled_at__gt=at - dt.timedelta(days=7), scheduled_at__lte=at)
            .order_by().values("enterprise_id").annotate(n=Count("id")))
    return {r["enterprise_id"]: r["n"] for r in rows}


def _token() -> str:
    """A message's link token: 88 random bits in hex (no "-" that a command line would read as an option)."""
    return secrets.token_hex(11)


def _write_messages(wanted, day: dt.date, at: dt.datetime, cap: int, prefs: Preferences) -> dict:
    """One message per enterprise and channel: SMS and e-mail (consent in force, channel not unsubscribed,
    something to tell beyond requests for facts) while under the cap, else the inbox message is marked
    capped; the inbox message always. A message of the day already there is not written again; its inbox
    gets the new entries."""
    counts = {"enterprises": len(wanted), "inbox": 0, "sms": 0, "email": 0, "capped": 0}
    existing = {(ent, channel): pk for ent, channel, pk in PushMessage.objects.filter(day=day).values_list(
        "enterprise_id", "channel", "pk")}
    recent = _recent_external(at)
    messages, entries_of = [], []  # (enterprise, channel, address, capped, token), [(item, reason)]
    for ent in sorted(wanted):
        entries = wanted[ent]
        tells = [k for k in entries if k[1] != Reason.ASK]
        went = recent.get(ent, 0)
        capped = False
        for channel in EXTERNAL_CHANNELS:
            address = prefs.consents.get((ent, channel))
            if not tells or address is None or (ent, channel) in prefs.channels_off or (ent, channel) in existing:
                continue
            if went < cap:
                went += 1
                messages.append((ent, channel, address, False, _token()))
                entries_of.append(tells)
                counts[channel] += 1
            else:
                capped = True
        if (ent, Channel.INBOX) in existing:
            pk = existing[(ent, Channel.INBOX)]
            _add_entries(pk, entries, list(entries))
            if capped and PushMessage.objects.filter(pk=pk, capped=False).update(capped=True):
                counts["capped"] += 1
        else:
            messages.append((ent, Channel.INBOX, "", capped, _token()))
            entries_of.append(list(entries))
            counts["inbox"] += 1
            counts["capped"] += capped
    _insert(messages, day, at, entries_of, wanted)
    return counts


MESSAGE_COLUMNS = ("enterprise", "channel", "day", "scheduled_at", "address", "state", "capped", "sent_at",
                   "delivered_at", "error", "token")


def _insert(messages: list[tuple], day: dt.date, at: dt.datetime, entries_of: list, wanted) -> None:
    """The day's new messages and their entries, written set-based (``COPY`` on PostgreSQL). An inbox
    message is delivered by being stored; SMS and e-mail wait in the queue for ``dispatch``."""
    from django.db import connection

    from huiqi.core.bulk import insert_rows

    ops = connection.ops
    on, when = ops.adapt_datefield_value(day), ops.adapt_datetimefield_value(at)
    insert_rows(PushMessage, MESSAGE_COLUMNS, [
        (ent, channel, on, when, address, State.DELIVERED if channel == Channel.INBOX else State.QUEUED, capped,
         when if channel == Channel.INBOX else None, when if channel == Channel.INBOX else None, "", token)
        for ent, channel, address, capped, token in messages])
    ids = dict(PushMessage.objects.filter(day=day).values_list("token", "pk"))
    rows = []
    for (ent, _channel, _address, _capped, token), keys in zip(messages, entries_of):
        for item_id, reason in keys:
            version, missing = wanted[ent][(item_id, reason)]
            rows.append((ids[token], item_id, version.pk, reason, json.dumps(missing)))
    insert_rows(PushEntry, ("message", "item", "version", "reason", "missing"), rows)


def _add_entries(message_id: int, entries: dict, keys) -> None:
    PushEntry.objects.bulk_create([PushEntry(message_id=message_id, item_id=item_id,
                                             version=entries[(item_id, reason)][0],
                                             reason=reason, missing=entries[(item_id, reason)][1])
                                   for item_id, reason in keys], ignore_conflicts=True)


def enqueue_run(actor, day: dt.date):
    """The day's push as a background job (the bureau's "run now"; a timer runs the command)."""
    from huiqi.core import jobs

    require(actor, "policies.run_push")
    return jobs.enqueue("policies.push", {"on": day.isoformat()}, user=actor,
                        title=str(_("政策精准推送：%(day)s") % {"day": day.isoformat()}))


# --- sending, receipts, opens ------------------------------------------------------------------------------

def link(message: PushMessage) -> str:
    return f"{settings.HUIQI_PUBLIC_URL}{reverse('policies:push_link', args=[message.token])}"


def text_of(message: PushMessage) -> tuple[str, str]:
    """The subject and text of an SMS or e-mail, in the active language."""
    entries = list(message.entries.all())  # prefetched with their versions, by reason and item
    new = [e.version.title for e in entries if e.reason == Reason.NEW_MATCH]
    remind = [e for e in entries if e.reason == Reason.REMINDER]
    parts = []
    if new:
        parts.append(ngettext("%(n)s 项新政策符合贵单位条件：%(titles)s", "%(n)s 项新政策符合贵单位条件：%(titles)s",
                              len(new)) % {"n": len(new), "titles": "、".join(new)})
    for e in remind:
        parts.append(gettext("“%(title)s” 将于 %(day)s 截止申报") % {"title": e.version.title,
                                                                  "day": e.version.closes.isoformat()})
    subject = gettext("惠企政策推送（%(day)s）") % {"day": message.day.isoformat()}
    return subject, "；".join(parts) + " " + gettext("详情：%(url)s") % {"url": link(message)}


SEND_BATCH = 100


def dispatch(limit: int = 100_000) -> dict:
    """Send the queued SMS and e-mail, claimed a hundred at a time in a short transaction (SKIP LOCKED on
    PostgreSQL: two runs never send one message twice): each sent, or failed with the error kept."""
    from django.db.models import Prefetch

    gateway = senders.sender()
    sent = failed = 0
    while sent + failed < limit:
        with transaction.atomic():
            claimed = list(PushMessage.objects.select_for_update(skip_locked=True)
                           .filter(state=State.QUEUED, channel__in=EXTERNAL_CHANNELS)
                           .order_by("scheduled_at", "id")[:SEND_BATCH])
            if not claimed:
                break
            entries = Prefetch("entries", PushEntry.objects.select_related("version").order_by("reason", "item_id"))
            texts = {m.pk: m for m in PushMessage.objects.filter(pk__in=[m.pk for m in claimed])
                     .prefetch_related(entries)}
            for message in claimed:
                with translation.override(settings.LANGUAGE_CODE):
                    subject, text = text_of(texts[message.pk])
                try:
                    gateway.send(message.channel, message.address, subject, text)
                except Exception as exc:  # noqa: BLE001 - any failure of a channel is logged on the message
                    message.state, message.failed_at = State.FAILED, clock.now()
                    message.error = f"{type(exc).__name__}: {exc}"[:500]
                    failed += 1
                else:
                    message.state, message.sent_at = State.SENT, clock.now()
                    sent += 1
            PushMessage.objects.bulk_update(claimed, ["state", "sent_at", "failed_at", "error"])
    return {"sent": sent, "failed": failed}


# The receipts a channel reports: from which states each may come.
RECEIPTS = {State.DELIVERED: (State.SENT,), State.FAILED: (State.QUEUED, State.SENT),
            State.OPENED: (State.SENT, State.DELIVERED)}


def record_receipt(message: PushMessage, state: str, error: str = "") -> PushMessage:
    """A channel's report on an external message: delivered, failed (with the error) or opened."""
    with transaction.atomic():
        locked = PushMessage.objects.select_for_update().get(pk=message.pk)
        if state not in RECEIPTS or locked.state not in RECEIPTS[state]:
            raise Conflict("policies.illegal_receipt", _("消息当前状态为「%(status)s」，不能记为「%(new)s」"),
                           field="state", status=locked.get_state_display(),
                           new=dict(State.choices).get(state, state))
        now = clock.now()
        locked.state = state
        setattr(locked, {State.DELIVERED: "delivered_at", State.FAILED: "failed_at", State.OPENED: "opened_at"}[state],
                now)
        locked.error = error[:500] if state == State.FAILED else locked.error
        locked.save()
    message.__dict__.update(locked.__dict__)
    return locked


def open_message(actor, message: PushMessage) -> PushMessage:
    """The enterprise reads an inbox message: opened (the first time only; someone else reading it, an
    administrator, opens nothing)."""
    _own(actor, message.enterprise)
    if message.opened_at is None and actor.enterprises.filter(pk=message.enterprise_id).exists():
        PushMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(state=State.OPENED,
                                                                                  opened_at=clock.now())
        message.refresh_from_db()
    return message


def follow_link(token: str) -> PushMessage:
    """The link of an SMS or e-mail was followed: the message is opened (the first time only)."""
    message = PushMessage.objects.filter(token=token).first()
    if message is None:
        raise NotFound("policies.no_message", _("链接无效或已过期"), field="token")
    if message.opened_at is None and message.channel in EXTERNAL_CHANNELS and message.state in (State.SENT,
                                                                                           State.DELIVERED):
        PushMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(state=State.OPENED,
                                                                                  opened_at=clock.now())
        message.refresh_from_db()
    return message


# --- item page views ---------------------------------------------------------------------------------------

def record_view(item: PolicyItem, enterprise_ids, day: dt.date | None = None) -> None:
    """A view of the item's page: once per enterprise the reader acts for, or (none) one anonymous view."""
    day = day or clock.today()
    for ent in list(enterprise_ids) or [None]:
        for _attempt in range(2):
            if ItemView.objects.filter(item=item, day=day, enterprise_id=ent).update(count=F("count") + 1):
                break
            try:
                with transaction.atomic():
                    ItemView.objects.create(item=item, day=day, enterprise_id=ent, count=1)
                break
            except IntegrityError:
                continue  # another view made the row first: count on it


__all__ = ["give_consent", "withdraw_consent", "save_filter", "set_filter_push", "delete_filter", "unsubscribe",
           "resubscribe", "record_trigger", "run", "dispatch", "record_receipt", "open_message", "follow_link",
           "record_view", "applied", "pushed"]
