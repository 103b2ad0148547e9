"""Stable-development fund benchmark on PostgreSQL: the funnel at a date and a channel's ageing list, each
beside hand-written SQL over the same tables in the same run.

    .venv/bin/python bench/fund.py [--applications 50000] [--runs 30]
        [--database-url postgres://postgres@127.0.0.1:5432/huiqi_bench_fund] [--seed 2020] [--keep]
        [--profile DIR]

One run:

1. drops and re-creates its own database, points ``DATABASE_URL`` and ``HUIQI_DATA_DIR`` (a temp dir) at
   it, sets Django up and migrates (reference data, the working-day calendar, the fund's parameters);
2. setup, not measured (its time is printed): one registry enterprise per application and
   ``--applications`` applications over both channels received 2020-02-10 … 2020-06-30 in every state,
   the open stage of each live one with its due day (some paused, about a third overdue on the day), and
   the tranches and repayments of the lent ones (their schedules' inputs), written with ``bulk_create``,
   and the funnel's daily roll-up rebuilt from them (``fund.services.rebuild_funnel``);
3. ``funnel``: ``fund.selectors.funnel`` at 2020-05-15 (the daily roll-up the page and the headless command
   read) beside the same figures as plain ``GROUP BY GROUPING SETS`` queries over the applications and
   tranches; the figures are compared (every grouping against ``selectors.funnel_by_reference`` too);
4. the pages, through Django's test client (the whole view: scoping, filters, count, page, clocks,
   template): the bureau's funnel page at 2020-05-15 (channels, districts, industry sections) and a
   channel's ageing list (``?state=live&overdue=1``, pages 1…) on 2020-05-15, each beside its SQL (the
   funnel's three groupings; the list's count and page with the open stage's due day), p50/p95/max.

With ``--profile DIR``, one more funnel page and one more ageing page are requested under cProfile
(``DIR/funnel_page.prof``, ``DIR/ageing_page.prof``; read them with ``python -m pstats``).

Times are printed, never asserted; figures are checked. Targets: each within 2× its SQL, page p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The benchmarks' folder holds a file named like the HTTP library: keep it off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import clean_up, configure_environment, load_average, profiled, recreate_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huiqi_bench_fund"
AS_OF = dt.date(2020, 5, 15)
PAGE_TARGET_MS = 100.0
WAN = 1_000_000


def setup(n: int, seed: int) -> dict:
    from django.db import transaction

    from huiqi.accounts.services import create_user
    from huiqi.core import params
    from huiqi.core.identifiers import generate_uscc
    from huiqi.core.workdays import Calendar
    from huiqi.fund import rules
    from huiqi.fund.apps import PARAMS_EFFECTIVE_FROM, PARAMS_KEY
    from huiqi.fund.models import Application, StageClock, Tranche, Repayment
    from huiqi.registry.models import District, Enterprise, FundInstitution, Industry

    rng = random.Random(seed)
    calendar = Calendar.load()
    districts = list(District.objects.values_list("code", flat=True))
    industries = list(Industry.objects.filter(level="division").values_list("code", flat=True))
    institutions = {c: FundInstitution.objects.get(code=code) for c, (_n, code) in rules.CHANNELS.items()}
    with transaction.atomic():
        params.set_value(None, PARAMS_KEY, "fund", {**rules.DEFAULTS, "base_rate_hti": "0.0600",
                                                    "base_rate_sgg": "0.0550"}, PARAMS_EFFECTIVE_FROM,
                         today=PARAMS_EFFECTIVE_FROM)
        seen, enterprises = set(), []
        while len(enterprises) < n:
            uscc = generate_uscc(rng)
            if uscc in seen:
                continue
            seen.add(uscc)
            enterprises.append(Enterprise(uscc=uscc, name=f"深圳市基准{len(enterprises)}有限公司", kind="enterprise",
                                          district_id=rng.choice(districts), industry_id=rng.choice(industries),
                                          size_class=rng.choice(["small", "micro", "medium"]), ownership="private"))
        Enterprise.objects.bulk_create(enterprises, batch_size=5000)
        ids = dict(Enterprise.objects.values_list("uscc", "id"))
        states = (["received"] * 4 + ["prechecked"] * 8 + ["due_diligence"] * 16 + ["decision"] * 8
                  + ["precheck_failed"] * 12 + ["rejected"] * 10 + ["withdrawn"] * 8 + ["approved"] * 3
                  + ["contracted"] * 3 + ["disbursing"] * 6 + ["disbursed"] * 20 + ["closed"] * 2)
        apps, counters = [], {"hti": 0, "sgg": 0}
        for e in enterprises:
            channel = rng.choice(["hti", "sgg"])
            counters[channel] += 1
            received = dt.date(2020, 2, 10) + dt.timedelta(days=rng.randint(0, 141))
            state = rng.choice(states)
            lent = state in ("approved", "contracted", "disbursing", "disbursed", "closed")
            approved = rng.randint(2, 300) * 10 * WAN if lent else None
            decided = received + dt.timedelta(days=rng.randint(10, 40)) if lent else None
            apps.append(Application(
                number=f"{channel.upper()}-{counters[channel]:06d}", uscc=e.uscc, enterprise_id=ids[e.uscc],
                channel=channel, institution=institutions[channel], requested_fen=(approved or rng.randint(2, 300)
                                                                                  * 10 * WAN),
                term_months=12, received_date=received, impact="x", state=state,
                reasons=["size_large"] if state == "precheck_failed" else [], priority=rng.random() < 0.05,
                approved_fen=approved, rate=rules.Params.from_mapping({"base_rate_hti": "0.06", "base_rate_sgg": "0.055"})
                .scheme_rate(channel) if lent else None, decision_term_months=12 if lent else None,
                decided_on=decided, contract_date=decided + dt.timedelta(days=3) if lent else None,
                maturity_date=decided + dt.timedelta(days=370) if lent and state != "approved" else None,
                disbursed_fen=(approved if state in ("disbursed", "closed") else approved // 2
                               if state == "disbursing" else 0) if lent else 0))
        Application.objects.bulk_create(apps, batch_size=5000)
        stages, tranches, repayments = [], [], []
        stage_of = {"received": "precheck", "prechecked": "precheck", "due_diligence": "due_diligence",
                    "decision": "decision"}
        for app in Application.objects.only("id", "state", "received_date", "decided_on", "disbursed_fen"):
            if app.state in stage_of:
                entered = min(app.received_date + dt.timedelta(days=rng.randint(0, 20)), AS_OF)
                sla = 10 if stage_of[app.state] == "due_diligence" else 3
                paused = entered + dt.timedelta(days=2) if rng.random() < 0.1 else None
                stages.append(StageClock(application_id=app.id, stage=stage_of[app.state], entered=entered,
                                         sla_days=sla, due=calendar.add_working_days(entered, sla),
                                         paused_since=paused))
            if app.disbursed_fen:
                day = app.decided_on + dt.timedelta(days=5)
                tranches.append(Tranche(application_id=app.id, day=day, amount_fen=app.disbursed_fen))
                repayments.append(Repayment(application_id=app.id, day=day + dt.timedelta(days=31), kind="interest",
                                            amount_fen=max(1, app.disbursed_fen // 300)))
        StageClock.objects.bulk_create(stages, batch_size=5000)
        Tranche.objects.bulk_create(tranches, batch_size=5000)
        Repayment.objects.bulk_create(repayments, batch_size=5000)
        from huiqi.fund import services

        services.rebuild_funnel()  # the funnel's daily roll-up, which the services keep as they write
        bureau = create_user(None, username="bench_bureau", password="x-bench-2020-long", role="bureau",
                             check_password=False)
        channel_user = create_user(None, username="bench_hti", password="x-bench-2020-long", role="institution",
                                   institution=institutions["hti"], check_password=False)
    from django.db import connection

    with connection.cursor() as c:
        c.execute("ANALYZE")
    return {"bureau": bureau, "channel": channel_user, "stages": len(stages), "tranches": len(tranches)}


FUNNEL_SQL = """
SELECT channel, COUNT(DISTINCT uscc) FROM fund_application WHERE received_date <= %(d)s
GROUP BY GROUPING SETS ((channel), ());
SELECT channel, COUNT(DISTINCT uscc),
       COALESCE(SUM(approved_fen - CASE WHEN cancelled_on <= %(d)s THEN cancelled_fen ELSE 0 END), 0)
