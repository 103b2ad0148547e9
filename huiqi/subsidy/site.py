"""What the interest subsidy adds to the site: its pages and its API."""

from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import Nav, Route
from huiqi.core.errors import ValidationFailed

from . import rules

NAVIGATION = [
    Nav("subsidy:index", _("贷款贴息"), "subsidy.view", order=30,
        role_labels={"enterprise": _("我的贴息"), "bank": _("本行贴息")}),
]

API_ROUTES = [
    Route("subsidy-batches", "huiqi.subsidy.api.SubsidyBatchViewSet", "subsidy-batch"),
    Route("subsidy-loan-lines", "huiqi.subsidy.api.SubsidyLoanLineViewSet", "subsidy-loan-line"),
    Route("subsidy-payments", "huiqi.subsidy.api.SubsidyPaymentViewSet", "subsidy-payment"),
    Route("subsidy-reconciliations", "huiqi.subsidy.api.SubsidyReconciliationViewSet",
          "subsidy-reconciliation"),
]


def _subsidy_params(value):
    """The spec's parameters (window, rate, months, cap, budget, rationing), read as the program reads them."""
    from .services import check_stored_params

    try:
        check_stored_params(params.require_fields(value))
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationFailed("parameter.value", _("贴息参数的格式有误（%(exc)s）"), field="value", exc=exc) from None
    return value


_subsidy_params.labels = rules.PARAMETER_LABELS

_subsidy_params.describe = rules.describe_params

PARAMETERS = {"subsidy.params": _subsidy_params}
PARAMETER_LABELS = {"subsidy.params": _("贷款贴息参数")}

# The names of this program's audit actions (``core.audit``).
AUDIT_ACTIONS = {
    "subsidy.run": _("计算贴息批次"), "subsidy.review": _("复核贴息批次"), "subsidy.approve": _("审批贴息批次"),
    "subsidy.release": _("拨付贴息批次"), "subsidy.cancel": _("作废贴息批次"),
    "subsidy.reconciliation_prepared": _("上传银行对账文件"), "subsidy.reconciliation_rejected": _("退回银行对账文件"),
    "subsidy.reconcile": _("确认银行对账"), "subsidy.payment_reconciled": _("支付已对账"),
}
