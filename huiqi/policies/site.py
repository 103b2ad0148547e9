"""What the policy hub adds to the platform (``docs/layout.md``)."""

from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import AuditLink, DemoStep, EnterpriseProgram, Nav, Route, Todo
from huiqi.core.formpages import Guide

from .parameters import COLUMNS, LABELS

def _columns_check():
    """The columns of a public list, chosen by name on the parameters page (never shown as codes)."""
    import dataclasses

    check = params.choices_list(set(COLUMNS), label=LABELS["published_columns"])
    return dataclasses.replace(check, choices=tuple(COLUMNS.items()))


def _describe(value):
    from huiqi.core.i18n import Joined

    return [(LABELS[name], Joined((COLUMNS.get(c, c) for c in v), "、", ", ") if name == "published_columns"
             else params.shown_value(v)) for name, v in value.items()]


PARAMETERS = {"policies.params": params.fields({
    "objection_days": params.integer(1, 60, _("个工作日"), label=LABELS["objection_days"]),
    "reminder_days": params.integer(0, 90, _("天"), label=LABELS["reminder_days"]),
    "digest_time": params.time_of_day(label=LABELS["digest_time"]),
    "external_cap": params.integer(0, 100, _("条"), label=LABELS["external_cap"]),
    "campaign_start": params.date(label=LABELS["campaign_start"]),
    "published_columns": _columns_check(),
    "application_sla_days": params.integer(1, 120, _("个工作日"), label=LABELS["application_sla_days"]),
}, optional=("application_sla_days",))}
PARAMETERS["policies.params"].describe = _describe
PARAMETER_LABELS = {"policies.params": _("惠企政策参数")}

AUDIT_ACTIONS = {
    "policies.load": _("导入政策事项"),
    "policies.draft": _("起草政策事项版本"),
    "policies.submit": _("提交审核"),
    "policies.publish": _("审核发布"),
    "policies.return": _("退回修改"),
    "policies.withdraw": _("撤回政策事项"),
    "policies.supersede": _("新版本替代旧版本"),
    "policies.expire": _("政策事项到期失效"),
    "policies.document": _("登记政策文件"),
    "policies.document_status": _("政策文件状态变更"),
    "policies.test_cases": _("更新条件测试用例"),
    "policies.apply": _("提交政策申报"),
    "policies.attachment": _("上传申报附件"),
    "policies.application_accept": _("受理政策申报"),
    "policies.application_approve": _("批准政策申报"),
    "policies.application_reject": _("不予批准政策申报"),
    "policies.application_pay": _("登记政策申报兑付"),
    "policies.list_compile": _("生成免申即享名单"),
    "policies.list_review": _("复核免申即享名单"),
    "policies.list_remove_entry": _("移出名单条目"),
    "policies.list_publish": _("公示免申即享名单"),
    "policies.objection": _("提出公示异议"),
    "policies.objection_decide": _("处理公示异议"),
    "policies.list_decline": _("企业放弃名单条目"),
    "policies.list_close": _("结束异议期"),
    "policies.list_confirm": _("确认免申即享名单"),
    "policies.list_supplement": _("生成补充公示名单"),
    "policies.list_prepare_payment": _("编制支付清单"),
    "policies.list_approve_payment": _("审批支付清单"),
    "policies.list_payment_result": _("登记支付结果"),
    "policies.list_reconcile": _("支付结果对账"),
    "policies.list_retry": _("生成重新支付名单"),
    "policies.consent": _("同意短信或邮件推送"),
    "policies.consent_withdraw": _("撤回短信或邮件推送同意"),
    "policies.filter": _("保存推送筛选"),
    "policies.filter_push": _("开启或退订筛选推送"),
    "policies.filter_delete": _("删除推送筛选"),
    "policies.unsubscribe": _("退订政策推送"),
    "policies.resubscribe": _("恢复政策推送订阅"),
}

