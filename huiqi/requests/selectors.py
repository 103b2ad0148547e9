"""Enterprise-request reads, each scoped to the asking user.

- an enterprise user: the requests of the enterprises it acts for;
- a department handler: its department's requests (a hotline operator: also the calls it filed);
- a district officer: the requests of enterprises of its district;
- bureau, auditors and administrators: the city;
- anyone else: nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from huiqi.accounts import selectors as accounts_selectors
from huiqi.accounts.selectors import Role, role_of
from huiqi.core import params as core_params
from huiqi.core.errors import NotFound, ValidationFailed
from huiqi.core.workdays import Calendar, CalendarYearMissing
from huiqi.registry import selectors as registry_selectors

from . import rules
from .apps import PARAMS_KEY
from .models import (
    OPEN_STATUSES,
    Category,
    CommonProblem,
    DepartmentHead,
    EnterpriseRequest,
    Extension,
    Notification,
    RequestEvent,
    ResponseTemplate,
    RoutingRule,
    Status,
)
from .permissions import DISPATCH_AGENCY, HOTLINE_AGENCY

CITY_WIDE = {Role.BUREAU, Role.AUDITOR, Role.ADMIN}


def current_params(on: dt.date | None = None) -> dict:
    """The channel's parameters in force on ``on``, over the defaults (a key the bureau never set
    keeps its default)."""
    stored = core_params.value(PARAMS_KEY, on=on, default={}) or {}
    return {**rules.DEFAULTS, **stored}


def requests_for(user) -> QuerySet[EnterpriseRequest]:
    role = role_of(user)
    qs = EnterpriseRequest.objects.all()
    if role in CITY_WIDE:
        return qs
    if role == Role.DEPARTMENT:
        if user.agency_id and user.agency.code == HOTLINE_AGENCY:
            # An operator follows the calls it filed, wherever they were routed.
            return qs.filter(Q(agency_id=user.agency_id) | Q(created_by_id=user.pk))
        return qs.filter(agency_id=user.agency_id)
    if role == Role.DISTRICT:
        return qs.filter(district_id=user.district_id)
    if role == Role.ENTERPRISE:
        return qs.filter(enterprise__in=user.enterprises.values("pk"))
    return qs.none()


def filing_enterprise(user, uscc: str):
    """The enterprise a request is filed for, by its USCC, on the page, the API and Open311 alike: one
    the user acts for (an enterprise user may leave it out when it acts for exactly one), or any
    enterprise of the registry for the others (``services.submit_request`` decides who may file)."""
    uscc = (uscc or "").strip().upper()
    registry = registry_selectors.enterprises().select_related("industry", "district")
    if role_of(user) == Role.ENTERPRISE:
        mine = registry.for_user(user)
        if not uscc:
            if mine.count() == 1:
                return mine.get()
            raise ValidationFailed("request.enterprise", _("请指明企业的统一社会信用代码"), field="enterprise")
        found = mine.filter(uscc=uscc).first()
    else:
        found = registry.filter(uscc=uscc).first() if uscc else None
    if found is None and not uscc:  # a caller who may file for any enterprise must name one
        raise ValidationFailed("request.enterprise_required", _("请填写企业的统一社会信用代码"), field="enterprise")
    if found is None:
        raise NotFound("requests.enterprise_not_found", _("名录中未找到统一社会信用代码为 %(uscc)s 的企业"),
                       field="enterprise", uscc=uscc)
    return found


def enterprises_named(user, text: str, limit: int = 10) -> list:
    """Enterprises of the registry the user may read whose name contains ``text``, or whose USCC is or starts
    with it (at least six characters), by name: a 12345 operator finds the caller's enterprise this way."""
    text = (text or "").strip()[:100]
    if not text:
        return []
    code = text.upper()
    match = Q(name__contains=text)
    if len(code) >= 6 and code.isascii() and code.isalnum():
        match |= Q(uscc__startswith=code)
    return list(registry_selectors.enterprises_listed(user).filter(match)[:limit])


def get_request(user, number: str) -> EnterpriseRequest | None:
    return (requests_for(user).select_related("enterprise", "category", "agency", "district", "handler",
                                              "common_problem")
            .filter(number=number).first())


def filed_by(user, number: str) -> EnterpriseRequest | None:
    """The request ``number`` if ``user`` filed it (its confirmation page is theirs only)."""
    return (requests_for(user).select_related("enterprise", "category", "agency")
            .filter(number=number, created_by=user).first())


def events_for(user, req: EnterpriseRequest) -> QuerySet[RequestEvent]:
    """The history the user may see: an enterprise user never sees internal notes."""
    qs = req.events.select_related("actor").order_by("at", "id")
    if role_of(user) == Role.ENTERPRISE:
        qs = qs.filter(internal=False)
    return qs


