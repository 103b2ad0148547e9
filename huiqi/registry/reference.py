"""Reference data every installation starts with: Shenzhen's districts, the GB/T 4754-2017 industry
sections and divisions (with the groups the SME standard splits), the agencies and fund institutions
named in the seed. Loaded after every `huiqi migrate`; rows the bureau has edited are left alone."""

from __future__ import annotations

DISTRICTS = [
    ("440303", "罗湖区", "Luohu"), ("440304", "福田区", "Futian"), ("440305", "南山区", "Nanshan"),
    ("440306", "宝安区", "Bao'an"), ("440307", "龙岗区", "Longgang"), ("440308", "盐田区", "Yantian"),
    ("440309", "龙华区", "Longhua"), ("440310", "坪山区", "Pingshan"), ("440311", "光明区", "Guangming"),
    ("DP", "大鹏新区", "Dapeng New Area"), ("SS", "深汕特别合作区", "Shenshan Special Cooperation Zone"),
]

SECTIONS = {
    "A": ("农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    "B": ("采矿业", "Mining"),
    "C": ("制造业", "Manufacturing"),
    "D": ("电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water supply"),
    "E": ("建筑业", "Construction"),
    "F": ("批发和零售业", "Wholesale and retail trade"),
    "G": ("交通运输、仓储和邮政业", "Transport, storage and postal services"),
    "H": ("住宿和餐饮业", "Accommodation and catering"),
    "I": ("信息传输、软件和信息技术服务业", "Information transmission, software and IT services"),
    "J": ("金融业", "Finance"),
    "K": ("房地产业", "Real estate"),
    "L": ("租赁和商务服务业", "Leasing and business services"),
    "M": ("科学研究和技术服务业", "Scientific research and technical services"),
    "N": ("水利、环境和公共设施管理业", "Water, environment and public facilities management"),
    "O": ("居民服务、修理和其他服务业", "Resident, repair and other services"),
    "P": ("教育", "Education"),
    "Q": ("卫生和社会工作", "Health and social work"),
    "R": ("文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": ("公共管理、社会保障和社会组织", "Public administration, social security and social organisations"),
    "T": ("国际组织", "International organisations"),
}

DIVISIONS = {
    "A": ["农业", "林业", "畜牧业", "渔业", "农、林、牧、渔专业及辅助性活动"],
    "B": ["煤炭开采和洗选业", "石油和天然气开采业", "黑色金属矿采选业", "有色金属矿采选业", "非金属矿采选业",
          "开采专业及辅助性活动", "其他采矿业"],
    "C": ["农副食品加工业", "食品制造业", "酒、饮料和精制茶制造业", "烟草制品业", "纺织业", "纺织服装、服饰业",
          "皮革、毛皮、羽毛及其制品和制鞋业", "木材加工和木、竹、藤、棕、草制品业", "家具制造业", "造纸和纸制品业",
          "印刷和记录媒介复制业", "文教、工美、体育和娱乐用品制造业", "石油、煤炭及其他燃料加工业",
          "化学原料和化学制品制造业", "医药制造业", "化学纤维制造业", "橡胶和塑料制品业", "非金属矿物制品业",
          "黑色金属冶炼和压延加工业", "有色金属冶炼和压延加工业", "金属制品业", "通用设备制造业", "专用设备制造业",
          "汽车制造业", "铁路、船舶、航空航天和其他运输设备制造业", "电气机械和器材制造业",
          "计算机、通信和其他电子设备制造业", "仪器仪表制造业", "其他制造业", "废弃资源综合利用业",
          "金属制品、机械和设备修理业"],
    "D": ["电力、热力生产和供应业", "燃气生产和供应业", "水的生产和供应业"],
    "E": ["房屋建筑业", "土木工程建筑业", "建筑安装业", "建筑装饰、装修和其他建筑业"],
    "F": ["批发业", "零售业"],
    "G": ["铁路运输业", "道路运输业", "水上运输业", "航空运输业", "管道运输业", "多式联运和运输代理业",
          "装卸搬运和仓储业", "邮政业"],
    "H": ["住宿业", "餐饮业"],
    "I": ["电信、广播电视和卫星传输服务", "互联网和相关服务", "软件和信息技术服务业"],
    "J": ["货币金融服务", "资本市场服务", "保险业", "其他金融业"],
    "K": ["房地产业"],
    "L": ["租赁业", "商务服务业"],
    "M": ["研究和试验发展", "专业技术服务业", "科技推广和应用服务业"],
    "N": ["水利管理业", "生态保护和环境治理业", "公共设施管理业", "土地管理业"],
    "O": ["居民服务业", "机动车、电子产品和日用产品修理业", "其他服务业"],
    "P": ["教育"],
    "Q": ["卫生", "社会工作"],
    "R": ["新闻和出版业", "广播、电视、电影和录音制作业", "文化艺术业", "体育", "娱乐业"],
    "S": ["中国共产党机关", "国家机构", "人民政协、民主党派", "社会保障", "群众团体、社会团体和其他成员组织",
          "基层群众自治组织及其他组织"],
    "T": ["国际组织"],
}

# Groups (中类) of the two divisions the size standard splits; enterprises there carry the group code.
GROUPS = {
    "G59": [("G591", "装卸搬运"), ("G592", "通用仓储"), ("G593", "低温仓储"), ("G594", "危险品仓储"),
            ("G595", "谷物、棉花等农产品仓储"), ("G596", "中药材仓储"), ("G599", "其他仓储业")],
    "K70": [("K701", "房地产开发经营"), ("K702", "物业管理"), ("K703", "房地产中介服务"),
            ("K704", "房地产租赁经营"), ("K709", "其他房地产业")],
}

AGENCIES = [
    ("MIIT-SZ", "市工业和信息化局", "Municipal Bureau of Industry and Information Technology"),
    ("SME-SZ", "市中小企业服务局", "Municipal SME Service Bureau"),
    ("AMR-SZ", "市市场监管局", "Municipal Administration for Market Regulation"),
    ("HEALTH-SZ", "市卫健委", "Municipal Health Commission"),
    ("HRSS-SZ", "市人力资源和社会保障局", "Municipal Human Resources and Social Security Bureau"),
    ("COMMERCE-SZ", "市商务局", "Municipal Commerce Bureau"),
    ("EM-SZ", "市应急管理局", "Municipal Emergency Management Bureau"),
    ("DATA-SZ", "市政务服务数据管理局", "Municipal Government Services and Data Administration"),
    ("TAX-SZ", "市税务局", "Municipal Tax Service"),
    ("TRANSPORT-SZ", "市交通运输局", "Municipal Transport Bureau"),
    ("FINANCE-SZ", "市地方金融监管局", "Municipal Local Financial Supervision Bureau"),
    ("HOUSING-SZ", "市住房和建设局", "Municipal Housing and Construction Bureau"),
]

INSTITUTIONS = [
    ("SZHTI", "深圳市高新投集团有限公司（高新投）", "Shenzhen High-Tech Investment Group"),
    ("SZCGG", "深圳担保集团有限公司（担保集团）", "Shenzhen Guarantee Group"),
]


def industry_rows():
    """(code, name, name_en, level, section) for every section, division and split group."""
    from .rules import industry_group

    rows = []
    number = 0
    for section, (name, name_en) in SECTIONS.items():
        rows.append((section, name, name_en, "section", section, ""))
        for division_name in DIVISIONS[section]:
            number += 1
            code = f"{section}{number:02d}"
            if code in GROUPS:
                rows.append((code, division_name, name_en, "division", section, ""))
                for group_code, group_name in GROUPS[code]:
                    rows.append((group_code, group_name, name_en, "group", section, industry_group(group_code)))
            else:
                rows.append((code, division_name, name_en, "division", section, industry_group(code)))
    return rows


def load(verbosity: int = 0):
    """Create the reference rows that are missing; never overwrite edited ones."""
    from huiqi.core import params

    from .models import Agency, District, FundInstitution, Industry
    from .rules import DEFAULT_SIZE_STANDARD

    for order, (code, name, name_en) in enumerate(DISTRICTS):
        District.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en, "order": order})
    existing = set(Industry.objects.values_list("code", flat=True))
    Industry.objects.bulk_create(
        [Industry(code=c, name=n, name_en=e, level=lv, section=s, size_group=g)
         for c, n, e, lv, s, g in industry_rows() if c not in existing]
    )
    for code, name, name_en in AGENCIES:
        Agency.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
    for code, name, name_en in INSTITUTIONS:
        FundInstitution.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
    import datetime as dt

    from django.utils.translation import gettext_lazy as _

    from huiqi.core.i18n import stored

    params.ensure_default(
        "registry.size_standard", "registry", DEFAULT_SIZE_STANDARD, dt.date(2011, 6, 18),
        description=stored(_("中小企业划型标准（工信部联企业〔2011〕300号）")),
    )
