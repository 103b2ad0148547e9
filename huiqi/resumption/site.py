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
