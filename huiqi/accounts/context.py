"""The navigation each role sees, built from the permission rules (one list, for pages and tests)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, permission or None for any signed-in user)
NAVIGATION = [
    ("home", _("首页"), None),
    ("registry:enterprise_list", _("企业名录"), "registry.view"),
    ("registry:import", _("名录导入"), "registry.import"),
    ("lending:loan_list", _("贷款台账"), "lending.view"),
    ("lending:upload", _("银行数据报送"), "lending.upload"),
    ("subsidy:index", _("贷款贴息"), "subsidy.view"),
    ("requests:index", _("企业诉求"), "requests.view"),
    ("resumption:index", _("复工复产"), "resumption.view"),
    ("registry:bank_list", _("合作银行"), None),
    ("core:job_list", _("后台任务"), None),
    ("core:parameter_list", _("项目参数"), "core.view_parameters"),
    ("core:audit_list", _("审计日志"), "core.view_audit"),
    ("api-docs", _("接口文档"), None),
]


# Where a role sees the same page under its own name.
ROLE_LABELS = {
    ("enterprise", "registry:enterprise_list"): _("我的企业"),
    ("enterprise", "lending:loan_list"): _("我的贷款"),
    ("bank", "lending:loan_list"): _("本行贷款"),
    ("enterprise", "subsidy:index"): _("我的贴息"),
    ("bank", "subsidy:index"): _("本行贴息"),
    ("enterprise", "requests:index"): _("我的诉求"),
    ("enterprise", "resumption:index"): _("我的复工"),
}


def items_for(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        {"url": reverse(name), "name": name, "label": ROLE_LABELS.get((user.role, name), label)}
        for name, label, perm in NAVIGATION
        if perm is None or user.has_perm(perm)
    ]


def navigation(request):
    return {"nav_items": items_for(request.user)}
