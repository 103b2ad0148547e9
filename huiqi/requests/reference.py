"""Reference rows of the request channel: the ten categories with their default departments and
deadlines, a response template for each, the 12345 hotline as an agency, the parameters, and the
working-day calendar from the chinese-calendar package. Created when missing, never overwritten."""

from __future__ import annotations

import datetime as dt

from .apps import PARAMS_KEY
from .permissions import HOTLINE_AGENCY
from huiqi.registry import selectors as registry_selectors
from huiqi.registry import services as registry_services

# code, name, English name, default department, days to accept, days to answer, keywords
CATEGORIES = [
    ("financing", "融资贷款", "Financing and loans", "FINANCE-SZ", 1, 5, "贷款 融资 续贷 利率 担保 银行 贴息"),
    ("employment", "用工社保", "Employment and social insurance", "HRSS-SZ", 1, 5,
     "用工 招工 社保 社会保险 返岗 稳岗 工资"),
    ("rent", "房租减免", "Rent", "HOUSING-SZ", 1, 5, "房租 租金 减免 物业 厂房"),
    ("tax", "税费减免", "Taxes and fees", "TAX-SZ", 1, 5, "税 发票 缓缴 减免 纳税 申报"),
    ("logistics", "物流供应链", "Logistics and supply chain", "TRANSPORT-SZ", 1, 3,
     "物流 运输 通行证 货车 原材料 供应链 复工"),
    ("supplies", "防疫物资", "Epidemic prevention supplies", "MIIT-SZ", 1, 3, "口罩 消毒 防护服 测温 熔喷布 物资"),
    ("policy", "政策咨询", "Policy questions", "SME-SZ", 1, 5, "政策 咨询 申报 条件 补贴 兑现"),
    ("permits", "审批许可", "Permits and approvals", "DATA-SZ", 1, 10, "审批 许可 证照 办证 备案 资质"),
    ("arrears", "账款拖欠", "Arrears owed to the enterprise", "SME-SZ", 1, 10, "拖欠 账款 欠款 工程款 货款"),
    ("other", "其他", "Other", "SME-SZ", 1, 5, ""),
]

TEMPLATE_TEXT = ("您好！您反映的问题已收悉。经核实，{answer}如仍有疑问，请致电 12345 或在本平台补充说明。"
                 "感谢您对我市惠企工作的支持。")
# The middle of each category's template: what the department usually does, to be completed by the handler.
TEMPLATE_ANSWERS = {
    "financing": "已协调贵司开户银行对接融资需求，（续贷、展期或新增贷款安排）。符合条件的新增贷款可按规定享受贷款贴息。",
    "employment": "（返岗、招工或社保减免、缓缴、稳岗补贴的办理方式）已告知贵司。",
    "rent": "贵司租用的物业（是否符合国有物业租金减免条件），（减免期限与办理方式）。",
    "tax": "贵司可通过电子税务局办理（延期缴纳、减免）事项，（相关优惠政策）已向贵司说明。",
    "logistics": "已为贵司（办理车辆通行证、协调原材料运输），请按指引办理。",
    "supplies": "已将贵司纳入防疫物资保障名单，（采购渠道与时间）。",
    "policy": "相关政策（适用范围、申报条件、办理渠道）如下：……",
    "permits": "已开通绿色通道，（许可事项）可网上办理，材料齐全即时受理。",
    "arrears": "已督促欠款单位（制定还款计划、支付首期款项），后续将持续跟进。",
    "other": "贵司的建议已转（相关部门）研究办理。",
}


def load() -> None:
    from django.utils.translation import gettext_lazy as _

    from huiqi.core import params
    from huiqi.core.i18n import stored
    from huiqi.core.workdays import seed_from_package

    from .models import Category, ResponseTemplate
    from .rules import DEFAULTS

    seed_from_package()
    registry_services.ensure_agency(HOTLINE_AGENCY, "市12345政务服务便民热线", "12345 Government Service Hotline")
    agencies = dict(registry_selectors.agencies().values_list("code", "id"))
    existing = set(Category.objects.values_list("code", flat=True))
    for order, (code, name, name_en, agency, accept, answer, keywords) in enumerate(CATEGORIES):
        if code in existing or agency not in agencies:
            continue
        cat = Category.objects.create(code=code, name=name, name_en=name_en, default_agency_id=agencies[agency],
                                      accept_days=accept, answer_days=answer, order=order, keywords=keywords)
        ResponseTemplate.objects.create(category=cat, title=f"{name} 通用答复",
                                        body=TEMPLATE_TEXT.format(answer=TEMPLATE_ANSWERS.get(code, "……")))
    params.ensure_default(PARAMS_KEY, "requests", dict(DEFAULTS), dt.date(2020, 1, 1),
                          description=stored(_("企业诉求参数（自动办结、临近期限、升级、附件限制）")))