def problems_for(user) -> QuerySet[CommonProblem]:
    role = role_of(user)
    qs = CommonProblem.objects.select_related("category", "agency")
    if role in CITY_WIDE:
        return qs
    if role in (Role.DEPARTMENT, Role.DISTRICT):
        return qs.filter(Q(requests__in=requests_for(user)) | Q(created_by_id=user.pk)).distinct()
    return qs.none()


def requests_of_problem(user, problem: CommonProblem) -> QuerySet[EnterpriseRequest]:
    """The requests linked under a common problem that the user may read."""
    return requests_for(user).filter(common_problem=problem).select_related("enterprise", "agency")


def open_problems_for(user, category: Category) -> QuerySet[CommonProblem]:
    """The common problems of a category not yet answered, which a request can be linked under."""
    return problems_for(user).filter(category=category, answered_at__isnull=True)


def extensions_of(req: EnterpriseRequest) -> list:
    """A request's extensions with who asked and who decided (staff only: the page shows them to staff)."""
    return list(req.extensions.select_related("requested_by", "decided_by"))


def categories(*, active: bool | None = None) -> QuerySet[Category]:
    """The request categories (reference data, public), the active ones only when asked."""
    qs = Category.objects.all()
    return qs if active is None else qs.filter(active=active)


def response_templates(category: Category) -> QuerySet[ResponseTemplate]:
    """The active answer templates of a category."""
    return ResponseTemplate.objects.filter(category=category, active=True)


def transfer_targets(req: EnterpriseRequest):
    """The departments a request can be transferred to: any but its own and the hotline."""
    return registry_selectors.agencies().exclude(pk=req.agency_id).exclude(code=HOTLINE_AGENCY)


def extensions_to_decide(user) -> QuerySet[Extension]:
    """The pending extensions that wait for this user's decision: a department head's, of its departments'
    requests; bureau staff's (and administrators'), of departments that have no head. Never one the user
    asked for itself."""
    role = role_of(user)
    pending = Extension.objects.filter(status=Extension.Decision.PENDING).exclude(requested_by_id=user.pk) \
        if role is not None else Extension.objects.none()
    if role == Role.DEPARTMENT:
        return pending.filter(request__agency_id__in=DepartmentHead.objects.filter(user_id=user.pk)
                              .values("agency_id"))
    if role in (Role.BUREAU, Role.ADMIN):
        return pending.exclude(request__agency_id__in=DepartmentHead.objects.values("agency_id"))
    return pending.none()


def unread_for(user) -> QuerySet[Notification]:
    """The user's in-platform messages not yet read."""
    return inbox_for(user).filter(read_at__isnull=True)


def inbox_for(user) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user, channel=Notification.Channel.INBOX)


def near_limit(today: dt.date, near_days: int) -> dt.date | None:
    """The last day a deadline counts as "near" (display only, so a calendar a minute old will do)."""
    try:
        return Calendar.cached().add_working_days(today, near_days)
    except CalendarYearMissing:
        return None


def similar_open(user, req: EnterpriseRequest, threshold: float, limit: int = 5, pool: int = 400) -> list:
    """Open requests of the same category whose text is like this one's (jieba tokens, cosine), most
    similar first, among those the user may read."""
    mine = req.tokens.split()
    if not mine:
        return []
    candidates = (requests_for(user).filter(category_id=req.category_id, status__in=OPEN_STATUSES)
                  .exclude(pk=req.pk).order_by("-submitted_at").values("pk", "number", "title", "tokens",
                                                                       "common_problem_id", "status")[:pool])
    scored = []
    for c in candidates:
        s = rules.similarity(mine, c["tokens"].split())
        if s >= threshold:
            scored.append({**c, "score": round(s, 2)})
    scored.sort(key=lambda c: -c["score"])
    return scored[:limit]


# --- figures --------------------------------------------------------------------------------------


