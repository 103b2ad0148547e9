"""Enterprise-request benchmark on PostgreSQL: the overdue-and-escalation sweep and a department's filtered
request list, each beside the same work written as plain SQL in the same run.

    .venv/bin/python bench/requests.py [--requests 100000] [--enterprises 30000]
        [--database-url postgres://postgres@127.0.0.1:5432/huiqi_bench_requests] [--seed 2020] [--keep]

One run:

1. drops and re-creates its own database (UTF-8, C.UTF-8, from template0), points ``DATABASE_URL`` and
   ``HUIQI_DATA_DIR`` (a temp dir) at it, sets Django up and migrates (reference data, categories, the
   working-day calendar, parameters);
2. setup, not measured (its time is printed): ``--enterprises`` registry rows and ``--requests``
   requests from ``huiqi.requests.demo.generate`` (submitted 2020-02-10 … 2020-06-03, every state;
   80 % closed, so that the sweep day finds a large backlog), written with ``COPY``; department users
   and heads for every agency;
3. the sweep, on 2020-06-05 (``today``), when nearly every running request is past its deadline:

   * ``sweep``  ``huiqi.requests.services.sweep``: level-1 escalations (history step per request, one
                notice per department head), level-2 for those escalated earlier, automatic closing of
                answered requests after the waiting period, the audit record; one transaction;
   * ``sweep again`` the same day: nothing to do (idempotence), timed;
   * the state is restored from a copy taken before, then ``sql`` does the same changes as plain SQL
     statements in one transaction (UPDATE … RETURNING, INSERT … SELECT of the history), and the
     counts of both are compared;

4. the list: 50 page loads of ``/requests/`` for the handler of the department with most requests,
   cycling through filters (open, overdue, a category, a district, a word of the title, later pages),
   through Django's test client (the whole view: scoping, filters, count, page, flags, template), and
   the same 50 count-and-page queries as plain SQL; p50/p95/max of each.

Times are printed, never asserted; counts are checked. Targets: sweep < 2 s; list p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

# This file is named like the HTTP library; keep its folder off the import path so that nothing that
# imports ``requests`` gets this script.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import clean_up, configure_environment, load_average, recreate_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/huiqi_bench_requests"
TODAY = dt.date(2020, 6, 5)
SWEEP_TARGET_S = 2.0
LIST_TARGET_MS = 100.0
LIST_RUNS = 50


def _enterprises(n: int, seed: int) -> list[tuple]:
    import random

    from django.db import connection
    from django.utils import timezone

    from huiqi.registry.models import District, Enterprise, Industry
    from huiqi.requests.demo import insert

    rng = random.Random(seed)
    districts = list(District.objects.values_list("code", flat=True))
    industries = list(Industry.objects.filter(level="division").values_list("code", flat=True))
    now = timezone.now()
    rows = [(f"91440300BENCH{k:05d}", f"深圳市基准测试{k}号科技有限公司", "enterprise", rng.choice(districts),
             rng.choice(industries), rng.choice(["small", "micro", "medium"]), "", rng.random() < 0.03, now, now)
            for k in range(n)]
    insert(Enterprise, ("uscc", "name", "kind", "district", "industry", "size_class", "size_missing", "is_key_enterprise",
                        "created_at", "updated_at"), rows)
    connection.cursor().execute("ANALYZE registry_enterprise")
    return list(Enterprise.objects.order_by("id").values_list("id", "district_id"))


def _staff():
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import Agency
    from huiqi.requests.models import DepartmentHead

    handlers = {}
    for agency in Agency.objects.all():
        handlers[agency.code] = create_user(None, username=f"h_{agency.code}", password="x", role="department",
                                            agency=agency, check_password=False)
        head = create_user(None, username=f"head_{agency.code}", password="x", role="department", agency=agency,
                           check_password=False)
        DepartmentHead.objects.create(agency=agency, user=head)
    create_user(None, username="bench_bureau", password="x", role="bureau", check_password=False)
    return handlers


def setup(n_requests: int, n_enterprises: int, seed: int) -> dict:
    from django.db import connection, transaction

    from huiqi.core.workdays import Calendar
    from huiqi.requests import demo
    from huiqi.requests.models import EnterpriseRequest

    started = time.monotonic()
    with transaction.atomic():
        enterprises = _enterprises(n_enterprises, seed)
        handlers = _staff()
        _, categories = demo.inputs()
        rows, _history = demo.generate(n_requests, seed, enterprises=enterprises, categories=categories,
                                       calendar=Calendar.load(), closed_target=int(n_requests * 0.8),
                                       tokenize=False, events=False)
        demo.insert(EnterpriseRequest, demo.REQUEST_FIELDS, rows)
        demo.reset_sequence(EnterpriseRequest)
        # Those the generator escalated stay one level below the top, so the sweep has both levels to do.
        with connection.cursor() as c:
            c.execute("UPDATE requests_enterpriserequest SET escalation_level = 1 WHERE escalation_level > 0")
    # A table as autovacuum leaves it: statistics and the visibility map for index-only counts.
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")
    return {"seconds": time.monotonic() - started, "handlers": handlers}


SNAPSHOT_COLUMNS = "status, escalation_level, escalated_at, closed_at, closed_automatically, updated_at"


def snapshot():
    from django.db import connection

    with connection.cursor() as c:
        c.execute(f"CREATE TABLE bench_before AS SELECT id, {SNAPSHOT_COLUMNS} FROM requests_enterpriserequest")
        c.execute("SELECT COALESCE(MAX(id), 0) FROM requests_requestevent")
        events = c.fetchone()[0]
        c.execute("SELECT COALESCE(MAX(id), 0) FROM requests_notification")
        notes = c.fetchone()[0]
        c.execute("SELECT COALESCE(MAX(id), 0) FROM core_auditevent")
        audit = c.fetchone()[0]
    return events, notes, audit


def restore(marks):
    from django.db import connection

    events, notes, _audit = marks
    sets = ", ".join(f"{col} = b.{col}" for col in (s.strip() for s in SNAPSHOT_COLUMNS.split(",")))
    with connection.cursor() as c:
        c.execute(f"UPDATE requests_enterpriserequest r SET {sets} FROM bench_before b WHERE b.id = r.id "
                  "AND (r.status, r.escalation_level) IS DISTINCT FROM (b.status, b.escalation_level)")
        c.execute("DELETE FROM requests_requestevent WHERE id > %s", [events])
        c.execute("DELETE FROM requests_notification WHERE id > %s", [notes])
    # Both runs start from the same table, not one bloated by the other's updates.
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE requests_enterpriserequest")
        c.execute("VACUUM ANALYZE requests_requestevent")


def sweep_sql(today: dt.date, limit2: dt.date, last_answer_day: dt.date, now: dt.datetime) -> dict:
    """The sweep's changes as plain SQL: what the database alone needs for them."""
    from django.db import connection, transaction

    running = "('submitted', 'accepted', 'in_progress')"
    next_day = dt.datetime.combine(last_answer_day + dt.timedelta(days=1), dt.time.min,
                                   tzinfo=now.tzinfo)
    with transaction.atomic(), connection.cursor() as c:
        c.execute(f"""
            WITH up AS (
              UPDATE requests_enterpriserequest SET escalation_level = 1, escalated_at = %(now)s
              WHERE status IN {running} AND due_date < %(today)s AND escalation_level = 0
              RETURNING id, status, agency_id)
            INSERT INTO requests_requestevent (request_id, at, actor_label, action, from_status, to_status, note,
                                               internal)
            SELECT id, %(now)s, '系统 system', 'escalate', status, status, 'overdue: escalated to the head', false
            FROM up""", {"now": now, "today": today})
        level1 = c.rowcount
        c.execute("""
            INSERT INTO requests_notification (recipient_id, address, channel, subject, body, state, attempts,
                                               last_error, next_attempt_at, created_at, sent_at)
            SELECT h.user_id, '', 'inbox', count(*) || ' 件诉求已超期', string_agg(r.number, '、'), 'sent', 0, '',
                   %(now)s, %(now)s, %(now)s
            FROM requests_enterpriserequest r JOIN requests_departmenthead h ON h.agency_id = r.agency_id
            WHERE r.escalated_at = %(now)s AND r.escalation_level = 1
            GROUP BY h.user_id""", {"now": now})
        c.execute(f"""
            WITH up AS (
              UPDATE requests_enterpriserequest SET escalation_level = 2, escalated_at = %(now)s
              WHERE status IN {running} AND due_date <= %(limit2)s AND escalation_level = 1
                AND escalated_at < %(day_start)s
              RETURNING id, status)
            INSERT INTO requests_requestevent (request_id, at, actor_label, action, from_status, to_status, note,
                                               internal)
            SELECT id, %(now)s, '系统 system', 'escalate', status, status, 'escalated to the bureau', false FROM up""",
                  {"now": now, "limit2": limit2,
                   "day_start": dt.datetime.combine(today, dt.time.min, tzinfo=now.tzinfo)})
        level2 = c.rowcount
        c.execute("""
            WITH up AS (
              UPDATE requests_enterpriserequest SET status = 'closed', closed_at = %(now)s,
                     closed_automatically = true, updated_at = %(now)s
              WHERE status = 'answered' AND answered_at < %(next_day)s
              RETURNING id)
            INSERT INTO requests_requestevent (request_id, at, actor_label, action, from_status, to_status, note,
                                               internal)
            SELECT id, %(now)s, '系统 system', 'auto_close', 'answered', 'closed', 'closed automatically', false
            FROM up""", {"now": now, "next_day": next_day})
        closed = c.rowcount
    return {"escalated_to_heads": level1, "escalated_to_bureau": level2, "closed_automatically": closed}


