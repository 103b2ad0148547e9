"""The demo city's enterprise requests (深i企): from the channel's opening on 2020-02-10 to the day before the
demo's day (2020-04-01, ``DEMO_LAST``; ``generate`` alone runs to 2020-06-03, ``LAST``), in every state,
channel and category, with Chinese text drawn from what enterprises asked in that spring. Nothing is
submitted, answered or closed after the day the demo is shown on, so a handler who accepts a request or an
enterprise that rates an answer on that day acts after everything it sees.

``build_requests_demo(scale, seed)`` reads the registry, draws every row from ``random.Random(seed)`` (same
seed, same rows), computes deadlines on the working-day calendar in memory, and writes requests and their
history set-based (``COPY`` on PostgreSQL, ``executemany`` on SQLite) in one transaction with one
batch-level audit record. The city scale is the seed's own: 3,674 requests from 2,747 enterprises, 3,452
closed. ``generate`` is also what the benchmark loads 100,000 requests with.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core import clock, formats
from huiqi.core.bulk import insert_rows
from huiqi.core.errors import Conflict
from huiqi.accounts import selectors as accounts_selectors
from huiqi.registry import selectors as registry_selectors

OPENED = dt.datetime(2020, 2, 10, 9, 0)
LAST = dt.datetime(2020, 6, 3, 18, 0)
# The demo's requests end the evening before the day it is shown on (``core.clock.DEMO_CITY_TODAY``).
DEMO_LAST = dt.datetime.combine(clock.DEMO_CITY_TODAY - dt.timedelta(days=1), dt.time(18, 0))
SCALES = {"small": (1_200, 900, 1_120), "city": (3_674, 2_747, 3_452)}  # requests, enterprises, closed

CATEGORY_WEIGHTS = {"financing": 24, "employment": 15, "rent": 13, "tax": 10, "logistics": 8, "supplies": 6,
                    "policy": 12, "permits": 4, "arrears": 4, "other": 4}
CHANNEL_WEIGHTS = {"web": 68, "hotline": 22, "api": 7, "open311": 3}

PRODUCTS = ["电子元器件", "服装", "医疗器械", "精密模具", "智能手表", "锂电池", "家具", "塑料制品", "包装材料", "食品"]
BANKS = ["工商银行", "建设银行", "招商银行", "平安银行", "农业银行", "中国银行", "兴业银行"]
PLACES = ["东莞", "惠州", "湖南", "江西", "广西", "四川", "河南", "湖北"]

TEXTS = {
    "financing": [
        ("{bank}流动资金贷款即将到期，申请续贷", ("我司主营{product}，受疫情影响订单延后，{bank}一笔{amount}万元流动资金贷款将于"
                                          "{month}月到期，希望协调银行给予续贷或展期，不抽贷、不断贷。")),
        ("申请贷款贴息政策咨询", "请问今年2月以后新增的{bank}贷款能否享受贴息？需要提交哪些材料，什么时候能到账？"),
        ("首次贷款无抵押，申请信用贷款支持", "我司为小微企业，员工{staff}人，没有抵押物，复工后需要{amount}万元支付工资和货款，希望对接信用贷款。"),
    ],
    "employment": [
        ("{place}员工无法返深，用工缺口大", "我司生产{product}，现有{staff}名员工中约三成在{place}未能返岗，一线岗位缺人，希望协助点对点接返员工。"),
        ("申请社保费减免和缓缴", "受疫情影响企业经营困难，请问社保费单位缴费部分能否减免或缓缴？{month}月的社保如何申报？"),
        ("稳岗补贴何时发放", "我司去年未裁员，符合稳岗补贴条件，请问补贴何时发放到账，需要企业另外申请吗？"),
    ],
    "rent": [
        ("国有物业租金减免申请", "我司租用区属国有物业作为厂房，面积约{area}平方米，请问2、3月租金减免如何申请，需要哪些证明？"),
        ("业主不同意减免房租", "我司租用私人业主厂房生产{product}，业主不同意减免租金，希望政府协调或给予租金补贴。"),
    ],
    "tax": [
        ("申请延期缴纳税款", "受疫情影响资金周转困难，申请{month}月增值税延期缴纳三个月，请问办理流程。"),
        ("防疫物资生产企业税收优惠咨询", "我司转产{product}，请问生产防疫物资的收入是否免征增值税，设备购置能否一次性扣除？"),
    ],
    "logistics": [
        ("原材料从{place}运不进来", "我司生产{product}所需原材料在{place}，物流停运，货车进深手续繁琐，希望协调开通运输绿色通道。"),
        ("申请货车通行证", "复工后需要每天往返{place}送货，请问疫情期间货车通行证如何办理？"),
    ],
    "supplies": [
        ("口罩等防疫物资采购困难", "我司{staff}名员工复工，需要口罩约{mask}只、额温枪和消毒液，市面上买不到，希望协调防疫物资。"),
        ("熔喷布原料短缺影响口罩生产", "我司转产口罩，熔喷布原料供应紧张、价格上涨，希望协调熔喷布供应渠道。"),
    ],
    "policy": [
        ("“惠企16条”适用范围咨询", "请问市里出台的支持企业共渡难关若干措施是否适用于个体工商户？我们是{product}经营户。"),
        ("复工复产条件咨询", "我司为{product}生产企业，请问复工需要满足哪些防疫条件，是否需要向街道备案？"),
    ],
    "permits": [
        ("申请转产医用防护用品的许可", "我司原生产{product}，拟转产医用口罩，请问医疗器械生产许可能否加快审批？"),
        ("营业执照变更业务能否网上办理", "疫情期间不便到窗口，请问营业执照经营范围变更能否全程网上办理？"),
    ],
    "arrears": [
        ("国有企业拖欠我司货款", "某国有企业拖欠我司{product}货款约{amount}万元已超过半年，多次催讨未果，希望协助清欠。"),
        ("政府工程款拖欠", "我司承接的区政府项目工程款{amount}万元至今未结算，影响发放工资，请求协调支付。"),
    ],
    "other": [
        ("园区食堂能否恢复堂食", "复工后员工较多，园区食堂能否恢复堂食？需要满足什么防疫要求？"),
        ("希望组织线上招聘会", "我司急需招聘{staff}名普工，希望政府组织线上招聘会帮助企业招工。"),
    ],
}
ANSWERS = {
    "financing": "已协调{bank}与贵司对接，银行同意对到期贷款办理展期，并按规定享受贷款贴息政策。",
    "employment": "已将贵司纳入点对点接返企业名单，并告知社保费减免和稳岗补贴的办理方式。",
    "rent": "经核实，贵司租用的国有物业符合减免条件，2、3月租金已予免收；非国有物业可申请租金补贴。",
    "tax": "贵司可通过电子税务局申请延期缴纳税款，防疫物资相关税收优惠已向贵司详细说明。",
    "logistics": "已为贵司车辆办理通行证，并将原材料运输纳入重点保障。",
    "supplies": "已将贵司纳入防疫物资保障名单，可按时段到指定点位购买口罩。",
    "policy": "已电话向贵司解读相关政策，适用范围和申报条件详见政策原文。",
    "permits": "已开通绿色通道，相关许可可网上办理，材料齐全当日办结。",
    "arrears": "已督促欠款单位制定还款计划，首期款项已支付。",
    "other": "已将贵司的建议转相关部门研究，并电话告知办理情况。",
}
COMMON = [("financing", "到期贷款续贷展期难"), ("employment", "外地员工返岗难"), ("rent", "非国有物业租金减免"),
          ("supplies", "复工防疫物资采购难"), ("logistics", "原材料运输受阻")]

REQUEST_FIELDS = ("id", "number", "enterprise", "district", "category", "channel", "title", "description", "tokens",
                  "contact_name", "contact_phone", "contact_email", "address", "status", "agency", "submitted_at",
                  "accepted_at", "answered_at", "closed_at", "updated_at", "accept_deadline", "answer_deadline",
                  "due_date", "accepted_on_time", "answered_on_time", "paused_at", "paused_days", "escalation_level", "escalated_at",
                  "supervised", "answer", "rating", "rating_comment", "closed_automatically", "reopen_count",
                  "common_problem")
EVENT_FIELDS = ("request", "at", "actor_label", "action", "from_status", "to_status", "note", "internal")


class RequestDataExists(Conflict):
    """The database already holds requests; the demo is only built into an empty channel."""


def _refuse(n: int):
    raise RequestDataExists(
        "demo.requests_exist", _("数据库中已有 %(n)s 件企业诉求，演示诉求未生成，也未做任何修改。"), n=formats.count(n))


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _fill(rng: random.Random, text: str) -> str:
    return text.format(bank=rng.choice(BANKS), product=rng.choice(PRODUCTS), place=rng.choice(PLACES),
                       amount=rng.choice([50, 100, 200, 300, 500, 800]), month=rng.choice([3, 4, 5, 6]),
                       staff=rng.choice([12, 35, 80, 150, 300]), area=rng.choice([300, 800, 1500, 3000]),
                       mask=rng.choice([2000, 5000, 10000]))


def _aware(naive: dt.datetime) -> dt.datetime:
    return timezone.make_aware(naive)


def generate(n: int, seed: int, *, enterprises: Sequence[tuple], categories: dict, calendar, start_id: int = 1,
             served: int | None = None, closed_target: int | None = None, tokenize: bool = True,
             events: bool = True, now: dt.datetime | None = None, problems: dict | None = None,
             first_states: Sequence[str] = (), params: Mapping | None = None, last: dt.datetime = LAST):
    """Rows of ``n`` requests (and their history when ``events``): ``enterprises`` are (id, district),
    ``categories`` code → (id, default agency id, accept days, answer days). Submission times run from
    the channel's opening to ``last`` (``LAST`` by default), front-loaded (a seventh in the first day); about
    ``closed_target`` of them are closed, the rest spread over every other state. The first ``served``
    enterprises each get one request, the rest go to enterprises among them at random; the first requests
    take the states of ``first_states``.

    Every history follows the services' own rules (``rules.resumed_deadline``, ``rules.escalation_days``,
    ``rules.auto_close_day``, with the channel's parameters ``params``, by default the defaults): a pause
    moves the answer deadline by the working days it covered, a reopened request's answer deadline
    restarts on the day it was reopened, the daily sweep's escalations and automatic closings up to
    ``last`` are there, and a request still answered at ``last`` was answered within the waiting period.
    So the sweep run on ``last``'s day finds nothing to do."""
    from . import rules as request_rules

    p = {**request_rules.DEFAULTS, **(params or {})}
    rng = random.Random(seed)
    pool = list(enterprises)[:served or len(enterprises)]
    # Exactly ``closed_target`` closed (the seed's own count), the rest over the other states.
    closed = (closed_target if closed_target is not None else round(n * 0.94)) - list(first_states).count("closed")
    rest = max(0, n - len(first_states))
    open_states = ("submitted", "accepted", "in_progress", "waiting", "answered")
    statuses = ["closed"] * min(max(closed, 0), rest) + [open_states[i % 5] for i in range(rest - max(closed, 0))]
    rng.shuffle(statuses)
    statuses = list(first_states) + statuses
    span = (last - OPENED).total_seconds()
    last_day = last.date()
    rows, history = [], []
    for k in range(n):
        rid = start_id + k
        ent_id, district = pool[k] if k < len(pool) else rng.choice(pool)
        code = _weighted(rng, CATEGORY_WEIGHTS)
        cat_id, agency_id, accept_days, answer_days = categories[code]
        channel = _weighted(rng, CHANNEL_WEIGHTS)
        title_t, body_t = rng.choice(TEXTS[code])
        title, description = _fill(rng, title_t), _fill(rng, body_t)
        status = statuses[k]
        if rng.random() < 0.14:
            submitted = OPENED + dt.timedelta(seconds=rng.uniform(0, 86_400))
        else:
            submitted = OPENED + dt.timedelta(seconds=span * rng.random() ** 1.6)
        for _attempt in range(1000):
            h = _history(rng, calendar, p, code, channel, status, _aware(submitted), accept_days, answer_days)
            # Still answered on the last day: answered on or before it, within the waiting period (the sweep
            # would have closed it otherwise). Drawn again, submitted in the last weeks, until it is.
            if status != "answered" or (h["answered_at"] <= _aware(last) and request_rules.auto_close_day(
                    calendar, _day(h["answered_at"]), p["auto_close_days"]) > last_day):
                break
            submitted = last - dt.timedelta(seconds=rng.uniform(3_600, 20 * 86_400))
        else:  # pragma: no cover - a waiting period of working days always has answers that fall in it
            raise RuntimeError(f"no history of an answered request fits before {last}")
        ev, due = h["events"], h["due"]
        # The daily sweep (at two in the morning here) up to the last day: each stretch of a running clock
        # (to the acceptance, to the answer, to the answer again after a reopening) may be raised a level a
        # day once past its deadline; accepting and reopening start the count again.
        level, escalated = 0, None
        for deadline_day, start, end in h["clocks"]:
            level, escalated = 0, None
            for day in request_rules.escalation_days(calendar, deadline_day, p["bureau_after_days"]):
                at = _aware(dt.datetime.combine(day, dt.time(2, 0)))
                if day > last_day or at <= start or (end is not None and at >= end):
                    break
                level, escalated = level + 1, at
                before = max((e for e in ev if e[0] < at), key=lambda e: e[0])
                ev.append((at, "escalate", before[3], before[3],
                           "已超期，升级至部门负责人" if level == 1 else "超期未办，升级至市中小企业服务局"))
        ev.sort(key=lambda e: e[0])
        if now is not None:
            ev = [e for e in ev if e[0] <= now] or ev[:1]
        updated = max(e[0] for e in ev if e[1] != "escalate")  # the sweep's raising leaves it as it was
        problem = None
        if problems and code in problems and status != "closed" and rng.random() < 0.5:
            problem = problems[code]
        tokens = " ".join(request_rules.tokenize(f"{title} {description}")) if tokenize else ""
        number = f"SZQ-{timezone.localtime(h['submitted']):%Y%m%d}-{rid:06d}"
        rows.append((rid, number, ent_id, district, cat_id, channel, title, description, tokens,
                     rng.choice(["陈先生", "李女士", "王经理", "张总", "刘女士", "黄先生"]),
                     f"13{rng.randint(100000000, 999999999)}", "", "", status, agency_id, h["submitted"],
                     h["accepted_at"], h["answered_at"], h["closed_at"], updated, h["accept_by"], h["answer_by"], due,
                     h["accepted_on_time"], h["answered_on_time"], h["paused_at"], h["paused_days"], level, escalated,
                     level == 2 and rng.random() < 0.5, h["answer"], h["rating"], h["comment"], h["auto"],
                     h["reopen"], problem))
        if events:
            for at, action, frm, to, note in ev:
                history.append((rid, at, "演示 demo", action, frm, to, note, False))
    return rows, history


