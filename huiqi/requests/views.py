"""Request pages: the list ("my requests" for an enterprise, the department's or the city's for staff),
filing a request (an enterprise, or a hotline operator for a caller), a request with its history and the
actions open to the reader, common problems, messages, and the figures with their export.

Thin: reads go through ``selectors`` (scoped), writes through ``services``; a refusal of a service is
shown on the page it came from in Chinese and English, with the status it carries.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from huiqi.accounts.selectors import Role
from huiqi.core import clock
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError
from huiqi.core.formpages import Confirmation, confirmation, guide_context
from huiqi.core.forms import add_domain_error
from huiqi.core.filters import apply
from huiqi.core.i18n import localized
from huiqi.core.pagination import paginate
from huiqi.core.tabular import write_rows
from huiqi.core.permissions import require_page as _require
from huiqi.registry import selectors as registry_selectors

from . import actions, rules, selectors, services
from .filters import RequestFilter
from .forms import RequestForm
from .models import TRANSITIONS, Channel, Extension, Status
from .site import GUIDES

STEPS = [Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS, Status.ANSWERED, Status.CLOSED]


def _status_label(status: str):
    return Status(status).label if status in Status.values else status


def _flags(qs_rows, today, near):
    for r in qs_rows:
        r.flag = rules.deadline_flag(r.due_date, today, near) if r.status in (
            Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS) else ""
        r.status_text = _status_label(r.status)
        r.step = STEPS.index(r.status) if r.status in STEPS else 2
    return qs_rows


def _context_lists():
    return {"categories": selectors.categories(), "statuses": Status.choices,
            "channels": Channel.choices,
            "districts": registry_selectors.districts(), "agencies": registry_selectors.agencies()}


# --------------------------------------------------------------------------------------------------
# Lists


@login_required
def index(request):
    _require(request, "requests.view")
    user = request.user
    today = clock.today()
    p = selectors.current_params(today)
    near = selectors.near_limit(today, p["near_days"])
    qs, f = apply(RequestFilter, request, selectors.requests_for(user), today=today, near_limit=near)
    qs = qs.select_related("enterprise", "category", "agency", "district")
    page, query = paginate(request, qs)
    _flags(page.object_list, today, near)
    mine = user.role == Role.ENTERPRISE
    return render(request, "requests/index.html", {
        "page": page, "query": query, "f": f, "mine": mine, "today": today, "steps": STEPS,
        "step_labels": [_status_label(s) for s in STEPS],
        "can_submit": user.has_perm("requests.submit"), "hotline": user.has_perm("requests.file_for_enterprise"),
        "filtered": any(f.values()), "department": user.role == Role.DEPARTMENT, **_context_lists(),
    })


# --------------------------------------------------------------------------------------------------
# Filing


def _enterprises(user):
    return list(registry_selectors.enterprises().for_user(user).order_by("name")) if user.role == Role.ENTERPRISE else []


@login_required
def new(request):
    _require(request, "requests.submit")
    user = request.user
    hotline = user.has_perm("requests.file_for_enterprise")
    enterprises = _enterprises(user)
    initial = {"contact_name": user.display_name, "contact_phone": user.phone, "contact_email": user.email}
    if enterprises:
        initial["enterprise"] = enterprises[0].uscc
    if request.GET.get("category"):
        initial["category"] = request.GET["category"]
    # The operator finds the caller's enterprise by name (?find=), picks it (?enterprise=USCC), and sees its
    # registry facts before filing.
    find, matches, picked = (request.GET.get("find") or "").strip()[:100], [], []
    if hotline:
        matches = selectors.enterprises_named(user, find) if find else []
        chosen = (request.POST.get("enterprise") or request.GET.get("enterprise") or "").strip()
        picked = selectors.enterprises_named(user, chosen, limit=1) if chosen else []
    form = RequestForm(request.POST or None, request.FILES or None, enterprises=enterprises, hotline=hotline,
                       limits=selectors.current_params(clock.today()),
                       initial=initial if not hotline else {"category": initial.get("category"),
                                                            "enterprise": picked[0].uscc if picked else ""})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                enterprise = selectors.filing_enterprise(user, d["enterprise"])
                req = services.submit_request(
                    user, enterprise=enterprise, category=d["category"], title=d["title"],
                    description=d["description"], channel=Channel.HOTLINE if hotline else Channel.WEB,
                    contact_name=d["contact_name"], contact_phone=d["contact_phone"],
                    contact_email=d["contact_email"], attachments=d["attachments"])
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
            else:
                return redirect("requests:submitted", number=req.number)
    # The registry's facts the enterprise need not type again.
    facts = [{"name": e.name, "uscc": e.uscc, "district": localized(e.district), "industry": localized(e.industry),
              "size": e.get_size_class_display()} for e in (picked if hotline else enterprises)]
    return render(request, "requests/new.html", {"form": form, "hotline": hotline, "facts": facts,
                                                  "find": find, "matches": matches,
                                                  "categories": selectors.categories(active=True),
                                                  **guide_context(GUIDES["requests.new"], form)},
                  status=status)


@login_required
def submitted(request, number):
    """The confirmation of a request just filed, for the person who filed it: its number, who handles it
    and by when it is accepted."""
    _require(request, "requests.submit")
    req = selectors.filed_by(request.user, number)
    if req is None:
        raise Http404
    done = Confirmation(
        title=_("诉求已提交"), reference=req.number, view_url=reverse("requests:detail", args=[req.number]),
        view_label=_("查看诉求和办理进度"), by=req.accept_deadline, by_label=_("签收期限"),
        facts=[(_("企业"), req.enterprise.name), (_("诉求类别"), localized(req.category)),
               (_("标题"), req.title), (_("责任部门"), localized(req.agency))],
        next=[_("%(agency)s 将在签收期限前签收您的诉求。") % {"agency": localized(req.agency)},
              _("签收后 %(days)s 个工作日内答复；需要补充材料时会通知您。") % {"days": req.category.answer_days},
              _("办理进度会显示在诉求页面，并通过站内消息通知您。")])
    return confirmation(request, done)


# --------------------------------------------------------------------------------------------------
# One request


def _get(request, number):
    req = selectors.get_request(request.user, number)
    if req is None:
        raise Http404
    return req


def _actions(user, req) -> set[str]:
    """The actions the page offers this reader now (the services check again)."""
    acts = set()
    if user.has_perm("requests.handle_request", req):
        acts |= {a for a in ("accept", "start", "ask_enterprise", "answer", "send_back", "transfer")
                 if req.status in TRANSITIONS[a][0]}
        if req.status != Status.CLOSED:
            acts.add("note")
        if req.status in (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS):
            acts |= {"recategorise", "link"}
        if req.status in (Status.ACCEPTED, Status.IN_PROGRESS, Status.WAITING):
            acts.add("extend")
    if user.role == Role.BUREAU and req.status != Status.CLOSED:
        acts |= {"note", "transfer", "link"} if req.status in TRANSITIONS["transfer"][0] else {"note"}
    if user.has_perm("requests.act_as_requester", req):
        acts |= {a for a in ("reply", "close", "reopen") if req.status in TRANSITIONS[a][0]}
    if user.has_perm("requests.supervise") and req.status != Status.CLOSED and not req.supervised:
        acts.add("supervise")
    return acts


@login_required
def detail(request, number, *, error=None, status=200):
    _require(request, "requests.view")
    req = _get(request, number)
    user = request.user
    today = clock.today()
    p = selectors.current_params(today)
    near = selectors.near_limit(today, p["near_days"])
    _flags([req], today, near)
    events = list(selectors.events_for(user, req))
    for e in events:
        e.from_text = _status_label(e.from_status) if e.from_status else ""
        e.to_text = _status_label(e.to_status) if e.to_status else ""
    acts = _actions(user, req)
    staff = user.role != Role.ENTERPRISE
    extensions = selectors.extensions_of(req) if staff else []
    for ext in extensions:
        ext.may_decide = ext.status == Extension.Decision.PENDING and services.may_decide_extension(user, ext)
    ctx = {
        "r": req, "events": events, "acts": acts, "staff": staff, "today": today,
        "attachments": req.attachments.all(), "extensions": extensions,
        "steps": [(s, _status_label(s)) for s in STEPS], "step": req.step,
        "similar": selectors.similar_open(user, req, p["similarity_threshold"]) if staff else [],
        "templates": selectors.response_templates(req.category) if "answer" in acts else [],
        "agencies": selectors.transfer_targets(req) if "transfer" in acts else [],
        "categories": selectors.categories(active=True).exclude(pk=req.category_id) if "recategorise" in acts else [],
        "problems": selectors.open_problems_for(user, req.category) if "link" in acts else [],
        "error": error, "channel_text": Channel(req.channel).label,
        "extension_max_days": p["extension_max_days"],
    }
    return render(request, "requests/detail.html", ctx, status=status)


ACTION_DONE = {
    "accept": gettext_lazy("已签收。"), "start": gettext_lazy("已开始办理。"),
    "ask_enterprise": gettext_lazy("已请企业补充，计时暂停。"), "reply": gettext_lazy("已补充，计时恢复。"),
    "answer": gettext_lazy("已答复。"), "close": gettext_lazy("感谢评价，诉求已办结。"),
    "reopen": gettext_lazy("已申请重办。"), "send_back": gettext_lazy("已退回。"), "transfer": gettext_lazy("已转办。"),
    "note": gettext_lazy("已添加备注。"), "supervise": gettext_lazy("已督办。"),
    "extend": gettext_lazy("已提交延期申请。"), "decide_extension": gettext_lazy("已审批延期申请。"),
    "recategorise": gettext_lazy("已修改类别并重新分派。"), "link": gettext_lazy("已归并至共性问题。"),
}


@login_required
@require_POST
def act(request, number, action):
    _require(request, "requests.view")
    req = _get(request, number)
    if action not in ACTION_DONE:
        raise Http404
    try:
        with transaction.atomic():
            actions.run(request.user, req, action, request.POST, request.FILES)
    except DomainError as exc:
        return detail(request, number, error=exc, status=exc.status)
    messages.success(request, ACTION_DONE[action])
    return redirect("requests:detail", number=number)


@login_required
def attachment(request, number, pk):
    _require(request, "requests.view")
    req = _get(request, number)
    a = req.attachments.filter(pk=pk).first()
    if a is None:
        raise Http404
    # Served as a download with its own type, never rendered by the browser as a page.
    response = FileResponse(a.file.open("rb"), as_attachment=True, filename=a.name,
                            content_type=rules.CONTENT_TYPES.get(a.kind, "application/octet-stream"))
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------------------------------
# Common problems and messages


@login_required
def problems(request):
    _require(request, "requests.figures")
    qs = selectors.problems_for(request.user).order_by("-created_at")
    page, query = paginate(request, qs)
    return render(request, "requests/problems.html", {"page": page, "query": query})


@login_required
def problem(request, pk):
    _require(request, "requests.figures")
    problem = selectors.problems_for(request.user).filter(pk=pk).first()
    if problem is None:
        raise Http404
    error, status = None, 200
    if request.method == "POST":
        try:
            result = services.answer_common_problem(request.user, problem, request.POST.get("note", ""))
        except DomainError as exc:
            error, status = exc, exc.status
        else:
            messages.success(request, _("已统一答复 %(n)s 件诉求，通知 %(e)s 家企业。") % {
                "n": result["answered"], "e": result["enterprises"]})
            return redirect("requests:problem", pk=pk)
    reqs = list(selectors.requests_of_problem(request.user, problem))
    for r in reqs:
        r.status_text = _status_label(r.status)
    return render(request, "requests/problem.html", {"p": problem, "reqs": reqs, "error": error,
                                                      "may_answer": request.user.role in (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN)},
                  status=status)


@login_required
def inbox(request):
    qs = selectors.inbox_for(request.user).select_related("request")
    page, query = paginate(request, qs)
    unread = [n.pk for n in page.object_list if n.read_at is None]
    if unread:
        services.mark_read(request.user, unread)
    return render(request, "requests/inbox.html", {"page": page, "query": query, "unread": set(unread)})


# --------------------------------------------------------------------------------------------------
# Figures


def _figures_data(request):
    data = request.GET.copy()
    for name in ("q", "flag"):  # the figures count every request of the other filters
        data.pop(name, None)
    qs, f = apply(RequestFilter, request, selectors.requests_for(request.user), data=data)
    totals = selectors.figures(qs)
    groups = {by: selectors.grouped(qs, by) for by in selectors.GROUPS}
    for row in groups["channel"]:
        row["label"] = Channel(row["key"]).label if row["key"] in Channel.values else row["key"]
    references = {"category": selectors.categories(), "district": registry_selectors.districts(),
                  "agency": registry_selectors.agencies()}
    for by, rows in references.items():
        names = {r["code"]: localized(r) for r in rows.values("code", "name", "name_en")}
        for row in groups[by]:
            row["label"] = names.get(row["key"], row["label"])
    return f, totals, groups


GROUP_TITLES = {"channel": gettext_lazy("按渠道"), "category": gettext_lazy("按类别"), "district": gettext_lazy("按区"),
                "agency": gettext_lazy("按责任部门")}


@login_required
def figures(request):
    _require(request, "requests.figures")
    f, totals, groups = _figures_data(request)
    charts = {by: {"labels": [str(r["label"]) for r in rows], "unit": _("件"),
                   "series": [{"name": _("诉求"), "data": [str(r["requests"]) for r in rows]},
                              {"name": _("已办结"), "data": [str(r["closed"]) for r in rows]}]}
              for by, rows in groups.items()}
    tables = [(by, GROUP_TITLES[by], groups[by], charts[by]) for by in ("channel", "category", "district", "agency")]
    return render(request, "requests/figures.html", {
        "f": f, "t": totals, "tables": tables, "query": request.GET.urlencode(), **_context_lists()})


@login_required
def figures_export(request, fmt):
    _require(request, "requests.figures")
    if fmt not in ("xlsx", "csv"):
        raise Http404
    _f, totals, groups = _figures_data(request)
    header = [str(h) for h in (_("分组"), _("项目"), _("诉求件数"), _("办结件数"), _("企业数"), _("按时答复率（%）"),
                                _("平均满意度"))]
    rows = [["合计", "全部", totals["requests"], totals["closed"], totals["enterprises"],
             totals["answered_on_time_pct"], totals["rating"]]]
    for by in ("channel", "category", "district", "agency"):
        for r in groups[by]:
            rows.append([str(GROUP_TITLES[by]), str(r["label"]), r["requests"], r["closed"], r["enterprises"],
                         r["answered_on_time_pct"], r["rating"]])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return file_download(lambda path: write_rows(path, header, rows), f"requests-figures-{stamp}.{fmt}")