# --- the list ------------------------------------------------------------------------------------

def list_filters(seed: int):
    import random

    from huiqi.registry.models import District

    rng = random.Random(seed)
    districts = list(District.objects.values_list("code", flat=True))
    shapes = [
        dict,
        lambda: {"status": "open"},
        lambda: {"flag": "overdue"},
        lambda: {"status": "closed", "page": str(rng.randint(2, 40))},
        lambda: {"district": rng.choice(districts)},
        lambda: {"q": rng.choice(["续贷", "贷款", "贴息", "银行"])},
        lambda: {"status": "answered", "district": rng.choice(districts)},
        lambda: {"channel": rng.choice(["web", "hotline"]), "status": "open"},
        lambda: {"from": "2020-03-01", "to": "2020-03-31"},
        lambda: {"category": "financing", "page": str(rng.randint(1, 20))},
    ]
    return [shapes[k % len(shapes)]() for k in range(LIST_RUNS)]


def list_sql(agency_id: int, user_id: int, f: dict, today: dt.date):
    """The list's two queries (count, one page of 25 with the names shown) as plain SQL."""
    from django.db import connection

    where, args = ["r.agency_id = %s"], [agency_id]
    if f.get("status") == "open":
        where.append("r.status <> 'closed'")
    elif f.get("status"):
        where.append("r.status = %s")
        args.append(f["status"])
    if f.get("category"):
        where.append("r.category_id = (SELECT id FROM requests_category WHERE code = %s)")
        args.append(f["category"])
    if f.get("channel"):
        where.append("r.channel = %s")
        args.append(f["channel"])
    if f.get("district"):
        where.append("r.district_id = %s")
        args.append(f["district"])
    if f.get("flag") == "overdue":
        where.append("r.due_date < %s AND r.status IN ('submitted', 'accepted', 'in_progress')")
        args.append(today)
    if f.get("q"):
        where.append("(r.number = %s OR r.title LIKE %s OR e.name LIKE %s)")
        args += [f["q"], f"%{f['q']}%", f"%{f['q']}%"]
    if f.get("from"):
        where.append("r.submitted_at >= %s::date")
        args.append(f["from"])
    if f.get("to"):
        where.append("r.submitted_at < %s::date + 1")
        args.append(f["to"])
    sql_where = " AND ".join(where)
    page = int(f.get("page", "1"))
    with connection.cursor() as c:
        join = "JOIN registry_enterprise e ON e.id = r.enterprise_id" if f.get("q") else ""
        c.execute(f"SELECT count(*) FROM requests_enterpriserequest r {join} WHERE {sql_where}", args)
        count = c.fetchone()[0]
        offset = max(0, min(page, max(1, -(-count // 25))) - 1) * 25
        c.execute(f"""
            SELECT r.number, r.title, r.status, r.due_date, r.supervised, r.escalation_level, e.name,
                   d.name, k.name, a.name
            FROM requests_enterpriserequest r
            JOIN registry_enterprise e ON e.id = r.enterprise_id JOIN registry_district d ON d.code = r.district_id
            JOIN requests_category k ON k.id = r.category_id JOIN registry_agency a ON a.id = r.agency_id
            WHERE {sql_where} ORDER BY r.submitted_at DESC, r.id DESC LIMIT 25 OFFSET %s""", [*args, offset])
        return count, c.fetchall()


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--enterprises", type=int, default=30_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and the bench database")
    o = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="huiqi-bench-requests-"))
    recreate_database(o.database_url)
    configure_environment(o.database_url, str(work))
    setup_django()
    try:
        run(o)
    finally:
        clean_up(work, o.database_url, o.keep)


def run(o):
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from huiqi.core.workdays import Calendar
    from huiqi.requests import selectors, services
    from huiqi.requests.services.sweep import last_day_more_than
    from huiqi.requests.models import EnterpriseRequest, Status

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.monotonic() - started:.1f} s")
    s = setup(o.requests, o.enterprises, o.seed)
    total = EnterpriseRequest.objects.count()
    by_status = dict(EnterpriseRequest.objects.values_list("status").annotate(n=__import__("django.db.models",
                                                                                            fromlist=["Count"]).Count("id")))
    print(f"setup (not measured): {o.enterprises:,} enterprises, {total:,} requests in {s['seconds']:.1f} s; "
          f"by status {by_status}")
    print(load_average())

    # --- sweep ------------------------------------------------------------------------------------
    now = timezone.make_aware(dt.datetime.combine(TODAY, dt.time(1, 0)))
    cal = Calendar.load()
    p = selectors.current_params(TODAY)
    marks = snapshot()
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE requests_enterpriserequest")
    t0 = time.perf_counter()
    orm = services.sweep(today=TODAY, now=now)
    t_sweep = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = services.sweep(today=TODAY, now=now + dt.timedelta(minutes=5))
    t_again = time.perf_counter() - t0
    assert not any(again.values()), again
    restore(marks)
    limit2 = last_day_more_than(cal, TODAY, p["bureau_after_days"])
    last_answer = last_day_more_than(cal, TODAY, p["auto_close_days"])
    t0 = time.perf_counter()
    raw = sweep_sql(TODAY, limit2, last_answer, now)
    t_sql = time.perf_counter() - t0
    assert raw == orm, (raw, orm)
    print(f"\nsweep on {TODAY} over {total:,} requests: {orm}")
    print(f"  {'phase':<34}{'seconds':>10}")
    print(f"  {'sweep (services.sweep)':<34}{t_sweep:>10.3f}   target < {SWEEP_TARGET_S:.0f} s: "
          f"{'met' if t_sweep < SWEEP_TARGET_S else 'MISSED'}")
    print(f"  {'sweep again, same day (no-op)':<34}{t_again:>10.3f}")
    print(f"  {'plain SQL, same changes':<34}{t_sql:>10.3f}   ratio {t_sweep / t_sql:.1f}×")

    # --- the list -----------------------------------------------------------------------------------
    with connection.cursor() as c:
        c.execute("SELECT agency_id, count(*) FROM requests_enterpriserequest GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        agency_id, in_agency = c.fetchone()
    from huiqi.accounts.models import User

    handler = User.objects.get(role="department", agency_id=agency_id, username__startswith="h_")
    setup_test_environment()
    client = Client()
    client.force_login(handler)
    filters = list_filters(o.seed)
    client.get("/requests/", HTTP_HOST="localhost")  # warm: templates, translations
    page_ms, sql_ms = [], []
    for f in filters:
        t0 = time.perf_counter()
        resp = client.get("/requests/", f, HTTP_HOST="localhost")
        page_ms.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, resp.status_code
    shown = Status  # noqa: F841 - the page shows statuses by label
    for f in filters:
        t0 = time.perf_counter()
        list_sql(agency_id, handler.pk, f, TODAY)
        sql_ms.append((time.perf_counter() - t0) * 1000)
    print(f"\ndepartment list: {handler.agency} ({in_agency:,} requests of {total:,}), {LIST_RUNS} page loads "
          "cycling through filters")
    print(f"  {'':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    print(f"  {'page /requests/ (whole view)':<34}{statistics.median(page_ms):>9.1f}{pct(page_ms, 95):>9.1f}"
          f"{max(page_ms):>9.1f}   target p95 < {LIST_TARGET_MS:.0f} ms: "
          f"{'met' if pct(page_ms, 95) < LIST_TARGET_MS else 'MISSED'}")
    print(f"  {'plain SQL (count + page of 25)':<34}{statistics.median(sql_ms):>9.1f}{pct(sql_ms, 95):>9.1f}"
          f"{max(sql_ms):>9.1f}")
    print(load_average())


if __name__ == "__main__":
    main()
