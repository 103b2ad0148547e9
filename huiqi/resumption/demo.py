"""The demo city's return to work: filings in every state and 60 days of daily checks (2020-02-03 to
2020-04-02) following a recovery curve that starts low after the Spring Festival and rises through March.

``build_resumption_demo(scale, seed)`` reads the registry, draws every row from ``random.Random(seed)``
(same seed, same rows), writes them set-based (``COPY`` on PostgreSQL, ``executemany`` on SQLite) in one
transaction with one batch-level audit record, and rebuilds the daily rollup in one statement. It refuses
(``ResumptionDataExists``, nothing changed) when daily checks or filings are already stored.

The curve: an enterprise's day of resumption is drawn from a logistic curve centred on 2020-02-24
(key enterprises and large firms about a week earlier, micro firms and individual businesses later);
most start reporting before they open (the reporting rate rises from a few per cent on the first day
to about 94 % from late February);
staff return and capacity climb over the weeks after an enterprise opens.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext_lazy as _

from huiqi.core import formats
from huiqi.core.errors import Conflict
from huiqi.accounts import selectors as accounts_selectors
from huiqi.registry import selectors as registry_selectors

FIRST_DAY = dt.date(2020, 2, 3)
DAYS = 60
LAST_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)  # 2020-04-02
CENTRE = 21  # 2020-02-24, in days after FIRST_DAY
FILINGS = {"small": 240, "city": 6_000}
KINDS = [("staff", 25), ("materials", 18), ("logistics", 15), ("suppliers", 12), ("funds", 12), ("orders", 10),
         ("other", 8)]
NOTES = {"staff": "外地员工返深受限，一线岗位缺人", "materials": "原材料库存不足，采购周期变长",
         "logistics": "物流运力不足，发货延迟", "suppliers": "上游供应商尚未复工", "funds": "租金和工资支出压力大，现金流紧张",
         "orders": "订单减少，部分客户推迟交货", "other": "口罩等防疫物资采购困难"}
SHIFT = {"large": -7, "medium": -4, "small": 0, "micro": 4, "unknown": 5}
CHECK_FIELDS = ("id", "enterprise_id", "day", "district_id", "industry_section", "size_class", "is_key", "is_open",
                "staff_total", "staff_returned", "staff_on_site", "capacity_pct", "suspected_cases",
                "confirmed_cases", "on_time", "source", "submitted_at", "updated_at")
DIFFICULTY_FIELDS = ("daily_check_id", "enterprise_id", "day", "district_id", "kind", "note", "needs_help",
                     "follow_up_note")


class ResumptionDataExists(Conflict):
    """The database already holds return-to-work data; the demo is only built into an empty part."""


def _refuse(n: int):
    raise ResumptionDataExists(
        "demo.resumption_exists", _("数据库中已有 %(n)s 条复工数据，演示复工数据未生成，也未做任何修改。"), n=formats.count(n))


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    from .rules import SHANGHAI

    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _sqlite_time(value: dt.datetime) -> str:
    """An aware datetime as Django keeps it in SQLite: naive UTC text."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" ")


def _insert(table: str, columns: Sequence[str], rows: Iterable[tuple], batch: int = 5_000) -> int:
    from django.db import connection

    n = 0
    if connection.vendor == "postgresql":
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        return n
    qn = connection.ops.quote_name
    statement = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
                 f"VALUES ({', '.join(['%s'] * len(columns))})")
    rows = iter(rows)
    times: list[int] | None = None
    with connection.cursor() as cursor:
        while chunk := list(itertools.islice(rows, batch)):
            if times is None:
                times = [i for i, v in enumerate(chunk[0]) if isinstance(v, dt.datetime)]
            if times:
                chunk = [tuple(_sqlite_time(v) if i in times else v for i, v in enumerate(r)) for r in chunk]
            cursor.executemany(statement, chunk)
            n += len(chunk)
    return n


def _enterprises():
    return list(registry_selectors.enterprises().order_by("id").values_list(
        "id", "district_id", "industry__section", "size_class", "is_key_enterprise", "employees", "kind"))


class _Curve:
    """Per enterprise: the day it opens, the day it starts reporting, its staff."""

    def __init__(self, rng: random.Random, size: str, is_key: bool, kind: str, employees):
        shift = SHIFT.get(size, 0) - (6 if is_key else 0) + (3 if kind == "individual_business" else 0)
        u = min(max(rng.random(), 1e-6), 1 - 1e-6)
        self.open_day = CENTRE + shift + 5.0 * math.log(u / (1 - u))  # logistic quantile
        self.never = rng.random() < 0.04  # closed for good, or moved away
        self.report_from = min(self.open_day - rng.uniform(0, 12), rng.uniform(0, 24)) if rng.random() < 0.97 else 99
        self.staff = max(1, int(employees or rng.randint(2, 12)))
        self.speed = rng.uniform(0.6, 1.4)


