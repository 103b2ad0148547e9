"""What enterprise requests (深i企) add to the site: pages, API and demo part."""

from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import DemoStep, Nav, Route

from .rules import SIGNATURES

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


PARAMETERS = {
    # Stored as the fields the bureau changed; the program's defaults fill the others.
    "requests.params": params.fields({
        "auto_close_days": params.integer(1, 60, unit=_("个工作日"), label=_("答复后自动办结的期限")),
        "near_days": params.integer(0, 30, unit=_("个工作日"), label=_("临期提醒提前天数")),
        "bureau_after_days": params.integer(0, 60, unit=_("个工作日"), label=_("超期后提交局里督办的天数")),
        "title_max_chars": params.integer(10, 1000, label=_("标题字数上限")),
        "description_max_chars": params.integer(100, 100_000, label=_("诉求内容字数上限")),
        "attachment_max_bytes": params.integer(1, 100 * 1024 * 1024, unit=_("字节"), label=_("附件大小上限")),
        "attachment_max_files": params.integer(0, 50, label=_("附件个数上限")),
        "attachment_types": params.choices_list(set(SIGNATURES), label=_("允许的附件类型")),
        "extension_max_days": params.integer(1, 60, unit=_("个工作日"), label=_("延期天数上限")),
        "similarity_threshold": params.decimal(0, 1, label=_("共性问题相似度阈值")),
    }, partial=True),
}

PARAMETER_LABELS = {"requests.params": _("企业诉求办理参数")}

# The names of this program's audit actions (``core.audit``).
AUDIT_ACTIONS = {
    "accept": _("签收诉求"), "start": _("开始办理"), "ask_enterprise": _("请企业补充材料"), "reply": _("企业补充材料"),
    "answer": _("答复诉求"), "close": _("办结诉求"), "reopen": _("重新办理"), "transfer": _("转办诉求"),
    "send_back": _("退回诉求"), "recategorise": _("调整诉求类别"), "supervise": _("督办诉求"), "note": _("备注"),
    "link": _("归并至共性问题"), "extend": _("延长期限"), "decide": _("审批延期申请"), "sweep": _("超期升级与自动办结"),
}
