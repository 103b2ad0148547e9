"""What the interest subsidy adds to the site: its pages and its API."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core import formats, params
from huiqi.core.declarations import AuditLink, DemoStep, EnterpriseProgram, Nav, Route, Todo
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


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


# After the ledger (10): the batches read it.
DEMO = [DemoStep(40, _demo)]


def _subsidy_params(value):
    """The spec's parameters (window, rate, months, cap, budget, rationing), read as the program reads them."""
    from .services import check_stored_params

    try:
        check_stored_params(params.require_fields(value))
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationFailed("parameter.value", _("贴息参数的格式有误（%(exc)s）"), field="value", exc=exc) from None
    return value


# Each field as the page shows it; the rules across fields (the window's order, program_end) are the
# program's own (``_subsidy_params``). Cap and budget are money: a change needs a second person.
PARAMETERS = {"subsidy.params": params.fields({
    "window_start": params.date(label=_("新增贷款窗口起")),
    "window_end": params.date(label=_("新增贷款窗口止")),
    "rate": params.decimal(0, 1, label=_("贴息比例"), text=True),
    "months": params.integer(1, 120, _("个月"), label=_("贴息月数")),
    "cap": params.money(0, "100000000000.00", _("元"), label=_("每户上限")),
    "budget": params.money(0, "1000000000000.00", _("元"), label=_("总预算")),
    "rationing": params.choice([("pro_rata", _("按比例分配")), ("none", _("全额支付"))], label=_("超预算处理")),
    "program_end": params.date(label=_("项目结束日")),
}, optional={"program_end"}, then=_subsidy_params)}
# Stored values a page or the audit log shows also name the amounts in fen (a batch's parameters); the
# rationing is shown by its name.
PARAMETERS["subsidy.params"].labels = {**rules.PARAMETER_LABELS, **PARAMETERS["subsidy.params"].labels}
PARAMETERS["subsidy.params"].describe = rules.describe_params
PARAMETER_LABELS = {"subsidy.params": _("贷款贴息参数")}

# The names of this program's audit actions (``core.audit``).
AUDIT_ACTIONS = {
    "subsidy.run": _("计算贴息批次"), "subsidy.review": _("复核贴息批次"), "subsidy.approve": _("审批贴息批次"),
    "subsidy.release": _("拨付贴息批次"), "subsidy.cancel": _("作废贴息批次"),
    "subsidy.reconciliation_prepared": _("上传银行对账文件"), "subsidy.reconciliation_rejected": _("退回银行对账文件"),
    "subsidy.reconcile": _("确认银行对账"), "subsidy.payment_reconciled": _("支付已对账"),
}


# --- 我的待办 and an enterprise's page ------------------------------------------------------------------

def _count(name):
    def count(user):
        from . import selectors

        return getattr(selectors, name)(user).count()

    return count


def _only(name, url_name):
    """The page of the one batch that waits (a list when several do)."""
    def link(user, count):
        from django.urls import reverse

        from . import selectors

        if count != 1:
            return None
        found = getattr(selectors, name)(user).first()
        return reverse(url_name, args=[found.batch_id if hasattr(found, "batch_id") else found.pk])

    return link


_BUREAU = frozenset({"bureau"})
# An auditor spot-checks what was paid out lately.
AUDIT_DAYS = 30


def _released_lately(user):
    import datetime as dt

    from huiqi.core import clock

    from . import selectors

    return selectors.batches_released_since(user, clock.now() - dt.timedelta(days=AUDIT_DAYS))


def _released_link(user, count):
    from django.urls import reverse

    return reverse("subsidy:batch_detail", args=[_released_lately(user).first().pk]) if count == 1 else None


TODOS = [
    Todo("subsidy.to_review", _("待复核的贴息批次"), _count("batches_to_review"), "subsidy:index",
         query={"status": "run"}, permission="subsidy.review", roles=_BUREAU, order=50,
         link=_only("batches_to_review", "subsidy:batch_detail")),
    Todo("subsidy.to_approve", _("待审批的贴息批次"), _count("batches_to_approve"), "subsidy:index",
         query={"status": "reviewed"}, permission="subsidy.approve", roles=_BUREAU, order=51,
         link=_only("batches_to_approve", "subsidy:batch_detail")),
    Todo("subsidy.to_release", _("待拨付的贴息批次"), _count("batches_to_release"), "subsidy:index",
         query={"status": "approved"}, permission="subsidy.release", roles=_BUREAU, order=52,
         link=_only("batches_to_release", "subsidy:batch_detail")),
    Todo("subsidy.reconciliations", _("待确认的银行回盘文件"), _count("reconciliations_to_confirm"), "subsidy:index",
         query={"status": "released"}, permission="subsidy.reconcile", roles=_BUREAU, order=53,
         link=_only("reconciliations_to_confirm", "subsidy:reconcile")),
    Todo("subsidy.released_lately", _("近 30 天拨付的贴息批次（待审计抽查）"), lambda user: _released_lately(user).count(),
         "subsidy:index", query={"status": "released"}, permission="subsidy.view_batches",
         roles=frozenset({"auditor"}), order=54, link=_released_link),
]


def _programme(user, enterprise):
    """Of the released batches (city-wide readers: every batch) the enterprise's lines: how many batches paid
    it, and the total paid; a link to its own page, or to its line in the latest batch."""
    from django.db.models import Count, Sum
    from django.urls import reverse
    from django.utils.http import urlencode


    from . import selectors
    from .models import BatchStatus

    lines = selectors.enterprise_payments(user, enterprise.uscc).filter(batch__status=BatchStatus.RELEASED)
    found = lines.aggregate(paid=Sum("payable_fen"), batches=Count("batch_id", distinct=True))
    if not found["batches"]:
        return None
    if user.has_perm("subsidy.view_own"):
        url = reverse("subsidy:index")
    else:
        latest = lines.order_by("-batch__cutoff", "-batch_id").values_list("batch_id", flat=True).first()
        url = f"{reverse('subsidy:beneficiaries', args=[latest])}?{urlencode({'q': enterprise.uscc})}"
    return {"facts": [(_("已拨付的贴息批次"), formats.count(found["batches"])),
                      (_("已拨付贴息合计（元）"), formats.yuan(found["paid"] or 0))],
            "url": url}


ENTERPRISE_PROGRAMS = [EnterpriseProgram("subsidy", _("贷款贴息"), _programme, order=20)]

# Where the audit pages link the program's records: a batch, and a reconciliation on its batch's page.
AUDIT_LINKS = {
    "subsidy.SubsidyBatch": AuditLink("subsidy.view_batches", lambda b: reverse("subsidy:batch_detail", args=[b.pk])),
    "subsidy.SubsidyReconciliation": AuditLink("subsidy.view_batches",
                                               lambda r: reverse("subsidy:batch_detail", args=[r.batch_id])),
}
