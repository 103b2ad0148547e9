"""Every read of the policy hub: the enterprises' facts as the criteria read them (one relation for both
evaluators), the version of an item in force on a day, the catalogue, and the parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import BooleanField, Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce

from huiqi.core import clock, params
from huiqi.pool import selectors as pool
from huiqi.registry import selectors as registry
from huiqi.supplies import selectors as supplies

from django.utils.translation import gettext_lazy as _

from . import rules
from .apps import PARAMS_KEY
from .batch import FEN_PER_WAN, column
from .models import ItemVersion, PolicyItem, Status, Tag
from .parameters import Params

IN_FORCE = (Status.PUBLISHED, Status.SUPERSEDED, Status.EXPIRED, Status.WITHDRAWN)


def params_on(day: dt.date | None = None) -> Params:
    return Params.from_mapping(params.value(PARAMS_KEY, day))


def _fact_expressions(day: dt.date) -> dict:
    """Each criteria field as an expression over the registry's enterprises (``None`` = unknown)."""
    return {
        "kind": F("kind"),
        "size_class": Case(When(size_class="unknown", then=Value(None)), default=F("size_class"),
                           output_field=CharField()),
        "district": F("district_id"),
        "industry": F("industry_id"),
        "established_on": F("policy_facts__established_on"),
        "employees": F("employees"),
        "revenue": F("revenue_fen"),
        "assets": F("assets_fen"),
        "supplies_producer": Exists(supplies.active_on(day).filter(enterprise_id=OuterRef("pk"))),
        "key_enterprise": F("is_key_enterprise"),
        "credit_blacklisted": F("policy_facts__credit_blacklisted"),
        "pool_loan": Exists(pool.registered_loans(day).filter(borrower_id=OuterRef("uscc"))),
        "fund_approved": Coalesce(F("policy_facts__fund_approved"), Value(False), output_field=BooleanField()),
    }


def facts(fields: Iterable[str] | None = None, day: dt.date | None = None):
    """Every enterprise and individual business of the registry, unscoped, with a column ``f_<field>`` for
    each criteria field asked (all when ``fields`` is None): the relation both evaluators read."""
    expressions = _fact_expressions(day or clock.today())
    wanted = list(rules.FIELDS) if fields is None else list(dict.fromkeys(fields))
    return registry.enterprises().order_by().annotate(**{column(name): expressions[name] for name in wanted})


def _python_value(name: str, raw):
    if raw is None:
        return None
    ftype = rules.FIELDS[name].type
    if ftype == rules.DECIMAL:
        return Decimal(raw) / FEN_PER_WAN
    if ftype == rules.BOOLEAN:
        return bool(raw)
    return raw


def facts_of(usccs: Iterable[str], day: dt.date | None = None) -> dict[str, dict]:
    """uscc → {field: value} (decimal figures in 万元, missing facts ``None``) for the per-enterprise
    evaluator, read from the same relation as the batch one."""
    names = list(rules.FIELDS)
    rows = facts(names, day).filter(uscc__in=list(usccs)).values("uscc", *(column(n) for n in names))
    return {row["uscc"]: {n: _python_value(n, row[column(n)]) for n in names} for row in rows}


def enterprise_facts(uscc: str, day: dt.date | None = None) -> dict | None:
    return facts_of([uscc], day).get(uscc)


def value_labels() -> dict[str, dict]:
    """The names of coded criteria values, in the reader's language: kinds, size classes, districts."""
    from huiqi.core.i18n import localized

    return {"kind": dict(registry.KIND_CHOICES), "size_class": dict(registry.SIZE_CHOICES),
            "district": {d.code: localized(d) for d in registry.districts()}}


def describe(leaf: dict):
    return rules.describe_leaf(leaf, value_labels())


def district_codes() -> list[str]:
    return list(registry.districts().values_list("code", flat=True))


def vocabularies() -> dict[str, list[str]]:
    """The values the criteria's reference-data enums take (``rules.validate``'s ``choices_of``)."""
    return {"district": district_codes()}


