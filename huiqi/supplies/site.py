"""What the epidemic-supplies program adds to the platform (``docs/layout.md``): so far its producers
directory (生产企业目录), which the stable-development fund reads for priority as of a received date."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core.declarations import AuditLink, DemoStep, Importer, Nav, Route
from huiqi.core.formpages import Guide

AUDIT_ACTIONS = {
    "supplies.list": _("列入生产企业目录"), "supplies.product": _("登记生产企业产品"),
    "supplies.suspend": _("暂停生产企业"), "supplies.resume": _("恢复生产企业"),
}


def _demo(scale, seed, progress) -> str:
    from . import demo

    return demo.build_and_describe(scale, seed, progress)


# After the registry (0) and before the fund (48), whose priority reads the directory; the policy hub (60)
# reads it too.
DEMO = [DemoStep(47, _demo)]


# --- the directory's pages, file, API and access (h-supdir) ------------------------------------------------

NAVIGATION = [Nav("supplies:index", _("防疫物资生产企业目录"), "supplies.view_directory", order=39,
                  role_labels={"enterprise": _("我的物资生产企业信息")})]

API_ROUTES = [Route("supplies-producers", "huiqi.supplies.api.ProducerViewSet", "supplies-producer"),
              Route("supplies-products", "huiqi.supplies.api.ProductViewSet", "supplies-product"),
              Route("supplies-directory-files", "huiqi.supplies.api.DirectoryUploadViewSet",
                    "supplies-directory-file")]


def _producer_page(obj):
    return reverse("supplies:producer", args=[obj.producer_id])


AUDIT_LINKS = {
    "supplies.Producer": AuditLink("supplies.view_producer", lambda p: reverse("supplies:producer", args=[p.pk])),
    "supplies.Suspension": AuditLink("supplies.view_directory", _producer_page),
    "supplies.ProducerProduct": AuditLink("supplies.view_directory", _producer_page),
    "supplies.DirectoryUpload": AuditLink("supplies.view_files",
                                          lambda r: reverse("supplies:upload_detail", args=[r.pk])),
}


def _load_directory(path, progress, user):
    from . import imports

    return imports.import_path(user, path, progress=progress)


# The bureau's directory file: ``huiqi import supplies-directory FILE --as USER``.
IMPORTERS = {"supplies-directory": Importer(_load_directory, "the producers directory: a row per producer and product",
                                            as_user=True)}

GUIDES = {
    "supplies.list": Guide(
        title=_("列入防疫物资生产企业目录"),
        who=_("市工业和信息化局的工作人员，为企业名录中生产防疫物资的企业（含转产企业）办理列入目录。"),
        needs=(_("企业的统一社会信用代码（须在企业名录中）"), _("列入目录日期，以及有期限的有效期至和移出原因"),
               _("联系人和联系电话"), _("至少一种防疫物资产品及其日产能（按产品的计量单位）")),
        time=_("提交即列入，当场生效。"),
        next=(_("自列入目录日期起，该企业即为在册生产企业，各项目（如平稳发展基金的优先支持）按此判断。"),
              _("暂停、恢复、移出目录和产品变化在企业的目录页面办理，均留痕。"))),
    "supplies.directory_file": Guide(
        title=_("生产企业目录文件"),
        who=_("市工业和信息化局的工作人员：以文件批量列入生产企业、修改目录信息和登记产品日产能。"),
        needs=(_("按模板填写的 CSV（UTF-8 或 GBK/GB18030）或 Excel（XLSX，第一个工作表）文件，表头中文或英文均可"),
               _("每行一家企业的一种产品：统一社会信用代码、列入目录日期、产品代码、日产能必填；有效期至、移出原因、转产、联系人、联系电话、报告起始日、报告截止日选填，填写有效期至时须填移出原因"),
               _("同一企业的各行，列入目录日期至联系电话各列须一致")),
        time=_("小文件上传后当场校验；大文件在后台校验，完成后在本页面显示结果。"),
        next=(_("目录中没有的企业列入目录，已有的企业按文件修改目录信息，各行的产品按文件登记或修改，规则与页面办理相同。"),
              _("只要有一行有误，整个文件不入库，并给出可下载的逐行错误报告；同一文件重复上传不会产生任何变化。"))),
}
