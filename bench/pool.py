"""Risk-compensation pool benchmark on PostgreSQL at seed scale: the registration, the simulation of every
claim and the contingent liability, each beside a hand-written SQL query computing the same numbers in the
same run, agreeing to the fen.

    .venv/bin/python bench/pool.py [--loans 300000] [--npls 20000] [--enterprises N]
        [--database-url postgres://postgres@127.0.0.1:5432/huiqi_bench_pool] [--seed 2020] [--profile]
        [--keep] [--reuse-database]

One run:

1. drops and re-creates its own database (UTF-8, C.UTF-8, from template0), points ``DATABASE_URL`` and
   ``HUIQI_DATA_DIR`` (a temp dir) at it, sets Django up and migrates (reference data, the pool's default
   parameters);
2. setup, not measured (its time is printed), through the platform's own builders and services: the
   registry (``huiqi.registry.demo.build_demo``, ``--enterprises``, default loans / 3); the ledger
   (``huiqi.lending.demo.generate`` and ``write``: ``--loans`` loans, each registered in the pool the day
   it started, ``--npls`` of them non-performing; no interest payments, which the pool does not read); and
   the pool's life by its services: a bank suspended in the window and reinstated, another exited, the
   bureau's new table from 2020-05-01 (a row of its own, the limit lowered, two industries excluded) and the
   claim window (``pool.services.move_bank``, ``core.params.set_value``);
3. runs each measured phase in a fresh child process (this script again, ``--phase``), each after a
   ``CHECKPOINT`` and a ``sync``, three times each, the medians compared:

   * ``register``: ``huiqi.pool.services.register_loans``, every loan of the ledger screened and priced
     (the job ``pool.register`` does this), the registrations emptied before each run (not timed);
     beside ``register-sql``, one hand-written ``INSERT … SELECT`` into a table like the pool's (its
     indexes, constraints and reference to the loans) computing the same reason, ratio, cap and row;
   * ``simulate``: ``huiqi.pool.services.simulate()``, every NPL settled as a claim against the pool
     (``huiqi pool simulate`` without writing the file), beside ``simulate-sql``, one query with the
     eligibility, the compensation half-up and the settlement in approval order (a running sum);
   * ``liability``: ``huiqi.pool.selectors.contingent_liability`` on 2020-12-31 as the bureau reads it, by
     bank, beside ``liability-sql``;

4. compares every registration, every claim line and every bank's liability of the platform and of SQL (to
   the fen), prints a table (phase, seconds, rows, peak RSS) and each ratio against the target: within 2×
   of the reference. Times are printed, never asserted; the agreement is checked.

With ``--reuse-database`` (after a run with ``--keep``) the setup is skipped and the phases run against the
kept database.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a file, Python puts bench/ first on the path, where bench/requests.py would hide the HTTP library
# of that name: take bench/ off, put the project on.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import (  # noqa: E402
    clean_up,
    configure_environment,
    fresh_rusage_command,
    load_average,
    maxrss_kb,
    profiled,
    recreate_database,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/huiqi_bench_pool"
TARGET_RATIO = 2.0
RUNS = 3
SCALE = "bench"
LIABILITY_ON = dt.date(2020, 12, 31)
TABLE_CHANGED = dt.date(2020, 5, 1)  # the bureau's new table from this day
REF_TABLE = "bench_ref_registration"
OFFICER = "bench-bureau"

# --------------------------------------------------------------------------------------------------
# Setup (the parent)


def build(args) -> dict:
    """The registry, the ledger and the pool's life, through the platform's builders and services."""
    from huiqi.accounts import services as accounts
    from huiqi.core import params
    from huiqi.lending import demo as ldemo
    from huiqi.pool import services
    from huiqi.pool.apps import PARAMS_KEY
    from huiqi.registry import demo as rdemo
    from huiqi.registry import selectors as registry

    out = {}
    t = time.perf_counter()
    rdemo.SCALES[SCALE] = args.enterprises
    counts = rdemo.build_demo(SCALE, args.seed)
    out.update(registry_s=time.perf_counter() - t, enterprises=counts["enterprises"], owners=counts["owners"])
    print(f"registry (demo builder): {counts['enterprises']:,} enterprises, {counts['owners']:,} owners in "
          f"{out['registry_s']:.1f}s", flush=True)

    t = time.perf_counter()
    borrowers, banks = ldemo.registry_inputs()
    ldemo.SCALES[SCALE] = args.loans
    ldemo.NPL_SHARE = args.npls / args.loans
    data = ldemo.generate(SCALE, args.seed, borrowers=borrowers, banks=banks)
    data.payments = lambda: iter(())  # the pool reads no interest payments
    ledger = ldemo.write(data)
    out.update(ledger_s=time.perf_counter() - t, loans=ledger["loans"], npls=ledger["npls"])
    print(f"ledger (demo generator): {ledger['loans']:,} loans, {ledger['npls']:,} NPLs in {out['ledger_s']:.1f}s",
          flush=True)

    t = time.perf_counter()
    officer = accounts.create_user(None, username=OFFICER, password="!", role="bureau", check_password=False)
    onboarded = list(registry.banks().filter(onboarded_date__lte=dt.date(2020, 1, 31)).order_by("code"))
    suspended, exited = onboarded[0], onboarded[1]
    services.move_bank(officer, suspended, "suspended", dt.date(2020, 3, 10), note="不良率超过警戒线")
    services.move_bank(officer, suspended, "reinstated", dt.date(2020, 4, 20))
    services.move_bank(officer, exited, "exited", dt.date(2020, 9, 1))
    stored = params.value(PARAMS_KEY, on=TABLE_CHANGED)
    params.set_value(officer, PARAMS_KEY, "pool", {
        **stored, "max_principal": "20000000.00", "excluded_industries": ["K70", "J"], "claim_window_days": 180,
        "extra_rows": [{"name": "科技贷", "condition": "credit", "ratio": "0.6", "start": "2020-01-01",
                        "end": "2020-12-31"}]}, TABLE_CHANGED, today=TABLE_CHANGED)
    out.update(pool_s=time.perf_counter() - t, suspended=suspended.code, exited=exited.code)
    print(f"pool: {suspended.code} suspended 2020-03-10..04-20, {exited.code} exited 2020-09-01, a new table from "
          f"{TABLE_CHANGED}, in {out['pool_s']:.1f}s", flush=True)
    return out


# --------------------------------------------------------------------------------------------------
# The references: hand-written SQL over the tables


def _tables() -> dict:
    from huiqi.core.models import Parameter
    from huiqi.lending.models import Loan, NonPerformingLoan
    from huiqi.pool.models import BankEvent, Registration
    from huiqi.registry.models import Bank, Enterprise

    return {"loan": Loan._meta.db_table, "npl": NonPerformingLoan._meta.db_table,
            "reg": Registration._meta.db_table, "event": BankEvent._meta.db_table, "bank": Bank._meta.db_table,
            "ent": Enterprise._meta.db_table, "param": Parameter._meta.db_table}


def _e4(text) -> int:
    from decimal import Decimal

    return int(Decimal(str(text)) * 10_000)


def _tables_sql(today: dt.date) -> tuple[str, str]:
    """Two CTE bodies from the stored parameters: ``periods`` (each table's days, limit, widening date,
    window, caps, excluded prefixes) and ``ratio_rows`` (each table's rows, in order). Read from the parameter
    table by hand (the value in force on a day is the latest row from before it); ``today`` bounds the last."""
    from django.db import connection

    from huiqi.pool.apps import PARAMS_KEY

    with connection.cursor() as cur:
        cur.execute(f"SELECT effective_from, value FROM {_tables()['param']} WHERE key = %s ORDER BY effective_from",
                    [PARAMS_KEY])
        versions = cur.fetchall()
    periods, rows = [], []
    for i, (start, v) in enumerate(versions):
        v = v if isinstance(v, dict) else json.loads(v)
        end = versions[i + 1][0] if i + 1 < len(versions) else dt.date(9999, 12, 31)
        prefixes = ", ".join(f"'{p.strip().upper()}%'" for p in v.get("excluded_industries", []))
        periods.append(
            f"({i}, DATE '{start}', DATE '{end}', {_e4(v['max_principal']) // 100}::bigint, DATE '{v['widened_from']}', "
            f"DATE '{v['window_start']}', DATE '{v['window_end']}', {_e4(v['cap_normal'])}, {_e4(v['cap_window'])}, "
            f"ARRAY[{prefixes}]::text[])")
        table = [("base", "any", v["base_ratio"], None, None), ("first_loan", "first_loan", v["priority_ratio"], None, None),
                 ("credit", "credit", v["priority_ratio"], None, None),
                 ("window", "any", v["window_ratio"], v["window_start"], v["window_end"])]
        table += [(r.get("name") or f"row{k}", r.get("condition", "any"), r["ratio"], r.get("start") or None,
                   r.get("end") or None) for k, r in enumerate(v.get("extra_rows", []), start=1)]
        for order, (name, condition, ratio, s, e) in enumerate(table):
            rows.append(f"({i}, {order}, '{name}', '{condition}', {_e4(ratio)}, "
                        f"{f'DATE {s!r}' if s else 'NULL::date'}, {f'DATE {e!r}' if e else 'NULL::date'})")
    return (f"periods(k, from_day, to_day, max_principal, widened_from, window_start, window_end, cap_normal, "
            f"cap_window, excluded) AS (VALUES {', '.join(periods)})",
            f"ratio_rows(k, ord, name, condition, e4, start_day, end_day) AS (VALUES {', '.join(rows)})")


def _borrower_sql(b: str, o: str, p: str, l: str = "l") -> str:
    """The borrower's reason (lending's rules) then the excluded industries, over registry rows ``b`` (the
    borrower) and ``o`` (the owned enterprise) and the period ``p``; NULL when covered."""
    def industry(e):
        return f"CASE WHEN upper({e}.industry_id) LIKE ANY ({p}.excluded) THEN 'industry_excluded' END"
    return f"""CASE
        WHEN {l}.borrower_kind = 'business_owner' THEN CASE
            WHEN {o}.uscc IS NULL THEN 'owned_enterprise_not_in_registry'
            WHEN {o}.kind = 'individual_business' OR {o}.size_class IN ('small', 'micro') THEN {industry(o)}
            WHEN {o}.size_class = 'unknown' THEN 'owned_enterprise_size_unknown'
            ELSE 'owned_enterprise_not_small_or_micro' END
        WHEN {b}.uscc IS NULL THEN 'borrower_not_in_registry'
        WHEN {b}.kind = 'individual_business' THEN {industry(b)}
        WHEN {b}.size_class = 'large' THEN 'borrower_large'
        WHEN {b}.size_class = 'unknown' THEN 'borrower_size_unknown'
        ELSE {industry(b)} END"""


def _individual_sql(b: str, l: str = "l") -> str:
    return (f"({l}.borrower_kind = 'business_owner' OR CASE WHEN {b}.uscc IS NULL THEN "
            f"{l}.borrower_kind = 'individual_business' ELSE {b}.kind = 'individual_business' END)")


def _onboarded_sql(t: dict) -> str:
    """Each (bank, day) pair of ``pairs``: onboarded by then, not exited, not suspended since its last
    reinstatement."""
    return f"""onboarded AS MATERIALIZED (
        SELECT x.bank_id, x.day,
               coalesce(bk.onboarded_date <= x.day, false)
               AND NOT EXISTS (SELECT 1 FROM {t['event']} e WHERE e.bank_id = x.bank_id AND e.kind = 'exited'
                               AND e.on <= x.day)
               AND coalesce((SELECT e.kind FROM {t['event']} e WHERE e.bank_id = x.bank_id
                             AND e.kind IN ('suspended', 'reinstated') AND e.on <= x.day
                             ORDER BY e.on DESC, e.id DESC LIMIT 1), '') <> 'suspended' AS ok
        FROM pairs x JOIN {t['bank']} bk ON bk.id = x.bank_id)"""


def registration_sql() -> str:
    """Every loan with a registration day the reference table does not hold, screened and priced by the table
    of that day, inserted in one statement."""
    t = _tables()
    periods, ratio_rows = _tables_sql(dt.date.today())
    return f"""
    WITH {periods}, {ratio_rows},
    new AS MATERIALIZED (SELECT l.*, p.k FROM {t['loan']} l
                         JOIN periods p ON l.registered_date >= p.from_day AND l.registered_date < p.to_day
                         WHERE NOT EXISTS (SELECT 1 FROM {REF_TABLE} r WHERE r.loan_id = l.id)),
    pairs AS MATERIALIZED (SELECT DISTINCT bank_id, registered_date AS day FROM new),
    {_onboarded_sql(t)},
    combos AS MATERIALIZED (SELECT DISTINCT k, start_date, first_loan, guarantee = 'credit' AS credit FROM new),
    best AS MATERIALIZED (  -- the winning row of each (table, start, product): the first with the highest ratio
        SELECT c.*, w.name, w.e4 FROM combos c CROSS JOIN LATERAL (
            SELECT r.name, r.e4 FROM ratio_rows r WHERE r.k = c.k
              AND (r.start_day IS NULL OR c.start_date >= r.start_day) AND (r.end_day IS NULL OR c.start_date <= r.end_day)
              AND (r.condition = 'any' OR (r.condition = 'first_loan' AND c.first_loan)
                   OR (r.condition = 'credit' AND c.credit))
            ORDER BY r.e4 DESC, r.ord LIMIT 1) w),
    priced AS (
        SELECT l.id, l.registered_date, l.principal_fen, l.start_date, l.borrower_kind, l.borrower_id, l.owner_of,
               p.max_principal, p.widened_from, p.excluded, ob.ok AS onboarded,
               CASE WHEN l.start_date BETWEEN p.window_start AND p.window_end THEN p.cap_window ELSE p.cap_normal END
                   AS cap_e4,
               w.name AS row_name, w.e4 AS best_e4
        FROM new l
        JOIN periods p ON p.k = l.k
        JOIN onboarded ob ON ob.bank_id = l.bank_id AND ob.day = l.registered_date
        JOIN best w ON w.k = l.k AND w.start_date = l.start_date AND w.first_loan = l.first_loan
                   AND w.credit = (l.guarantee = 'credit'))
    INSERT INTO {REF_TABLE} (loan_id, registered_date, ratio, cap, "row", reason, created_at)
    SELECT l.id, l.registered_date, (least(l.best_e4, l.cap_e4) / 10000.0)::numeric(5, 4),
           (l.cap_e4 / 10000.0)::numeric(5, 4), l.row_name,
           coalesce(CASE WHEN NOT l.onboarded THEN 'bank_not_onboarded'
                         WHEN l.principal_fen > l.max_principal THEN 'principal_above_limit'
                         WHEN {_individual_sql('rb')} AND l.start_date < l.widened_from
                             THEN 'borrower_kind_not_covered_yet'
                         ELSE {_borrower_sql('rb', 'ro', 'l')} END, ''),
           now()
    FROM priced l
    LEFT JOIN {t['ent']} rb ON rb.uscc = l.borrower_id
    LEFT JOIN {t['ent']} ro ON ro.uscc = l.owner_of"""


def simulate_sql(today: dt.date, balance_fen: int) -> str:
    """Every NPL as a claim approved in (npl_date, bank, loan) order, eligibility by today's table, the ratio
    fixed at registration, settled against ``balance_fen`` by a running sum."""
    t = _tables()
    periods, _rows = _tables_sql(today)
    return f"""
    WITH {periods},
    today AS (SELECT * FROM periods WHERE DATE '{today}' >= from_day AND DATE '{today}' < to_day),
    claims AS (SELECT n.npl_date, n.outstanding_principal_fen - n.recovered_fen AS loss, l.*, bk.code AS bank_code,
                      g.ratio
               FROM {t['npl']} n JOIN {t['loan']} l ON l.id = n.loan_id JOIN {t['bank']} bk ON bk.id = l.bank_id
               LEFT JOIN {t['reg']} g ON g.loan_id = l.id),
    pairs AS (SELECT DISTINCT bank_id, registered_date AS day FROM claims WHERE registered_date IS NOT NULL),
    {_onboarded_sql(t)},
    judged AS (
        SELECT c.bank_code, c.loan_no, c.npl_date, c.loss, c.ratio,
               CASE WHEN c.registered_date IS NULL THEN 'loan_not_registered'
                    WHEN NOT ob.ok THEN 'bank_not_onboarded'
                    WHEN c.npl_date < c.registered_date THEN 'npl_before_registration'
                    WHEN c.principal_fen > p.max_principal THEN 'principal_above_limit'
                    WHEN {_individual_sql('rb', 'c')} AND c.start_date < p.widened_from
                        THEN 'borrower_kind_not_covered_yet'
                    ELSE {_borrower_sql('rb', 'ro', 'p', 'c')} END AS reason
        FROM claims c CROSS JOIN today p
        LEFT JOIN onboarded ob ON ob.bank_id = c.bank_id AND ob.day = c.registered_date
        LEFT JOIN {t['ent']} rb ON rb.uscc = c.borrower_id
        LEFT JOIN {t['ent']} ro ON ro.uscc = c.owner_of),
    compensated AS (
        SELECT *, CASE WHEN reason IS NULL THEN round(loss * ratio)::bigint ELSE 0 END AS compensation
        FROM judged),
    settled AS (
        SELECT *, greatest(0, least(compensation, {balance_fen} - coalesce(sum(compensation) OVER (
                   ORDER BY npl_date, bank_code COLLATE "C", loan_no COLLATE "C"
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)))::bigint AS paid
        FROM compensated)
    SELECT bank_code, loan_no, reason, CASE WHEN reason IS NULL THEN loss ELSE 0 END, coalesce(ratio, 0),
           compensation, paid, compensation - paid
    FROM settled ORDER BY npl_date, bank_code COLLATE "C", loan_no COLLATE "C\""""


def liability_sql(on: dt.date, by_bank: bool = True) -> str:
    """Σ principal × ratio of the loans in the pool on ``on`` and performing then, half-up once per bank (or
    once over all)."""
    t = _tables()
    return f"""
    SELECT {'bk.code, ' if by_bank else ''}count(*), round(sum(l.principal_fen * g.ratio))::bigint
    FROM {t['loan']} l JOIN {t['reg']} g ON g.loan_id = l.id JOIN {t['bank']} bk ON bk.id = l.bank_id
    WHERE g.registered_date <= DATE '{on}' AND g.reason = ''
      AND NOT EXISTS (SELECT 1 FROM {t['npl']} n WHERE n.loan_id = l.id AND n.npl_date <= DATE '{on}')
    {'GROUP BY bk.code ORDER BY bk.code COLLATE "C"' if by_bank else ''}"""


# --------------------------------------------------------------------------------------------------
# Phases (each runs in a child process)


def _execute(sql: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def _officer():
    from huiqi.accounts.selectors import users

    return users().get(username=OFFICER)


def _phase_empty(args) -> dict:
    """Before a registration (not timed): the pool's registrations, or the reference's, emptied."""
    from huiqi.pool.models import Registration

    if args.kind == "ref":
        _execute(f"DROP TABLE IF EXISTS {REF_TABLE}")
        t = _tables()
        _execute(f"CREATE TABLE {REF_TABLE} (LIKE {t['reg']} INCLUDING ALL)")
        _execute(f"ALTER TABLE {REF_TABLE} ADD FOREIGN KEY (loan_id) REFERENCES {t['loan']} (id) "
                 "DEFERRABLE INITIALLY DEFERRED")
    else:
        _execute(f"TRUNCATE {Registration._meta.db_table}")
    _execute("ANALYZE")
    return {"seconds": 0.0, "rows": 0, "note": f"emptied ({args.kind})"}


def _phase_register(args) -> dict:
    from django.db import connection

    from huiqi.pool import services

    connection.ensure_connection()
    officer = _officer()
    start = time.perf_counter()
    done = profiled(args.profile_out, lambda: services.register_loans(officer))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": done["registered"],
            "note": f"{done['registered']:,} loans registered, {done['covered']:,} covered"}


def _phase_register_sql(args) -> dict:
    from django.db import connection, transaction

    connection.ensure_connection()
    sql = registration_sql()
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)
        rows = cur.rowcount
    seconds = time.perf_counter() - start
    covered = _execute(f"SELECT count(*) FROM {REF_TABLE} WHERE reason = ''")[0][0]
    return {"seconds": seconds, "rows": rows, "note": f"{rows:,} rows by one INSERT … SELECT, {covered:,} covered"}