def versions_in_force(day: dt.date):
    """The version of each item in force on ``day``: published by then, not yet superseded, withdrawn
    or past its document's effective-to day."""
    return (ItemVersion.objects.filter(status__in=IN_FORCE, in_force_from__lte=day)
            .filter(Q(in_force_to__isnull=True) | Q(in_force_to__gt=day))
            .exclude(item__document__effective_to__lt=day))


def version_on(code: str, day: dt.date | None = None) -> ItemVersion | None:
    """The version of item ``code`` in force on ``day``; for an item never in force then, its newest
    version (a draft's criteria still evaluate: the bureau checks them before publishing)."""
    day = day or clock.today()
    found = versions_in_force(day).filter(item__code=code).select_related("item").order_by("-number").first()
    if found is None:
        found = ItemVersion.objects.filter(item__code=code).select_related("item").order_by("-number").first()
    return found


def item_exists(code: str) -> bool:
    return PolicyItem.objects.filter(code=code).exists()


def tags() -> dict[str, list[Tag]]:
    out: dict[str, list[Tag]] = {}
    for tag in Tag.objects.all():
        out.setdefault(tag.facet, []).append(tag)
    return out


def outcome_rows(code: str, day: dt.date | None = None):
    """(uscc, outcome) of every enterprise and individual business for item ``code`` on ``day``, sorted by
    uscc, from the batch evaluator."""
    version = version_on(code, day)
    criteria = version.criteria
    facts_rel = facts(rules.fields_used(criteria), day)
    from .batch import outcomes

    return outcomes(facts_rel, criteria).order_by("uscc").values_list("uscc", "outcome")


def explanation(code: str, uscc: str, day: dt.date | None = None) -> rules.Explanation | None:
    """The per-enterprise evaluator's outcome and every leaf of item ``code`` for enterprise ``uscc`` (None
    when the registry has no such enterprise)."""
    version = version_on(code, day)
    found = enterprise_facts(uscc, day)
    return None if found is None else rules.explain(version.criteria, found)


# --- the catalogue and 政策找我 ---------------------------------------------------------------------------

FACETS = ("subject", "benefit", "mode")
_NEED, _NOT = _("需要：%(text)s"), _("不得：%(text)s")


def chosen_facets(query, vocabulary: dict[str, list[Tag]] | None = None) -> dict[str, list[str]]:
    """The facet filter of a query string (``?subject=rent&subject=tax&mode=auto``): known tags only (of
    ``vocabulary``, the ``tags()`` a page has read already, else read here)."""
    known = {facet: {t.code for t in found} for facet, found in (vocabulary or tags()).items()}
    return {facet: [v for v in query.getlist(facet) if v in known.get(facet, ())] for facet in FACETS
            if any(v in known.get(facet, ()) for v in query.getlist(facet))}


def _tags_with_mode(version: ItemVersion) -> dict:
    return {**(version.tags or {}), "mode": [version.mode]}


def item_tags(version: ItemVersion) -> dict:
    """The tags a facet filter reads of a version: its own and its mode."""
    return _tags_with_mode(version)


LIST_FIELDS = ("id", "number", "status", "title", "summary", "mode", "opens", "closes", "criteria", "tags",
               "item__id", "item__code", "item__department__id", "item__department__name",
               "item__department__name_en")


def catalogue(day: dt.date, text: str = "", chosen: dict | None = None, *, open_only: bool = False) -> list[ItemVersion]:
    """The items in force on ``day`` (published), passing the facet filter (OR within a facet, AND across)
    and the free text (jieba tokens of titles, summaries, guides and documents), by title. Only what lists
    show is read (not the guides, the FAQ or the documents' full text)."""
    qs = (versions_in_force(day).filter(status=Status.PUBLISHED).select_related("item", "item__department")
          .only(*LIST_FIELDS))
    if open_only:
        qs = qs.filter(Q(closes__isnull=True) | Q(closes__gte=day))
    for token in (rules.search_tokens(text) or [text.strip()]) if text.strip() else []:
        qs = qs.filter(Q(search_text__contains=f" {token.lower()} ") | Q(title__icontains=token)
                       | Q(summary__icontains=token))
    found = [v for v in qs.order_by("title", "item__code") if rules.passes_facets(_tags_with_mode(v), chosen or {})]
    return found


