"""What the policy hub adds to the platform (``docs/layout.md``)."""

from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import AuditLink, DemoStep, Nav, Route

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
})}
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
    Nav("policies:inbox", _("政策推送"), "policies.push_own", order=56),
    Nav("policies:push_log", _("推送记录"), "policies.view_push_log", order=62),
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


AUDIT_LINKS = {"policies.ItemVersion": AuditLink("policies.view_drafts", _version_url)}


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


# After the programs whose data the criteria read (registry 0, ledger 10, subsidy 40, pool 45).
DEMO = [DemoStep(60, _demo)]

API_ROUTES = [Route("policy-items", "huiqi.policies.api.ItemViewSet", "policy-item"),
              Route("policy-matches", "huiqi.policies.api.MatchViewSet", "policy-match")]