def _phase_simulate(args) -> dict:
    from django.db import connection

    from huiqi.pool import services

    connection.ensure_connection()
    start = time.perf_counter()
    result = profiled(args.profile_out, services.simulate)
    seconds = time.perf_counter() - start
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(line.csv_row() for line in result.lines)
    return {"seconds": seconds, "rows": len(result.lines), "balance_fen": result.balance_fen,
            "note": f"{len(result.lines):,} claims, {result.eligible:,} eligible; paid {result.paid_fen / 100:,.2f} 元, "
                    f"owed {result.owed_fen / 100:,.2f} 元 of a balance of {result.balance_fen / 100:,.2f} 元"}


def _phase_simulate_sql(args) -> dict:
    from django.db import connection

    from huiqi.core import clock
    from huiqi.pool import rules

    connection.ensure_connection()
    start = time.perf_counter()
    rows = _execute(simulate_sql(clock.today(), args.balance))
    seconds = time.perf_counter() - start
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(
            rules.ClaimLine(code, no, reason, loss, ratio, comp, paid, owed).csv_row()
            for code, no, reason, loss, ratio, comp, paid, owed in rows)
    paid = sum(r[6] for r in rows)
    return {"seconds": seconds, "rows": len(rows), "note": f"{len(rows):,} claims by one query; paid {paid / 100:,.2f} 元"}


