"""What the registry adds to the site: its pages in the menu, its API, its demo part (with the demo
log-ins), the registry file's import and export."""

import time

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from huiqi.core import formats, params
from huiqi.core.declarations import AuditLink, DemoStep, Exporter, Importer, Nav, Route, Todo
from huiqi.core.errors import ValidationFailed
from huiqi.core.formpages import Guide

from . import rules

NAVIGATION = [
    Nav("registry:enterprise_list", _("企业名录"), "registry.view", order=10,
        role_labels={"enterprise": _("我的企业")}),
    Nav("registry:import", _("名录导入"), "registry.import", order=11),
    Nav("registry:bank_list", _("合作银行"), order=800),
]

API_ROUTES = [
    Route("enterprises", "huiqi.registry.api.EnterpriseViewSet", "enterprise"),
    Route("owners", "huiqi.registry.api.BusinessOwnerViewSet", "owner"),
    Route("districts", "huiqi.registry.api.DistrictViewSet", "district"),
    Route("industries", "huiqi.registry.api.IndustryViewSet", "industry"),
    Route("banks", "huiqi.registry.api.BankViewSet", "bank"),
    Route("institutions", "huiqi.registry.api.FundInstitutionViewSet", "institution"),
    Route("registry-imports", "huiqi.registry.api.RegistryImportViewSet", "registry-import"),
]


def _import_registry(path, progress):
    from . import services

    return services.import_registry_file(None, path, progress=progress)


def _export_registry(path) -> int:
    from . import selectors, services

    return services.export_registry(selectors.enterprises(), path)


def _importer(kind):
    def load(path, progress):
        from . import services

        return services.import_registry_file(None, path, progress=progress, kind=kind)

    return load


IMPORTERS = {"registry": Importer(_import_registry, "the enterprise registry extract"),
             "registry-ownership": Importer(_importer("ownership"), "enterprises' ownership (private / state-controlled)"),
             "registry-dishonest": Importer(_importer("dishonest"), "the dishonest-debtor list, dated listings")}
EXPORTERS = {"registry": Exporter(_export_registry, "the enterprise registry")}


def _demo_registry(scale, seed, progress) -> str:
    from . import demo

    started = time.monotonic()
    counts = demo.build_demo(scale, seed, progress=progress)
    sizes = counts["sizes"]
    return (
        f"演示城市已生成 demo city built (scale={scale}, seed={seed}) in {time.monotonic() - started:.1f} s\n"
        f"  企业 enterprises            {formats.count(counts['enterprises']):>7}"
        f"  (企业 companies {formats.count(counts['companies'])}, 个体工商户 individual businesses "
        f"{formats.count(counts['individual_businesses'])})\n"
        f"  规模 sizes                  large {formats.count(sizes['large'])} · medium {formats.count(sizes['medium'])} · "
        f"small {formats.count(sizes['small'])} · micro {formats.count(sizes['micro'])} · unknown {formats.count(sizes['unknown'])}\n"
        f"  重点企业 key enterprises     {formats.count(counts['key_enterprises']):>7}\n"
        f"  小微企业主 business owners   {formats.count(counts['owners']):>7}  ({formats.count(counts['owner_links'])} links)\n"
        f"  合作银行 banks               {formats.count(counts['banks']):>7}  (入库 onboarded {counts['banks_onboarded']})\n"
        f"  演示账户 demo users          {formats.count(counts['users']):>7}"
    )


def _demo_logins(scale, seed, progress) -> str:
    from . import demo

    from huiqi.core import clock

    lines = [f"演示账户 demo log-ins — 密码 password: {settings.HUIQI_DEMO_PASSWORD}"]
    lines += [f"  {username:<12} {role:<12} {display}" for username, role, display, _org, _ents in demo.DEMO_USERS]
    day = clock.DEMO_CITY_TODAY.isoformat()
    lines.append(f"演示日 the demo's day: {day} — 以 HUIQI_DEMO_TODAY={day} 运行 serve with HUIQI_DEMO_TODAY={day} "
                 "(python3 dev.py run does)")
    return "\n".join(lines)


DEMO = [DemoStep(0, _demo_registry), DemoStep(1000, _demo_logins)]


def _home_summary(user):
    from . import selectors

    return {"template": "registry/_home_summary.html", "summary": selectors.summary_for(user)}


HOME = [_home_summary]


def _size_unknown(user) -> int:
    from . import selectors
    from .filters import EnterpriseFilter

    return EnterpriseFilter({"size": "unknown"}, queryset=selectors.enterprises_for(user)).qs.count()


# The bureau collects the figures an enterprise's size class cannot be decided without.
TODOS = [
    Todo("registry.size_unknown", _("缺少数据、无法划型的企业"), _size_unknown, "registry:enterprise_list",
         query={"size": "unknown"}, permission="registry.import", roles=frozenset({"bureau"}), order=70),
]


def _size_standard(value):
    for group in params.require_fields(value):
        try:
            rules._parse_rules_uncached(group, value)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed("parameter.standard", _("划型标准行业组 %(group)s 的格式有误（%(exc)s）"), field=group,
                                   group=group, exc=exc) from None
    return value


PARAMETERS = {"registry.size_standard": _size_standard}
PARAMETER_LABELS = {"registry.size_standard": _("中小企业划型标准")}

_size_standard.labels = rules.GROUP_LABELS
_size_standard.describe = rules.describe_standard

# Where the audit pages link the registry's records.
AUDIT_LINKS = {
    "registry.Enterprise": AuditLink("registry.view", lambda e: reverse("registry:enterprise_detail", args=[e.uscc])),
}

# 办事指南 of the import page (``core.formpages``).
GUIDES = {
    "registry.import": Guide(
        title=_("企业名录导入"),
        who=_("局方的名录管理人员，导入或更新企业名录。"),
        needs=(_("按模板填写的 CSV（UTF-8 或 GBK/GB18030）或 Excel（XLSX，第一个工作表）文件，表头中文或英文均可"),),
        time=_("小文件上传后当场校验；大文件在后台校验，完成后在导入页面显示结果。"),
        next=(_("系统逐行校验统一社会信用代码、区划、行业等：全部通过才入库，同一文件重复上传不会产生任何变化。"),
              _("所有制性质文件更新名录中已有企业的所有制性质；失信被执行人名单按列入、移出日期入库，资格预审按受理当日的名单判断。"),
              _("只要有一行有误，整个文件不入库，并给出可下载的逐行错误报告；修改后重新上传即可。"))),
}
