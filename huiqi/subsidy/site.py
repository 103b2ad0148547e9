"""What the interest subsidy adds to the site: its pages and its API."""

from django.utils.translation import gettext_lazy as _

from huiqi.core.declarations import Nav, Route

NAVIGATION = [
    Nav("subsidy:index", _("贷款贴息"), "subsidy.view", order=30,
        role_labels={"enterprise": _("我的贴息"), "bank": _("本行贴息")}),
]

API_ROUTES = [
    Route("subsidy-batches", "huiqi.subsidy.api.SubsidyBatchViewSet", "subsidy-batch"),
    Route("subsidy-loan-lines", "huiqi.subsidy.api.SubsidyLoanLineViewSet", "subsidy-loan-line"),
    Route("subsidy-payments", "huiqi.subsidy.api.SubsidyPaymentViewSet", "subsidy-payment"),
]