_IN_FORCE_CACHE: dict = {}


def _catalogue_stamp() -> tuple:
    """What changes whenever the published catalogue can: a published version is never edited, so the count,
    newest id and newest creation of the versions in each state, and of the documents, change with every
    transition (creation times too, so that an id used again after a rollback reads as new). One query."""
    from django.db.models import Count, DateField, Max

    from .models import PolicyDocument

    versions = (ItemVersion.objects.order_by().values(state=F("status"))
                .annotate(n=Count("id"), m=Max("id"), t=Max("created_at"), f=Max("in_force_from")))
    docs = (PolicyDocument.objects.order_by().values(state=Value("document", output_field=CharField()))
            .annotate(n=Count("id"), m=Max("id"), t=Max("created_at"), f=Value(None, output_field=DateField())))
    return tuple(sorted(versions.union(docs, all=True).values_list("state", "n", "m", "t", "f"),
                        key=lambda row: row[0]))


class _Entry:
    """An open item of the catalogue ready for 政策找我: its version, its criteria compiled once for the
    per-enterprise evaluator, its tags with the mode (the facets), and its leaves in plain words per
    language and value labels (filled when first asked)."""

    __slots__ = ("version", "compiled", "tags", "described")

    def __init__(self, version: ItemVersion):
        self.version = version
        self.compiled = rules.compile_criteria(version.criteria)
        self.tags = _tags_with_mode(version)
        self.described: dict = {}


def _open_entries(day: dt.date) -> list[_Entry]:
    """The open items in force on ``day`` (``catalogue(day, open_only=True)``) compiled, kept in memory
    while the catalogue stays as it is (one small query checks it): 政策找我 reads every item on each load."""
    key = (_catalogue_stamp(), day)
    found = _IN_FORCE_CACHE.get(key)
    if found is None:
        found = [_Entry(v) for v in catalogue(day, open_only=True)]
        _IN_FORCE_CACHE.clear()
        _IN_FORCE_CACHE[key] = found
    return found


def open_catalogue(day: dt.date) -> list[ItemVersion]:
    """The open items in force on ``day`` (``catalogue(day, open_only=True)``), from the kept catalogue."""
    return [entry.version for entry in _open_entries(day)]


def own_enterprises(user):
    """The enterprises an enterprise user acts for."""
    return user.enterprises.order_by("uscc")


class _Labels:
    """The names of coded criteria values (``value_labels``) in the reader's language, read once per page
    and only when a reason is shown; ``key`` tells one language and set of names from another."""

    def __init__(self):
        self._labels = None

    @property
    def labels(self) -> dict:
        if self._labels is None:
            from django.utils.translation import get_language

            self._labels = value_labels()
            self.key = (get_language(), tuple(sorted((k, str(v)) for k, v in self._labels["district"].items())))
        return self._labels


class Found(dict):
    """One item of 政策找我 for one enterprise, a dict: ``version``, ``code``, ``title`` and ``outcome`` at once;
    ``explanation``, ``missing`` (unknown: the facts to supply, as (name, field)) and ``reasons`` (not met:
    one line in plain words) are worked out when first read, so the collapsed not-met list costs what it
    shows and no explanation is built that nobody reads."""

    __slots__ = ("_entry", "_facts", "_labels")

    def __init__(self, entry: _Entry, facts_now: dict, outcome: str, labels: _Labels):
        super().__init__(version=entry.version, code=entry.version.item.code, title=entry.version.title,
                         outcome=outcome)
        self._entry, self._facts, self._labels = entry, facts_now, labels

    def __missing__(self, key: str):
        work = getattr(self, f"_work_{key}", None)
        if work is None:
            raise KeyError(key)
        value = self[key] = work()
        return value

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def _work_explanation(self) -> rules.Explanation:
        return self._entry.compiled.explain(self._facts)

    def _work_missing(self) -> list:
        if self["outcome"] != rules.UNKNOWN:
            return []
        return [(name, rules.FIELDS[name]) for name in self["explanation"].missing]

    def _work_reasons(self) -> str:
        from huiqi.core.i18n import Joined

        labels = self._labels.labels
        lines = self._entry.described.get(self._labels.key)
        if lines is None:
            lines = self._entry.described[self._labels.key] = _reason_lines(self._entry.compiled.leaves, labels)
        return str(Joined(lines[negated][i] for i, negated in self._entry.compiled.why_not(self._facts)))


