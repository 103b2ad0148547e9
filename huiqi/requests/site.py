"""What enterprise requests (深i企) add to the site: pages, API and demo part."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core import formats, params
from huiqi.core.declarations import AuditLink, DemoStep, EnterpriseProgram, Nav, Route, Todo
from huiqi.core.formpages import Guide

from .rules import DEFAULTS, SIGNATURES

NAVIGATION = [
    Nav("requests:index", _("企业诉求"), "requests.view", order=40, role_labels={"enterprise": _("我的诉求")}),
]

API_ROUTES = [
    Route("requests", "huiqi.requests.api.RequestViewSet", "enterprise-request"),
    Route("request-categories", "huiqi.requests.api.CategoryViewSet", "request-category"),
]


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


DEMO = [DemoStep(30, _demo)]


def _guide_values(today) -> dict:
    """The limits and deadlines in force: the parameters, and the active categories' longest times."""
    from django.db.models import Max

    from . import selectors

    p = selectors.current_params(today)
    days = selectors.categories(active=True).aggregate(accept=Max("accept_days"), answer=Max("answer_days"))
    return {"title_max": p["title_max_chars"], "description_max": format(p["description_max_chars"], ","),
            "files": p["attachment_max_files"],
            "mb": format(p["attachment_max_bytes"] / 1024 / 1024, "g"),
            "accept_days": days["accept"] or 0, "answer_days": days["answer"] or 0}


# 办事指南 of filing a request (``core.formpages``).
GUIDES = {
    "requests.new": Guide(
        title=_("提出诉求"),
        who=_("在本市登记的企业，由企业账号提出；企业也可拨打 12345 热线，由坐席代为登记。"),
        needs=(_("诉求类别、标题（不超过 %(title_max)s 个字）和诉求内容（不超过 %(description_max)s 个字）"),
               _("联系人和联系电话，以便责任部门联系"),
               _("相关材料作为附件（可选）：最多 %(files)s 个，每个不超过 %(mb)s MB")),
        time=_("责任部门在 %(accept_days)s 个工作日内签收，签收后 %(answer_days)s 个工作日内答复；各类别的时限见页面下方。"),
        next=(_("提交后即分派到该类别的责任部门，并给出诉求编号。"),
              _("责任部门签收、办理并答复；需要补充材料时会通知您，补充期间暂停计时。"),
              _("收到答复后，您可以评价并办结，或申请重办。")),
        values=_guide_values),
}


PARAMETERS = {
    # Stored as the fields the bureau changed; the program's defaults fill the others.
    "requests.params": params.fields({
        "auto_close_days": params.integer(1, 60, _("个工作日"), label=_("答复后自动办结")),
        "near_days": params.integer(0, 30, _("个工作日"), label=_("临近期限提醒")),
        "bureau_after_days": params.integer(0, 60, _("个工作日"), label=_("逾期多久升级到中小企业服务局")),
        "title_max_chars": params.integer(10, 1000, _("字"), label=_("标题最多字数")),
        "description_max_chars": params.integer(100, 100_000, _("字"), label=_("描述最多字数")),
        "attachment_max_bytes": params.integer(1, 100 * 1024 * 1024, _("字节"), label=_("每个附件大小上限")),
        "attachment_max_files": params.integer(0, 50, _("个"), label=_("附件个数上限")),
        "attachment_types": params.choices_list(set(SIGNATURES), label=_("允许的附件类型")),
        "extension_max_days": params.integer(1, 60, _("个工作日"), label=_("单次延期最多")),
        "similarity_threshold": params.decimal(0, 1, label=_("相似诉求提示阈值")),
    }, partial=True, defaults=DEFAULTS),
}

PARAMETER_LABELS = {"requests.params": _("企业诉求办理参数")}

# The names of this program's audit actions (``core.audit``).
AUDIT_ACTIONS = {
    "accept": _("签收诉求"), "start": _("开始办理"), "ask_enterprise": _("请企业补充材料"), "reply": _("企业补充材料"),
    "answer": _("答复诉求"), "close": _("办结诉求"), "reopen": _("重新办理"), "transfer": _("转办诉求"),
    "send_back": _("退回诉求"), "recategorise": _("调整诉求类别"), "supervise": _("督办诉求"), "note": _("备注"),
    "link": _("归并至共性问题"), "extend": _("延长期限"), "decide": _("审批延期申请"), "sweep": _("超期升级与自动办结"),
}


# --- 我的待办 and an enterprise's page ------------------------------------------------------------------

class _Asker:
    """What the list's filters read of the request: who asks."""

    def __init__(self, user):
        self.user = user


def _listed(query: dict, *, hotline: bool = True):
    """How many requests the list at ``?query`` shows the user: the same filters, so the count is the list's.
    ``hotline=False``: none for a 12345 operator, who files calls and does not handle them."""
    def count(user):
        from . import selectors
        from .filters import RequestFilter

        if not hotline and user.has_perm("requests.file_for_enterprise"):
            return 0
        return RequestFilter(query, queryset=selectors.requests_for(user), request=_Asker(user)).qs.count()

    return count


def _unread(user) -> int:
    from . import selectors

    return selectors.unread_for(user).count()


_HANDLER = frozenset({"department"})
_ENTERPRISE = frozenset({"enterprise"})

TODOS = [
    Todo("requests.to_accept", _("待签收的诉求"), _listed({"status": "submitted"}, hotline=False), "requests:index",
         query={"status": "submitted"}, roles=_HANDLER, order=40),
    Todo("requests.overdue", _("已超期未办结的诉求"), _listed({"flag": "overdue"}, hotline=False), "requests:index",
         query={"flag": "overdue"}, roles=frozenset({"department", "bureau"}), order=41),
    Todo("requests.extensions", _("待我审批的延期申请"), _listed({"flag": "extension"}), "requests:index",
         query={"flag": "extension"}, roles=frozenset({"department", "bureau", "admin"}), order=42),
    Todo("requests.waiting_for_me", _("待我补充材料的诉求"), _listed({"status": "waiting"}), "requests:index",
         query={"status": "waiting"}, roles=_ENTERPRISE, order=40),
    Todo("requests.to_rate", _("已答复待评价的诉求"), _listed({"status": "answered"}), "requests:index",
         query={"status": "answered"}, roles=_ENTERPRISE, order=41),
    Todo("requests.unread", _("未读消息"), _unread, "requests:inbox", order=90),
]


def _programme(user, enterprise):
    """The enterprise's requests the user may read: how many, how many still open, the latest one's day."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from . import selectors
    from .models import Status

    mine = selectors.requests_for(user).filter(enterprise=enterprise)
    total = mine.count()
    if not total:
        return None
    still_open = mine.exclude(status=Status.CLOSED).count()
    latest = mine.order_by("-submitted_at").values_list("submitted_at", flat=True).first()
    return {"facts": [(_("诉求件数"), formats.count(total)), (_("未办结"), formats.count(still_open)),
                      (_("最近提出"), formats.day(latest))],
            "url": f"{reverse('requests:index')}?{urlencode({'q': enterprise.name})}"}


ENTERPRISE_PROGRAMS = [EnterpriseProgram("requests", _("企业诉求（深i企）"), _programme, order=40)]

# Where the audit pages link the channel's records.
AUDIT_LINKS = {
    "requests.EnterpriseRequest": AuditLink("requests.view", lambda r: reverse("requests:detail", args=[r.number])),
    "requests.CommonProblem": AuditLink("requests.figures", lambda p: reverse("requests:problem", args=[p.pk])),
}