def _day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def _history(rng: random.Random, calendar, p: Mapping, code: str, channel: str, status: str,
             submitted: dt.datetime, accept_days: int, answer_days: int) -> dict:
    """One request's journey to ``status``, its deadlines and flags as the services would set them."""
    from . import rules as request_rules

    accept_by = calendar.add_working_days(_day(submitted), accept_days)
    h = {"submitted": submitted, "accept_by": accept_by, "accepted_at": None, "answered_at": None,
         "closed_at": None, "answer_by": None, "due": None, "accepted_on_time": None, "answered_on_time": None,
         "paused_at": None, "paused_days": 0, "rating": None, "comment": "", "auto": False, "reopen": 0,
         "answer": ""}
    # (deadline, from, until) of each stretch the clock runs; until None: still running
    clocks = h["clocks"] = [(accept_by, submitted, None)]
    ev = h["events"] = [(submitted, "submit", "", "submitted",
                         f"经{'12345热线' if channel == 'hotline' else '平台'}提交")]
    if status == "submitted":
        h["due"] = accept_by
        return h
    accepted_at = submitted + dt.timedelta(hours=rng.choice([0.5, 1, 2, 4, 8, 20, 30, 50]))
    clocks[0] = (accept_by, submitted, accepted_at)
    h["accepted_at"] = accepted_at
    h["accepted_on_time"] = _day(accepted_at) <= accept_by
    answer_by = calendar.add_working_days(_day(accepted_at), answer_days)
    ev.append((accepted_at, "accept", "submitted", "accepted", "已签收"))
    if status in ("accepted", "in_progress"):
        if status == "in_progress":
            ev.append((accepted_at + dt.timedelta(hours=1), "start", "accepted", "in_progress", "开始办理"))
        h["answer_by"] = h["due"] = answer_by
        clocks.append((answer_by, accepted_at, None))
        return h
    if status == "waiting":  # the clock stands still until the enterprise replies
        asked = accepted_at + dt.timedelta(hours=3)
        ev.append((asked, "ask_enterprise", "accepted", "waiting", "请补充营业执照和相关证明材料"))
        h["answer_by"], h["paused_at"] = answer_by, asked
        return h
    paused = 0
    if rng.random() < 0.2:
        asked = accepted_at + dt.timedelta(hours=2)
        replied = asked + dt.timedelta(days=rng.choice([1, 1, 2, 3]))
        paused, answer_by = request_rules.resumed_deadline(calendar, answer_by, _day(asked), _day(replied))
        ev.append((asked, "ask_enterprise", "accepted", "waiting", "请补充相关证明材料"))
        ev.append((replied, "reply", "waiting", "in_progress", "已补充材料"))
    took = rng.choice([0.3, 1, 2, 3, 4, 5, 6, 8]) if rng.random() < 0.9 else rng.choice([9, 12, 15])
    answered_at = max(accepted_at, ev[-1][0]) + dt.timedelta(days=took)
    # (a pause comes two hours after the acceptance and lasts days: no deadline falls inside it)
    clocks.append((answer_by, ev[-1][0], answered_at))
    answer = _fill(rng, ANSWERS[code])
    ev.append((answered_at, "answer", ev[-1][3], "answered", answer))
    reopen = 0
    if status == "closed" and rng.random() < 0.04:
        # Reopened the day after: the answer deadline starts again from that day, as the service does.
        reopen = 1
        reopened = answered_at + dt.timedelta(days=1)
        answer_by = calendar.add_working_days(_day(reopened), answer_days)
        ev.append((reopened, "reopen", "answered", "in_progress", "问题尚未解决，申请重办"))
        answered_at = reopened + dt.timedelta(days=rng.choice([1, 2, 3]))
        ev.append((answered_at, "answer", "in_progress", "answered", answer))
        clocks.append((answer_by, reopened, answered_at))
    h.update(answer_by=answer_by, paused_days=paused, answered_at=answered_at, answer=answer, reopen=reopen,
             answered_on_time=_day(answered_at) <= answer_by)
    if status == "closed":
        if rng.random() < 0.72:
            closed_at = answered_at + dt.timedelta(hours=rng.choice([2, 6, 20, 48]))
            rating = rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 10, 3, 2])[0]
            comment = {5: "非常满意，感谢政府", 4: "满意", 3: "基本满意", 2: "不太满意", 1: "不满意"}[rating]
            ev.append((closed_at, "close", "answered", "closed", comment))
            h.update(rating=rating, comment=comment)
        else:
            closed_at = _aware(dt.datetime.combine(
                request_rules.auto_close_day(calendar, _day(answered_at), p["auto_close_days"]), dt.time(1, 0)))
            h["auto"] = True
            ev.append((closed_at, "auto_close", "answered", "closed",
                       f"答复后 {p['auto_close_days']} 个工作日内未确认，自动办结"))
        h["closed_at"] = closed_at
    return h


