"""A day's work in the little city of the root conftest, on the demo's day: what waits for whom. Shared by
the home page's tests and its browser test."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy as _

from conftest import PASSWORD
from huiqi.core import clock
from huiqi.core.i18n import stored

DAY = dt.date(2020, 4, 2)

# What each user of the root conftest finds waiting (the to-dos' labels), once ``a_days_work`` ran.
LABELS = {
    "enterprise": ["今日每日排查未报送", "被退回待修改的复工报备", "待我补充材料的诉求", "已答复待评价的诉求", "未读消息"],
    "district": ["待核查的复工报备", "今日未报送排查的企业"],
    "department": ["待签收的诉求", "待我审批的延期申请", "未读消息"],
    "bureau": ["缺少数据、无法划型的企业", "近 7 天失败的后台任务"],
    "bank": ["被拒收待重新报送的文件", "14 天内到期的接口令牌"],
    "auditor": ["近 30 天拨付的贴息批次（待审计抽查）"],
    "admin": ["近 7 天失败的后台任务", "14 天内到期的接口令牌（全部用户）"],
    "institution": [],
}


def a_days_work(users, city, make_enterprise) -> dict:
    """Records of every program waiting for someone, as of ``clock.today()`` (set the demo's day first).

    ns1, ns2: 南山 (user "enterprise" acts for ns1; "district" is 南山's officer); ft1: 福田 ("enterprise2",
    "district2"); SME-SZ is the department of "department" (its head) and of a second handler."""
    from huiqi.accounts.services import create_user, issue_token
    from huiqi.core.models import Job
    from huiqi.lending.models import LedgerUpload
    from huiqi.registry.models import Agency
    from huiqi.requests import services as requests
    from huiqi.requests.models import Category, DepartmentHead
    from huiqi.resumption import services as resumption
    from huiqi.resumption.models import FilingStatus, ReturnToWorkFiling
    from huiqi.subsidy.models import BatchStatus, SubsidyBatch

    ns1, ns2, ft1 = city["ns1"], city["ns2"], city["ft1"]
    # Return to work: ns1's filing was sent back; ns2's and ft1's wait for their districts.
    for enterprise, status in ((ns1, FilingStatus.RETURNED), (ns2, FilingStatus.SUBMITTED),
                               (ft1, FilingStatus.ASSIGNED)):
        ReturnToWorkFiling.objects.create(enterprise=enterprise, district_id=enterprise.district_id,
                                          status=status, planned_date=DAY, staff_total=10, staff_returning=5,
                                          submitted_at=clock.now())
    # ft1 sent today's check (asking help with its funds); ns1 and ns2 have not.
    resumption.submit_daily_check(users["enterprise2"], ft1, DAY, {
        "is_open": True, "staff_total": 10, "staff_returned": 8, "staff_on_site": 8, "capacity_pct": 70},
        [{"kind": "funds", "note": "资金紧张", "needs_help": True}])

    # Requests (policy questions go to SME-SZ): two to accept, one waiting for ns1, one answered to rate,
    # one with an extension asked by the second handler for the head ("department") to decide.
    sme = Agency.objects.get(code="SME-SZ")
    second = create_user(None, username="handler2", password=PASSWORD, role="department", agency=sme,
                         check_password=False)
    DepartmentHead.objects.create(agency=sme, user=users["department"])
    policy = Category.objects.get(code="policy")

    def ask(user, enterprise, title):
        return requests.submit_request(user, enterprise=enterprise, category=policy, title=title,
                                       description="请问支持企业共渡难关的措施如何申请？")

    ask(users["enterprise"], ns1, "惠企政策咨询一")
    ask(users["enterprise2"], ft1, "惠企政策咨询二")
    waiting = ask(users["enterprise"], ns1, "惠企政策咨询三")
    requests.accept(second, waiting)
    requests.ask_enterprise(second, waiting, "请补充营业执照")
    answered = ask(users["enterprise"], ns1, "惠企政策咨询四")
    requests.accept(second, answered)
    requests.answer(second, answered, "可通过深i企申请。")
    extended = ask(users["enterprise2"], ft1, "惠企政策咨询五")
    requests.accept(second, extended)
    requests.request_extension(second, extended, 3, "需会同区里核实")

    # Interest subsidy: the bureau user ran a batch; another bureau user reviews it. A batch released today
    # waits for an auditor's spot check.
    other_bureau = create_user(None, username="bureau2", password=PASSWORD, role="bureau",
                               check_password=False)
    run = SubsidyBatch.objects.create(cutoff=DAY, params={}, status=BatchStatus.RUN,
                                      created_by=users["bureau"])
    SubsidyBatch.objects.create(cutoff=dt.date(2020, 3, 31), params={}, status=BatchStatus.RELEASED,
                                created_by=users["bureau"], reviewed_by=other_bureau, released_at=clock.now())

    # The bank's loans file was refused, its payments file is stored; its token runs out in five days.
    for kind, status in (("loans", LedgerUpload.Status.REFUSED), ("payments", LedgerUpload.Status.STORED)):
        LedgerUpload.objects.create(kind=kind, bank=city["bank_a"], status=status, file_name=f"{kind}.csv",
                                    digest=kind, uploaded_by=users["bank"])
    issue_token(None, users["bank"], name="报送系统", days=5)
    # A job of the bureau failed today; an enterprise with no figures cannot be classified.
    from huiqi.registry.models import RegistryImport

    Job.objects.create(kind="registry.import", title=stored(_("%(kind)s导入：%(file)s"),
                                                            kind=RegistryImport.Kind.REGISTRY.label,
                                                            file="enterprises.csv"),
                       status=Job.Status.FAILED,
                       created_by=users["bureau"])
    make_enterprise("宝安区无数据商行", district="440306", employees=None, revenue_wan=None)
    return {"run": run, "second": second, "bureau2": other_bureau, "waiting": waiting, "answered": answered,
            "extended": extended}


