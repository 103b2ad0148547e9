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
    "resumption.filing_required": params.scalar(params.boolean()),
    "resumption.attachment_max_bytes": params.scalar(params.integer(1, 100 * 1024 * 1024)),
    # The fields the bureau changed; the defaults fill the others.
    "resumption.daily_check": params.fields({
        "deadline": params.time_of_day(),
        "lock_days_after": params.integer(0, 7, " 天"),
        "lock_time": params.time_of_day(),
    }, partial=True),
}