def _reason_lines(leaves: list[dict], labels: dict) -> tuple[list[str], list[str]]:
    """Each leaf as a reason in the active language: (needed, not allowed)."""
    from huiqi.core.i18n import render

    described = [str(rules.describe_leaf(leaf, labels)) for leaf in leaves]
    return [render(_NEED, {"text": d}) for d in described], [render(_NOT, {"text": d}) for d in described]


def for_enterprise(uscc: str, day: dt.date, text: str = "", chosen: dict | None = None) -> dict:
    """政策找我: the open items in force on ``day`` passing the filter, split into met (the matches: the same
    ``rules.matches`` that push uses), unknown (with the missing facts) and not met (with the reasons). Every
    item is evaluated from one read of the enterprise's facts, with the criteria compiled once per catalogue."""
    facts_now = enterprise_facts(uscc, day)
    met, unknown, not_met = [], [], []
    if facts_now is None:
        return {"met": met, "unknown": unknown, "not_met": not_met}
    entries = _open_entries(day)
    if text.strip():
        by_pk = {entry.version.pk: entry for entry in entries}
        entries = [by_pk.get(v.pk) or _Entry(v) for v in catalogue(day, text, chosen, open_only=True)]
    else:
        entries = [entry for entry in entries if rules.passes_facets(entry.tags, chosen or {})]
    labels = _Labels()
    for entry in entries:
        outcome = entry.compiled.outcome(facts_now)
        row = Found(entry, facts_now, outcome, labels)
        if rules.matches(True, entry.version.closes, entry.tags, outcome, day, chosen or {}):
            met.append(row)
        elif outcome == rules.UNKNOWN:
            unknown.append(row)
        else:
            not_met.append(row)
    return {"met": met, "unknown": unknown, "not_met": not_met}


def reasons_text(criteria: dict, facts_now: dict, labels: dict) -> str:
    """Why the criteria are not met, in plain words of the reader's language, as one line."""
    from huiqi.core.i18n import Joined

    compiled = rules.compile_criteria(criteria)
    lines = _reason_lines(compiled.leaves, labels)
    return str(Joined(lines[negated][i] for i, negated in compiled.why_not(facts_now)))


def counts(criteria: dict, day: dt.date | None = None) -> dict[str, int]:
    """How many enterprises the criteria find met, not met and unknown (the batch evaluator)."""
    from django.db.models import Count

    from .batch import outcomes

    rows = (outcomes(facts(rules.fields_used(criteria), day), criteria).order_by().values("outcome")
            .annotate(n=Count("id")))
    out = {rules.MET: 0, rules.NOT_MET: 0, rules.UNKNOWN: 0}
    out.update({r["outcome"]: r["n"] for r in rows})
    return out


def item_versions(code: str):
    return ItemVersion.objects.filter(item__code=code).select_related("item", "author", "reviewer").order_by("-number")


def latest_version(code: str) -> ItemVersion | None:
    return item_versions(code).first()


def item_page_version(user, code: str, day: dt.date) -> ItemVersion | None:
    """What the item page shows: the version in force on ``day``; staff who see drafts get the newest one
    when none is in force."""
    found = versions_in_force(day).filter(item__code=code).select_related("item", "item__document").order_by(
        "-number").first()
    if found is None and user.has_perm("policies.view_drafts"):
        found = latest_version(code)
    return found