def _phase_liability(args) -> dict:
    from django.db import connection

    from huiqi.pool import selectors

    connection.ensure_connection()
    officer = _officer()
    start = time.perf_counter()
    got = profiled(args.profile_out, lambda: selectors.contingent_liability(officer, LIABILITY_ON))
    seconds = time.perf_counter() - start
    Path(args.out).write_text(json.dumps({"total": got["total_fen"], "loans": got["loans"], "by_bank": {
        r["bank_code"]: [r["loans"], r["liability_fen"]] for r in got["by_bank"]}}))
    return {"seconds": seconds, "rows": got["loans"],
            "note": f"{got['loans']:,} performing loans in the pool, {len(got['by_bank'])} banks; liability "
                    f"{got['total_fen'] / 100:,.2f} 元 (with by vintage)"}


def _phase_liability_sql(args) -> dict:
    from django.db import connection

    connection.ensure_connection()
    start = time.perf_counter()
    rows = _execute(liability_sql(LIABILITY_ON))
    total = _execute(liability_sql(LIABILITY_ON, by_bank=False))[0]
    seconds = time.perf_counter() - start
    Path(args.out).write_text(json.dumps({"total": total[1], "loans": total[0],
                                          "by_bank": {code: [n, fen] for code, n, fen in rows}}))
    return {"seconds": seconds, "rows": total[0],
            "note": f"{total[0]:,} loans by two queries (by bank, and the whole once)"}


