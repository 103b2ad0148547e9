"""Return-to-work benchmark on PostgreSQL: the dashboard over 12 million daily checks, and daily-check
submissions through the real HTTP stack.

    .venv/bin/python bench/resumption.py [--enterprises 200000] [--days 60]
        [--requests 50] [--naive-requests 20] [--clients 100] [--seconds 20]
        [--database-url postgres://postgres@127.0.0.1:5432/huiqi_bench_resumption] [--port 8765] [--keep]
        [--reuse-database] [--skip-dashboard]

One run:

1. drops and re-creates its own database (UTF-8, from template0), migrates, and builds ``--enterprises``
   enterprises with the registry's demo builder (setup, timed, not a figure);
2. generates ``enterprises × days`` daily checks (2020-02-03 onwards) in one ``INSERT … SELECT`` over
   ``generate_series`` (a recovery curve from a hash of the enterprise id; 5 % of the checks carry a
   difficulty), with the table's indexes built after the load, then rebuilds the rollup with the
   service the ``huiqi resumption rollup`` command calls (``services.rebuild_rollup``), timed;
3. (a) the dashboard page (``GET /resumption/dashboard/?end=2020-04-02``: the day's figures, four
   breakdowns, a 30-day trend, rendered) ``--requests`` times for the city (bureau user) and for one
   district (its officer), in process through Django's test client; beside it the naive way, the same
   figures aggregated from the raw table (``resumption_dailycheck`` and the registry) ``--naive-requests``
   times. p50 / p95 / max in ms; the first (cold: registry counts not cached yet) is printed apart;
4. (b) ``huiqi serve`` (gunicorn, the project's defaults: 2 × CPUs + 1 synchronous workers, which close
   each connection after its answer; ``HUIQI_WEB_WORKERS`` / ``HUIQI_WEB_THREADS`` change them) on
   ``--port``; 4 client processes × 25 threads = ``--clients`` connections (kept alive where the server
   keeps them) for ``--seconds`` each:
   ``GET /healthz`` (the trivial view: one ``SELECT 1``), then ``POST /api/v1/daily-checks/`` (an
   aggregator's token; each request a new enterprise's check for today, with a difficulty every
   fifth). Requests/s, p50 and p99 in ms, and errors; then the CPU each request cost, in ms, split
   between the server's processes, the PostgreSQL backends of the bench database and the load generator's (all share the machine's
   CPUs, so this says where a saturated machine's time goes), and how evenly the connections were
   served (each connection's mean latency, lowest / median / highest). The target: submissions ≥ 50 % of the trivial
   view's requests/s with p99 < 250 ms; dashboard p95 < 150 ms.

Times are printed, never asserted; each submission's status is checked (201) and the rows counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Run as a file, this script's folder would come first on the path, and a module there named like a
# library (bench/requests.py) would hide that library from the code under test.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import (
    PROJECT,
    clean_up,
    configure_environment,
    database_name,
    load_average,
    recreate_database,
    setup_django,
)

FIRST_DAY = dt.date(2020, 2, 3)
SCALE = "bench"
KINDS = ["staff", "materials", "logistics", "suppliers", "funds", "orders", "other"]


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(q / 100 * len(values) + 0.5)) - 1))
    return values[k]


def ms(seconds):
    return f"{seconds * 1000:,.1f}"


# --- data -------------------------------------------------------------------------------------------


def load_checks(days: int) -> dict:
    """12 M rows in one statement; the indexes and constraints of the table are built after the load."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("""SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
                       WHERE conrelid = 'resumption_dailycheck'::regclass AND contype IN ('u', 'c')""")
        constraints = cur.fetchall()
        cur.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'resumption_dailycheck'
                       AND indexname NOT IN (SELECT conname FROM pg_constraint
                                             WHERE conrelid = 'resumption_dailycheck'::regclass)""")
        indexes = cur.fetchall()
        for name, _ in constraints:
            cur.execute(f'ALTER TABLE resumption_dailycheck DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("ALTER TABLE resumption_dailycheck DISABLE TRIGGER ALL")
        cur.execute("""
            INSERT INTO resumption_dailycheck (enterprise_id, day, district_id, industry_section, size_class, is_key,
                is_open, staff_total, staff_returned, staff_on_site, capacity_pct, suspected_cases, confirmed_cases,
                on_time, source, submitted_at, updated_at)
            SELECT e.id, %s::date + t, e.district_id, i.section, e.size_class, e.is_key_enterprise,
                   t >= o.open_day, o.staff, r.returned, (r.returned * 9) / 10,
                   CASE WHEN t >= o.open_day THEN LEAST(100, 30 + 2 * (t - o.open_day)) ELSE 0 END, 0, 0,
                   (e.id + t) %% 10 <> 0, 'bench',
                   ((%s::date + t) + time '09:00') AT TIME ZONE 'Asia/Shanghai',
                   ((%s::date + t) + time '09:00') AT TIME ZONE 'Asia/Shanghai'
            FROM registry_enterprise e
            JOIN registry_industry i ON i.code = e.industry_id
            CROSS JOIN LATERAL (SELECT (abs(hashint4(e.id::int)) %% 45)::int AS open_day,
                                       GREATEST(1, COALESCE(e.employees, 5))::int AS staff) o
            CROSS JOIN generate_series(0, %s) AS t
            CROSS JOIN LATERAL (SELECT LEAST(o.staff, (o.staff * CASE WHEN t >= o.open_day
                                   THEN LEAST(0.97, 0.35 + 0.025 * (t - o.open_day)) ELSE 0.1 END)::int) AS returned) r
            ORDER BY t, e.id
        """, [FIRST_DAY, FIRST_DAY, FIRST_DAY, days - 1])
        rows = cur.rowcount
        loaded = time.perf_counter() - t0
        cur.execute("""
            INSERT INTO resumption_difficulty (daily_check_id, enterprise_id, day, district_id, kind, note, needs_help,
                                               follow_up_note)
            SELECT id, enterprise_id, day, district_id, (ARRAY['staff','materials','logistics','suppliers','funds',
                   'orders','other'])[1 + (id / 20) % 7], '基准测试', id % 100 = 0, ''
            FROM resumption_dailycheck WHERE id % 20 = 0""")
        difficulties = cur.rowcount
        cur.execute("ALTER TABLE resumption_dailycheck ENABLE TRIGGER ALL")
        t1 = time.perf_counter()
        for name, definition in constraints:
            cur.execute(f'ALTER TABLE resumption_dailycheck ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cur.execute(definition)
        cur.execute("SELECT setval(pg_get_serial_sequence('resumption_dailycheck', 'id'), "
                    "(SELECT MAX(id) FROM resumption_dailycheck))")
        indexed = time.perf_counter() - t1
        cur.execute("VACUUM ANALYZE resumption_dailycheck")
        cur.execute("ANALYZE resumption_difficulty")
        cur.execute("ANALYZE registry_enterprise")
        # The load wrote gigabytes of WAL: flush it now, in the setup, not in the middle of a measurement
        # (one run's dashboard p95 went from 66 to 219 ms when the checkpoint landed there).
        cur.execute("CHECKPOINT")
    return {"rows": rows, "difficulties": difficulties, "load_s": loaded, "index_s": indexed,
            "total_s": time.perf_counter() - t0}


# --- (a) the dashboard ------------------------------------------------------------------------------


NAIVE_SUMS = """COUNT(*) AS reports, SUM(CASE WHEN on_time THEN 1 ELSE 0 END), SUM(CASE WHEN is_open THEN 1 ELSE 0 END),
    SUM(staff_total), SUM(staff_returned), SUM(staff_on_site), SUM(CASE WHEN is_open THEN capacity_pct ELSE 0 END)"""


def naive_dashboard(district: str, end: dt.date) -> None:
    """The dashboard's figures straight from the raw table: the day, four breakdowns, a 30-day trend,
    and the registry counts per group."""
    from django.db import connection

    where, args = ("AND c.district_id = %s", [district]) if district else ("", [])
    ewhere = "WHERE e.district_id = %s" if district else ""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {NAIVE_SUMS} FROM resumption_dailycheck c WHERE day = %s {where}", [end, *args])
        cur.fetchall()
        for column in ("c.district_id", "c.industry_section", "c.size_class", "c.is_key"):
            cur.execute(f"SELECT {column}, {NAIVE_SUMS} FROM resumption_dailycheck c WHERE day = %s {where} "
                        f"GROUP BY {column}", [end, *args])
            cur.fetchall()
        cur.execute(f"SELECT day, {NAIVE_SUMS} FROM resumption_dailycheck c WHERE day BETWEEN %s AND %s {where} "
                    "GROUP BY day", [end - dt.timedelta(days=29), end, *args])
        cur.fetchall()
        for column in ("e.district_id", "i.section", "e.size_class", "e.is_key_enterprise"):
            cur.execute(f"SELECT {column}, COUNT(*) FROM registry_enterprise e JOIN registry_industry i "
                        f"ON i.code = e.industry_id {ewhere} GROUP BY {column}", args)
            cur.fetchall()


def measure_dashboard(args, end: dt.date) -> list[tuple[str, dict]]:
    from django.core.cache import cache
    from django.db import reset_queries
    from django.test import Client

    from huiqi.accounts.models import User
    from huiqi.accounts.services import create_user
    from huiqi.registry.models import District, Enterprise

    district = (Enterprise.objects.values("district_id").order_by("district_id").first() or {})["district_id"]
    district = District.objects.filter(code="440306").values_list("code", flat=True).first() or district
    bureau = User.objects.filter(username="bench-bureau").first() or create_user(
        None, username="bench-bureau", password="Bench-pass-2020x", role="bureau", check_password=False)
    officer = User.objects.filter(username="bench-district").first() or create_user(
        None, username="bench-district", password="Bench-pass-2020x", role="district",
        district=District.objects.get(code=district), check_password=False)
    out = []
    for label, user, code in (("city", bureau, ""), (f"district {district}", officer, district)):
        cache.clear()
        c = Client()
        c.force_login(User.objects.get(pk=user.pk))
        url = f"/resumption/dashboard/?end={end.isoformat()}"
        times = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            resp = c.get(url)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.status_code
            reset_queries()
        body = resp.content.decode()
        assert 'data-figure="open"' in body
        naive = []
        for _ in range(args.naive_requests):
            t0 = time.perf_counter()
            naive_dashboard(code, end)
            naive.append(time.perf_counter() - t0)
        out.append((label, {"cold": times[0], "p50": pct(times, 50), "p95": pct(times, 95), "max": max(times),
                            "naive_p50": pct(naive, 50), "naive_p95": pct(naive, 95), "naive_max": max(naive)}))
        print(f"  dashboard {label}: p50 {ms(pct(times, 50))} ms, p95 {ms(pct(times, 95))} ms (slowest after the "
              f"cold one: {', '.join(ms(t) for t in sorted(times[1:])[-4:])} ms); naive p50 {ms(pct(naive, 50))} ms",
              flush=True)
    return out


# --- (b) submissions over HTTP ----------------------------------------------------------------------


def _client_process(port, path, method, token, usccs, seconds, threads, start_at, queue):
    """One load process: ``threads`` keep-alive connections, each sending as fast as it is answered."""
    lock = threading.Lock()
    latencies: list[float] = []
    per_connection: list[float] = []  # each connection's mean latency: how evenly the server shares out
    errors = {"n": 0, "sample": ""}
    statuses: dict[int, int] = {}
    pool = list(usccs)
    today = dt.date.today().isoformat()

    def next_body(i):
        with lock:
            if not pool:
                return None
            uscc = pool.pop()
        body = {"enterprise": uscc, "day": today, "is_open": True, "staff_total": 100, "staff_returned": 60 + i % 40,
                "staff_on_site": 50, "capacity_pct": 40 + i % 60}
        if i % 5 == 0:
            body["difficulties"] = [{"kind": KINDS[i % 7], "note": "基准", "needs_help": i % 10 == 0}]
        return json.dumps(body).encode()

    def run(tid):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, i = [], tid
        while time.time() < start_at:
            time.sleep(0.001)
        end = start_at + seconds
        while time.time() < end:
            headers = {"Authorization": f"Token {token}"} if token else {}
            body = None
            if method == "POST":
                body = next_body(i)
                if body is None:
                    break
                headers["Content-Type"] = "application/json"
            i += threads
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                status, data = 0, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - t0)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1
                if status not in (200, 201):
                    errors["n"] += 1
                    errors["sample"] = errors["sample"] or data[:300].decode(errors="replace")
        with lock:
            latencies.extend(mine)
            if mine:
                per_connection.append(sum(mine) / len(mine))
        conn.close()

    ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put({"latencies": latencies, "per_connection": per_connection, "errors": errors, "statuses": statuses,
               "cpu": usage.ru_utime + usage.ru_stime})


def _cpu_of(match) -> float:
    """CPU seconds (user + system) used so far by the running processes ``match(pid, cmdline, session)``
    picks (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if match(int(entry.name), cmdline, int(fields[3])):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load(port, path, method, token, usccs, clients, seconds, processes=4, server_session=None,
         database=None) -> dict:
    threads = clients // processes
    queue = mp.Queue()

    def server(pid, cmdline, session):
        return server_session is not None and session == server_session

    def backend(pid, cmdline, session):  # "postgres: 15/main: user database host(port) state"
        return database is not None and cmdline.startswith("postgres:") and f" {database} " in cmdline

    cpu_before = (_cpu_of(server), _cpu_of(backend))
    start_at = time.time() + 1.0
    share = [usccs[i::processes] for i in range(processes)]
    procs = [mp.Process(target=_client_process, args=(port, path, method, token, share[p], seconds, threads,
                                                     start_at, queue)) for p in range(processes)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    server_cpu, database_cpu = (_cpu_of(server) - cpu_before[0], _cpu_of(backend) - cpu_before[1])
    latencies = [x for r in results for x in r["latencies"]]
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    errors = sum(r["errors"]["n"] for r in results)
    sample = next((r["errors"]["sample"] for r in results if r["errors"]["sample"]), "")
    n = max(1, len(latencies))
    connection_means = [x for r in results for x in r["per_connection"]]
    return {"requests": len(latencies), "rps": len(latencies) / seconds, "p50": pct(latencies, 50),
            "connection_means": (pct(connection_means, 0), pct(connection_means, 50), pct(connection_means, 100)),
            "p99": pct(latencies, 99), "max": max(latencies) if latencies else float("nan"), "errors": errors,
            "statuses": statuses, "sample": sample,
            # CPU per request: where the machine's time goes (server = huiqi serve's processes).
            "cpu_server_ms": 1000 * server_cpu / n, "cpu_database_ms": 1000 * database_cpu / n,
            "cpu_clients_ms": 1000 * sum(r["cpu"] for r in results) / n}


def wait_for(port, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer on port {port}")


def measure_http(args, work: Path) -> dict:
    from huiqi.accounts.models import User
    from huiqi.accounts.services import create_user, issue_token
    from huiqi.registry.models import Agency, Enterprise
    from huiqi.resumption.models import DailyCheck

    aggregator = User.objects.filter(username="bench-aggregator").first() or create_user(
        None, username="bench-aggregator", password="Bench-pass-2020x", role="department",
        agency=Agency.objects.first(), check_password=False)
    token = issue_token(None, aggregator, name="bench")[1]
    if args.reuse_database:  # today's reports of an earlier run would make these corrections, not first reports
        from django.db import connection

        with connection.cursor() as cur:
            for table in ("resumption_difficulty", "resumption_dailycheck", "resumption_dailyrollup"):
                cur.execute(f"DELETE FROM {table} WHERE day = %s", [dt.date.today()])
    usccs = list(Enterprise.objects.order_by("?").values_list("uscc", flat=True)[:200_000])
    from django.db import connections

    connections.close_all()
    env = {**os.environ, "HUIQI_INPROCESS_WORKER": "0"}
    log = open(work / "serve.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "huiqi.cli", "serve", "--port", str(args.port), "--no-worker",
                               "--skip-migrate"], cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_for(args.port)
        load(args.port, "/healthz", "GET", None, [], args.clients, 3)  # warm up every worker
        before = DailyCheck.objects.filter(day=dt.date.today()).count()
        print(f"  server up; {load_average()}", flush=True)
        database = database_name(args.database_url)
        trivial = load(args.port, "/healthz", "GET", None, [], args.clients, args.seconds, server_session=server.pid,
                       database=database)
        print(f"  trivial view: {trivial['rps']:,.0f} req/s, p99 {ms(trivial['p99'])} ms", flush=True)
        submit = load(args.port, "/api/v1/daily-checks/", "POST", token, usccs, args.clients, args.seconds,
                      server_session=server.pid, database=database)
        print(f"  submissions:  {submit['rps']:,.0f} req/s, p99 {ms(submit['p99'])} ms", flush=True)
        for label, r in (("trivial view", trivial), ("submissions", submit)):
            low, mid, high = r["connection_means"]
            print(f"  {label}: each connection's mean latency from {ms(low)} ms (median {ms(mid)}) to {ms(high)} ms",
                  flush=True)
        stored = DailyCheck.objects.filter(day=dt.date.today()).count() - before
        connections.close_all()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    return {"trivial": trivial, "submit": submit, "stored": stored}


# --- main -------------------------------------------------------------------------------------------


def _set_up(args, work: Path, t0: float) -> tuple[dict, dict]:
    """Steps 1 and 2: the database, the registry, the daily checks and the rollup."""
    name = recreate_database(args.database_url)
    configure_environment(args.database_url, str(work / "data"))
    setup_django()
    from django.core.management import call_command

    from huiqi.registry import demo as rdemo
    from huiqi.resumption import services

    call_command("migrate", verbosity=0)
    print(f"database {name} re-created and migrated in {time.perf_counter() - t0:.1f}s; {load_average()}",
          flush=True)
    t1 = time.perf_counter()
    rdemo.SCALES[SCALE] = args.enterprises
    counts = rdemo.build_demo(SCALE, args.seed)
    print(f"registry (demo builder, setup): {counts['enterprises']:,} enterprises in "
          f"{time.perf_counter() - t1:.1f}s", flush=True)
    loaded = load_checks(args.days)
    print(f"daily checks: {loaded['rows']:,} rows by INSERT … SELECT generate_series in {loaded['load_s']:.1f}s, "
          f"indexes and constraints {loaded['index_s']:.1f}s ({loaded['difficulties']:,} difficulties); "
          f"total {loaded['total_s']:.1f}s", flush=True)
    t2 = time.perf_counter()
    rollup_rows = services.rebuild_rollup(None)
    rollup_s = time.perf_counter() - t2
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE resumption_dailyrollup")
    print(f"rollup rebuilt set-based: {rollup_rows:,} rows from {loaded['rows']:,} in {rollup_s:.1f}s",
          flush=True)

    return counts, loaded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--naive-requests", type=int, default=20)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/huiqi_bench_resumption")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse-database", action="store_true",
                        help="measure again on the database a --keep run left (no setup; today's checks removed)")
    parser.add_argument("--skip-dashboard", action="store_true", help="measure (b) only")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="huiqi-bench-resumption-"))
    (work / "data").mkdir()
    try:
        t0 = time.perf_counter()
        if args.reuse_database:
            name = database_name(args.database_url)
            configure_environment(args.database_url, str(work / "data"))
            setup_django()
            from django.db import connection

            with connection.cursor() as cur:
                cur.execute("SELECT (SELECT count(*) FROM registry_enterprise), "
                            "(SELECT count(*) FROM resumption_dailycheck WHERE day < %s)", [dt.date.today()])
                enterprises, rows = cur.fetchone()
            counts, loaded = {"enterprises": enterprises}, {"rows": rows}
            print(f"database {name} reused: {enterprises:,} enterprises, {rows:,} daily checks; {load_average()}",
                  flush=True)
        else:
            counts, loaded = _set_up(args, work, t0)
        end = FIRST_DAY + dt.timedelta(days=args.days - 1)
        dash = []
        if not args.skip_dashboard:
            print(f"(a) dashboard, {args.requests} requests each (naive: {args.naive_requests}); {load_average()}",
                  flush=True)
            dash = measure_dashboard(args, end)
        print(f"(b) HTTP, {args.clients} clients, {args.seconds}s each", flush=True)
        http_result = measure_http(args, work)

        print()
        print(f"== return to work: {counts['enterprises']:,} enterprises × {args.days} days = "
              f"{loaded['rows']:,} daily checks (PostgreSQL) ==")
        print(f"{'(a) dashboard':<26}{'cold ms':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
              f"{'naive p50':>12}{'naive p95':>12}{'speed-up':>10}")
        for label, r in dash:
            print(f"{label:<26}{ms(r['cold']):>10}{ms(r['p50']):>10}{ms(r['p95']):>10}{ms(r['max']):>10}"
                  f"{ms(r['naive_p50']):>12}{ms(r['naive_p95']):>12}{r['naive_p50'] / r['p50']:>9.0f}×")
        if dash:
            worst = max(r["p95"] for _, r in dash)
            print(f"  target p95 < 150 ms: {'met' if worst < 0.150 else 'MISSED'} (worst p95 {ms(worst)} ms)")
        t, s = http_result["trivial"], http_result["submit"]
        print(f"{'(b) HTTP (huiqi serve)':<26}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
              f"{'max ms':>10}{'errors':>8}")
        for label, r in (("GET /healthz (trivial)", t), ("POST daily check", s)):
            print(f"{label:<26}{r['requests']:>10,}{r['rps']:>10,.0f}{ms(r['p50']):>10}{ms(r['p99']):>10}"
                  f"{ms(r['max']):>10}{r['errors']:>8}")
        print(f"{'  CPU per request, ms':<26}{'server':>10}{'database':>10}{'clients':>10}{'total':>10}")
        for label, r in (("  GET /healthz", t), ("  POST daily check", s)):
            total = r["cpu_server_ms"] + r["cpu_database_ms"] + r["cpu_clients_ms"]
            print(f"{label:<26}{r['cpu_server_ms']:>10.2f}{r['cpu_database_ms']:>10.2f}{r['cpu_clients_ms']:>10.2f}"
                  f"{total:>10.2f}")
        ratio = s["rps"] / t["rps"] if t["rps"] else 0
        print(f"  submissions at {ratio:.0%} of the trivial view's req/s (target ≥ 50 %: "
              f"{'met' if ratio >= 0.5 else 'MISSED'}); p99 {ms(s['p99'])} ms (target < 250 ms: "
              f"{'met' if s['p99'] < 0.25 else 'MISSED'}); {http_result['stored']:,} checks stored, statuses "
              f"{s['statuses']}")
        if s["sample"]:
            print(f"  first error body: {s['sample']}")
        print(f"{load_average()}; total {time.perf_counter() - t0:.0f}s")
    finally:
        clean_up(work, args.database_url, args.keep or args.reuse_database)


if __name__ == "__main__":
    main()