FROM fund_application WHERE approved_fen IS NOT NULL AND decided_on <= %(d)s GROUP BY GROUPING SETS ((channel), ());
SELECT a.channel, COUNT(DISTINCT a.uscc), COALESCE(SUM(t.amount_fen), 0)
FROM fund_tranche t JOIN fund_application a ON a.id = t.application_id WHERE t.day <= %(d)s
GROUP BY GROUPING SETS ((a.channel), ())
"""

AGEING_SQL = """
SELECT COUNT(*) FROM fund_application a
WHERE a.institution_id = %(inst)s AND a.state IN ('received', 'prechecked', 'due_diligence', 'decision')
  AND EXISTS (SELECT 1 FROM fund_stageclock s WHERE s.application_id = a.id AND s.done IS NULL
              AND s.due < %(d)s AND (s.paused_since IS NULL OR s.paused_since > s.due));
SELECT a.id, a.number, a.uscc, e.name, a.received_date, a.requested_fen, a.state, s.stage, s.due
FROM fund_application a LEFT JOIN registry_enterprise e ON e.id = a.enterprise_id
JOIN fund_stageclock s ON s.application_id = a.id AND s.done IS NULL
WHERE a.institution_id = %(inst)s AND a.state IN ('received', 'prechecked', 'due_diligence', 'decision')
  AND s.due < %(d)s AND (s.paused_since IS NULL OR s.paused_since > s.due)
