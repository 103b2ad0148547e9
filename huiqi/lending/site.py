"""What the ledger adds to the site: its pages, its API, its demo part and the bank files' imports."""

import time

from django.utils.translation import gettext_lazy as _

from huiqi.core import formats
from huiqi.core.declarations import DemoStep, Importer, Nav, Route, Todo
from huiqi.core.formpages import Guide

NAVIGATION = [
    Nav("lending:loan_list", _("贷款台账"), "lending.view", order=20,
        role_labels={"enterprise": _("我的贷款"), "bank": _("本行贷款")}),
    Nav("lending:upload", _("银行数据报送"), "lending.upload", order=21),
]

API_ROUTES = [
    Route("loans", "huiqi.lending.api.LoanViewSet", "loan"),
    Route("ledger-uploads", "huiqi.lending.api.LedgerUploadViewSet", "ledger-upload"),
]


def _to_send_again(user) -> int:
    from . import selectors

    return selectors.uploads_to_send_again(user).count()


def _the_upload(user, count):
    """The refused file's page, when one waits (its errors are listed there)."""
    from django.urls import reverse

    from . import selectors

    found = selectors.uploads_to_send_again(user).first() if count == 1 else None
    return reverse("lending:upload_detail", args=[found.pk]) if found else None


TODOS = [
    Todo("lending.uploads_refused", _("被拒收待重新报送的文件"), _to_send_again, "lending:upload",
         roles=frozenset({"bank"}), permission="lending.upload", order=60, link=_the_upload),
]


def _importer(kind: str, help: str) -> Importer:
    def load(path, progress):
        from . import imports

        return imports.import_path(None, kind, path, progress=progress)

    return Importer(load, help)


IMPORTERS = {
    "banks": _importer("banks", "the partner banks (bank-data-exchange)"),
    "loans": _importer("loans", "a bank's loans"),
    "payments": _importer("payments", "a bank's interest payments"),
    "npl": _importer("npl", "a bank's non-performing loans"),
}


def _demo_ledger(scale, seed, progress) -> str:
    from . import demo

    started = time.monotonic()
    c = demo.build_ledger_demo(scale, seed, progress=progress)
    kinds = c["borrower_kinds"]

    return (
        f"演示贷款台账已生成 demo ledger built in {time.monotonic() - started:.1f} s\n"
        f"  贷款 loans                  {formats.count(c['loans']):>7}  ({formats.yi(c['principal_fen'], 1)} 亿元 at "
        f"{c['banks']} banks; 借款人 borrowers {formats.count(c['borrowers'])})\n"
        f"  按借款人 by borrower kind   企业 {formats.count(kinds['enterprise'])} · 个体工商户 "
        f"{formats.count(kinds['individual_business'])} · 小微企业主 {formats.count(kinds['business_owner'])}\n"
        f"  疫情期间新增 2020-02..06    {formats.count(c['window_loans']):>7}  ({formats.yi(c['window_principal_fen'], 1)} 亿元, "
        f"{formats.count(c['window_borrowers'])} borrowers)\n"
        f"  展期 extensions             {formats.count(c['extensions']):>7}  (首贷 first loans {formats.count(c['first_loans'])})\n"
        f"  付息记录 interest payments {formats.count(c['payments']):>8}  ({formats.yi(c['interest_fen'])} 亿元)\n"
        f"  不良贷款 NPLs               {formats.count(c['npls']):>7}"
    )


def _demo_upload(scale, seed, progress) -> str:
    from . import demo

    return demo.build_refused_upload()


# The ledger first (10); the bank's refused file (15) names its loans.
DEMO = [DemoStep(10, _demo_ledger), DemoStep(15, _demo_upload)]


# 办事指南 of the upload page (``core.formpages``).
GUIDES = {
    "lending.upload": Guide(
        title=_("银行数据报送"),
        who=_("合作银行的数据报送人员报送本行的贷款台账、还款和放款记录；合作银行名单由局方报送。"),
        needs=(_("按模板填写的 CSV（UTF-8 或 GBK/GB18030）或 Excel（XLSX，第一个工作表）文件，表头中文或英文均可"),
               _("每类数据一个文件：在表单中选择文件类型")),
        time=_("小文件上传后当场校验；大文件在后台校验，完成后在文件页面显示结果。"),
        next=(_("系统逐行校验：全部通过才入库，同一文件重复上传不会产生任何变化。"),
              _("只要有一行有误，整个文件不入库，并给出可下载的逐行错误报告；修改后重新上传即可。"))),
}