NAVIGATION = [
    Nav("policies:mine", _("政策找我"), "policies.match_own", order=55),
    Nav("policies:index", _("惠企政策"), "policies.view", order=60, roles=frozenset(
        {"bureau", "department", "district", "auditor", "admin", "bank", "institution"})),
    Nav("policies:publicity", _("政策宣传"), "policies.view_publicity", order=61),
    Nav("policies:applications", _("政策申报"), "policies.view_applications", order=56,
        role_labels={"enterprise": _("我的政策申报"), "department": _("政策申报办理")}),
    Nav("policies:lists", _("免申即享名单"), "policies.view_lists", order=62),
    Nav("policies:own_lists", _("免申即享"), "policies.own_entries", order=56),
    Nav("policies:inbox", _("政策推送"), "policies.push_own", order=57),
    Nav("policies:push_log", _("推送记录"), "policies.view_push_log", order=63),
]


def _home_inbox(user):
    """An enterprise's unread policy pushes on its home page."""
    if not user.has_perm("policies.push_own"):
        return None
    from . import selectors

    return {"template": "policies/_home_inbox.html", "unread": selectors.unread_count(user)}


HOME = [_home_inbox]


def _version_url(version):
    from django.urls import reverse

    return reverse("policies:versions", args=[version.item.code])


def _application_url(application):
    from django.urls import reverse

    return reverse("policies:application", args=[application.number])


def _list_url(auto_list):
    from django.urls import reverse

    return reverse("policies:list", args=[auto_list.pk])


def _via_list(obj):
    from django.urls import reverse

    return reverse("policies:list", args=[obj.auto_list_id])


AUDIT_LINKS = {"policies.ItemVersion": AuditLink("policies.view_drafts", _version_url),
               "policies.Application": AuditLink("policies.view_applications", _application_url),
               "policies.AutoList": AuditLink("policies.view_lists", _list_url),
               "policies.AutoEntry": AuditLink("policies.view_lists", _via_list),
               "policies.Objection": AuditLink("policies.view_lists", _via_list)}


def _lists_waiting(status: str, others_only: bool = False):
    def count(user) -> int:
        from . import selectors_auto

        qs = selectors_auto.lists_for(user).filter(status=status)
        return (qs.exclude(compiled_by=user) if others_only else qs).count()

    return count


def _objections_waiting(user) -> int:
    from .models import Objection
    from . import selectors_auto

    return Objection.objects.filter(auto_list__in=selectors_auto.lists_for(user).values("pk"),
                                    auto_list__status="publicised", decision=Objection.Decision.PENDING).count()


_BUREAU = frozenset({"bureau", "admin"})
TODOS = [
    Todo("policies.lists_to_review", _("待复核的免申即享名单"), _lists_waiting("compiled", others_only=True),
         "policies:lists", query={"status": "compiled"}, permission="policies.manage_lists", roles=_BUREAU, order=60),
    Todo("policies.objections_to_decide", _("待处理的公示异议"), _objections_waiting, "policies:lists",
         query={"status": "publicised"}, permission="policies.manage_lists", roles=_BUREAU, order=61),
]


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


def _demo_lists(scale, seed, progress) -> str:
    from . import demo_auto

    return demo_auto.build_and_describe(scale, seed, progress)


def _demo_activity(scale, seed, progress) -> str:
    from . import demo_activity

    return demo_activity.build_and_describe(scale, seed, progress)


# After the programs whose data the criteria read (registry 0, ledger 10, subsidy 40, pool 45); the first
# 免申即享 list after the catalogue (its item) and the subsidy's released batch (its entries); then March's
# views, pushes and online applications.
DEMO = [DemoStep(60, _demo), DemoStep(61, _demo_lists), DemoStep(62, _demo_activity)]