def _ratio(part, whole) -> Decimal | None:
    """part / whole in percent, one decimal place (half up); None when there is no whole."""
    return None if not whole else (Decimal(100 * part) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _mean(total, n, places: str = "0.01") -> Decimal | None:
    """total / n (half up, to ``places``), exact from whole numbers; None when there are none."""
    return None if not n or total is None else (Decimal(total) / n).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _hours(span: dt.timedelta | None) -> Decimal | None:
    """A span in hours, one decimal place (half up)."""
    if span is None:
        return None
    micro = (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
    return (Decimal(micro) / 3_600_000_000).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def figures(qs: QuerySet) -> dict:
    """The channel's figures over ``qs`` (already scoped and filtered)."""
    totals = qs.aggregate(
        requests=Count("id"), enterprises=Count("enterprise_id", distinct=True),
        closed=Count("id", filter=Q(status=Status.CLOSED)),
        accepted=Count("id", filter=Q(accepted_on_time__isnull=False)),
        accepted_on_time=Count("id", filter=Q(accepted_on_time=True)),
        answered=Count("id", filter=Q(answered_on_time__isnull=False)),
        answered_on_time=Count("id", filter=Q(answered_on_time=True)),
        reopened=Count("id", filter=Q(reopen_count__gt=0)),
        rated=Count("id", filter=Q(rating__isnull=False)),
        satisfied=Count("id", filter=Q(rating__gte=4)),
        rating_sum=Sum("rating"),
        answer_time=Avg(F("answered_at") - F("submitted_at"), filter=Q(answered_at__isnull=False)),
    )
    return {
        **totals,
        "accepted_on_time_pct": _ratio(totals["accepted_on_time"], totals["accepted"]),
        "answered_on_time_pct": _ratio(totals["answered_on_time"], totals["answered"]),
        "reopen_pct": _ratio(totals["reopened"], totals["answered"]),
        "satisfied_pct": _ratio(totals["satisfied"], totals["rated"]),
        "rating": _mean(totals["rating_sum"], totals["rated"]),
        "answer_hours": _hours(totals["answer_time"]),
    }


GROUPS = {
    "channel": ("channel", None),
    "category": ("category__code", "category__name"),
    "district": ("district_id", "district__name"),
    "agency": ("agency__code", "agency__name"),
}


def grouped(qs: QuerySet, by: str) -> list[dict]:
    key, label = GROUPS[by]
    fields = [key] + ([label] if label else [])
    rows = (qs.values(*fields).annotate(
        requests=Count("id"), closed=Count("id", filter=Q(status=Status.CLOSED)),
        answered=Count("id", filter=Q(answered_on_time__isnull=False)),
        answered_on_time=Count("id", filter=Q(answered_on_time=True)),
        rating_sum=Sum("rating"), rated=Count("id", filter=Q(rating__isnull=False)),
        enterprises=Count("enterprise_id", distinct=True)).order_by("-requests"))
    out = []
    for r in rows:
        out.append({"key": r[key], "label": r[label] if label else r[key], "requests": r["requests"],
                    "closed": r["closed"], "enterprises": r["enterprises"],
                    "answered_on_time_pct": _ratio(r["answered_on_time"], r["answered"]),
                    "rating": _mean(r["rating_sum"], r["rated"])})
    return out


# --- who is told ------------------------------------------------------------------------------------
# The people a step of a request concerns. Not scoped to a reader: the services address notifications
# with them, and no page lists them.


def bureau_staff() -> list:
    """The active bureau staff (told when the working-day calendar of a year is missing)."""
    return list(accounts_selectors.users().filter(role=Role.BUREAU, is_active=True))


def agency_staff(agency_id) -> list:
    """The active handlers of a department."""
    return list(accounts_selectors.users().filter(role=Role.DEPARTMENT, agency_id=agency_id, is_active=True))


def handlers_of(req: EnterpriseRequest) -> list:
    """Who handles a request now: its handler when it has one, else its department's staff."""
    return [req.handler] if req.handler_id else agency_staff(req.agency_id)


def heads_of(agency_id) -> list:
    """The active heads of a department."""
    return list(accounts_selectors.users().filter(
        pk__in=DepartmentHead.objects.filter(agency_id=agency_id).values("user_id"), is_active=True))


def heads_by_agency(agency_ids) -> dict[int, list]:
    """The heads of each of these departments (a department without any is left out)."""
    ids: dict[int, list[int]] = {}
    for agency_id, user_id in DepartmentHead.objects.filter(agency_id__in=agency_ids).values_list("agency_id",
                                                                                                  "user_id"):
        ids.setdefault(agency_id, []).append(user_id)
    users = accounts_selectors.users().in_bulk({u for us in ids.values() for u in us})
    heads = {agency_id: [users[u] for u in us if u in users] for agency_id, us in ids.items()}
    return {agency_id: us for agency_id, us in heads.items() if us}


def is_head(user, agency_id) -> bool:
    return DepartmentHead.objects.filter(agency_id=agency_id, user_id=user.pk).exists()


def enterprise_users(enterprise_id) -> list:
    """The active platform users acting for an enterprise."""
    return list(accounts_selectors.users().filter(role=Role.ENTERPRISE, is_active=True,
                                                  enterprisemembership__enterprise_id=enterprise_id))


def bureau_recipients() -> list:
    """The SME service bureau: bureau staff and the department users of the dispatch agency."""
    return list(accounts_selectors.users().filter(
        Q(role=Role.BUREAU) | Q(role=Role.DEPARTMENT, agency__code=DISPATCH_AGENCY), is_active=True))


def routing_rules() -> list[rules.Rule]:
    """The active routing rules in their order, as ``rules.route`` takes them."""
    return [rules.Rule(id=r.id, category=r.category.code if r.category_id else None, district=r.district_id,
                       keywords=rules.split_keywords(r.keywords), size_class=r.size_class,
                       industry_section=r.industry_section, key_enterprise=r.key_enterprise,
                       agency=r.agency_id, handler=r.handler_id)
            for r in RoutingRule.objects.filter(active=True).select_related("category")
            .order_by("order", "id")]
