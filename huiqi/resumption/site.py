"""What return to work adds to the site: pages, API (the daily checks' route first: the morning's
busiest) and demo part."""

from django.utils.translation import gettext_lazy as _

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