ORDER BY a.priority DESC, a.received_date DESC, a.id DESC LIMIT 25 OFFSET %(offset)s
"""


def sql_funnel(day):
    from django.db import connection

    out = []
    with connection.cursor() as c:
        for statement in FUNNEL_SQL.strip().split(";"):
            c.execute(statement, {"d": day})
            out.append(c.fetchall())
    return out


def sql_ageing(inst, day, offset):
    from django.db import connection

    with connection.cursor() as c:
        count_sql, page_sql = AGEING_SQL.strip().split(";")
        c.execute(count_sql, {"inst": inst, "d": day})
        n = c.fetchone()[0]
        c.execute(page_sql, {"inst": inst, "d": day, "offset": offset})
        return n, c.fetchall()


def timed(fn, runs):
    times = []
    for i in range(runs):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return times


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def line(name, ms, ref=None):
    text = f"  {name:<28} p50 {statistics.median(ms):7.1f} ms  p95 {pct(ms, 95):7.1f} ms  max {max(ms):7.1f} ms"
    if ref is not None:
        text += f"   ({statistics.median(ms) / statistics.median(ref):.2f}× its SQL)"
    print(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--applications", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--profile", metavar="DIR", help="also profile one funnel page and one ageing page (cProfile)")
    o = ap.parse_args(argv)
    work = tempfile.mkdtemp(prefix="huiqi-bench-fund-")
    recreate_database(o.database_url)
    configure_environment(o.database_url, work)
    try:
        run(o)
    finally:
        clean_up(work, o.database_url, o.keep)


def run(o):
    setup_django()
    from django.core.management import call_command
    from django.test import Client

    from huiqi.core import clock
    from huiqi.fund import selectors

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    made = setup(o.applications, o.seed)
    print(f"setup {time.perf_counter() - t:.1f} s: {o.applications:,} applications, {made['stages']:,} open stages, "
          f"{made['tranches']:,} tranches")
    print(load_average())

    rows = selectors.funnel(AS_OF)
    ref = sql_funnel(AS_OF)
    applied = {k or "fund": v for k, v in ref[0]}
    assert [r.enterprises_applied for r in rows] == [applied["hti"], applied["sgg"], applied["fund"]], (rows, ref)
    decided = {k or "fund": (n, int(s)) for k, n, s in ref[1]}
    assert [(r.enterprises_decided, r.amount_decided_fen) for r in rows] == [decided["hti"], decided["sgg"],
                                                                             decided["fund"]]
    fast = selectors.funnel_groups(AS_OF)
    for by in ("channel", "district", "industry"):
        assert fast[by] == selectors.funnel_by_reference(AS_OF, by), by
    print(f"funnel at {AS_OF}: " + "; ".join(f"{r.scope} {r.enterprises_applied}/{r.enterprises_decided}/"
                                              f"{r.enterprises_disbursed}" for r in rows))
    fun = timed(lambda i: selectors.funnel(AS_OF), o.runs)
    fun_sql = timed(lambda i: sql_funnel(AS_OF), o.runs)
    line("funnel (selector)", fun, fun_sql)
    line("funnel (SQL)", fun_sql)

    bureau, channel = Client(), Client()
    bureau.force_login(made["bureau"])
    channel.force_login(made["channel"])
    inst = made["channel"].institution_id
    with clock.fixed(AS_OF):
        bureau.get("/fund/", {"on": AS_OF.isoformat()}, HTTP_HOST="localhost")  # warm: templates, translations
        page = timed(lambda i: bureau.get("/fund/", {"on": AS_OF.isoformat()}, HTTP_HOST="localhost"), o.runs)
        page_sql = timed(lambda i: [sql_funnel(AS_OF) for _ in range(3)], o.runs)
        line("funnel page", page, page_sql)
        line("funnel page (3 × SQL)", page_sql)
        n, _rows = sql_ageing(inst, AS_OF, 0)
        pages = max(1, (n + 24) // 25)
        resp = channel.get("/fund/applications/", {"state": "live", "overdue": "1"}, HTTP_HOST="localhost")
        assert resp.status_code == 200, resp.status_code
        print(f"ageing list: {n:,} overdue live applications at the channel, {pages} pages")
        ageing = timed(lambda i: channel.get("/fund/applications/", {"state": "live", "overdue": "1",
                                                                      "page": i % min(pages, 10) + 1},
                                             HTTP_HOST="localhost"), o.runs)
        ageing_sql = timed(lambda i: sql_ageing(inst, AS_OF, (i % min(pages, 10)) * 25), o.runs)
        line("ageing list page", ageing, ageing_sql)
        line("ageing list (SQL)", ageing_sql)
        if o.profile:
            out = Path(o.profile)
            out.mkdir(parents=True, exist_ok=True)
            profiled(str(out / "funnel_page.prof"),
                     lambda: bureau.get("/fund/", {"on": AS_OF.isoformat()}, HTTP_HOST="localhost"))
            profiled(str(out / "ageing_page.prof"),
                     lambda: channel.get("/fund/applications/", {"state": "live", "overdue": "1"},
                                         HTTP_HOST="localhost"))
            print(f"profiles written to {out}")
    print(load_average())
    print(f"targets: pages p95 < {PAGE_TARGET_MS:.0f} ms and within 2× their SQL")


if __name__ == "__main__":
    main()