DIFF_FIELDS = ("title", "summary", "guide", "benefit", "mode", "opens", "closes", "tags", "exclusion_group",
               "repeatable")


def diff(old: ItemVersion, new: ItemVersion) -> dict:
    """What changed from ``old`` to ``new`` as people read it: each changed field (label, before, after), and
    the criteria's leaves line by line (removed, added, kept)."""
    import difflib

    fields = []
    for name in DIFF_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            fields.append((ItemVersion._meta.get_field(name).verbose_name, a, b))
    labels = value_labels()
    before = [str(rules.describe_leaf(leaf, labels)) for leaf in rules.leaves_of(old.criteria)]
    after = [str(rules.describe_leaf(leaf, labels)) for leaf in rules.leaves_of(new.criteria)]
    lines = []
    for line in difflib.ndiff(before, after):
        if line.startswith("?"):
            continue
        lines.append(({"-": "removed", "+": "added", " ": "kept"}[line[0]], line[2:]))
    return {"fields": fields, "criteria": lines, "criteria_changed": old.criteria != new.criteria}


# --- publicity ---------------------------------------------------------------------------------------------

MEDIA = ("newspaper", "tv", "radio", "online_media")


def publicity_figures(day: dt.date | None = None) -> dict:
    """The seed's publicity figures from the articles, since ``campaign_start`` up to ``day``: WeChat articles
    and their views, media reports (newspaper, TV, radio, online media), and every channel's counts."""
    from django.db.models import Count, Sum

    from .models import Article

    day = day or clock.today()
    start = params_on(day).campaign_start
    qs = Article.objects.filter(published_at__date__gte=start, published_at__date__lte=day)
    by_channel = {row["channel"]: row for row in qs.order_by().values("channel").annotate(n=Count("id"),
                                                                                         views=Sum("views"))}
    wechat = by_channel.get("wechat", {})
    return {"since": start, "on": day, "wechat_articles": wechat.get("n", 0), "wechat_views": wechat.get("views") or 0,
            "media_reports": sum(by_channel.get(c, {}).get("n", 0) for c in MEDIA),
            "channels": [(code, label, by_channel.get(code, {}).get("n", 0), by_channel.get(code, {}).get("views"))
                         for code, label in Article.Channel.choices]}


def articles(day: dt.date | None = None):
    from .models import Article

    return Article.objects.filter(published_at__date__lte=day or clock.today()).prefetch_related("items")


# --- precise push: the inbox, the settings, the message log, the funnel's counts ----------------------------

def inbox_of(user, enterprise):
    """An enterprise's inbox messages, newest first, with the items they tell of (its own only)."""
    from django.db.models import Prefetch

    from .models import Channel, PushEntry, PushMessage

    if not user.has_perm("policies.push_own", enterprise):
        return PushMessage.objects.none()
    return (PushMessage.objects.filter(enterprise=enterprise, channel=Channel.INBOX)
            .prefetch_related(Prefetch("entries", PushEntry.objects.select_related("item", "version")
                                       .order_by("reason", "item__code"))))


def own_message(user, pk: int):
    """One inbox message of an enterprise the user acts for, or None."""
    from .models import Channel, PushMessage

    message = PushMessage.objects.filter(pk=pk, channel=Channel.INBOX).select_related("enterprise").first()
    return message if message is not None and user.has_perm("policies.push_own", message.enterprise) else None


def unread_count(user) -> int:
    """Inbox messages not yet opened, over the enterprises the user acts for."""
    from .models import Channel, PushMessage

    if not user.has_perm("policies.push_own"):
        return 0
    return PushMessage.objects.filter(enterprise__in=own_enterprises(user), channel=Channel.INBOX,
                                      opened_at__isnull=True).count()