def _adapt(rows: Iterable[tuple], sqlite: bool):
    from django.db import connection

    if not sqlite:
        yield from rows
        return
    ops = connection.ops
    for row in rows:
        yield tuple(ops.adapt_datetimefield_value(v) if isinstance(v, dt.datetime) else v for v in row)


def insert(model, fields: Sequence[str], rows: Iterable[tuple], batch: int = 5000) -> None:
    """``core.bulk.insert_rows``, with datetimes adapted as SQLite wants them in a raw row."""
    from django.db import connection

    insert_rows(model, fields, _adapt(rows, connection.vendor == "sqlite"), batch)


def reset_sequence(model) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "
                           f"COALESCE((SELECT MAX(id) FROM {model._meta.db_table}), 1))")


def inputs():
    """(enterprises as (id, district), categories code → (id, agency, accept days, answer days))."""

    from .models import Category

    enterprises = list(registry_selectors.enterprises().order_by("id").values_list("id", "district_id"))
    categories = {c.code: (c.id, c.default_agency_id, c.accept_days, c.answer_days) for c in Category.objects.all()}
    return enterprises, categories


DEMO_STAFF = [
    ("hotline", "HOTLINE-12345", "12345 热线坐席 孙丽", False),
    ("finance", "FINANCE-SZ", "市地方金融监管局 何军", False),
    ("finance_head", "FINANCE-SZ", "市地方金融监管局 负责人 郭勇", True),
]


