"""A deterministic synthetic Shenzhen for demonstrations and load tests: `huiqi demo`.

Two parts:

* ``generate(scale, seed, …)`` is pure: from a seed it produces plain rows (enterprises, business
  owners, banks, demo users) with valid identifiers and size classes. Same seed and same reference
  data → identical rows, USCCs and names included. Every draw comes from one ``random.Random(seed)``.
* ``write(data)`` stores them with ``bulk_create`` in one transaction and one batch-level audit record
  (the demo users are created through ``accounts.services.create_user``, each audited as usual).

``build_demo(scale, seed)`` does both, and refuses (``DemoDataExists``) when the database already holds
registry data: demo data is never merged into, or rebuilt over, existing data (audit records refer to
users and are append-only, so nothing is deleted). To rebuild, delete the data folder or database.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from huiqi.core.errors import AlreadyBuilt
from huiqi.core.i18n import Message
from huiqi.core.identifiers import generate_resident_id, generate_uscc

SCALES = {"small": 2_000, "city": 76_500}
FIGURES_YEAR = 2019
BATCH_SIZE = 2_000
# The pool's seed figures are "as at 2020-04-30": every bank signed and onboarded by then.
POOL_REPORT_DATE = dt.date(2020, 4, 30)

ENTERPRISE = "enterprise"
INDIVIDUAL = "individual_business"

# --- places ------------------------------------------------------------------------------------

DISTRICT_NAMES = {
    "440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区", "440307": "龙岗区",
    "440308": "盐田区", "440309": "龙华区", "440310": "坪山区", "440311": "光明区", "DP": "大鹏新区",
    "SS": "深汕特别合作区",
}
DISTRICT_WEIGHTS = {
    "440306": 18, "440307": 16, "440305": 14, "440309": 12, "440304": 12, "440303": 7, "440311": 6,
    "440310": 5, "440308": 3, "DP": 1.5, "SS": 1,
}
# 街道 (sub-districts) used to tell individual businesses of the same family name apart.
STREETS = {
    "440303": ["桂园", "黄贝", "东门", "翠竹", "笋岗", "南湖", "莲塘", "东晓", "清水河", "东湖"],
    "440304": ["园岭", "南园", "福田", "沙头", "香蜜湖", "梅林", "莲花", "华富", "福保", "华强北"],
    "440305": ["南头", "南山", "沙河", "蛇口", "招商", "粤海", "桃源", "西丽"],
    "440306": ["新安", "西乡", "航城", "福永", "福海", "沙井", "新桥", "松岗", "燕罗", "石岩"],
    "440307": ["平湖", "坂田", "布吉", "吉华", "南湾", "横岗", "龙城", "龙岗", "坪地", "宝龙", "园山"],
    "440308": ["沙头角", "梅沙", "盐田", "海山"],
    "440309": ["观湖", "民治", "龙华", "大浪", "福城", "观澜"],
    "440310": ["坪山", "马峦", "碧岭", "石井", "坑梓", "龙田"],
    "440311": ["公明", "新湖", "凤凰", "玉塘", "光明", "马田"],
    "DP": ["葵涌", "大鹏", "南澳"],
    "SS": ["鹅埠", "小漠", "鲘门", "赤石"],
}

# Address codes (GB/T 2260) of business owners' ID numbers: Shenzhen's districts, then where many of
# the city's small-business owners come from.
SHENZHEN_ADDRESS_CODES = ["440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310",
                          "440311"]
OTHER_ADDRESS_CODES = [
    "440513", "440514", "445202", "445221", "441502", "441581", "441402", "441424", "440802", "440981",
    "445102", "441302", "440106", "430102", "430124", "430421", "430521", "431021", "431121", "450102",
    "450921", "450881", "360102", "360731", "360782", "421023", "420102", "510104", "511602", "410102",
    "411524", "350582", "350628", "340102", "362401", "522121", "810000", "830000",
]

# --- names -------------------------------------------------------------------------------------

# Characters and syllables Shenzhen firms use in their 字号 (trade names).
TRADE_CHARS = (
    "华鑫创达瑞科盛博海汇联宏安信智恒景润丰泰源昌隆兴旺发祥福佳美嘉和立新宇晟弘泓峰锐捷"
    "启航远拓展卓越鹏程腾云飞扬骏骐麒麟凯亿万通宝利众诚德正浩天成元晶灵光明辉耀星辰阳晨"
    "新世纪金银铭铂铖钧鸿鹄永久长庆惠康健乐思维睿哲贤英杰豪俊彦锦绣秀雅优品尚高易迅捷讯"
    "微芯硅磐石岩山川江河湖泽洋波涛澜深湾蓝青绿翠松柏竹梅兰菊桂榕桐杉林森茂荣华彩虹霞"
)

# Industry words by industry code: what comes between the trade name and 有限公司.
INDUSTRY_WORDS = {
    "A01": ["农业科技", "生态农业", "种植"], "A02": ["林业发展"], "A03": ["畜牧", "养殖"],
    "A04": ["水产", "渔业"], "A05": ["农业技术服务", "农业服务"],
    "B06": ["能源"], "B07": ["油气"], "B08": ["矿业"], "B09": ["矿业"], "B10": ["石材", "矿业"],
    "B11": ["油田技术服务", "海洋石油服务"], "B12": ["矿业发展"],
    "C13": ["食品", "粮油"], "C14": ["食品", "烘焙食品"], "C15": ["饮品", "茶业", "酒业"],
    "C16": ["烟草"], "C17": ["纺织"], "C18": ["服装", "服饰"], "C19": ["鞋业", "皮具"], "C20": ["木业"],
    "C21": ["家具"], "C22": ["纸业", "包装材料"], "C23": ["印刷", "彩印"],
    "C24": ["文体用品", "工艺品", "玩具"], "C25": ["能源科技"], "C26": ["化工", "新材料"],
    "C27": ["医药", "生物医药", "药业"], "C28": ["化纤"], "C29": ["塑胶制品", "橡塑", "塑胶五金"],
    "C30": ["玻璃", "陶瓷", "建材"], "C31": ["钢铁"], "C32": ["金属材料", "有色金属"],
    "C33": ["五金制品", "金属制品", "精密五金"], "C34": ["机械设备", "精密机械", "精密制造", "自动化设备"],
    "C35": ["智能装备", "医疗器械", "专用设备"], "C36": ["汽车零部件", "新能源汽车科技"],
    "C37": ["航空科技", "船舶"], "C38": ["电气", "电器", "照明", "电池", "新能源"],
    "C39": ["电子科技", "电子", "通讯技术", "光电", "精密电子", "智能科技"],
    "C40": ["仪器仪表", "测控技术", "检测设备"], "C41": ["实业", "制品"], "C42": ["再生资源", "环保科技"],
    "C43": ["设备维修", "机电维修"],
    "D44": ["电力", "新能源"], "D45": ["燃气"], "D46": ["水务"],
    "E47": ["建筑工程", "建设工程"], "E48": ["市政工程", "土木工程", "路桥工程"],
    "E49": ["机电安装工程", "安装工程"], "E50": ["装饰工程", "建筑装饰设计工程"],
    "F51": ["商贸", "贸易", "供应链", "进出口", "国际贸易"],
    "F52": ["便利店", "超市", "百货", "商业连锁", "电子商务", "药房"],
    "G53": ["铁路运输"], "G54": ["物流", "运输", "货运"], "G55": ["船务", "航运"], "G56": ["航空"],
    "G57": ["管道运输"], "G58": ["国际货运代理", "供应链管理", "物流"],
    "G591": ["装卸搬运服务", "搬运"], "G592": ["仓储", "仓储服务"], "G593": ["冷链物流", "冷链仓储"],
    "G594": ["危险品仓储"], "G595": ["农产品仓储"], "G596": ["中药材仓储"], "G599": ["仓储管理"],
    "G60": ["快递", "速递"],
    "H61": ["酒店", "酒店管理", "公寓管理"], "H62": ["餐饮管理", "餐饮", "饮食文化", "餐饮服务"],
    "I63": ["通信", "网络通信"], "I64": ["网络科技", "互联网科技", "信息科技"],
    "I65": ["软件技术", "软件", "信息技术", "计算机系统", "数据科技"],
    "J66": ["小额贷款"], "J67": ["基金管理", "资产管理"], "J68": ["保险代理", "保险经纪"],
    "J69": ["融资租赁", "商业保理"],
    "K701": ["房地产开发", "置业", "房地产"], "K702": ["物业管理", "物业服务"],
    "K703": ["房地产经纪", "房地产顾问"], "K704": ["房屋租赁", "不动产管理"], "K709": ["房地产服务"],
    "L71": ["设备租赁", "汽车租赁", "租赁"],
    "L72": ["企业管理咨询", "商务服务", "人力资源", "广告", "会展服务", "企业管理", "品牌管理", "知识产权代理"],
    "M73": ["技术研究", "生物科技"], "M74": ["工程设计", "检测技术", "工程技术", "测绘"],
    "M75": ["科技", "技术服务", "技术开发", "新能源科技"],
    "N76": ["水利管理"], "N77": ["环保科技", "环境工程", "环境技术"], "N78": ["市政管理", "园林绿化"],
    "N79": ["土地整理"],
    "O80": ["家政服务", "洗涤服务", "美容美发"], "O81": ["汽车维修", "电器维修", "维修服务"],
    "O82": ["清洁服务", "宠物服务"],
    "P83": ["教育科技", "培训", "教育咨询"], "Q84": ["医疗", "健康管理"], "Q85": ["养老服务"],
    "R86": ["文化传播", "出版"], "R87": ["影视传媒", "文化传媒"], "R88": ["文化发展", "文化艺术"],
    "R89": ["体育发展", "体育文化"], "R90": ["娱乐", "文化娱乐"],
}
SECTION_WORDS = {"S": ["社会服务"], "T": ["国际合作"]}

# Relative weights of industries among enterprises (USCC 91): Shenzhen's economy leans to electronics,
# electrical machinery, general and special equipment, plastics, trade, software and business services.
ENTERPRISE_INDUSTRY_WEIGHTS = {
    "C39": 40, "C38": 15, "C34": 10, "C35": 10, "C29": 8, "C33": 7, "C40": 5, "C26": 3, "C27": 3,
    "C18": 4, "C24": 4, "C23": 3, "C30": 2, "C22": 2, "C21": 2, "C19": 1.5, "C17": 1, "C13": 1, "C14": 1.5,
    "C15": 0.5, "C36": 2, "C37": 1, "C32": 1, "C31": 0.3, "C41": 1.5, "C42": 0.8, "C43": 0.8, "C25": 0.2,
    "C20": 0.5, "C28": 0.2, "C16": 0,
    "F51": 60, "F52": 30, "I65": 35, "I64": 10, "I63": 2, "L72": 30, "L71": 4,
    "M73": 5, "M74": 10, "M75": 14, "H62": 14, "H61": 4,
    "E47": 4, "E48": 4, "E49": 4, "E50": 8,
    "G54": 8, "G58": 8, "G55": 1, "G56": 0.2, "G60": 1.5, "G53": 0, "G57": 0,
    "G591": 1, "G592": 2, "G593": 1, "G594": 0.3, "G595": 0.1, "G596": 0.1, "G599": 0.5,
    "K701": 2.5, "K702": 4, "K703": 3, "K704": 1.5, "K709": 0.5,
    "J66": 0.4, "J67": 2, "J68": 0.8, "J69": 2,
    "O80": 3, "O81": 3, "O82": 2, "P83": 3, "Q84": 1.5, "Q85": 0.5,
    "R86": 1, "R87": 2, "R88": 2, "R89": 1, "R90": 1,
    "N77": 2, "N78": 1, "N76": 0.1, "N79": 0,
    "A01": 0.5, "A02": 0.1, "A03": 0.2, "A04": 0.3, "A05": 0.3,
    "B06": 0, "B07": 0.1, "B08": 0, "B09": 0, "B10": 0.05, "B11": 0.2, "B12": 0,
    "D44": 0.8, "D45": 0.2, "D46": 0.2,
}
# Sections with no registered enterprises or individual businesses: public administration, party
# organs and social organisations (S, codes 51…/1… not 91…) and international organisations (T).
SECTION_DEFAULT_WEIGHT = {"S": 0, "T": 0}
DEFAULT_INDUSTRY_WEIGHT = 0.2

# Individual businesses (个体工商户, USCC 92): shop words by industry and their weights.
INDIVIDUAL_SHOPS = {
    "F52": (35, ["便利店", "商店", "百货店", "五金店", "水果店", "烟酒店", "服装店", "日用品店", "士多店",
                 "文具店", "手机店", "茶叶店", "粮油店", "副食店"]),
    "H62": (30, ["餐饮店", "小吃店", "面馆", "粥店", "快餐店", "茶餐厅", "烧腊店", "早餐店", "火锅店",
                 "饮品店", "肠粉店", "牛肉店"]),
    "O80": (10, ["理发店", "美发店", "洗衣店", "家政服务部", "足浴店", "摄影部"]),
    "O81": (8, ["汽车维修部", "电器维修部", "手机维修店", "修理部", "单车维修店"]),
    "F51": (6, ["商行", "批发部", "贸易商行", "建材商行", "电子商行"]),
    "H61": (3, ["旅馆", "家庭旅馆", "公寓"]),
    "G54": (3, ["货运部", "搬家服务部"]),
    "L72": (3, ["广告部", "图文设计部", "打印店"]),
    "C14": (1, ["糕点坊", "食品加工坊"]),
    "A01": (0.7, ["种植场", "农场"]),
    "Q84": (0.8, ["诊所", "中医诊所"]),
}
SHOP_STYLES = ["记", "记", "氏", "家"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程"
    "魏苏吕丁任沈姚卢钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾"
    "龚邵万覃武钱戴严莫孔向常汤康易乔赖文庄欧温"
)
# Rough frequency: the first surnames are far more common.
SURNAME_WEIGHTS = [max(1.0, 12.0 - i * 0.25) for i in range(len(SURNAMES))]
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红玲飞鹏辉建国志文斌宇浩凯健俊帆"
    "帅旭宁亮林峰婷雪琳晶欣怡佳慧颖倩琪梦晨阳鑫思远海波清宏东晓春燕云龙彬振永嘉泽锋小丹"
)

SIZE_CLASSES = ("large", "medium", "small", "micro", "unknown")
ENTERPRISE_SIZE_WEIGHTS = {"micro": 52, "small": 33, "medium": 10.5, "large": 1.5, "unknown": 3}
INDIVIDUAL_SIZE_WEIGHTS = {"micro": 84, "small": 13, "unknown": 3}
INDIVIDUAL_SHARE = 0.12
OWNER_SHARE_ENTERPRISE = 0.30  # of micro and small enterprises
OWNER_SHARE_INDIVIDUAL = 0.90
KEY_SHARE = {"large": 0.40, "medium": 0.03, "small": 0.002}

# Bands of a figure when the size standard says nothing about it (employees; 万元 for money).
DEFAULT_BANDS = {
    "employees": {"micro": (1, 10), "small": (10, 100), "medium": (100, 300), "large": (300, 3000)},
    "revenue": {"micro": (5, 300), "small": (300, 2000), "medium": (2000, 40000), "large": (40000, 400000)},
    "assets": {"micro": (5, 300), "small": (300, 5000), "medium": (5000, 40000), "large": (40000, 400000)},
}
CLASS_ORDER = ("micro", "small", "medium", "large")

# --- banks and users ---------------------------------------------------------------------------

BANKS = [
    ("ICBC-SZ", "中国工商银行深圳市分行"), ("ABC-SZ", "中国农业银行深圳市分行"), ("BOC-SZ", "中国银行深圳市分行"),
    ("CCB-SZ", "中国建设银行深圳市分行"), ("BOCOM-SZ", "交通银行深圳分行"), ("CMB-SZ", "招商银行深圳分行"),
    ("PAB-SZ", "平安银行深圳分行"), ("CITIC-SZ", "中信银行深圳分行"), ("SPDB-SZ", "浦发银行深圳分行"),
    ("CIB-SZ", "兴业银行深圳分行"), ("CMBC-SZ", "民生银行深圳分行"), ("CEB-SZ", "光大银行深圳分行"),
    ("HXB-SZ", "华夏银行深圳分行"), ("CGB-SZ", "广发银行深圳分行"), ("BOB-SZ", "北京银行深圳分行"),
    ("NBCB-SZ", "宁波银行深圳分行"), ("BOSC-SZ", "上海银行深圳分行"), ("JSB-SZ", "江苏银行深圳分行"),
    ("HZB-SZ", "杭州银行深圳分行"), ("CBHB-SZ", "渤海银行深圳分行"), ("CZB-SZ", "浙商银行深圳分行"),
    ("PSBC-SZ", "中国邮政储蓄银行深圳分行"), ("SZRCB", "深圳农村商业银行"), ("WEBANK", "深圳前海微众银行"),
    ("CRB-SZ", "珠海华润银行深圳分行"), ("DGB-SZ", "东莞银行深圳分行"), ("GZB-SZ", "广州银行深圳分行"),
    ("GDNY-SZ", "广东南粤银行深圳分行"), ("GHB-SZ", "广东华兴银行深圳分行"), ("FUBON-SZ", "富邦华一银行深圳分行"),
    ("HSBC-SZ", "汇丰银行（中国）深圳分行"), ("SCB-SZ", "渣打银行（中国）深圳分行"),
    ("DBS-SZ", "星展银行（中国）深圳分行"), ("BEA-SZ", "东亚银行（中国）深圳分行"),
    ("HASE-SZ", "恒生银行（中国）深圳分行"), ("UOB-SZ", "大华银行（中国）深圳分行"),
    ("OCBC-SZ", "华侨永亨银行（中国）深圳分行"), ("CITI-SZ", "花旗银行（中国）深圳分行"),
    ("NCB-SZ", "南洋商业银行（中国）深圳分行"), ("CMBWL-SZ", "招商永隆银行深圳分行"),
    ("CDB-SZ", "国家开发银行深圳市分行"), ("CEXIM-SZ", "中国进出口银行深圳分行"),
]
BANKS_ONBOARDED = 35  # of the 42 signed, as at 2020-04-30
FIRST_BANK = "ICBC-SZ"
SECOND_BANK = "CMB-SZ"

# username, role, display name, organisation (code), enterprises (indexes of the demo's first rows)
DEMO_USERS = [
    ("enterprise", "enterprise", "企业经办人 陈晓东", None, (0, 1)),
    ("enterprise2", "enterprise", "企业经办人 林佳怡", None, (2,)),
    ("district_ns", "district", "南山区复工专班 王芳", "440305", ()),
    ("district_ft", "district", "福田区复工专班 李强", "440304", ()),
    ("handler", "department", "市中小企业服务局 张伟", "SME-SZ", ()),
    # Three people of the bureau: a subsidy batch is run, reviewed and approved by three different ones.
    ("bureau", "bureau", "市工业和信息化局 刘洋", None, ()),
    ("bureau2", "bureau", "市工业和信息化局 马丽（复核）", None, ()),
    ("bureau3", "bureau", "市工业和信息化局 杨帆（审批）", None, ()),
    ("bank", "bank", "工商银行深圳市分行 黄静", FIRST_BANK, ()),
    ("bank2", "bank", "招商银行深圳分行 周敏", SECOND_BANK, ()),
    ("institution", "institution", "高新投 吴磊", "SZHTI", ()),
    ("auditor", "auditor", "审计人员 郑华", None, ()),
    ("admin", "admin", "系统管理员 赵敏", None, ()),
]
DEMO_USERNAMES = tuple(u[0] for u in DEMO_USERS)
# The first rows are fixed so the demo log-ins have the enterprises they need.
USER_ENTERPRISES = [
    {"kind": ENTERPRISE, "district": "440305", "industry": "C39", "size": "medium"},
    {"kind": ENTERPRISE, "district": "440305", "industry": "I65", "size": "small"},
    {"kind": ENTERPRISE, "district": "440304", "industry": "F51", "size": "small"},
]


class DemoDataExists(AlreadyBuilt):
    """The database already holds registry data; the demo is only ever built into an empty one."""

    stop = True


# --- plain rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnterpriseRow:
    uscc: str
    name: str
    kind: str
    district: str
    industry: str
    employees: int | None
    revenue_fen: int | None
    assets_fen: int | None
    size_class: str
    size_missing: str
    is_key_enterprise: bool


@dataclass(frozen=True)
class OwnerRow:
    resident_id: str
    name: str
    owns: tuple[int, ...]  # indexes into DemoData.enterprises


@dataclass(frozen=True)
class BankRow:
    code: str
    name: str
    signed_date: dt.date
    onboarded_date: dt.date | None


@dataclass(frozen=True)
class UserRow:
    username: str
    role: str
    display_name: str
    organisation: str | None  # district / agency / bank / institution code, by role
    enterprises: tuple[int, ...]  # indexes into DemoData.enterprises


@dataclass
class DemoData:
    scale: str
    seed: int
    figures_year: int
    enterprises: list[EnterpriseRow] = field(default_factory=list)
    owners: list[OwnerRow] = field(default_factory=list)
    banks: list[BankRow] = field(default_factory=list)
    users: list[UserRow] = field(default_factory=list)

    def counts(self) -> dict:
        sizes = dict.fromkeys(SIZE_CLASSES, 0)
        kinds = {ENTERPRISE: 0, INDIVIDUAL: 0}
        for e in self.enterprises:
            sizes[e.size_class] += 1
            kinds[e.kind] += 1
        return {
            "enterprises": len(self.enterprises),
            "companies": kinds[ENTERPRISE],
            "individual_businesses": kinds[INDIVIDUAL],
            "sizes": sizes,
            "key_enterprises": sum(e.is_key_enterprise for e in self.enterprises),
            "owners": len(self.owners),
            "owner_links": sum(len(o.owns) for o in self.owners),
            "banks": len(self.banks),
            "banks_onboarded": sum(b.onboarded_date is not None for b in self.banks),
            "users": len(self.users),
            "districts": len({e.district for e in self.enterprises}),
            "sections": len({e.industry[0] for e in self.enterprises}),
        }


class _Weighted:
    """A fixed weighted choice that consumes exactly one ``rng.random()`` per draw."""

    def __init__(self, weights: dict):
        items = [(k, w) for k, w in weights.items() if w > 0]
        self.keys = [k for k, _ in items]
        self.cum = list(itertools.accumulate(w for _, w in items))
        self.total = self.cum[-1]

    def draw(self, rng: random.Random):
        return self.keys[bisect.bisect_right(self.cum, rng.random() * self.total)]


def _default_industries():
    from .models import Industry
    from .reference import industry_rows

    return [Industry(code=c, name=n, name_en=e, level=lv, section=s, size_group=g)
            for c, n, e, lv, s, g in industry_rows()]


def _eligible(industries) -> dict:
    """Industries an enterprise may carry: divisions, or groups where the standard splits the division."""
    from .reference import GROUPS

    return {i.code: i for i in sorted(industries, key=lambda i: i.code)
            if i.level in ("division", "group") and i.code not in GROUPS}


def _group_of(industry) -> str:
    from .rules import industry_group

    return industry.size_group or industry_group(industry.code)


def _industry_weight(code: str) -> float:
    if code in ENTERPRISE_INDUSTRY_WEIGHTS:
        return ENTERPRISE_INDUSTRY_WEIGHTS[code]
    return SECTION_DEFAULT_WEIGHT.get(code[0], DEFAULT_INDUSTRY_WEIGHT)


class _Generator:
    def __init__(self, scale: str, seed: int, industries, standard, progress):
        from . import rules

        if scale not in SCALES:
            raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale!r}")
        self.scale, self.seed = scale, seed
        self.n = SCALES[scale]
        self.rng = random.Random(seed)
        self.industries = _eligible(industries if industries is not None else _default_industries())
        self.standard = standard if standard is not None else rules.DEFAULT_SIZE_STANDARD
        self.progress = progress
        self.groups = {code: _group_of(ind) for code, ind in self.industries.items()}
        self.bands = {g: self._bands_for(g) for g in set(self.groups.values())}

        weights = {c: _industry_weight(c) for c in self.industries}
        self.enterprise_industry = _Weighted(weights)
        self.individual_industry = _Weighted(
            {c: w for c, (w, _) in INDIVIDUAL_SHOPS.items() if c in self.industries})
        self.district = _Weighted(DISTRICT_WEIGHTS)
        self.enterprise_size = _Weighted(ENTERPRISE_SIZE_WEIGHTS)
        self.individual_size = _Weighted(INDIVIDUAL_SIZE_WEIGHTS)
        self.surname = _Weighted(dict(zip(SURNAMES, SURNAME_WEIGHTS)))
        self.unknown_base = _Weighted({"micro": 50, "small": 35, "medium": 15})
        self.owner_address = _Weighted({**{c: 4 for c in SHENZHEN_ADDRESS_CODES},
                                        **{c: 1 for c in OTHER_ADDRESS_CODES}})
        # Coverage: one enterprise per section and per size-standard group, in every district,
        # of every size class, before the weighted draws take over.
        best: dict[str, tuple[float, str]] = {}
        for code in self.industries:
            w = weights[code]
            if w <= 0:
                continue
            for key in (code[0], "group:" + self.groups[code]):
                if key not in best or w > best[key][0]:
                    best[key] = (w, code)
        cover_codes = list(dict.fromkeys(code for _, code in best.values()))
        self.forced = [dict(spec) for spec in USER_ENTERPRISES if spec["industry"] in self.industries]
        self.forced += [{"district": d} for d in DISTRICT_WEIGHTS]
        self.forced += [{"kind": ENTERPRISE, "industry": c} for c in cover_codes]
        self.forced += [{"kind": ENTERPRISE, "size": s} for s in SIZE_CLASSES]
        self.forced += [{"kind": INDIVIDUAL}, {"kind": INDIVIDUAL, "size": "small"}]

        self.usccs: set[str] = set()
        self.names: set[str] = set()
        self.resident_ids: set[str] = set()

    # figures ---------------------------------------------------------------------------------

    def _bands_for(self, group: str) -> dict:
        """{figure: {class: (lo, hi)}}: values in the band of every constrained figure give that class."""
        parts = self.standard.get(group, {})
        limits: dict[str, dict[str, float]] = {}
        for part, level in (("small", "S"), ("medium", "M"), ("sme_if", "L")):
            for figure, limit in parts.get(part, []):
                limits.setdefault(figure, {})[level] = float(limit)
        bands = {}
        for figure, default in DEFAULT_BANDS.items():
            lim = limits.get(figure)
            if not lim or not {"S", "M", "L"} <= lim.keys():
                bands[figure] = dict(default)
                continue
            s, m, big = lim["S"], lim["M"], lim["L"]
            floor = 1 if figure == "employees" else 0
            bands[figure] = {
                "micro": (max(floor, s / (10 if figure == "employees" else 30)), s),
                "small": (s, m), "medium": (m, big), "large": (big, big * 4),
            }
        return {"bands": bands, "constrained": sorted(limits)}

    def _draw(self, figure: str, lo: float, hi: float):
        rng = self.rng
        if figure == "employees":
            lo_i, hi_i = max(1, int(-(-lo // 1))), max(1, int(-(-hi // 1)) - 1)  # [ceil(lo), ceil(hi) - 1]
            if hi_i <= lo_i:
                return lo_i
            value = int(lo_i * (hi_i / lo_i) ** rng.random())
            return min(max(value, lo_i), hi_i)
        # money: whole yuan, as fen; log-uniform over [lo, hi) 万元
        lo_y, hi_y = max(1, int(-(-lo * 10_000 // 1))), max(1, int(hi * 10_000) - 1)
        if hi_y <= lo_y:
            return lo_y * 100
        value = int(lo_y * (hi_y / lo_y) ** rng.random())
        return min(max(value, lo_y), hi_y) * 100

    def figures(self, group: str, target: str) -> dict:
        spec = self.bands[group]
        bands, constrained = spec["bands"], spec["constrained"]
        classes = {f: target for f in bands}
        # Variety: with two or more deciding figures, one may sit a band higher without changing the
        # class (the class needs every medium/small threshold met, and any SME condition).
        if target != "large" and len(constrained) >= 2 and self.rng.random() < 0.3:
            bump = constrained[int(self.rng.random() * len(constrained))]
            classes[bump] = CLASS_ORDER[CLASS_ORDER.index(target) + 1]
        return {
            "employees": self._draw("employees", *bands["employees"][classes["employees"]]),
            "revenue_fen": self._draw("revenue", *bands["revenue"][classes["revenue"]]),
            "assets_fen": self._draw("assets", *bands["assets"][classes["assets"]]),
        }

    def classify(self, industry, fig: dict):
        from .services import classify

        return classify(industry, fig["employees"], fig["revenue_fen"], fig["assets_fen"], FIGURES_YEAR,
                        self.standard, explain=False)

    def figures_and_class(self, industry, target: str):
        group = self.groups[industry.code]
        if target != "unknown":
            fig = self.figures(group, target)
            return fig, self.classify(industry, fig)
        fig = self.figures(group, self.unknown_base.draw(self.rng))
        constrained = list(self.bands[group]["constrained"]) or ["employees", "revenue_fen", "assets_fen"]
        self.rng.shuffle(constrained)
        key = {"employees": "employees", "revenue": "revenue_fen", "assets": "assets_fen"}
        for figure in constrained:
            trial = dict(fig, **{key.get(figure, figure): None})
            result = self.classify(industry, trial)
            if result.size_class == "unknown":
                return trial, result
        trial = dict(fig, **{key.get(f, f): None for f in constrained})
        return trial, self.classify(industry, trial)

    # names and identifiers -------------------------------------------------------------------

    def person_name(self) -> str:
        rng = self.rng
        given = GIVEN_CHARS[int(rng.random() * len(GIVEN_CHARS))]
        if rng.random() < 0.7:
            given += GIVEN_CHARS[int(rng.random() * len(GIVEN_CHARS))]
        return self.surname.draw(rng) + given

    def trade_name(self, length: int) -> str:
        rng = self.rng
        chars = []
        while len(chars) < length:
            ch = TRADE_CHARS[int(rng.random() * len(TRADE_CHARS))]
            if ch not in chars:
                chars.append(ch)
        return "".join(chars)

    def enterprise_name(self, code: str, size_class: str) -> str:
        rng = self.rng
        words = INDUSTRY_WORDS.get(code) or SECTION_WORDS.get(code[0]) or ["实业"]
        form = "股份有限公司" if size_class in ("large", "medium") and rng.random() < 0.2 else "有限公司"
        city = "深圳" if rng.random() < 0.05 else "深圳市"
        for attempt in range(60):
            trade = self.trade_name(3 if attempt >= 30 or rng.random() < 0.1 else 2)
            name = f"{city}{trade}{words[int(rng.random() * len(words))]}{form}"
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("could not find a unique enterprise name")  # pragma: no cover

    def shop_name(self, district: str, code: str, surname: str, given: str) -> str:
        rng = self.rng
        shops = INDIVIDUAL_SHOPS[code][1]
        area = DISTRICT_NAMES[district]
        streets = STREETS[district]
        for attempt in range(40):
            shop = shops[int(rng.random() * len(shops))]
            style = SHOP_STYLES[int(rng.random() * len(SHOP_STYLES))]
            who = f"阿{given[-1]}" if rng.random() < 0.1 else surname + style
            street = streets[int(rng.random() * len(streets))] if attempt >= 3 or rng.random() < 0.3 else ""
            name = f"{area}{street}{who}{shop}"
            if name not in self.names:
                self.names.add(name)
                return name
        for n in itertools.count(2):  # pragma: no cover - only when every combination is taken
            name = f"{area}{streets[0]}{surname}记{shops[0]}（{n}店）"
            if name not in self.names:
                self.names.add(name)
                return name

    def uscc(self, kind: str, district: str) -> str:
        rng = self.rng
        division = district if district.startswith("4403") and rng.random() < 0.15 else "440300"
        while True:
            code = generate_uscc(rng, kind=kind, division=division)
            if code not in self.usccs:
                self.usccs.add(code)
                return code

    def resident_id(self, district: str) -> str:
        rng = self.rng
        if district.startswith("4403") and rng.random() < 0.2:
            address = district
        else:
            address = self.owner_address.draw(rng)
        while True:
            rid = generate_resident_id(rng, (1960, 1998), address)
            if rid not in self.resident_ids:
                self.resident_ids.add(rid)
                return rid

    # the whole city --------------------------------------------------------------------------

    def run(self) -> DemoData:
        rng = self.rng
        data = DemoData(self.scale, self.seed, FIGURES_YEAR)
        owner_eligible: list[int] = []
        owners: list[tuple[str, str, list[int]]] = []
        step = max(1, self.n // 20)
        for i in range(self.n):
            spec = self.forced[i] if i < len(self.forced) else {}
            kind = spec.get("kind") or (INDIVIDUAL if rng.random() < INDIVIDUAL_SHARE else ENTERPRISE)
            district = spec.get("district") or self.district.draw(rng)
            if spec.get("industry"):
                code = spec["industry"]
            elif kind == INDIVIDUAL:
                code = self.individual_industry.draw(rng)
            else:
                code = self.enterprise_industry.draw(rng)
            industry = self.industries[code]
            target = spec.get("size") or (self.individual_size if kind == INDIVIDUAL
                                          else self.enterprise_size).draw(rng)
            fig, result = self.figures_and_class(industry, target)
            size_class = result.size_class
            owner = None
            if kind == INDIVIDUAL:
                owner_name = self.person_name()
                if rng.random() < OWNER_SHARE_INDIVIDUAL:
                    owner = (self.resident_id(district), owner_name, [i])
                name = self.shop_name(district, code, owner_name[0], owner_name[1:])
            else:
                name = self.enterprise_name(code, size_class)
                if size_class in ("micro", "small") and rng.random() < OWNER_SHARE_ENTERPRISE:
                    owner = (self.resident_id(district), self.person_name(), [i])
            if owner is not None:
                # A few owners own a second business too.
                if owner_eligible and rng.random() < 0.06:
                    other = owner_eligible[int(rng.random() * len(owner_eligible))]
                    owner[2].insert(0, other)
                owners.append(owner)
            if size_class in ("micro", "small"):
                owner_eligible.append(i)
            is_key = kind == ENTERPRISE and rng.random() < KEY_SHARE.get(size_class, 0)
            data.enterprises.append(EnterpriseRow(
                uscc=self.uscc(kind, district), name=name, kind=kind, district=district, industry=code,
                employees=fig["employees"], revenue_fen=fig["revenue_fen"], assets_fen=fig["assets_fen"],
                size_class=size_class, size_missing=",".join(result.missing), is_key_enterprise=is_key,
            ))
            if self.progress and (i + 1) % step == 0:
                self.progress(i + 1, 3 * self.n, "生成企业 generating enterprises")
        data.owners = [OwnerRow(rid, name, tuple(owns)) for rid, name, owns in owners]
        data.banks = self.banks()
        data.users = [UserRow(u, role, display, org, ents) for u, role, display, org, ents in DEMO_USERS]
        return data

    def banks(self) -> list[BankRow]:
        rng = self.rng
        keep = {FIRST_BANK, SECOND_BANK}
        candidates = [code for code, _ in BANKS if code not in keep]
        not_onboarded = set(rng.sample(candidates, len(BANKS) - BANKS_ONBOARDED))
        rows = []
        for code, name in BANKS:
            signed = dt.date(2019, 1, 2) + dt.timedelta(days=int(rng.random() * 360))
            onboarded = None
            if code not in not_onboarded:
                span = (POOL_REPORT_DATE - signed).days
                onboarded = signed + dt.timedelta(days=min(span, 10 + int(rng.random() * 120)))
            rows.append(BankRow(code, name, signed, onboarded))
        return rows


def generate(scale: str = "small", seed: int = 2020, *, industries=None, standard=None,
             progress=None) -> DemoData:
    """The demo city as plain rows, from ``seed`` alone: no database access, no clock.

    ``industries`` are Industry rows (default: the reference classification, unsaved); ``standard``
    is the size standard (default: ``rules.DEFAULT_SIZE_STANDARD``). Size classes are computed with
    ``services.classify`` from the drawn figures, so they follow the standard passed in.
    """
    return _Generator(scale, seed, industries, standard, progress).run()


# --- writing -----------------------------------------------------------------------------------


def existing_data() -> dict:
    """What already stands in the way of a demo build (empty dict when the database is free)."""
    from huiqi.accounts import selectors as accounts_selectors

    from .models import Bank, BusinessOwner, Enterprise

    found = {
        "enterprises": Enterprise.objects.count(),
        "owners": BusinessOwner.objects.count(),
        "banks": Bank.objects.count(),
        "demo_users": accounts_selectors.users().filter(username__in=DEMO_USERNAMES).count(),
    }
    return {k: v for k, v in found.items() if v}


def _refuse(found: dict):
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "sqlite":
        where = Message(_("数据目录 %(path)s"), path=settings.DATA_DIR)
    else:
        name = connection.settings_dict.get("NAME")
        where = Message(_("数据库 %(name)s 并重新创建"), name=name)
    raise DemoDataExists(
        "demo.exists",
        _("数据库中已有数据（%(items)s），演示数据未生成，也未做任何修改。演示城市只能在空数据库中生成：如需重建，请删除%(where)s，再运行 huiqi migrate 和 huiqi demo。"),
        items=", ".join(f"{k}: {v}" for k, v in found.items()), where=where,
    )


def write(data: DemoData, progress=None) -> dict:
    """Store generated rows in one transaction; returns the counts. Refuses over existing data."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from huiqi.accounts.services import create_user
    from huiqi.core import audit

    from .models import Agency, Bank, BusinessOwner, District, Enterprise, FundInstitution

    n = len(data.enterprises)
    total = 3 * n

    def report(done, message):
        if progress:
            progress(done, total, message)

    with transaction.atomic():
        found = existing_data()
        if found:
            _refuse(found)
        missing = {d for d in DISTRICT_NAMES if not District.objects.filter(pk=d).exists()}
        if missing:
            raise RuntimeError(f"reference data missing (districts {sorted(missing)}): "
                               "run `huiqi migrate` first")
        now = timezone.now()
        uscc_ids: dict[str, int] = {}
        for start in range(0, n, BATCH_SIZE):
            chunk = data.enterprises[start:start + BATCH_SIZE]
            objs = Enterprise.objects.bulk_create([
                Enterprise(uscc=e.uscc, name=e.name, kind=e.kind, district_id=e.district,
                           industry_id=e.industry, employees=e.employees, revenue_fen=e.revenue_fen,
                           assets_fen=e.assets_fen, figures_year=data.figures_year,
                           size_class=e.size_class, size_missing=e.size_missing,
                           size_year=data.figures_year, is_key_enterprise=e.is_key_enterprise,
                           created_at=now, updated_at=now)
                for e in chunk
            ], batch_size=BATCH_SIZE)
            for o in objs:
                if o.pk is not None:
                    uscc_ids[o.uscc] = o.pk
            report(n + start + len(chunk), "写入企业 storing enterprises")
        if len(uscc_ids) != n:  # a backend that does not return ids from bulk inserts
            uscc_ids = dict(Enterprise.objects.values_list("uscc", "id"))
        ent_ids = [uscc_ids[e.uscc] for e in data.enterprises]

        owner_ids: dict[str, int] = {}
        for start in range(0, len(data.owners), BATCH_SIZE):
            objs = BusinessOwner.objects.bulk_create(
                [BusinessOwner(resident_id=o.resident_id, name=o.name)
                 for o in data.owners[start:start + BATCH_SIZE]], batch_size=BATCH_SIZE)
            owner_ids.update({o.resident_id: o.pk for o in objs if o.pk is not None})
        if len(owner_ids) != len(data.owners):
            owner_ids = dict(BusinessOwner.objects.values_list("resident_id", "id"))
        report(n + n + n // 3, "写入小微企业主 storing business owners")
        Through = BusinessOwner.enterprises.through
        links = [Through(businessowner_id=owner_ids[o.resident_id], enterprise_id=ent_ids[i])
                 for o in data.owners for i in o.owns]
        Through.objects.bulk_create(links, batch_size=BATCH_SIZE * 2)
        report(n + n + 2 * n // 3, "写入企业主关联 storing owner links")

        Bank.objects.bulk_create([Bank(code=b.code, name=b.name, signed_date=b.signed_date,
                                       onboarded_date=b.onboarded_date) for b in data.banks])
        password = settings.HUIQI_DEMO_PASSWORD
        for u in data.users:
            org = {}
            if u.role == "district":
                org["district"] = District.objects.get(pk=u.organisation)
            elif u.role == "department":
                org["agency"] = Agency.objects.get(code=u.organisation)
            elif u.role == "bank":
                org["bank"] = Bank.objects.get(code=u.organisation)
            elif u.role == "institution":
                org["institution"] = FundInstitution.objects.get(code=u.organisation)
            enterprises = list(Enterprise.objects.filter(pk__in=[ent_ids[i] for i in u.enterprises]))
            create_user(None, username=u.username, password=password, role=u.role,
                        display_name=u.display_name, enterprises=enterprises, is_demo=True, check_password=False, **org)
        counts = data.counts()
        audit.record(None, "demo", None, model="registry.Enterprise", object_id="",
                     object_repr=f"demo city ({data.scale})",
                     after={"scale": data.scale, "seed": data.seed, **counts},
                     note=f"演示数据批量生成 demo data built in bulk: scale={data.scale}, seed={data.seed}")
        report(total, "完成 done")
    return counts


def build_demo(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    """Generate the demo city from ``seed`` and store it; returns the counts.

    Raises ``DemoDataExists`` (nothing changed) when the database already holds enterprises, business
    owners, banks or a demo user name. The size standard is read once, for the figures' year.
    """
    from . import services
    from .models import Industry

    found = existing_data()
    if found:
        _refuse(found)
    data = generate(scale, seed, industries=list(Industry.objects.all()),
                    standard=services.size_standard(FIGURES_YEAR), progress=progress)
    return write(data, progress)