def push_settings(user, enterprise) -> dict:
    """An enterprise's consents (in force and past), saved filters and unsubscriptions in force."""
    from .models import PushConsent, SavedFilter, Unsubscription

    if not user.has_perm("policies.push_own", enterprise):
        return {}
    consents = list(PushConsent.objects.filter(enterprise=enterprise).select_related("given_by", "withdrawn_by"))
    return {"consents": [c for c in consents if c.withdrawn_at is None],
            "past_consents": [c for c in consents if c.withdrawn_at is not None],
            "filters": list(SavedFilter.objects.filter(enterprise=enterprise)),
            "unsubscriptions": list(Unsubscription.objects.filter(enterprise=enterprise, ended_at__isnull=True)
                                    .select_related("item"))}


def own_filter(user, pk: int):
    from .models import SavedFilter

    found = SavedFilter.objects.filter(pk=pk).select_related("enterprise").first()
    return found if found is not None and user.has_perm("policies.push_own", found.enterprise) else None


def own_unsubscription(user, pk: int):
    from .models import Unsubscription

    found = Unsubscription.objects.filter(pk=pk).select_related("enterprise").first()
    return found if found is not None and user.has_perm("policies.push_own", found.enterprise) else None


def message_log(user):
    """Every push message, newest first (the bureau's and auditors' log); nothing for anyone else."""
    from django.db.models import Count

    from .models import PushMessage

    if not user.has_perm("policies.view_push_log"):
        return PushMessage.objects.none()
    return PushMessage.objects.select_related("enterprise").annotate(items=Count("entries"))


def push_figures(start: dt.date, end: dt.date, codes: Iterable[str] | None = None) -> dict[str, dict]:
    """Per item (by code), over the days ``start``–``end`` (both included), the distinct enterprises that
    viewed its page, the anonymous page views, and the distinct enterprises it was pushed to (a new-match or
    reminder entry of a message sent, delivered or opened, or of an inbox message) and that opened such a
    message: the funnel's first steps. Items with nothing in the period are left out."""
    from django.db.models import Count, Q, Sum

    from .models import ItemView, PushEntry, PushMessage

    views = ItemView.objects.filter(day__gte=start, day__lte=end)
    entries = PushEntry.objects.filter(message__day__gte=start, message__day__lte=end,
                                       reason__in=(PushEntry.Reason.NEW_MATCH, PushEntry.Reason.REMINDER),
                                       message__state__in=(PushMessage.State.SENT, PushMessage.State.DELIVERED,
                                                           PushMessage.State.OPENED))
    if codes is not None:
        views = views.filter(item__code__in=list(codes))
        entries = entries.filter(item__code__in=list(codes))
    out: dict[str, dict] = {}

    def row(code):
        return out.setdefault(code, {"views": 0, "anonymous_views": 0, "pushes": 0, "opens": 0})

    for r in views.order_by().values("item__code").annotate(
            ents=Count("enterprise", distinct=True), anon=Sum("count", filter=Q(enterprise__isnull=True))):
        row(r["item__code"]).update(views=r["ents"], anonymous_views=r["anon"] or 0)
    for r in entries.order_by().values("item__code").annotate(
            pushes=Count("message__enterprise", distinct=True),
            opens=Count("message__enterprise", distinct=True, filter=Q(message__opened_at__isnull=False))):
        row(r["item__code"]).update(pushes=r["pushes"], opens=r["opens"])
    return out


# --- online applications (``selectors_applications``) -------------------------------------------------------

from . import selectors_applications as _applications  # noqa: E402

APPLIABLE, ItemFigures, PrefilledFact = _applications.APPLIABLE, _applications.ItemFigures, _applications.PrefilledFact
applications_for, application_for = _applications.applications_for, _applications.application_for
application_actions, application_funnel = _applications.application_actions, _applications.application_funnel
holdings, open_application, prefilled = _applications.holdings, _applications.open_application, _applications.prefilled
published_version, is_overdue = _applications.published_version, _applications.is_overdue
overdue_count, waiting_count = _applications.overdue_count, _applications.waiting_count
application_trail, open_count = _applications.application_trail, _applications.open_count
