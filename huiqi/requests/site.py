"""What enterprise requests (深i企) add to the site: pages, API and demo part."""

from django.utils.translation import gettext_lazy as _

from huiqi.core.declarations import DemoStep, Nav, Route

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
