"""What return to work adds to the site: pages, API (the daily checks' route first: the morning's
busiest) and demo part."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core import clock, formats, params
from huiqi.core.declarations import AuditLink, DemoStep, EnterpriseProgram, Nav, Route, Todo
from huiqi.core.formpages import Guide

from .apps import DAILY_CHECK_DEFAULTS

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
    "resumption.attachment_max_bytes": params.scalar(params.integer(1, 100 * 1024 * 1024, _("字节"),
                                                                    label=_("报备附件大小上限"))),
    # The fields the bureau changed; the defaults fill the others.
    "resumption.daily_check": params.fields({
        "deadline": params.time_of_day(label=_("每日排查截止时间")),
        "lock_days_after": params.integer(0, 7, _("天"), label=_("次日起第几天锁定")),
        "lock_time": params.time_of_day(label=_("锁定时刻")),
    }, partial=True, defaults=DAILY_CHECK_DEFAULTS),
    "resumption.filing_check_days": params.scalar(params.integer(1, 30, _("个工作日"),
                                                                 label=_("报备核查时限"))),
}

PARAMETER_LABELS = {
    "resumption.filing_required": _("复工须先报备"),
    "resumption.attachment_max_bytes": _("复工报备附件大小上限"),
    "resumption.daily_check": _("每日排查的截止与锁定"),
    "resumption.filing_check_days": _("复工报备核查时限"),
}

# --- 办事指南 of the enterprise's forms (``core.formpages``): the numbers are the parameters in force --------


def _filing_values(today) -> dict:
    from . import services

    return {"days": services.filing_check_days(today),
            "mb": f"{services.attachment_limit(today) / (1024 * 1024):.1f}".removesuffix(".0")}


def _daily_values(today) -> dict:
    from . import services

    config = services.daily_check_config(today)
    return {"deadline": config["deadline"], "lock_days": config["lock_days_after"], "lock_time": config["lock_time"]}


GUIDES = {
    "resumption.filing": Guide(
        title=_("复工报备"),
        who=_("在本市登记、计划复工的企业，由企业账号办理；复工须先报备期间适用。"),
        needs=(_("计划复工日期、员工总数和返岗人数（含省外返深、隔离观察人数）"),
               _("防控条件（四个到位、八个落实）的落实情况"),
               _("口罩、体温计、消毒液等防护物资储备"),
               _("防控方案等附件：图片或 PDF，每个不超过 %(mb)s MB（可选）")),
        time=_("区复工专班在 %(days)s 个工作日内派员现场核查并答复。"),
        next=(_("提交后即可在“我的报备”查看办理进度。"),
              _("区复工专班指派核查员到企业现场核查。"),
              _("核查通过的，同意复工；需要整改的，退回并说明原因，整改后可修改重新提交。")),
        values=_filing_values),
    # After the switch (filing no longer required): the same page declares having resumed.
    "resumption.declare": Guide(
        title=_("申报已复工"),
        who=_("在本市登记、已经或即将复工的企业，由企业账号办理；无需报备期间适用。"),
        needs=(_("复工日期、员工总数和返岗人数"), _("联系人和联系电话（可选）")),
        time=_("提交即完成，无需等待核查。"),
        next=(_("申报后即可复工，申报记录可在“我的报备”查看。"), _("复工后请每天填报每日排查。"))),
    "resumption.daily_check": Guide(
        title=_("每日排查填报"),
        who=_("已复工或计划复工的企业，由企业账号每天填报。"),
        needs=(_("当天是否开工、员工总数、已返岗和今日在岗人数"), _("产能恢复比例，疑似和确诊病例数"),
               _("经营困难及需要协调的事项（如有）")),
        time=_("每天 %(deadline)s 前报送；排查日后第 %(lock_days)s 天 %(lock_time)s 前可以更正，之后锁定。"),
        next=(_("报送后即计入全区复工统计。"),
              _("勾选“需要协调”的困难，由所在区复工专班跟进，跟进情况可在“我的复工”查看。")),
        values=_daily_values),
}

# The names of this program's audit actions (``core.audit``).
AUDIT_ACTIONS = {
    "filing.submit": _("提交复工报备"), "filing.declare": _("申报已复工"), "filing.assign": _("指派核查员"),
    "filing.record_check": _("记录现场核查"), "filing.approve": _("同意复工"), "filing.return": _("退回报备"),
    "filing.resubmit": _("重新提交报备"), "filing.attachment": _("上传报备附件"),
    "daily_check.submit": _("填报每日排查"), "daily_check.correct": _("更正每日排查"),
    "difficulty.follow_up": _("记录困难跟进"), "rollup.rebuild": _("重建排查汇总"), "demo.resumption": _("生成演示复工数据"),
}


# --- 我的待办 and an enterprise's page ------------------------------------------------------------------

def _unreported(user):
    from . import selectors

    return selectors.unreported_own(user, clock.today())


def _while_reporting(count):
    """Today's reports are asked for only while the daily checks are being sent."""
    def counted(user) -> int:
        from . import selectors

        return count(user) if selectors.reporting_on(clock.today()) else 0

    return counted


