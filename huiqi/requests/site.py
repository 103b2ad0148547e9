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
        "auto_close_days": params.integer(1, 60, " 个工作日"),
        "near_days": params.integer(0, 30, " 个工作日"),
        "bureau_after_days": params.integer(0, 60, " 个工作日"),
        "title_max_chars": params.integer(10, 1000),
        "description_max_chars": params.integer(100, 100_000),
        "attachment_max_bytes": params.integer(1, 100 * 1024 * 1024),
        "attachment_max_files": params.integer(0, 50),
        "attachment_types": params.choices_list(set(SIGNATURES)),
        "extension_max_days": params.integer(1, 60, " 个工作日"),
        "similarity_threshold": params.decimal(0, 1),
    }, partial=True),
}