PHASES = {
    "empty": _phase_empty,
    "register": _phase_register,
    "register-sql": _phase_register_sql,
    "simulate": _phase_simulate,
    "simulate-sql": _phase_simulate_sql,
    "liability": _phase_liability,
    "liability-sql": _phase_liability_sql,
}


def run_phase(args) -> None:
    """Child side: set Django up, take the RSS baseline, run one phase, write its result as JSON."""
    configure_environment(args.database_url, args.data_dir)
    setup_django()
    baseline = maxrss_kb()
    result = PHASES[args.phase](args)
    result.update(phase=args.label or args.phase, baseline_kb=baseline, peak_kb=maxrss_kb())
    Path(args.result).write_text(json.dumps(result))


# --------------------------------------------------------------------------------------------------
# Orchestration (the parent)


def settle(args) -> None:
    """Before each phase: a CHECKPOINT and the machine's dirty pages written out (as bench/subsidy.py)."""
    import os

    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    os.sync()


def spawn(args, phase: str, work: Path, label: str, **extra) -> dict:
    result = work / f"result-{label}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--label", label,
           "--database-url", args.database_url, "--data-dir", str(args.data_dir), "--result", str(result)]
    for key, value in extra.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    settle(args)
    print(f"  … {label}", flush=True)
    proc = subprocess.run(fresh_rusage_command(cmd), cwd=str(_HERE.parent))
    if proc.returncode != 0:
        raise SystemExit(f"phase {label} failed (exit {proc.returncode})")
    return json.loads(result.read_text())