def _check_query(user) -> dict:
    """The day's form, for the one enterprise that has not reported (the first, when several have not)."""
    first = _unreported(user).order_by("name").values_list("uscc", flat=True).first()
    return {"enterprise": first} if first else {}


def _count(name):
    def count(user):
        from . import selectors

        return getattr(selectors, name)(user).count()

    return count


def _missing_today(user) -> int:
    from . import selectors

    return selectors.missing_reporters(user, clock.today()).count()


TODOS = [
    Todo("resumption.daily_check_today", _("今日每日排查未报送"),
         _while_reporting(lambda user: _unreported(user).count()), "resumption:check_form", query=_check_query,
         permission="resumption.report_daily", order=10),
    Todo("resumption.filings_returned", _("被退回待修改的复工报备"), _count("filings_returned"),
         "resumption:filing_list", query={"status": "returned"}, roles=frozenset({"enterprise"}), order=20),
    Todo("resumption.filings_to_verify", _("待核查的复工报备"), _count("filings_awaiting_district"),
         "resumption:filing_list", query={"status": "pending"}, roles=frozenset({"district"}), order=10),
    Todo("resumption.follow_ups", _("待跟进的困难协调"), _count("follow_ups_for"), "resumption:follow_ups",
         roles=frozenset({"district"}), order=20),
    Todo("resumption.missing_reports", _("今日未报送排查的企业"), _while_reporting(_missing_today),
         "resumption:check_list", query=lambda user: {"missing": "1", "day": clock.today().isoformat()},
         roles=frozenset({"district"}), order=30),
]


def _programme(user, enterprise):
    from django.urls import reverse

    from huiqi.core.i18n import Message

    from . import selectors

    filing = (selectors.filings_for(user).filter(enterprise=enterprise).order_by("-submitted_at", "-id")
              .first())
    check = selectors.daily_checks_for(user).filter(enterprise=enterprise).order_by("-day").first()
    if filing is None and check is None:
        return None
    facts = []
    if filing is not None:
        facts.append((filing.get_kind_display(), Message(_("%(status)s（%(day)s）"),
                                                         status=filing.get_status_display(), day=formats.day(filing.submitted_at))))
    if check is not None:
        facts.append((_("最近一次每日排查"), formats.day(check.day)))
        helps = selectors.follow_ups_for(user).filter(enterprise=enterprise).count()
        if helps:
            facts.append((_("待跟进的困难协调"), formats.count(helps)))
    url = reverse("resumption:filing_detail", args=[filing.pk]) if filing is not None else None
    return {"facts": facts, "url": url}


ENTERPRISE_PROGRAMS = [EnterpriseProgram("resumption", _("复工复产"), _programme, order=30)]

# Where the audit pages link the program's records.
AUDIT_LINKS = {
    "resumption.ReturnToWorkFiling": AuditLink("resumption.view",
                                               lambda f: reverse("resumption:filing_detail", args=[f.pk])),
}
