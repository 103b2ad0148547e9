"""What the stable-development fund adds to the platform (``docs/layout.md``).

Its parameters are one value of named fields: each channel's base rate (which the scheme discounts), the cap per enterprise, the discount, the longest term, the covered kinds,
the working-day time limits of each stage, and the interest conventions. The cap, the discount and the
base rates set money lent, so a change of them waits for a second person's approval."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core import params
from huiqi.core.declarations import AuditLink, DemoStep, EnterpriseProgram, Importer, Nav, Route, Todo
from huiqi.core.formpages import Guide

from . import rules

L = rules.PARAMETER_LABELS


def _days(name):
    return params.integer(1, 60, _("个工作日"), label=L[name])


PARAMETERS = {"fund.params": params.fields({
    "base_rate_hti": params.decimal(0, 1, label=L["base_rate_hti"], text=True, money=True),
    "base_rate_sgg": params.decimal(0, 1, label=L["base_rate_sgg"], text=True, money=True),
    "enterprise_cap": params.money(0, "1000000000.00", label=L["enterprise_cap"]),
    "discount": params.decimal(0, 1, label=L["discount"], text=True, money=True),
    "max_term_months": params.integer(1, 60, _("个月"), label=L["max_term_months"]),
    "kinds_covered": params.choices_list({"enterprise", "individual_business"}, label=L["kinds_covered"]),
    **{name: _days(name) for name in L if name.startswith("sla_")},
    "day_basis": params.choice([360, 365], label=L["day_basis"]),
    "interest_period_months": params.choice([1, 3, 6, 12], label=L["interest_period_months"]),
    "roll_due_dates": params.boolean(label=L["roll_due_dates"]),
}, optional=rules.OPTIONAL)}
PARAMETER_LABELS = {"fund.params": _("平稳发展基金参数")}

AUDIT_ACTIONS = {
    "fund.register": _("登记基金申请"), "fund.precheck": _("资格预审"), "fund.withdraw": _("撤回基金申请"),
    "fund.transfer": _("转渠道"), "fund.priority": _("设定优先支持"), "fund.stage": _("推进办理环节"),
    "fund.pause": _("暂停计时"), "fund.resume": _("恢复计时"), "fund.propose": _("提出决策意见"),
    "fund.approve": _("批准基金申请"), "fund.reject": _("不批准基金申请"), "fund.contract": _("签订合同"),
    "fund.tranche": _("放款"), "fund.cancel_rest": _("取消未放款部分"), "fund.repayment": _("登记还款"),
    "fund.extend": _("展期"), "fund.close": _("结清"),
}

API_ROUTES = [Route("fund-applications", "huiqi.fund.api.ApplicationViewSet", "fund-application"),
              Route("fund-status-files", "huiqi.fund.api.StatusUploadViewSet", "fund-status-file"),
              Route("fund-application-files", "huiqi.fund.api.ApplicationFileViewSet", "fund-application-file")]

AUDIT_LINKS = {"fund.Application": AuditLink("fund.view", lambda a: reverse("fund:detail", args=[a.pk])),
               "fund.StatusUpload": AuditLink("fund.view", lambda r: reverse("fund:upload_detail", args=[r.pk]))}


def _loader(kind):
    def load(path, progress, user):
        from . import imports

        return imports.import_path(user, path, progress=progress, kind=kind)

    return load


# A channel's files are sent by its named staff: ``huiqi import fund-status|fund-applications FILE --as USER``.
IMPORTERS = {"fund-status": Importer(_loader("status"), "a channel's tranches, repayments, extensions and closes",
                                     as_user=True),
             "fund-applications": Importer(_loader("applications"), "the applications a channel received",
                                           as_user=True)}

NAVIGATION = [Nav("fund:index", _("平稳发展基金"), "fund.view", order=38,
                  role_labels={"enterprise": _("我的基金申请"), "institution": _("基金申请")})]


def _guide_values(today):
    from . import selectors

    p = selectors.params_on(today)
    return {"cap": format(p.enterprise_cap_fen // 1_000_000, ","), "term": p.max_term_months,
            "precheck": p.sla_days("precheck", False), "dd": p.sla_days("due_diligence", False),
            "decision": p.sla_days("decision", False),
            "discount": format((p.discount * 100).normalize(), "f")}


GUIDES = {
    "fund.apply": Guide(
        title=_("民营企业平稳发展基金申请"),
        who=_("受疫情影响、经营暂时困难的优质民营中小企业（个体工商户不适用），同一企业同一时间只能在一个渠道有一件在办申请。"),
        needs=(_("统一社会信用代码"), _("申请金额（单户累计不超过 %(cap)s 万元）和期限（不超过 %(term)s 个月）"),
               _("疫情对企业现金流影响的说明"), _("资金用途")),
        time=_("资格预审 %(precheck)s 个工作日，尽职调查 %(dd)s 个工作日，决策 %(decision)s 个工作日（优先支持企业更短）；等待企业补充材料期间暂停计时。"),
        next=(_("渠道（高新投或担保集团）按登记库资料资格预审，通过后开展尽职调查。"),
              _("批准的利率为渠道原最高债权支持利率的 %(discount)s%%；批准后签约、放款，按月付息、到期还本。")),
        values=_guide_values),
    "fund.channel_file": Guide(
        title=_("渠道文件报送"),
        who=_("实施机构（渠道）的工作人员：以申请登记文件批量登记本渠道受理的申请，以办理情况文件报送本渠道申请的放款、还款、展期和结清情况。"),
        needs=(_("按模板填写的 CSV（UTF-8 或 GBK/GB18030）或 Excel（XLSX，第一个工作表）文件，表头中文或英文均可"),
               _("申请登记：每行一件申请，填统一社会信用代码、申请金额（万元）、申请期限（月）、受理日期、疫情影响说明，资金用途选填；渠道即上传人所在的实施机构"),
               _("办理情况：每行一件事，填申请编号、事项（放款、还本、付息、展期、结清）、日期，放款和还款填金额，展期填展期后到期日和理由")),
        time=_("小文件上传后当场校验；大文件在后台校验，完成后在本页面显示结果。"),
        next=(_("各行按文件顺序、按与页面办理相同的规则逐行校验（申请登记同样资格预审，同一企业在两个渠道合计只能有一件在办申请）：全部通过才入库，同一文件重复上传不会产生任何变化。"),
              _("只要有一行有误，整个文件不入库，并给出可下载的逐行错误报告；修改后重新上传即可。"))),
}


def _count(name):
    def count(user):
        from . import selectors

        return getattr(selectors, name)(user).count()

    return count


TODOS = [
    Todo("fund.to_confirm", _("待复核的基金决策意见"), _count("decisions_to_confirm"), "fund:list",
         query={"to_confirm": "1"}, permission="fund.decide", order=44, roles=frozenset({"institution"})),
]


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


# After the pool (45): the registry's enterprises apply to the fund through its two channels.
DEMO = [DemoStep(48, _demo)]


def _programme(user, enterprise):
    """The enterprise's latest application it may see: its number, state, and the open stage's due day."""
    from huiqi.core import clock, formats
    from huiqi.core.i18n import Message

    from . import rules, selectors

    app = selectors.applications_for(user).filter(uscc=enterprise.uscc).order_by("-received_date", "-id").first()
    if app is None:
        return None
    facts = [(_("基金申请"), Message(_("%(number)s：%(state)s"), number=app.number, state=app.get_state_display()))]
    open_clock = selectors.open_clocks([app], clock.today()).get(app.pk)
    if open_clock is not None:
        facts.append((Message(_("%(stage)s办理时限"), stage=rules.STAGES.get(open_clock.stage, open_clock.stage)),
                      formats.day(open_clock.due)))
    return {"facts": facts, "url": reverse("fund:detail", args=[app.pk])}


ENTERPRISE_PROGRAMS = [EnterpriseProgram("fund", _("平稳发展基金"), _programme, order=38)]
