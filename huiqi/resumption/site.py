"""What return to work adds to the site: pages, API (the daily checks' route first: the morning's
busiest) and demo part."""

from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import DemoStep, Nav, Route

NAVIGATION = [
    Nav("resumption:index", _("复工复产"), "resumption.view", order=50, role_labels={"enterprise": _("我的复工")}),
]

API_ROUTES = [
    Route("daily-checks", "huiqi.resumption.api.DailyCheckViewSet", "resumption-daily-check", first=True),
    Route("return-to-work-filings", "huiqi.resumption.api.FilingViewSet", "resumption-filing"),
]


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


DEMO = [DemoStep(20, _demo)]


PARAMETERS = {
    "resumption.filing_required": params.scalar(params.boolean(label=_("复工须先报备"))),
    "resumption.attachment_max_bytes": params.scalar(params.integer(1, 100 * 1024 * 1024, unit=_("字节"),
                                                                    label=_("附件大小上限"))),
    # The fields the bureau changed; the defaults fill the others.
    "resumption.daily_check": params.fields({
        "deadline": params.time_of_day(label=_("每日排查截止时间")),
        "lock_days_after": params.integer(0, 7, unit=_("天"), label=_("锁定于排查日后第几天")),
        "lock_time": params.time_of_day(label=_("锁定时刻")),
    }, partial=True),
}

PARAMETER_LABELS = {
    "resumption.filing_required": _("复工须先报备"),
    "resumption.attachment_max_bytes": _("复工报备附件大小上限"),
    "resumption.daily_check": _("每日排查的截止与锁定"),
}

# The names of this program's audit actions (``core.audit``).
AUDIT_ACTIONS = {
    "filing.submit": _("提交复工报备"), "filing.declare": _("申报已复工"), "filing.assign": _("指派核查员"),
    "filing.record_check": _("记录现场核查"), "filing.approve": _("同意复工"), "filing.return": _("退回报备"),
    "filing.resubmit": _("重新提交报备"), "filing.attachment": _("上传报备附件"),
    "daily_check.submit": _("填报每日排查"), "daily_check.correct": _("更正每日排查"),
    "difficulty.follow_up": _("记录困难跟进"), "rollup.rebuild": _("重建排查汇总"), "demo.resumption": _("生成演示复工数据"),
}
