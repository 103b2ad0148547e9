"""The reads of online applications (在线申报), scoped to the asking user: the version an enterprise applies
against and the form's prefilled facts, the applications each reader sees, the actions a reader may take on
one, the benefits an enterprise holds (for the stacking rule) and the per-item figures the funnel reads.
``selectors`` re-exports them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from huiqi.core import clock

from . import rules
from .models import HOLDING_STATES, OPEN_STATES, Application, ApplicationState, ItemVersion, Mode, Status
from .permissions import scope_applications

APPLIABLE = (Mode.PREFILLED, Mode.APPLICATION)


def applications_for(user):
    """The applications ``user`` may read (``permissions.scope_applications``), newest first."""
    return scope_applications(user, Application.objects.select_related(
        "item", "version", "enterprise", "department")).order_by("-submitted_at", "-id")


def application_for(user, number: str) -> Application:
    """One application among the reader's own (``Application.DoesNotExist`` otherwise: not revealed)."""
    return applications_for(user).get(number=number)


def published_version(code: str, day: dt.date) -> ItemVersion | None:
    """The published version of item ``code`` in force on ``day`` (None: none is)."""
    from .selectors import versions_in_force

    return (versions_in_force(day).filter(item__code=code, status=Status.PUBLISHED)
            .select_related("item", "item__department").order_by("-number").first())


@dataclass(frozen=True)
class PrefilledFact:
    """A fact the item's criteria read, as the form shows it: the registry's value (None: missing, so the
    enterprise may declare it)."""

    name: str
    field: rules.Field
    value: object

    @property
    def known(self) -> bool:
        return self.value is not None


def prefilled(version: ItemVersion, uscc: str, day: dt.date) -> list[PrefilledFact] | None:
    """The facts of ``version``'s criteria from the registry for enterprise ``uscc`` on ``day``, in document
    order (None: no such enterprise)."""
    from .selectors import enterprise_facts

    found = enterprise_facts(uscc, day)
    if found is None:
        return None
    return [PrefilledFact(name, rules.FIELDS[name], found.get(name)) for name in rules.fields_used(version.criteria)]


def holdings(enterprise_id: int, *, excluding: int | None = None) -> list[rules.Holding]:
    """The benefits the enterprise holds: its approved or paid applications, each with its item, window and the
    exclusion group of the version it was granted under."""
    qs = Application.objects.filter(enterprise_id=enterprise_id, state__in=HOLDING_STATES)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return [rules.Holding(code, window, group or "", number) for code, window, group, number in
            qs.order_by("id").values_list("item__code", "window_opens", "version__exclusion_group", "number")]


def open_application(enterprise_id: int, item_id: int) -> Application | None:
    """The enterprise's application of the item still with the department (submitted or accepted), if any."""
    return Application.objects.filter(enterprise_id=enterprise_id, item_id=item_id, state__in=OPEN_STATES).first()


def application_actions(user, application: Application) -> list[str]:
    """What ``user`` may do with the application now (the department that owns it, by its state)."""
    if not user.has_perm("policies.handle_application", application):
        return []
    from .models import APPLICATION_TRANSITIONS

    return [action for action, (starts, _to) in APPLICATION_TRANSITIONS.items() if application.state in starts]


def is_overdue(application: Application, day: dt.date | None = None) -> bool:
    return rules.overdue(application.state, application.due, day or clock.today())


def overdue_count(user, day: dt.date | None = None) -> int:
    return applications_for(user).filter(state__in=OPEN_STATES, due__lt=day or clock.today()).count()


def open_count(user) -> int:
    return applications_for(user).filter(state__in=OPEN_STATES).count()


def waiting_count(user, state: str) -> int:
    return applications_for(user).filter(state=state).count()


@dataclass(frozen=True)
class ItemFigures:
    """One item's online applications in a period: distinct enterprises that submitted, were approved and
    were paid in it, and the sum paid (fen)."""

    code: str
    title: str
    submitted: int
    approved: int
    paid: int
    paid_fen: int


def application_funnel(start: dt.date, end: dt.date, codes=None) -> list[ItemFigures]:
    """Per item, the applications of the period ``[start, end]`` (days inclusive), by item code: distinct
    enterprises that submitted (submitted on a day of it), were approved (decided on a day of it, approved or
    paid since) and were paid (paid on a day of it), and Σ paid in it. Unscoped: the city-wide figures the
    funnel page shows its readers."""
    qs = Application.objects.all()
    if codes is not None:
        qs = qs.filter(item__code__in=list(codes))
    in_period = {"submitted": Q(submitted_on__range=(start, end)),
                 "approved": Q(decided_on__range=(start, end), state__in=HOLDING_STATES),
                 "paid": Q(paid_on__range=(start, end), state=ApplicationState.PAID)}
    rows = (qs.filter(in_period["submitted"] | in_period["approved"] | in_period["paid"]).order_by()
            .values("item__code")
            .annotate(submitted=Count("enterprise", filter=in_period["submitted"], distinct=True),
                      approved=Count("enterprise", filter=in_period["approved"], distinct=True),
                      paid=Count("enterprise", filter=in_period["paid"], distinct=True),
                      paid_fen=Sum("paid_fen", filter=in_period["paid"])))
    titles = dict(ItemVersion.objects.filter(item__code__in=[r["item__code"] for r in rows])
                  .order_by("item__code", "number").values_list("item__code", "title"))
    return [ItemFigures(r["item__code"], titles.get(r["item__code"], ""), r["submitted"], r["approved"], r["paid"],
                        r["paid_fen"] or 0) for r in sorted(rows, key=lambda r: r["item__code"])]


def application_trail(application: Application):
    """The audit records of an application, oldest first: each move, who made it and when (the enterprise
    sees its application's trail too: the moves, never other records)."""
    from huiqi.core.models import AuditEvent

    return (AuditEvent.objects.filter(model=Application._meta.label, object_id=str(application.pk))
            .select_related("actor").order_by("at", "id"))
