"""What core adds to the site: the shared pages (jobs, parameters, audit) and their API."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import AuditLink, Nav, Route, Todo

# Roles whose work is in the programs' pages: their jobs (an upload's, an export's) are reached from the page
# that started them and from the account page, not from the main menu.
_MENU_JOBS = frozenset({"department", "bureau", "institution", "auditor", "admin"})

NAVIGATION = [
    Nav("core:job_list", _("后台任务"), order=900, roles=_MENU_JOBS),
    Nav("core:parameter_list", _("项目参数"), "core.view_parameters", order=910),
    Nav("core:audit_list", _("审计日志"), "core.view_audit", order=920),
]

API_ROUTES = [
    Route("jobs", "huiqi.core.api_views.JobViewSet", "job"),
    Route("audit", "huiqi.core.api_views.AuditEventViewSet", "audit"),
    Route("parameters", "huiqi.core.api_views.ParameterViewSet", "parameter"),
]


# A failed job is news for a week (then it is history on the jobs page); jobs keep the real time.
FAILED_JOB_DAYS = 7


def _failed_query(user) -> dict:
    since = timezone.localdate() - dt.timedelta(days=FAILED_JOB_DAYS - 1)
    return {"status": "failed", "from": since.isoformat()}


def _failed_jobs(user) -> int:
    from . import selectors
    from .filters import JobFilter

    return JobFilter(_failed_query(user), queryset=selectors.jobs_for(user)).qs.count()


def _proposals(user) -> int:
    from . import selectors

    return selectors.proposals_to_decide(user).count()


def _proposal_link(user, count):
    """The parameter's page when every waiting change is of one parameter (the list otherwise)."""
    from django.urls import reverse

    from . import selectors

    keys = set(selectors.proposals_to_decide(user).values_list("key", flat=True))
    return reverse("core:parameter_detail", args=[keys.pop()]) if len(keys) == 1 else None


TODOS = [
    Todo("core.jobs_failed", _("近 7 天失败的后台任务"), _failed_jobs, "core:job_list", query=_failed_query, order=95),
    Todo("core.parameter_proposals", _("待审批的参数修改"), _proposals, "core:parameter_list",
         permission="core.edit_parameters", order=90, link=_proposal_link),
]


# The office that issues the platform's documents (a report's PDF carries it in its head: ``core.letterhead``).
PARAMETERS = {
    "core.issuing_office": params.fields({
        "name": params.text(100, label=_("发文机关名称（中文）")),
        "name_en": params.text(200, label=_("发文机关名称（英文）")),
    }),
}
PARAMETER_LABELS = {"core.issuing_office": _("发文机关")}


def _parameter_page(row) -> str:
    from django.urls import reverse

    return reverse("core:parameter_detail", args=[row.key])


# Where the audit pages link a parameter's value and a proposed change of it: the parameter's page.
AUDIT_LINKS = {
    "core.Parameter": AuditLink("core.view_parameters", _parameter_page),
    "core.ParameterProposal": AuditLink("core.view_parameters", _parameter_page),
}