API_ROUTES = [Route("policy-items", "huiqi.policies.api.ItemViewSet", "policy-item"),
              Route("policy-matches", "huiqi.policies.api.MatchViewSet", "policy-match"),
              Route("policy-applications", "huiqi.policies.api.ApplicationViewSet", "policy-application"),
              Route("policy-lists", "huiqi.policies.api_auto.ListViewSet", "policy-list"),
              Route("policy-list-entries", "huiqi.policies.api_auto.OwnEntryViewSet", "policy-list-entry")]


# --- online applications: the form's guide, the departments' to-dos, the enterprise's page ------------------

def _guide_values(today):
    from . import selectors

    return {"days": selectors.params_on(today).application_sla_days}


GUIDES = {"policies.apply": Guide(
    title=_("政策事项在线申报"),
    who=_("符合本事项申报条件的企业和个体工商户（同一事项同一申报期内只能享受一次，同一不得重复享受组的事项同一时间只能享受其一）"),
    needs=(_("登记库缺少的、申报条件需要的信息（如实申报，不会改动登记库）"), _("申报说明和联系人"),
           _("证明材料（PDF、图片、Word 或 Excel 文件）")),
    time=_("主管部门自提交之日起 %(days)s 个工作日内办结"),
    next=(_("提交时按申报条件即时判断，不符合或信息不全的不能提交，并说明原因。"),
          _("主管部门受理、审核，批准后兑付；每一步都在申报页面和深i企中显示。")),
    values=_guide_values)}


def _waiting(state):
    def count(user):
        from . import selectors

        return selectors.waiting_count(user, state)
    return count


def _overdue(user):
    from . import selectors

    return selectors.overdue_count(user)


def _open(user):
    from . import selectors

    return selectors.open_count(user)


_HANDLERS = frozenset({"department", "admin"})
TODOS += [
    Todo("policies.applications_to_accept", _("待受理的政策申报"), _waiting("submitted"), "policies:applications",
         query={"state": "submitted"}, permission="policies.handle_application", roles=_HANDLERS, order=45),
    Todo("policies.applications_to_decide", _("待审批的政策申报"), _waiting("accepted"), "policies:applications",
         query={"state": "accepted"}, permission="policies.handle_application", roles=_HANDLERS, order=46),
    Todo("policies.applications_to_pay", _("已批准待兑付的政策申报"), _waiting("approved"), "policies:applications",
         query={"state": "approved"}, permission="policies.handle_application", roles=_HANDLERS, order=47),
    Todo("policies.applications_overdue", _("已超期的政策申报"), _overdue, "policies:applications",
         query={"overdue": "true"}, permission="policies.view_applications",
         roles=frozenset({"department", "bureau", "admin"}), order=48),
    Todo("policies.my_open_applications", _("办理中的政策申报"), _open, "policies:applications",
         query={"open": "true"}, permission="policies.view_applications", roles=frozenset({"enterprise"}), order=45),
]


def _programme(user, enterprise):
    """The enterprise's online applications the user may read: how many, how many with the department, how
    many approved or paid and Σ paid; the list of them."""
    from django.db.models import Sum
    from django.urls import reverse
    from django.utils.http import urlencode

    from huiqi.core import formats

    from . import selectors
    from .models import HOLDING_STATES, OPEN_STATES

    mine = selectors.applications_for(user).filter(enterprise=enterprise)
    total = mine.count()
    if not total:
        return None
    paid = mine.aggregate(s=Sum("paid_fen"))["s"] or 0
    return {"facts": [(_("政策申报件数"), formats.count(total)),
                      (_("办理中"), formats.count(mine.filter(state__in=OPEN_STATES).count())),
                      (_("已批准"), formats.count(mine.filter(state__in=HOLDING_STATES).count())),
                      (_("已兑付（万元）"), formats.wan(paid))],
            "url": f"{reverse('policies:applications')}?{urlencode({'q': enterprise.uscc})}"}


ENTERPRISE_PROGRAMS = [EnterpriseProgram("policies", _("惠企政策申报"), _programme, order=45)]