def generate_checks(enterprises, seed: int, first_id: int, unreported_last_day=frozenset()):
    """(daily-check rows, difficulty rows) as two streams over one pass; ids from ``first_id``. The
    enterprises (ids) in ``unreported_last_day`` have not reported on the last day yet (the demo's log-ins
    find it waiting); every other row is as without them."""
    rng = random.Random(seed * 7_919 + 13)
    difficulties: list[tuple] = []
    next_id = first_id

    def checks():
        nonlocal next_id
        for eid, district, section, size, is_key, employees, kind in enterprises:
            c = _Curve(rng, size, is_key, kind, employees)
            for t in range(DAYS):
                if t < c.report_from or rng.random() < 0.03:
                    continue
                day = FIRST_DAY + dt.timedelta(days=t)
                is_open = not c.never and t >= c.open_day
                since = max(0.0, t - c.open_day)
                share = min(0.97, 0.35 + 0.025 * since * c.speed) if is_open else rng.uniform(0.0, 0.2)
                returned = min(c.staff, int(round(c.staff * share)))
                on_site = returned if not is_open else int(returned * rng.uniform(0.85, 1.0))
                capacity = min(100, int(30 + 2.2 * since * c.speed + rng.uniform(-8, 8))) if is_open else 0
                on_time = rng.random() < min(0.96, 0.78 + 0.004 * t)
                minute = rng.randint(7 * 60, 9 * 60 + 59) if on_time else rng.randint(10 * 60, 20 * 60)
                at = _at(day, minute // 60, minute % 60)
                # The same draws either way, so that leaving one report out changes no other row.
                kept = not (t == DAYS - 1 and eid in unreported_last_day)
                cid = next_id
                if kept:
                    next_id += 1
                    yield (cid, eid, day, district, section, size, is_key, is_open, c.staff, returned,
                           on_site, max(0, capacity), 0, 0, on_time, "demo", at, at)
                if rng.random() < (0.32 - 0.004 * t):
                    for k in set(rng.choices([k for k, _ in KINDS], [w for _, w in KINDS], k=rng.choice((1, 1, 2)))):
                        help_ = rng.random() < 0.2
                        if kept:
                            difficulties.append((cid, eid, day, district, k, NOTES[k], help_, ""))

    return checks, difficulties


def _filings(enterprises, seed: int, users: dict):
    """Filings in every state (while filing was required) and declarations after the switch."""
    from .checklist import DEFAULT_ITEMS

    rng = random.Random(seed * 31 + 7)
    n = FILINGS.get("city" if len(enterprises) > 20_000 else "small")
    # The demo enterprise user's firms (the first rows) get an approved and a returned filing.
    rest = rng.sample(enterprises[2:], max(0, min(len(enterprises) - 2, n - 2)))
    chosen = enterprises[:2] + rest
    states = ["approved"] * 9 + ["declared"] * 8 + ["submitted"] * 2 + ["assigned"] * 2 + ["inspected"] + ["returned"] * 2
    out = []
    for i, (eid, district, section, size, is_key, employees, kind) in enumerate(chosen):
        state = "approved" if i == 0 else "returned" if i == 1 else rng.choice(states)
        staff = max(1, int(employees or 5))
        if state == "declared":
            submitted = _at(dt.date(2020, 2, 20) + dt.timedelta(days=rng.randint(0, 35)), 9, rng.randint(0, 59))
        else:
            submitted = _at(dt.date(2020, 2, 8) + dt.timedelta(days=rng.randint(0, 11)), rng.randint(8, 17),
                            rng.randint(0, 59))
        checked = [{"code": code, "group": str(group), "text": zh, "text_en": en,
                    "checked": state == "declared" or rng.random() < 0.95}
                   for code, group, zh, en in DEFAULT_ITEMS] if state != "declared" else []
        returning = int(staff * rng.uniform(0.4, 0.9))
        out.append({"enterprise_id": eid, "district_id": district, "state": state, "submitted": submitted,
                    "staff_total": staff, "staff_returning": returning,
                    "staff_from_outside": int(returning * rng.uniform(0, 0.4)),
                    "staff_in_quarantine": int(returning * rng.uniform(0, 0.1)), "checklist": checked,
                    "masks": rng.randint(1, 60) * 100, "thermometers": rng.randint(1, 20),
                    "disinfectant_litres": rng.randint(5, 200), "inspector": users.get(district)})
    return out


PATHS = {
    "submitted": ["submit"], "assigned": ["submit", "assign"], "inspected": ["submit", "assign", "record_check"],
    "approved": ["submit", "assign", "record_check", "approve"], "returned": ["submit", "assign", "record_check", "return"],
    "declared": ["declare"],
}


def _write_filings(rows, actor_label="演示数据 demo") -> int:
    from .models import FILING_TRANSITIONS, FilingEvent, FilingKind, ReturnToWorkFiling

    made = []
    events = []
    for r in rows:
        path = PATHS[r["state"]]
        at = r["submitted"]
        inspector = r["inspector"] if "assign" in path else None
        failed = r["state"] == "returned"
        f = ReturnToWorkFiling(
            enterprise_id=r["enterprise_id"], district_id=r["district_id"],
            kind=FilingKind.DECLARATION if r["state"] == "declared" else FilingKind.FILING, status=r["state"],
            planned_date=(at + dt.timedelta(days=2)).date(), staff_total=r["staff_total"],
            staff_returning=r["staff_returning"], staff_from_outside=r["staff_from_outside"],
            staff_in_quarantine=r["staff_in_quarantine"], checklist=r["checklist"], masks=r["masks"],
            thermometers=r["thermometers"], disinfectant_litres=r["disinfectant_litres"], contact_name="企业联系人",
            contact_phone="13800000000", inspector=inspector,
            check_result=("failed" if failed else "passed") if "record_check" in path else "",
            check_findings="未设置隔离观察区，测温记录不全" if failed else ("防控措施落实到位" if "record_check" in path else ""),
            checked_at=at + dt.timedelta(days=1) if "record_check" in path else None,
            decision_note="请设置隔离观察区、补齐测温记录后重新报备" if failed else ("同意复工" if r["state"] == "approved" else ""),
            decided_at=at + dt.timedelta(days=1, hours=3) if r["state"] in ("approved", "returned") else None,
            submitted_at=at, updated_at=at + dt.timedelta(days=len(path) - 1))
        made.append((f, path, at))
    ReturnToWorkFiling.objects.bulk_create([f for f, _, _ in made], batch_size=2_000)
    for f, path, at in made:
        status = ""
        for step, action in enumerate(path):
            to = FILING_TRANSITIONS[action][1]
            note = {"assign": f"核查员 inspector: {f.inspector}" if f.inspector else "", "record_check": f.check_findings,
                    "approve": f.decision_note, "return": f.decision_note}.get(action, "")
            events.append(FilingEvent(filing=f, action=action, from_status=status, to_status=to,
                                      actor_label=actor_label, at=at + dt.timedelta(hours=6 * step), note=note))
            status = to
    FilingEvent.objects.bulk_create(events, batch_size=5_000)
    return len(made)


def existing() -> int:
    from .models import DailyCheck, ReturnToWorkFiling

    return DailyCheck.objects.count() + ReturnToWorkFiling.objects.count()


def build_resumption_demo(scale: str = "small", seed: int = 2020, progress=None) -> dict:
    """Generate and store the demo's filings and daily checks; returns the counts."""
    from django.db import connection, transaction
    from django.db.models import Max

    from huiqi.core import audit

    from . import services
    from .models import DailyCheck

    found = existing()
    if found:
        _refuse(found)
    enterprises = _enterprises()
    officers = {u.district_id: u for u in accounts_selectors.users().filter(role="district", is_active=True).order_by("id")}
    # The demo log-ins' enterprises have not sent the last day's check: on the demo's day (the last) it waits
    # on their home page, and what they send joins that day's figures.
    waiting = frozenset(accounts_selectors.demo_users().filter(role="enterprise", enterprises__isnull=False)
                        .values_list("enterprises__id", flat=True))
    with transaction.atomic():
        filings = _write_filings(_filings(enterprises, seed, officers))
        first_id = (DailyCheck.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        stream, difficulties = generate_checks(enterprises, seed, first_id, unreported_last_day=waiting)
        total = len(enterprises) * DAYS

        def counted():
            for i, row in enumerate(stream(), 1):
                if progress and i % 200_000 == 0:
                    progress(i, total, "每日排查 daily checks")
                yield row

        checks = _insert("resumption_dailycheck", CHECK_FIELDS, counted())
        helps = _insert("resumption_difficulty", DIFFICULTY_FIELDS, difficulties)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT setval(pg_get_serial_sequence('resumption_dailycheck', 'id'), "
                            "(SELECT MAX(id) FROM resumption_dailycheck))")
        rollup = services.rebuild_rollup(None)
        counts = {"filings": filings, "daily_checks": checks, "difficulties": helps, "rollup_rows": rollup,
                  "help_requests": sum(1 for d in difficulties if d[6])}
        audit.record(None, "demo.resumption", model="resumption.DailyCheck", object_id="",
                     object_repr=f"演示复工数据 demo return to work ({scale}, seed {seed})", after=counts)
    return counts


def build_and_describe(scale: str = "small", seed: int = 2020, progress=None) -> str:
    """What `huiqi demo` prints for this part: the counts, or why nothing was built."""
    import time

    started = time.monotonic()
    try:
        c = build_resumption_demo(scale, seed, progress=progress)
    except ResumptionDataExists as exc:
        return f"{exc.zh}\n{exc.en}"
    return (f"演示复工数据已生成 demo return to work built in {time.monotonic() - started:.1f} s\n"
            f"  复工报备 filings            {formats.count(c['filings']):>9}\n"
            f"  每日排查 daily checks       {formats.count(c['daily_checks']):>9}  ({FIRST_DAY} – {LAST_DAY})\n"
            f"  经营困难 difficulties       {formats.count(c['difficulties']):>9}  (申请协调 needing help {formats.count(c['help_requests'])})\n"
            f"  排查日汇总 rollup rows      {formats.count(c['rollup_rows']):>9}")
