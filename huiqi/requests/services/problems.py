"""Common problems (共性问题): requests of one category grouped, and answered at once."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huiqi.accounts.selectors import Role
from huiqi.core import audit, clock
from huiqi.core.errors import Conflict, PermissionDenied, ValidationFailed
from huiqi.core.i18n import stored

from .. import notifications, rules, selectors
from ..models import Category, CommonProblem, EnterpriseRequest, Status
from .common import is_admin, record_event, require_handler, signed_in
from .handling import accept, answer


@transaction.atomic
def create_common_problem(actor, title: str, category: Category, requests=()) -> CommonProblem:
    """Open a common problem (共性问题) and link requests of it."""
    signed_in(actor)
    if actor.role not in (Role.DEPARTMENT, Role.BUREAU, Role.ADMIN):
        raise PermissionDenied("requests.problem_forbidden", _("只有部门和局工作人员可以归并共性问题"))
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("request.title_empty", _("请填写共性问题标题"), field="title")
    problem = CommonProblem.objects.create(title=title[:200], category=category, created_by=actor,
                                           agency=actor.agency if actor.role == Role.DEPARTMENT else None)
    audit.record(actor, "create", problem)
    for req in requests:
        link_request(actor, problem, req)
    return problem


@transaction.atomic
def link_request(actor, problem: CommonProblem, req: EnterpriseRequest) -> EnterpriseRequest:
    require_handler(actor, req, bureau_too=True)
    if req.category_id != problem.category_id:
        raise ValidationFailed("request.problem_category", _("只能归并同一类别的诉求"), field="category")
    if req.status == Status.CLOSED:
        raise Conflict("requests.closed", _("已办结的诉求不能归并"))
    EnterpriseRequest.objects.filter(pk=req.pk).update(common_problem=problem)
    req.common_problem = problem
    record_event(req, actor, "link", req.status, req.status, note=stored(_("归并至共性问题“%(title)s”"), title=problem.title),
           data={"problem": problem.pk})
    audit.record(actor, "link", req, after={"common_problem": problem.pk})
    return req


@transaction.atomic
def answer_common_problem(actor, problem: CommonProblem, text: str, *, at=None) -> dict:
    """Answer every open request of the problem that the actor may handle at once (accepting those not yet
    accepted) and tell the enterprises of those requests. Requests the actor may not act on, or that wait
    for their enterprise, are left and counted; when none is left to answer, nothing is recorded or sent
    (a district officer, or a department none of whose requests is open, cannot "answer" a problem)."""
    signed_in(actor)
    if not (is_admin(actor) or actor.role in (Role.BUREAU, Role.DEPARTMENT)):
        raise PermissionDenied("requests.problem_answer_forbidden", _("只有办理部门或局工作人员可以统一答复"))
    text = rules.clean_text(text).strip()
    if not text:
        raise ValidationFailed("request.answer_empty", _("请填写统一答复"), field="note")
    if len(text) > selectors.current_params()["description_max_chars"] * 2:
        raise ValidationFailed("request.answer_long", _("答复内容过长"), field="note")
    at = at or clock.now()
    # One answer at a time: a second one submitted meanwhile waits here and finds the requests answered.
    CommonProblem.objects.select_for_update().filter(pk=problem.pk).first()
    answered, skipped, reached = 0, 0, set()
    for req in problem.requests.select_related("category", "agency").order_by("id"):
        if req.status in (Status.ANSWERED, Status.CLOSED):
            continue
        try:
            require_handler(actor, req, bureau_too=True)
        except PermissionDenied:
            skipped += 1
            continue
        if req.status == Status.SUBMITTED:
            accept(actor, req, at=at)
        if req.status == Status.WAITING:
            skipped += 1
            continue
        if req.status in (Status.ACCEPTED, Status.IN_PROGRESS):
            answer(actor, req, text, at=at, bureau_too=True)
            answered += 1
            reached.add(req.enterprise_id)
    if not answered:
        raise Conflict("requests.problem_nothing_to_answer",
                       _("共性问题“%(title)s”下没有您可以答复的未答复诉求（%(skipped)s 件由其他部门办理或正等待企业补充）"), title=problem.title,
                       skipped=skipped)
    before = audit.snapshot(problem)
    problem.answer, problem.answered_at = text, at
    problem.save(update_fields=["answer", "answered_at"])
    audit.record(actor, "answer", problem, before=before)
    users = [u for e in reached for u in selectors.enterprise_users(e)]
    notifications.notify(users, stored(_("共性问题已统一答复：%(title)s"), title=problem.title), text[:1000],
                         dedupe=f"problem-{problem.pk}-{at.timestamp()}")
    return {"answered": answered, "skipped": skipped, "enterprises": len(reached)}
