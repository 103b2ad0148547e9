"""What the risk-compensation pool adds to the platform (``docs/layout.md``).

Its parameters are one value of named fields: the pool's size, the ratio table (the three standing ratios,
their caps, and the bureau's own rows, edited as a table on the parameters page), the limits and dates.
The amounts and every ratio set money paid, so a change of them waits for a second person's approval."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import AuditLink, DemoStep, Importer, Nav, Route, Todo
from huiqi.core.formpages import Guide

from . import rules


def _pool_params(value):
    """Rules across fields (ratios under their caps, the window's order) as ``rules.Params`` checks them."""
    rules.Params.from_mapping(value)
    return value


PARAMETERS = {"pool.params": params.fields({
    "pool_size": params.money(0, "1000000000000.00", _("元"), label=rules.PARAMETER_LABELS["pool_size"]),
    "base_ratio": params.decimal(0, 1, label=rules.PARAMETER_LABELS["base_ratio"], text=True, money=True),
    "priority_ratio": params.decimal(0, 1, label=rules.PARAMETER_LABELS["priority_ratio"], text=True, money=True),
    "window_ratio": params.decimal(0, 1, label=rules.PARAMETER_LABELS["window_ratio"], text=True, money=True),
    "cap_normal": params.decimal(0, 1, label=rules.PARAMETER_LABELS["cap_normal"], text=True, money=True),
    "cap_window": params.decimal(0, 1, label=rules.PARAMETER_LABELS["cap_window"], text=True, money=True),
    "window_start": params.date(label=rules.PARAMETER_LABELS["window_start"]),
    "window_end": params.date(label=rules.PARAMETER_LABELS["window_end"]),
    "widened_from": params.date(label=rules.PARAMETER_LABELS["widened_from"]),
    "max_principal": params.money(0, "1000000000000.00", _("元"), label=rules.PARAMETER_LABELS["max_principal"]),
    "claim_window_days": params.integer(1, 3650, _("天"), label=rules.PARAMETER_LABELS["claim_window_days"]),
    "extra_rows": params.rows({
        "name": params.text(40, label=_("规则名称")),
        "condition": params.choice(list(rules.CONDITIONS.items()), label=_("适用贷款")),
        "ratio": params.decimal(0, 1, label=_("补偿比例"), text=True),
        "start": params.date(label=_("放款日期起")),
        "end": params.date(label=_("放款日期止")),
    }, label=rules.PARAMETER_LABELS["extra_rows"], optional={"start", "end"}, money=True),
    "excluded_industries": params.codes(label=rules.PARAMETER_LABELS["excluded_industries"]),
    "suspension_npl_rate": params.decimal(0, 1, label=rules.PARAMETER_LABELS["suspension_npl_rate"], text=True),
    "warning_share": params.decimal(0, 1, label=rules.PARAMETER_LABELS["warning_share"], text=True),
}, optional=rules.OPTIONAL, then=_pool_params)}
PARAMETER_LABELS = {"pool.params": _("风险补偿资金池参数")}

# The names of this program's audit actions (``core.audit``).
AUDIT_ACTIONS = {
    "pool.bank_signed": _("银行签约"), "pool.bank_onboarded": _("银行入库"), "pool.bank_suspended": _("暂停银行"),
    "pool.bank_reinstated": _("恢复银行"), "pool.bank_exited": _("银行退出"),
    "pool.register": _("贷款入库筛查"), "pool.file": _("提交补偿申请"), "pool.resubmit": _("补正后重新提交"), "pool.review": _("审核补偿申请"),
    "pool.approve": _("批准补偿申请"), "pool.deny": _("不予补偿"), "pool.send_back": _("退回重新审核"),
    "pool.pay": _("拨付补偿"), "pool.recovery": _("报告追偿"), "pool.claw_back": _("追回补偿"),
    "pool.clawback_settled": _("追回款到账"), "pool.top_up": _("资金池注资"), "pool.payout": _("资金池拨付"),
    "pool.recovery_return": _("追偿返还资金池"), "pool.clawback": _("追回款返还资金池"), "pool.offset": _("抵扣追回款"),
    "pool.classify": _("报送五级分类"), "pool.add_evidence": _("补充证明材料"),
    "pool.reprice_propose": _("提出重新定价"), "pool.reprice_approve": _("批准重新定价"),
    "pool.reprice_reject": _("驳回重新定价"), "pool.reprice_apply": _("执行重新定价"), "pool.reprice": _("重新定价入库贷款"),
}

# Where the audit pages link a re-pricing and a bank's file: their pages.
AUDIT_LINKS = {
    "pool.Repricing": AuditLink("pool.simulate", lambda r: reverse("pool:repricing_detail", args=[r.pk])),
    "pool.PoolUpload": AuditLink("pool.view", lambda r: reverse("pool:upload_detail", args=[r.pk])),
}

API_ROUTES = [Route("pool-claims", "huiqi.pool.api.ClaimViewSet", "pool-claim"),
              Route("pool-classifications", "huiqi.pool.api.ClassificationViewSet", "pool-classification")]


def _load_classifications(path, progress):
    from . import imports

    return imports.import_path(None, "classifications", path, progress=progress)


# Claims are filed by a bank's named staff (on the pool's pages): the claims file has no headless import.
IMPORTERS = {"pool-classifications": Importer(_load_classifications, "banks' five-tier loan classifications")}

def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


def _demo_classifications(scale, seed, progress) -> str:
    from . import demo_classifications

    return demo_classifications.build(scale, seed, progress)


# After the ledger (10) and the interest subsidy (40): the pool adds the earlier loans the figures need, then
# the banks' five-tier classifications of the non-performing ones.
DEMO = [DemoStep(45, _demo), DemoStep(46, _demo_classifications)]

NAVIGATION = [Nav("pool:index", _("风险补偿"), "pool.view", order=35, role_labels={"bank": _("本行风险补偿")})]


def _params_today(today):
    from . import selectors

    p = selectors.params_on(today)
    return {"days": p.claim_window_days or "—", "cap": format(p.cap_window * 100, "f").rstrip("0").rstrip(".")}


GUIDES = {
    "pool.claim": Guide(
        title=_("风险补偿申请"),
        who=_("已入库的合作银行，为本行已纳入资金池、已认定为不良的中小微企业贷款申请补偿。"),
        needs=(_("贷款合同编号（须已报送贷款台账和不良贷款记录）"),
               _("不良本金和已回收金额（不填则按已报送的不良贷款记录）"),
               _("催收、诉讼、核销等证明材料的说明")),
        time=_("不良认定之日起 %(days)s 天内申请；补偿比例最高 %(cap)s%%，按贷款入库时的比例核定。"),
        next=(_("市工业和信息化局审核材料，再由另一位工作人员审批。"),
              _("批准后按批准顺序拨付，资金池余额不足的部分在补充后支付。")),
        values=_params_today),
    "pool.upload": Guide(
        title=_("五级分类和补偿申请报送"),
        who=_("已入库的合作银行报送本行贷款的五级分类，或以不良贷款文件批量申请补偿（每行一笔申请）。"),
        needs=(_("按模板填写的 CSV（UTF-8 或 GBK/GB18030）或 Excel（XLSX，第一个工作表）文件，表头中文或英文均可"),
               _("五级分类：贷款首次分为次级或更差的日期即其不良认定日期，补偿申请的不良认定日期须与之一致"),
               _("补偿申请：每笔申请提交后须在申请页面补充催收、诉讼、核销等证明材料，之后才能批准")),
        time=_("小文件上传后当场校验；大文件在后台校验，完成后在文件页面显示结果。"),
        next=(_("系统逐行校验：全部通过才入库，同一文件重复上传不会产生任何变化。"),
              _("只要有一行有误，整个文件不入库，并给出可下载的逐行错误报告；修改后重新上传即可。"))),
}


def _count(name):
    def count(user):
        from . import selectors

        return getattr(selectors, name)(user).count()

    return count


TODOS = [
    Todo("pool.claims_to_review", _("待审核的补偿申请"), _count("claims_to_review"), "pool:claim_list",
         query={"status": "submitted"}, permission="pool.review", order=40),
    Todo("pool.claims_to_decide", _("待审批的补偿申请"), _count("claims_to_decide"), "pool:claim_list",
         query={"status": "reviewed", "to_decide": "1"}, permission="pool.approve", order=41),
    Todo("pool.claims_returned", _("退回补正的补偿申请"), _count("claims_returned"), "pool:claim_list",
         query={"status": "returned"}, permission="pool.file_claim", order=42),
    Todo("pool.claims_awaiting_evidence", _("待补充证明材料的补偿申请"), _count("claims_awaiting_evidence"),
         "pool:claim_list", query={"evidence": "missing"}, permission="pool.file_claim", order=43),
    Todo("pool.repricings_to_decide", _("待审批的重新定价"), _count("repricings_to_decide"), "pool:repricing",
         query={"status": "proposed", "to_decide": "1"}, permission="pool.reprice", order=44),
]