def _demo_staff():
    from django.conf import settings

    from huiqi.accounts.services import create_user

    from .models import DepartmentHead

    made = []
    for username, agency, display, head in DEMO_STAFF:
        if accounts_selectors.users().filter(username=username).exists():
            continue
        user = create_user(None, username=username, password=settings.HUIQI_DEMO_PASSWORD, role="department",
                           agency=registry_selectors.agencies().get(code=agency), display_name=display, is_demo=True,
                           check_password=False)
        if head:
            DepartmentHead.objects.create(agency=user.agency, user=user)
        made.append(username)
    handler = accounts_selectors.users().filter(username="handler", role="department").first()
    if handler and not DepartmentHead.objects.filter(agency_id=handler.agency_id).exists():
        DepartmentHead.objects.create(agency_id=handler.agency_id, user=handler)
    return made


def build_requests_demo(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    """Generate and store the demo requests; refuses (nothing changed) when requests exist."""
    from django.db import transaction

    from huiqi.core import audit
    from huiqi.core.workdays import Calendar

    from . import selectors
    from .models import Category, CommonProblem, EnterpriseRequest, RequestEvent, RoutingRule

    n, served, closed = SCALES[scale]
    with transaction.atomic():
        existing = EnterpriseRequest.objects.count()
        if existing:
            _refuse(existing)
        enterprises, categories = inputs()
        if not enterprises:
            raise RuntimeError("the registry has no enterprises: build the registry demo first")
        # The demo log-ins' own enterprises come first, so "my requests" has something in every state.
        own = set(accounts_selectors.demo_users().filter(role="enterprise")
                  .values_list("enterprises__id", flat=True))
        enterprises = [e for e in enterprises if e[0] in own] + [e for e in enterprises if e[0] not in own]
        staff = _demo_staff()
        agencies = dict(registry_selectors.agencies().values_list("code", "id"))
        cats = {c.code: c for c in Category.objects.all()}
        if not RoutingRule.objects.exists():
            RoutingRule.objects.create(order=10, name="口罩、熔喷布 → 市工业和信息化局", keywords="口罩,熔喷布,防护服",
                                       agency_id=agencies["MIIT-SZ"])
            RoutingRule.objects.create(order=20, name="社保问题 → 市人力资源和社会保障局", keywords="社保,社会保险",
                                       agency_id=agencies["HRSS-SZ"])
            RoutingRule.objects.create(order=30, name="重点企业融资 → 市中小企业服务局", category=cats["financing"],
                                       key_enterprise=True, agency_id=agencies["SME-SZ"])
        problems = {}
        for code, title in COMMON:
            problems[code] = CommonProblem.objects.create(title=title, category=cats[code],
                                                          agency_id=cats[code].default_agency_id).pk
        start = (EnterpriseRequest.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        # The demo log-ins' enterprises get a request in every state; the others are drawn at random.
        states = ("submitted", "accepted", "in_progress", "waiting", "answered", "closed")
        mine, others = enterprises[:len(own)], enterprises[len(own):]
        random.Random(seed).shuffle(others)
        ordered = mine * len(states) + others
        first = [s for s in states for _ in mine]
        rows, history = generate(n, seed, enterprises=ordered, categories=categories, calendar=Calendar.load(),
                                 start_id=start, served=len(first) + served - len(mine), closed_target=closed,
                                 problems=problems, first_states=first,
                                 params=selectors.current_params(DEMO_LAST.date()), last=DEMO_LAST)
        if progress:
            progress(1, 3, "写入企业诉求 storing requests")
        insert(EnterpriseRequest, REQUEST_FIELDS, rows)
        if progress:
            progress(2, 3, "写入办理记录 storing history")
        insert(RequestEvent, EVENT_FIELDS, history)
        reset_sequence(EnterpriseRequest)
        reset_sequence(RequestEvent)
        counts = {"requests": len(rows), "events": len(history),
                  "enterprises": len({r[2] for r in rows}), "closed": sum(r[13] == "closed" for r in rows),
                  "by_status": {s: sum(r[13] == s for r in rows) for s in
                                ("submitted", "accepted", "in_progress", "waiting", "answered", "closed")},
                  "by_channel": {c: sum(r[5] == c for r in rows) for c in CHANNEL_WEIGHTS},
                  "problems": len(problems), "staff": staff}
        audit.record(None, "demo", None, model="requests.EnterpriseRequest", object_id="",
                     object_repr="demo requests", after={"scale": scale, "seed": seed, **counts},
                     note=f"演示企业诉求批量生成 demo requests built in bulk: scale={scale}, seed={seed}")
        with clock.fixed(clock.demo_today() or clock.DEMO_CITY_TODAY):
            counts["waiting_work"] = _work_waiting()
        if progress:
            progress(3, 3, "完成 done")
    return counts


def _work_waiting() -> dict:
    """What waits for the request log-ins on the demo's day, made through the services: an extension the
    finance department's handler asks for (its head decides), and unread messages: each demo enterprise's
    answered requests to rate, the 12345 operator's answered calls to ring back."""
    from . import notifications, services
    from .models import Channel, EnterpriseRequest, Status

    made = {"extensions": 0, "messages": 0}
    people = {u.username: u for u in accounts_selectors.demo_users()}
    finance = people.get("finance")
    if finance is not None and "finance_head" in people:
        handled = EnterpriseRequest.objects.filter(agency_id=finance.agency_id,
                                                   status__in=[Status.ACCEPTED, Status.IN_PROGRESS])
        req = handled.order_by("submitted_at", "id").first()
        if req is not None:
            services.request_extension(finance, req, 5, "需会同银行核实贷款情况，申请延期 5 个工作日答复")
            made["extensions"] += 1
    for user in accounts_selectors.demo_users().filter(role="enterprise"):
        answered = EnterpriseRequest.objects.filter(enterprise__in=user.enterprises.all(),
                                                    status=Status.ANSWERED)
        for req in answered.order_by("number"):
            made["messages"] += len(notifications.notify(
                [user], f"诉求 {req.number} 已答复", f"您的诉求“{req.title}”已答复，请查看答复并评价。", request=req))
    hotline = people.get("hotline")
    if hotline is not None:
        for req in EnterpriseRequest.objects.filter(channel=Channel.HOTLINE, status=Status.ANSWERED).order_by(
                "number")[:2]:
            made["messages"] += len(notifications.notify(
                [hotline], f"来电诉求 {req.number} 已答复", f"“{req.title}”已答复，请回访来电人。", request=req))
    return made


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    """What `huiqi demo` prints for this part: the counts, or why nothing was built."""
    import time

    started = time.monotonic()
    try:
        c = build_requests_demo(scale, seed, progress=progress)
    except RequestDataExists as exc:
        return f"{exc.zh}\n{exc.en}"
    s, ch = c["by_status"], c["by_channel"]
    staff = "".join(f"\n  {u:<12} department   {d}" for u, _a, d, _h in DEMO_STAFF if u in c["staff"])
    return (f"演示企业诉求已生成 demo requests built in {time.monotonic() - started:.1f} s\n"
            f"  {formats.count(c['enterprises'])} 家企业，{formats.count(c['requests'])} 件诉求，办结 {formats.count(c['closed'])} 件 "
            f"({formats.count(c['enterprises'])} enterprises, {formats.count(c['requests'])} requests, {formats.count(c['closed'])} closed)\n"
            f"  状态 by status              submitted {formats.count(s['submitted'])} · accepted {formats.count(s['accepted'])} · in progress "
            f"{formats.count(s['in_progress'])} · waiting {formats.count(s['waiting'])} · answered {formats.count(s['answered'])}\n"
            f"  渠道 by channel             web {formats.count(ch['web'])} · hotline {formats.count(ch['hotline'])} · api {formats.count(ch['api'])} · "
            f"open311 {formats.count(ch['open311'])}\n"
            f"  办理记录 history events     {formats.count(c['events']):>7}  (共性问题 common problems {c['problems']})"
            + (f"\n  诉求演示账户 request demo log-ins:{staff}" if staff else ""))