def median_of(args, phase: str, work: Path, label: str, before=None, **extra) -> dict:
    """The phase RUNS times, each in a fresh child (``before`` run first each time, not timed): the median
    run's result with every run's seconds, and the largest peak memory."""
    runs = []
    for i in range(RUNS):
        if before:
            before()
        runs.append(spawn(args, phase, work, label if i == 0 else f"{label}#{i + 1}", **extra))
    ordered = sorted(runs, key=lambda r: r["seconds"])
    middle = dict(ordered[len(ordered) // 2])
    middle["peak_kb"] = max(r["peak_kb"] for r in runs)
    middle["note"] += f"; median of {RUNS}: " + ", ".join(f"{r['seconds']:.2f}s" for r in runs)
    return middle


def compare_registrations() -> tuple[bool, str]:
    from huiqi.pool.models import Registration

    reg = Registration._meta.db_table
    columns = 'loan_id, registered_date, ratio, cap, "row", reason, repriced_at'
    one = _execute(f"SELECT count(*) FROM (SELECT {columns} FROM {reg} EXCEPT SELECT {columns} FROM {REF_TABLE}) x")
    two = _execute(f"SELECT count(*) FROM (SELECT {columns} FROM {REF_TABLE} EXCEPT SELECT {columns} FROM {reg}) x")
    n = _execute(f"SELECT count(*), count(*) FILTER (WHERE reason = '') FROM {reg}")[0]
    reasons = _execute(f"SELECT reason, count(*) FROM {reg} GROUP BY reason ORDER BY count(*) DESC")
    same = one[0][0] == 0 and two[0][0] == 0
    text = (f"    registrations: platform {n[0]:,} ({n[1]:,} covered); rows only in the platform's {one[0][0]:,}, "
            f"only in SQL's {two[0][0]:,}\n    reasons: " + ", ".join(f"{r or 'covered'} {c:,}" for r, c in reasons))
    return same, text


def compare_files(a: Path, b: Path, show: int = 5) -> tuple[bool, str]:
    with open(a, encoding="utf-8") as f:
        ra = list(csv.reader(f))
    with open(b, encoding="utf-8") as f:
        rb = list(csv.reader(f))
    differing = [(x, y) for x, y in zip(ra, rb) if x != y]
    same = not differing and len(ra) == len(rb)
    paid = sum(int(r[7].replace(".", "")) for r in ra)
    owed = sum(int(r[8].replace(".", "")) for r in ra)
    text = (f"    claims: platform {len(ra):,}, SQL {len(rb):,}, lines differing {len(differing):,}; "
            f"paid {paid / 100:,.2f} 元, owed {owed / 100:,.2f} 元")
    for x, y in differing[:show]:
        text += f"\n      platform {x}\n      SQL      {y}"
    return same, text


def compare_liability(a: Path, b: Path) -> tuple[bool, str]:
    ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
    same = ja == jb
    differing = sorted(k for k in ja["by_bank"].keys() | jb["by_bank"].keys()
                       if ja["by_bank"].get(k) != jb["by_bank"].get(k))
    text = (f"    liability: platform {ja['total'] / 100:,.2f} 元 over {ja['loans']:,} loans, SQL "
            f"{jb['total'] / 100:,.2f} 元 over {jb['loans']:,}; banks {len(ja['by_bank'])}, differing {differing}")
    return same, text


def measure(args, work: Path) -> tuple[dict, list[tuple[bool, str]]]:
    results: dict[str, dict] = {}
    checks = []
    only = set(args.only.split(","))
    if "register" in only:
        # The reference first (it reads the ledger as the platform will), then the platform, which leaves its
        # registrations for the phases after.
        results["register-sql"] = median_of(args, "register-sql", work, "register-sql",
                                             before=lambda: spawn(args, "empty", work, "empty-ref", kind="ref"))
        results["register"] = median_of(args, "register", work, "register",
                                         before=lambda: spawn(args, "empty", work, "empty-pool", kind="pool"))
        checks.append(compare_registrations())
    if "simulate" in only:
        sim, ref = work / "simulate.csv", work / "simulate-sql.csv"
        results["simulate"] = median_of(args, "simulate", work, "simulate", out=sim)
        results["simulate-sql"] = median_of(args, "simulate-sql", work, "simulate-sql", out=ref,
                                            balance=results["simulate"]["balance_fen"])
        checks.append(compare_files(sim, ref))
    if "liability" in only:
        lia, lia_ref = work / "liability.json", work / "liability-sql.json"
        results["liability"] = median_of(args, "liability", work, "liability", out=lia)
        results["liability-sql"] = median_of(args, "liability-sql", work, "liability-sql", out=lia_ref)
        checks.append(compare_liability(lia, lia_ref))
    if args.profile:
        for phase in [p for p in ("register", "simulate", "liability") if p in only]:
            if phase == "register":
                spawn(args, "empty", work, "empty-pool", kind="pool")
            out = work / f"profile-{phase}.out"
            spawn(args, phase, work, f"profile-{phase}", profile_out=work / f"{phase}.prof", out=out)
            print_profile(phase, work / f"{phase}.prof")
    return results, checks


def print_profile(label: str, path: Path, top: int = 25) -> None:
    import pstats

    print(f"\n=== cProfile of {label}, top {top} by cumulative time ===")
    pstats.Stats(str(path), stream=sys.stdout).strip_dirs().sort_stats("cumulative").print_stats(top)


def report(args, setup: dict, results: dict, checks: list[tuple[bool, str]]) -> None:
    print(f"\nRisk-compensation pool benchmark, PostgreSQL {args.database_url}")
    if setup:
        print(f"setup (not measured): migrate {setup['migrate_s']:.1f}s; registry {setup['registry_s']:.1f}s "
              f"({setup['enterprises']:,} enterprises and individual businesses, {setup['owners']:,} owners); "
              f"ledger {setup['ledger_s']:.1f}s ({setup['loans']:,} loans, {setup['npls']:,} NPLs); "
              f"the pool's banks and table {setup['pool_s']:.1f}s")
    header = f"{'phase':<16}{'seconds':>9}{'rows':>10}{'rows/s':>12}{'peak RSS MB':>13}"
    print("\n" + header + "\n" + "-" * len(header))
    for label, r in results.items():
        rate = r["rows"] / r["seconds"] if r["seconds"] else float("inf")
        print(f"{label:<16}{r['seconds']:9.2f}{r['rows']:10,}{rate:12,.0f}{r['peak_kb'] / 1024:13.1f}")
    print("-" * len(header))
    for label, r in results.items():
        print(f"  {label:<15} {r['note']}")
    print("\nplatform vs hand-written SQL, to the fen:")
    for same, text in checks:
        print(text + f"\n      → {'AGREE' if same else 'DO NOT AGREE'}")
    print()
    for phase in [p for p in ("register", "simulate", "liability") if p in results]:
        ratio = results[phase]["seconds"] / results[f"{phase}-sql"]["seconds"]
        print(f"target: {phase:<10} within {TARGET_RATIO:g}× of SQL → {ratio:6.2f}×  "
              f"{'MET' if ratio <= TARGET_RATIO else 'NOT MET'}")
    if not all(same for same, _ in checks):
        raise SystemExit("the platform and the SQL references do not agree")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=300_000)
    parser.add_argument("--npls", type=int, default=20_000)
    parser.add_argument("--enterprises", type=int, help="registry size (default: loans / 3)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--profile", action="store_true", help="also profile each platform phase (cProfile)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and the bench database")
    parser.add_argument("--only", default="register,simulate,liability",
                        help="the phases to measure, comma-separated (default: all three)")
    parser.add_argument("--reuse-database", action="store_true",
                        help="no setup: measure against the database an earlier run kept with --keep")
    # Internal: one measured phase in a child process.
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--balance", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args)
        return
    if args.enterprises is None:
        args.enterprises = max(100, args.loans // 3)
    work = Path(tempfile.mkdtemp(prefix="huiqi-bench-pool-"))
    args.data_dir = work / "data"
    args.data_dir.mkdir()
    setup: dict = {}
    try:
        t0 = time.perf_counter()
        if not args.reuse_database:
            name = recreate_database(args.database_url)
            print(f"database {name} re-created (UTF8, C.UTF-8, template0); work dir {work}", flush=True)
        configure_environment(args.database_url, str(args.data_dir))
        setup_django()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        if not args.reuse_database:
            setup["migrate_s"] = time.perf_counter() - t0
            setup.update(build(args))
            _execute("ANALYZE")
        connections.close_all()
        print(f"  start: {load_average()}", flush=True)
        results, checks = measure(args, work)
        print(f"  end:   {load_average()}; total {time.perf_counter() - t0:.0f}s", flush=True)
        report(args, setup, results, checks)
    finally:
        if args.reuse_database:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        else:
            clean_up(work, args.database_url, args.keep)


if __name__ == "__main__":
    main()
