"""Interest-subsidy benchmark on PostgreSQL at seed scale: ledger import against raw ``COPY``, and
``simulate`` against a hand-written DuckDB query over the same data.

    .venv/bin/python bench/subsidy.py [--loans 300000] [--payments-per-loan 6]
        [--enterprises N] [--database-url postgres://postgres@127.0.0.1:5432/huiqi_bench_subsidy]
        [--seed 2020] [--profile] [--keep] [--reuse-database]

One run:

1. drops and re-creates its own database (UTF-8, C.UTF-8, from template0), points ``DATABASE_URL`` and
   ``HUIQI_DATA_DIR`` (a temp dir) at it, sets Django up and migrates (reference data, the subsidy's
   default parameters);
2. setup, not measured (its time is printed): the registry through the demo builder
   (``huiqi.registry.demo.build_demo`` at a scale of ``--enterprises``, default loans / 3 = 100,000
   enterprises and individual businesses plus their business owners, which gives ≈ 100,000
   beneficiaries); then the files a bank would send, written deterministically from ``--seed``:

   * ``banks.csv``    the partner banks (the same rows the registry demo stored: the import finds
                      them unchanged);
   * ``loans.csv``    ``--loans`` rows from ``huiqi.lending.demo.generate`` (every borrower of the
                      registry at least once, starts peaking Feb–Jun 2020, ~3 % extensions), Chinese
                      headers and values;
   * ``payments.csv`` exactly ``--payments-per-loan`` interest payments per loan: 55 % monthly periods
                      aligned on the start date (as the demo ledger), 35 % settled monthly on the 21st
                      (the first period short), 10 % quarterly on the 21st of Mar/Jun/Sep/Dec (when the
                      loan is long enough): a quarter straddles the subsidy period's end, so counted
                      interest is a true fraction (≈ 7,700 of the 187,000 window loans at full scale);
                      interest = principal × rate × days / 360 rounded half-up; 2 % paid 1–10 days late.
                      Loans starting late in 2020 have payments past the cutoff 2020-12-31, which
                      ``simulate`` must leave out.

3. runs each measured phase in a fresh child process (this script again, ``--phase``) through
   ``/bin/sh`` (``_common.fresh_rusage_command``), so that each phase's peak RSS is its own, each after
   a ``CHECKPOINT`` and a ``sync`` (:func:`settle`: every phase starts with the writes before it on
   disk, rather than a checkpoint or the kernel's write-back landing in one phase and not another):

   * (a2) ``copy-loans``, ``copy-payments``: raw ``COPY … FROM STDIN (FORMAT csv, HEADER true)`` of the
     files' bytes into unconstrained all-text tables (the baseline of target (a));
   * (a1) ``import-banks``, ``import-loans``, ``import-payments``:
     ``huiqi.lending.imports.import_path(None, kind, path)``, the real upload path, one file each;
   * ``snapshot`` (not counted): what the job an upload queues does, ``huiqi.lending.snapshot.read()``,
     the columnar copy of the ledger's version (``docs/decisions.md``, "The interest subsidy reads a
     columnar snapshot of the ledger");
   * (b1) ``simulate``: ``huiqi.subsidy.services.simulate(None, date(2020, 12, 31))`` (with timers
     around ``services.load_inputs`` and ``rules_columnar.compute_batch_columns``), the snapshot ready
     (as DuckDB reads its own Parquet copy); then ``simulate-cold``, the same with no snapshot on disk
     (it reads the database and writes one), compared with DuckDB too and reported beside it;
   * ``export`` (not counted): the loans, payments, registry kind/size and paid-before read out of
     PostgreSQL (``COPY … TO STDOUT``) and written as Parquet by DuckDB, with the parameters in force on
     the cutoff (``services.current_params``) as JSON. DuckDB's postgres extension cannot be installed
     offline here, hence the export;
   * (b3) ``run``: ``huiqi.subsidy.services.run_batch`` by a bureau officer, the recorded batch (what
     the job queued by the page or the API does): simulate's computation, then every loan's line and
     every beneficiary's payment written in one transaction; its totals are checked against simulate's,
     and it is held to a run within 3× of simulate; the batch is cancelled afterwards (not timed);
   * (b2) ``duckdb``: one hand-written DuckDB SQL query over the Parquet files computing every
     beneficiary's loans counted, subsidy before cap, entitlement, due and payable with the same rules
     in exact integer arithmetic (per loan, Σ interest × overlap / days as numerator over the lcm of
     the days; rate as a fraction; half-up once per loan; cap; pro-rata floor in HUGEINT);
   * with ``--profile``: ``simulate`` and then (after emptying the ledger) the loans and payments
     imports again under cProfile, kept apart so that the timed phases are not slowed by the profiler.

   ``simulate``, ``duckdb`` and ``run`` run three times each, each time in a fresh process, and their
   medians are compared (every run's time is printed with them): a single run, held to simulate's median,
   moved between 1.3× and 3.4× of it on the shared machine from one run of the benchmark to the next.
   ``simulate`` and ``run`` take turns (simulate, run, simulate, run, …), so that the load of the moment
   weighs on both alike; each run is also printed over the simulate just before it, with the load average
   at the start of each, and the medians of their CPU times: the phase's own process (every thread) and
   its PostgreSQL backend (``/proc/<pid>/stat`` of ``pg_backend_pid()``, when the server runs on this
   machine; the parallel workers of an index build are not in it), which the load moves less than wall
   time;

4. compares every beneficiary's line and the totals of ``simulate`` and DuckDB (to the fen), prints a
   table (phase, seconds, rows/s, peak RSS, Δ RSS over the child's baseline, VmHWM) and the ratios
   against the targets: import within 3× of COPY, simulate within 3× of DuckDB, peak memory < 1.5 GB.
   Times are printed, never asserted; row counts, statuses and the agreement are checked.

With ``--reuse-database`` (after a run with ``--keep``; migrate the kept database first if the code has new
migrations) only step 3's ``snapshot``, ``simulate`` with ``run``, ``simulate-cold``, ``export`` and
``duckdb`` (and ``--profile``'s ``simulate``) run, against the kept ledger, and their part of step 4.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

# Run as a file, Python puts bench/ first on the path, where bench/requests.py would hide the HTTP
# library of that name from every package that imports it: take bench/ off, put the project on.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import (  # noqa: E402
    clean_up,
    load_average,
    configure_environment,
    current_rss_kb,
    fresh_rusage_command,
    hwm_kb,
    maxrss_kb,
    profiled,
    recreate_database,
    setup_django,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/huiqi_bench_subsidy"
CUTOFF = dt.date(2020, 12, 31)
TARGET_IMPORT_RATIO = 3.0
TARGET_SIMULATE_RATIO = 3.0
TARGET_RUN_RATIO = 3.0  # the recorded run (it writes every line) within 3× of simulate
TARGET_PEAK_MB = 1536.0  # 1.5 GB
SCALE = "bench"

BANK_HEADERS = ["银行机构代码", "银行名称", "签约日期", "入库日期"]
LOAN_HEADERS = ["银行机构代码", "贷款合同编号", "借款人证件号码", "借款人名称", "借款人类型", "所属企业证件号码",
                "贷款用途", "担保方式", "是否首贷", "贷款金额（元）", "年利率（%）", "放款日期", "到期日期",
                "原贷款合同编号"]
PAYMENT_HEADERS = ["银行机构代码", "贷款合同编号", "计息起日", "计息止日", "付息日期", "实付利息（元）"]
HEADERS = {"banks": BANK_HEADERS, "loans": LOAN_HEADERS, "payments": PAYMENT_HEADERS}

KIND_ZH = {"enterprise": "企业", "individual_business": "个体工商户", "business_owner": "小微企业主"}
PURPOSE_ZH = {"operating": "经营性", "other": "其他"}
GUARANTEE_ZH = {"credit": "信用", "guaranteed": "保证", "mortgage": "抵押", "pledge": "质押"}

COMPARED = ("loans_counted", "subsidy_before_cap", "entitlement", "paid_before", "due", "payable")

# --------------------------------------------------------------------------------------------------
# Data (the parent)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _next_21st(d: dt.date) -> dt.date:
    if d.day < 21:
        return d.replace(day=21)
    return dt.date(d.year + (d.month == 12), d.month % 12 + 1, 21)


def _next_quarter_21st(d: dt.date) -> dt.date:
    e = _next_21st(d)
    while e.month % 3:
        e = _next_21st(e)
    return e


def payment_schedule(loan, per_loan: int, rng: random.Random):
    """Exactly ``per_loan`` periods ``[s, e)`` of one loan (fewer only if the loan matures first)."""
    from huiqi.core.months import add_months

    start, maturity = loan.start_date, loan.maturity_date
    draw = rng.random()
    if draw < 0.55:  # monthly, aligned on the start date (the demo ledger's way)
        ends = [add_months(start, k) for k in range(1, per_loan + 1)]
    else:
        first = _next_quarter_21st(start) if draw >= 0.90 else _next_21st(start)
        step = 3 if draw >= 0.90 else 1
        ends = [add_months(first, step * k) for k in range(per_loan)]
        if draw >= 0.90 and ends[-1] > maturity:  # too short for quarterly: monthly on the 21st instead
            first = _next_21st(start)
            ends = [add_months(first, k) for k in range(per_loan)]
    out, s = [], start
    for e in ends:
        if e >= maturity:
            e = maturity
        if e <= s:
            break
        out.append((s, e))
        s = e
        if e == maturity:
            break
    return out


def write_files(work: Path, args) -> dict:
    """The registry demo's borrowers and banks → banks.csv, loans.csv, payments.csv; returns counts."""
    from huiqi.lending import demo as ldemo
    from huiqi.registry.models import Bank

    t = time.perf_counter()
    borrowers, banks = ldemo.registry_inputs()
    ldemo.SCALES[SCALE] = args.loans
    data = ldemo.generate(SCALE, args.seed, borrowers=borrowers, banks=banks)
    generated = time.perf_counter() - t

    paths = {kind: work / f"{kind}.csv" for kind in ("banks", "loans", "payments")}
    with open(paths["banks"], "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(BANK_HEADERS)
        for code, name, signed, onboarded in Bank.objects.order_by("code").values_list(
                "code", "name", "signed_date", "onboarded_date"):
            w.writerow([code, name, signed.isoformat() if signed else "",
                        onboarded.isoformat() if onboarded else ""])
    with open(paths["loans"], "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(LOAN_HEADERS)
        for ln in data.loans:
            w.writerow([ln.bank_code, ln.loan_no, ln.borrower_id, ln.borrower_name, KIND_ZH[ln.borrower_kind],
                        ln.owner_of, PURPOSE_ZH[ln.purpose], GUARANTEE_ZH[ln.guarantee],
                        "是" if ln.first_loan else "否", _yuan(ln.principal_fen), str(ln.annual_rate),
                        ln.start_date.isoformat(), ln.maturity_date.isoformat(), ln.extension_of])
    rng = random.Random(f"bench-subsidy-payments-{args.seed}")
    payments = late = past_cutoff = 0
    with open(paths["payments"], "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(PAYMENT_HEADERS)
        for ln in data.loans:
            for s, e in payment_schedule(ln, args.payments_per_loan, rng):
                paid = e
                if rng.random() < 0.02:
                    paid = e + dt.timedelta(days=1 + int(rng.random() * 10))
                    late += 1
                past_cutoff += paid > CUTOFF
                interest = ldemo.period_interest_fen(ln.principal_fen, ln.rate_e4, (e - s).days)
                w.writerow([ln.bank_code, ln.loan_no, s.isoformat(), e.isoformat(), paid.isoformat(),
                            _yuan(interest)])
                payments += 1
    counts = data.counts()
    return {"paths": paths, "loans": len(data.loans), "payments": payments, "late": late,
            "past_cutoff": past_cutoff, "borrowers": counts["borrowers"],
            "window_loans": counts["window_loans"],
            "banks": Bank.objects.count(), "generated_s": generated, "seconds": time.perf_counter() - t}


# --------------------------------------------------------------------------------------------------
# Phases (each runs in a child process)


def _phase_copy(args) -> dict:
    import psycopg
    from psycopg import sql

    table = f"bench_raw_{args.kind}"
    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}"))
                                 for i in range(len(HEADERS[args.kind])))
    with psycopg.connect(args.database_url) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(table), columns))
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)").format(
                    sql.Identifier(table))) as copy:
                with open(args.csv, "rb") as f:
                    while block := f.read(1 << 20):
                        copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        loaded = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
    assert loaded == args.rows, f"COPY loaded {loaded} rows, expected {args.rows}"
    return {"seconds": seconds, "rows": loaded, "note": f"{loaded:,} rows into {table} (all text)"}


def _phase_import(args) -> dict:
    from django.db import connection

    from huiqi.lending.imports import import_path

    connection.ensure_connection()
    marks: dict[str, float] = {}

    def progress(done, total, message, force=False):
        # The row path reports once, forced, when validation has passed and the write begins; the columnar
        # pass checks and writes batch by batch (no such moment: "—").
        if force and "写入" in message:
            marks["validated"] = time.perf_counter()

    start = time.perf_counter()
    record = profiled(args.profile_out, lambda: import_path(None, args.kind, args.csv, progress=progress))
    seconds = time.perf_counter() - start
    note = (f"status={record.status} total={record.rows_total:,} created={record.rows_created:,} "
            f"updated={record.rows_updated:,} unchanged={record.rows_unchanged:,}")
    assert record.status in ("stored", "unchanged"), note + " " + record.message[:500]
    assert record.rows_total == args.rows, note
    if args.kind != "banks":
        assert record.rows_created == args.rows, note
    validated = marks["validated"] - start if "validated" in marks else None
    return {"seconds": seconds, "validate_seconds": validated, "rows": record.rows_total, "note": note}


def _process_cpu() -> float:
    """This process's CPU seconds so far (user + system, every thread)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _backend_cpu(pid: int | None) -> float | None:
    """The PostgreSQL backend ``pid``'s CPU seconds so far, from ``/proc`` (None when the server is not on
    this machine, or off Linux)."""
    import os

    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, TypeError, ValueError, IndexError):
        return None


def _cpu_meter():
    """A function returning (process CPU s, backend CPU s or None) spent since the meter was made, for the
    Django connection's backend."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    own, backend = _process_cpu(), _backend_cpu(pid)

    def spent():
        now = _backend_cpu(pid)
        return _process_cpu() - own, (None if now is None or backend is None else now - backend)
    return spent


def _phase_simulate(args) -> dict:
    from django.db import connection

    from huiqi.subsidy import rules_columnar, services

    connection.ensure_connection()
    parts: dict[str, float] = {}

    def timed(label, fn):
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                parts[label] = parts.get(label, 0.0) + time.perf_counter() - t
        return wrapper

    if not args.profile_out:
        # ``simulate`` reads through the module that defines it, not the package's re-export.
        services.compute.load_inputs = timed("services.load_inputs (read the database)",
                                             services.compute.load_inputs)
        rules_columnar.compute_batch_columns = timed("rules_columnar.compute_batch_columns (the rules)",
                                                     rules_columnar.compute_batch_columns)
    meter = _cpu_meter()
    start = time.perf_counter()
    result = profiled(args.profile_out, lambda: services.simulate(None, CUTOFF))
    seconds = time.perf_counter() - start
    cpu, backend_cpu = meter()
    peak_before_writing = maxrss_kb()
    loans_counted = sum(1 for x in result.loans if x.eligible)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(("beneficiary_id", *COMPARED))
            for b in result.beneficiaries:
                w.writerow((b.beneficiary_id, b.loans_counted, b.subsidy_before_cap, b.entitlement,
                            b.paid_before, b.due, b.payable))
        factor = result.rationing_factor
        Path(args.out + ".json").write_text(json.dumps({
            "beneficiaries": len(result.beneficiaries), "loans": len(result.loans),
            "loans_counted": loans_counted,
            "due_total": result.due_total, "payable_total": result.payable_total,
            "budget_left": result.budget_left, "unspent": result.unspent,
            "factor": None if factor is None else [factor.numerator, factor.denominator],
        }))
    return {"seconds": seconds, "rows": len(result.beneficiaries), "parts": parts,
            "cpu": cpu, "backend_cpu": backend_cpu, "peak_kb_simulate": peak_before_writing,
            "note": f"{len(result.beneficiaries):,} beneficiaries, {loans_counted:,} of "
                    f"{len(result.loans):,} loans counted; due {result.due_total / 100:,.2f} 元, "
                    f"payable {result.payable_total / 100:,.2f} 元"}


def _bench_officer():
    """The bureau officer who runs the recorded batch (made once, kept with the database)."""
    from huiqi.accounts import services as accounts
    from huiqi.accounts.selectors import Role, users

    found = users().filter(username="bench-bureau").first()
    return found or accounts.create_user(None, username="bench-bureau", password="!", role=Role.BUREAU,
                                         check_password=False)


def _phase_run(args) -> dict:
    """(b3) the recorded run, ``huiqi.subsidy.services.run_batch`` (what the job of a page's or the API's
    batch run does): the same computation as simulate, then every loan's line and every beneficiary's
    payment written, in one transaction. Its totals are checked against simulate's; the batch is
    cancelled afterwards (not timed), so that the next run of the benchmark may record one again."""
    from django.db import connection

    from huiqi.subsidy import services

    connection.ensure_connection()
    officer = _bench_officer()
    steps: list[tuple[str, float]] = []
    meter = _cpu_meter()
    start = time.perf_counter()

    def progress(done, total, message):
        steps.append((message, time.perf_counter() - start))

    batch = profiled(args.profile_out, lambda: services.run_batch(officer, CUTOFF, progress=progress))
    seconds = time.perf_counter() - start
    cpu, backend_cpu = meter()
    parts = {message: end - at for (message, at), end in zip(steps, [t for _, t in steps[1:]] + [seconds])}
    lines = batch.loan_lines.count()
    totals = {"beneficiaries": batch.beneficiaries, "loans_counted": batch.loans_counted,
              "due_total": batch.due_total_fen, "payable_total": batch.payable_total_fen}
    services.cancel(officer, batch, note="基准测试后作废 cancelled after the benchmark")
    return {"seconds": seconds, "rows": batch.beneficiaries, "parts": parts, "totals": totals,
            "cpu": cpu, "backend_cpu": backend_cpu,
            "note": f"batch #{batch.pk}: {batch.beneficiaries:,} beneficiaries, {batch.loans_counted:,} loans "
                    f"counted, {lines:,} loan lines; due "
                    f"{batch.due_total_fen / 100:,.2f} 元 (cancelled afterwards, not timed)"}


def _phase_export(args) -> dict:
    """Not counted: what DuckDB reads, out of PostgreSQL into Parquet, and the parameters as JSON."""
    import duckdb
    from django.db import connection

    from huiqi.lending.models import InterestPayment, Loan
    from huiqi.registry.models import Bank, Enterprise
    from huiqi.subsidy import services

    out = Path(args.export_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    params = services.current_params(CUTOFF)
    before = services.paid_before()
    rate = Fraction(params.rate)
    Path(out / "params.json").write_text(json.dumps({
        "window_start": params.window_start.isoformat(), "window_end": params.window_end.isoformat(),
        "rate": [rate.numerator, rate.denominator], "months": params.months, "cap_fen": params.cap_fen,
        "budget_fen": params.budget_fen, "rationing": params.rationing,
        "spent_before_fen": sum(before.values()),
        "cutoff": CUTOFF.isoformat(),
    }))
    loan, pay, ent, bank = (m._meta.db_table for m in (Loan, InterestPayment, Enterprise, Bank))
    queries = {
        "loans": (f"SELECT l.id, b.code, l.loan_no, l.borrower_id, l.borrower_kind, l.owner_of, l.purpose, "
                  f"l.start_date FROM {loan} l JOIN {bank} b ON b.id = l.bank_id",
                  {"id": "BIGINT", "bank_code": "VARCHAR", "loan_no": "VARCHAR", "borrower_id": "VARCHAR",
                   "borrower_kind": "VARCHAR", "owner_of": "VARCHAR", "purpose": "VARCHAR",
                   "start_date": "DATE"}),
        "payments": (f"SELECT loan_id, accrual_start, accrual_end, paid_date, interest_fen FROM {pay}",
                     {"loan_id": "BIGINT", "accrual_start": "DATE", "accrual_end": "DATE",
                      "paid_date": "DATE", "interest_fen": "BIGINT"}),
        "registry": (f"SELECT uscc, kind, size_class FROM {ent}",
                     {"uscc": "VARCHAR", "kind": "VARCHAR", "size_class": "VARCHAR"}),
    }
    rows = {}
    db = duckdb.connect()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        for name, (query, columns) in queries.items():
            csv_path = out / f"{name}.csv"
            with open(csv_path, "wb") as f, raw.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
                for block in copy:
                    f.write(block)
            cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
            db.execute(f"COPY (SELECT * FROM read_csv('{csv_path}', header=false, columns={cols}, "
                       f"quote='\"')) TO '{out / (name + '.parquet')}' (FORMAT parquet)")
            rows[name] = db.execute(f"SELECT count(*) FROM '{out / (name + '.parquet')}'").fetchone()[0]
            csv_path.unlink()
    db.execute("CREATE TABLE paid_before (beneficiary_id VARCHAR, amount BIGINT)")
    if before:
        db.executemany("INSERT INTO paid_before VALUES (?, ?)", list(before.items()))
    db.execute(f"COPY paid_before TO '{out / 'paid_before.parquet'}' (FORMAT parquet)")
    rows["paid_before"] = len(before)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows["payments"],
            "note": "(not counted) " + ", ".join(f"{k} {v:,}" for k, v in rows.items()) + " rows → Parquet"}


DUCKDB_SQL = """
WITH
loans AS (SELECT * FROM read_parquet('{d}/loans.parquet')),
reg AS (SELECT * FROM read_parquet('{d}/registry.parquet')),
eligible AS (  -- the spec's checks; a loan failing any of them does not count
    SELECT l.id, l.borrower_id, l.start_date AS sub_start,
           CAST(l.start_date + to_months({months}) AS DATE) AS sub_end  -- clamped to the month's end
    FROM loans l
    LEFT JOIN reg rb ON rb.uscc = l.borrower_id
    LEFT JOIN reg ro ON ro.uscc = l.owner_of
    WHERE l.purpose = 'operating'
      AND l.start_date BETWEEN DATE '{window_start}' AND DATE '{window_end}'
      AND CASE WHEN l.borrower_kind = 'business_owner'
               THEN coalesce(ro.kind = 'individual_business' OR ro.size_class IN ('small', 'micro'), false)
               ELSE coalesce(rb.kind = 'individual_business' OR rb.size_class IN ('medium', 'small', 'micro'),
                             false)
          END
),
counted AS (  -- each counted payment as interest × overlap over days, both integers
    SELECT e.id,
           p.interest_fen::HUGEINT
             * datediff('day', greatest(p.accrual_start, e.sub_start),
                        least(p.accrual_end, e.sub_end)) AS num,
           datediff('day', p.accrual_start, p.accrual_end)::HUGEINT AS days
    FROM eligible e
    JOIN read_parquet('{d}/payments.parquet') p ON p.loan_id = e.id
    WHERE p.paid_date <= DATE '{cutoff}'
      AND least(p.accrual_end, e.sub_end) > greatest(p.accrual_start, e.sub_start)
),
by_days AS (SELECT id, days, sum(num) AS num FROM counted GROUP BY id, days),
loan_den AS (SELECT id, list_reduce(list(days), lambda a, b: lcm(a, b)) AS den FROM by_days GROUP BY id),
loan_sum AS (  -- Σ counted interest of a loan = num / den, exactly
    SELECT b.id, sum(b.num * (d.den // b.days)) AS num, any_value(d.den) AS den
    FROM by_days b JOIN loan_den d USING (id) GROUP BY b.id
),
loan_subsidy AS (  -- rate (rn/rd) × num / den, rounded half-up once: floor((2·rn·num + rd·den) / (2·rd·den))
    SELECT e.borrower_id,
           coalesce((2 * {rn} * s.num + {rd} * s.den) // (2 * {rd} * s.den), 0)::BIGINT AS subsidy
    FROM eligible e LEFT JOIN loan_sum s USING (id)
),
per_beneficiary AS (
    SELECT borrower_id AS beneficiary_id, count(*) AS loans_counted,
           sum(subsidy)::BIGINT AS subsidy_before_cap
    FROM loan_subsidy GROUP BY borrower_id
),
paid AS (SELECT beneficiary_id, amount FROM read_parquet('{d}/paid_before.parquet') WHERE amount > 0),
lines AS (
    SELECT coalesce(b.beneficiary_id, p.beneficiary_id) AS beneficiary_id,
           coalesce(b.loans_counted, 0) AS loans_counted,
           coalesce(b.subsidy_before_cap, 0) AS subsidy_before_cap,
           least(coalesce(b.subsidy_before_cap, 0), {cap_fen}) AS entitlement,
           coalesce(p.amount, 0) AS paid_before
    FROM per_beneficiary b FULL OUTER JOIN paid p ON p.beneficiary_id = b.beneficiary_id
),
dues AS (SELECT *, greatest(0, entitlement - paid_before) AS due FROM lines),
total AS (SELECT coalesce(sum(due), 0)::HUGEINT AS due_total FROM dues)
SELECT d.beneficiary_id, d.loans_counted, d.subsidy_before_cap, d.entitlement, d.paid_before, d.due,
       CASE WHEN '{rationing}' = 'pro_rata' AND t.due_total > {left_pos}
            THEN ((d.due::HUGEINT * {left_pos}) // t.due_total)::BIGINT  -- floor to the fen
            ELSE d.due END AS payable
FROM dues d CROSS JOIN total t
ORDER BY d.beneficiary_id
"""


def duckdb_sql(export_dir: str) -> str:
    p = json.loads(Path(export_dir, "params.json").read_text())
    left = p["budget_fen"] - p["spent_before_fen"]
    return DUCKDB_SQL.format(d=export_dir, months=int(p["months"]), window_start=p["window_start"],
                             window_end=p["window_end"], cutoff=p["cutoff"], rn=int(p["rate"][0]),
                             rd=int(p["rate"][1]), cap_fen=int(p["cap_fen"]), rationing=p["rationing"],
                             left_pos=max(int(left), 0))


def _phase_duckdb(args) -> dict:
    import duckdb

    query = duckdb_sql(args.export_dir)
    start = time.perf_counter()
    db = duckdb.connect()
    rows = db.execute(query).fetchall()
    seconds = time.perf_counter() - start
    threads = db.execute("SELECT current_setting('threads')").fetchone()[0]
    p = json.loads(Path(args.export_dir, "params.json").read_text())
    left = p["budget_fen"] - p["spent_before_fen"]
    due_total = sum(r[5] for r in rows)
    payable_total = sum(r[6] for r in rows)
    factor = None
    if p["rationing"] == "pro_rata" and due_total > max(left, 0):
        f = Fraction(max(left, 0), due_total)
        factor = [f.numerator, f.denominator]
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(("beneficiary_id", *COMPARED))
        w.writerows(rows)
    Path(args.out + ".json").write_text(json.dumps({
        "beneficiaries": len(rows), "loans_counted": sum(r[1] for r in rows), "due_total": due_total,
        "payable_total": payable_total, "budget_left": left, "unspent": left - payable_total,
        "factor": factor,
    }))
    return {"seconds": seconds, "rows": len(rows),
            "note": f"{len(rows):,} beneficiaries from one SQL query over Parquet ({threads} threads, "
                    f"DuckDB {duckdb.__version__})"}


def _phase_empty_ledger(args) -> dict:
    """Before the profiled imports: an empty ledger and no earlier upload of these files."""
    from django.db import connection

    from huiqi.lending.models import InterestPayment, LedgerUpload, Loan, NonPerformingLoan

    tables = ", ".join(m._meta.db_table for m in (InterestPayment, NonPerformingLoan, Loan))
    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {tables} CASCADE")
    LedgerUpload.objects.filter(kind__in=["loans", "payments"]).delete()
    return {"seconds": time.perf_counter() - start, "rows": 0, "note": "ledger emptied"}


def _phase_snapshot(args) -> dict:
    """What the background job an upload queues does (``lending.snapshot``): the columnar copy of the
    ledger's current version, ready for the simulations that follow. Not counted."""
    from django.db import connection

    from huiqi.lending import snapshot

    connection.ensure_connection()
    start = time.perf_counter()
    snap = snapshot.read()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": snap.payments.height,
            "note": f"(not counted: the job an upload queues) version {snap.version}, {snap.loans.height:,} loans, "
                    f"{snap.payments.height:,} payments, {snap.registry.height:,} registry entries"
                    + (" (already there)" if snap.from_cache else "")}


def clear_snapshot(args) -> None:
    """No ledger snapshot on disk: the next simulate reads the database (and writes one)."""
    import shutil

    shutil.rmtree(Path(args.data_dir) / "cache" / "ledger", ignore_errors=True)


PHASES = {
    "snapshot": (_phase_snapshot, True),
    "copy": (_phase_copy, False),
    "import": (_phase_import, True),
    "simulate": (_phase_simulate, True),
    "run": (_phase_run, True),
    "export": (_phase_export, True),
    "duckdb": (_phase_duckdb, False),
    "empty-ledger": (_phase_empty_ledger, True),
}


def run_phase(args) -> None:
    """Child side: (set Django up,) take the RSS baseline, run one phase, write its result as JSON."""
    fn, needs_django = PHASES[args.phase]
    configure_environment(args.database_url, args.data_dir)
    if needs_django:
        setup_django()
    else:
        import duckdb  # noqa: F401 - the same libraries loaded in every Django-less child
        import psycopg  # noqa: F401
    baseline = maxrss_kb()
    baseline_now = current_rss_kb()
    result = fn(args)
    result.update(phase=args.label or args.phase, baseline_kb=baseline, baseline_now_kb=baseline_now,
                  peak_kb=maxrss_kb(), end_kb=current_rss_kb(), hwm_kb=hwm_kb())
    Path(args.result).write_text(json.dumps(result))


# --------------------------------------------------------------------------------------------------
# Orchestration (the parent)


def spawn(args, phase: str, work: Path, label: str, **extra) -> dict:
    result = work / f"result-{label}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--label", label,
           "--database-url", args.database_url, "--data-dir", str(args.data_dir), "--result", str(result)]
    for key, value in extra.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    import os

    settle(args)
    load = os.getloadavg()[0]
    print(f"  … {label} (load average {load:.2f})", flush=True)
    t = time.perf_counter()
    proc = subprocess.run(fresh_rusage_command(cmd), cwd=str(Path(__file__).resolve().parent.parent))
    if proc.returncode != 0:
        raise SystemExit(f"phase {label} failed (exit {proc.returncode})")
    out = json.loads(result.read_text())
    out["wall"] = time.perf_counter() - t
    out["load"] = load
    return out


def compare(simulated: Path, duck: Path, show: int = 10) -> tuple[bool, list[str]]:
    """Every beneficiary's line and the totals, to the fen. Returns (agree, report lines)."""
    def read(path):
        with open(path, encoding="utf-8", newline="") as f:
            r = csv.reader(f)
            next(r)
            return {row[0]: tuple(int(x) for x in row[1:]) for row in r}

    a, b = read(simulated), read(duck)
    ta = json.loads(Path(str(simulated) + ".json").read_text())
    tb = json.loads(Path(str(duck) + ".json").read_text())
    lines, mismatches = [], []
    for bid in sorted(a.keys() | b.keys()):
        if a.get(bid) != b.get(bid):
            mismatches.append(bid)
    totals = ("beneficiaries", "loans_counted", "due_total", "payable_total", "budget_left", "unspent",
              "factor")
    for key in totals:
        same = ta.get(key) == tb.get(key)
        if not same:
            mismatches.append(f"total:{key}")
        lines.append(f"    {key:<14} simulate {_fmt_total(key, ta.get(key)):>26}   "
                     f"duckdb {_fmt_total(key, tb.get(key)):>26}   {'same' if same else 'DIFFERENT'}")
    beneficiary_mismatches = [m for m in mismatches if not m.startswith("total:")]
    lines.append(f"    beneficiaries compared: {len(a.keys() | b.keys()):,}; lines differing: "
                 f"{len(beneficiary_mismatches):,} (columns: {', '.join(COMPARED)})")
    for bid in beneficiary_mismatches[:show]:
        lines.append(f"      {bid}: simulate {a.get(bid)}  duckdb {b.get(bid)}")
    return not mismatches, lines


def _fmt_total(key, value):
    if value is None:
        return "—"
    if key == "factor":
        return f"{value[0] / value[1]:.9f}"
    if key in ("due_total", "payable_total", "budget_left", "unspent"):
        return f"{value / 100:,.2f} 元"
    return f"{value:,}"


def _mb(kb: int) -> float:
    return kb / 1024


def report(args, setup: dict, results: dict, agree: bool, compare_lines: list[str]) -> None:
    print(f"\nInterest-subsidy benchmark: {args.loans:,} loans, {setup['payments']:,} interest payments, "
          f"PostgreSQL {args.database_url}")
    print(f"setup (not measured): migrate {setup['migrate_s']:.1f}s; registry demo builder "
          f"{setup['registry_s']:.1f}s ({setup['enterprises']:,} enterprises and individual businesses, "
          f"{setup['owners']:,} business owners, {setup['banks']:,} banks); ledger generated and files "
          f"written {setup['files_s']:.1f}s (loans.csv {setup['sizes']['loans'] / 1e6:.1f} MB, payments.csv "
          f"{setup['sizes']['payments'] / 1e6:.1f} MB; {setup['borrowers']:,} borrowers, "
          f"{setup['window_loans']:,} loans started in the window, {setup['late']:,} payments late, "
          f"{setup['past_cutoff']:,} paid after {CUTOFF})")
    print()
    print_table(results)

    print("\nsimulate vs DuckDB, every beneficiary to the fen:")
    for line in compare_lines:
        print(line)
    print(f"  → {'AGREE to the fen' if agree else 'DO NOT AGREE'}")

    imp = sum(results[f"import-{k}"]["seconds"] for k in ("loans", "payments"))
    imp_banks = imp + results["import-banks"]["seconds"]
    cp = sum(results[f"copy-{k}"]["seconds"] for k in ("loans", "payments"))
    print()
    for k in ("loans", "payments"):
        label = f"ratio import-{k} / copy-{k}:"
        print(f"{label:<38}{results[f'import-{k}']['seconds'] / results[f'copy-{k}']['seconds']:9.2f}×")
    ratio_a = imp / cp
    print(f"ratio import (loans+payments) / COPY: {ratio_a:9.2f}×   "
          f"(with the banks file: {imp_banks / cp:.2f}×)")
    ratio_b = print_simulate_ratio(results)
    print()
    print(f"target (a): import within {TARGET_IMPORT_RATIO:g}× of COPY      → {ratio_a:.2f}×  "
          f"{'MET' if ratio_a <= TARGET_IMPORT_RATIO else 'NOT MET'}")
    print_simulate_targets(results, ratio_b)


def print_table(results: dict) -> None:
    header = (f"{'phase':<18}{'seconds':>9}{'rows':>11}{'rows/s':>11}{'peak RSS MB':>13}{'Δ RSS MB':>10}"
              f"{'VmHWM MB':>10}{'validate s':>12}{'write s':>9}")
    print(header)
    print("-" * len(header))
    for label, r in results.items():
        if label.startswith("profile-") or label == "empty-ledger":
            continue
        seconds = r["seconds"]
        rate = r["rows"] / seconds if seconds else float("inf")
        v = r.get("validate_seconds")
        vs = f"{v:12.2f}" if v is not None else f"{'—':>12}"
        ws = f"{seconds - v:9.2f}" if v is not None else f"{'—':>9}"
        hwm = f"{_mb(r['hwm_kb']):10.1f}" if r.get("hwm_kb") else f"{'—':>10}"
        print(f"{label:<18}{seconds:9.2f}{r['rows']:11,}{rate:11,.0f}{_mb(r['peak_kb']):13.1f}"
              f"{_mb(r['peak_kb'] - r['baseline_kb']):10.1f}{hwm}{vs}{ws}")
    print("-" * len(header))
    print("peak RSS = ru_maxrss of the phase's own child process; Δ RSS = peak minus that child's "
          "ru_maxrss after\ndjango.setup() (or after importing duckdb/psycopg for copy-* and duckdb); "
          "VmHWM = the kernel's peak RSS\nof the child. validate s = until process() reports validation "
          "passed; write s = the rest (store);\n— for the columnar pass, which checks and writes batch by "
          "batch.")
    for label, r in results.items():
        if not label.startswith("profile-"):
            print(f"  {label:<17} baseline {_mb(r['baseline_kb']):.1f} MB; {r['note']}")
    sim = results["simulate"]
    if sim.get("parts"):
        print(f"\n  where simulate's {sim['seconds']:.2f}s went:")
        for k, v in sim["parts"].items():
            print(f"    {k:<44}{v:8.2f}s")


def print_simulate_ratio(results: dict) -> float:
    ratio_b = results["simulate"]["seconds"] / results["duckdb"]["seconds"]
    print(f"ratio simulate / DuckDB:              {ratio_b:9.2f}×   (the ledger snapshot ready; DuckDB's export "
          f"to Parquet, not counted: {results['export']['seconds']:.2f}s)")
    if "simulate-cold" in results:
        cold = results["simulate-cold"]["seconds"] / results["duckdb"]["seconds"]
        print(f"ratio simulate-cold / DuckDB:         {cold:9.2f}×   (no snapshot: read from the database; "
              f"the snapshot job alone took {results['snapshot']['seconds']:.2f}s)")
    if "run" in results:
        sim, run = results["simulate"], results["run"]
        print(f"ratio run / simulate:                 {run['seconds'] / sim['seconds']:9.2f}×   (the recorded "
              f"batch: computed, then every line written; medians, the two run in turns; target within "
              f"{TARGET_RUN_RATIO:g}× of simulate → "
              f"{'MET' if run['seconds'] <= TARGET_RUN_RATIO * sim['seconds'] else 'NOT MET'})")
        pairs = [(s, r) for s, r in zip(sim.get("every", []), run.get("every", []))]
        if pairs:
            print("    each run over the simulate just before it: " + ", ".join(
                f"{r['seconds']:.2f}/{s['seconds']:.2f}s = {r['seconds'] / s['seconds']:.2f}× "
                f"(load average {s['load']:.2f}, {r['load']:.2f})" for s, r in pairs))
        for label, r in (("simulate", sim), ("run", run)):
            backend = "—" if r.get("backend_cpu") is None else f"{r['backend_cpu']:.2f}s"
            if r.get("cpu") is not None:
                print(f"    CPU time (medians) of {label + ':':<10} its process {r['cpu']:.2f}s, "
                      f"its PostgreSQL backend {backend}")
        print(f"ratio run / DuckDB:                   {run['seconds'] / results['duckdb']['seconds']:9.2f}×")
        for k, v in run.get("parts", {}).items():
            print(f"    run: {k:<44}{v:8.2f}s")
    return ratio_b


def print_simulate_targets(results: dict, ratio_b: float) -> None:
    measured = [k for k in results if k.startswith(("import-", "simulate", "duckdb", "copy-", "run"))]
    worst = max(measured, key=lambda k: results[k]["peak_kb"])
    peak = _mb(results[worst]["peak_kb"])
    app = [k for k in measured if k.startswith(("import-", "simulate", "run"))]
    worst_app = max(app, key=lambda k: results[k]["peak_kb"])
    peak_app = _mb(results[worst_app]["peak_kb"])
    print(f"target (b): simulate within {TARGET_SIMULATE_RATIO:g}× of DuckDB  → {ratio_b:.2f}×  "
          f"{'MET' if ratio_b <= TARGET_SIMULATE_RATIO else 'NOT MET'}")
    print(f"target: peak memory < {TARGET_PEAK_MB / 1024:g} GB          → largest application phase "
          f"{worst_app} {peak_app:.1f} MB; largest of all {worst} {peak:.1f} MB  "
          f"{'MET' if peak < TARGET_PEAK_MB else 'NOT MET'}")
    for k in app:
        print(f"    {k:<16} peak {_mb(results[k]['peak_kb']):8.1f} MB  "
              f"{'MET' if _mb(results[k]['peak_kb']) < TARGET_PEAK_MB else 'NOT MET'}")


RUNS = 3


def median_of(args, phase: str, work: Path, label: str, **extra) -> dict:
    """The phase RUNS times (each a fresh child process, its output compared afterwards from the last):
    the median run's result, with every run's seconds and the largest peak memory of them."""
    return _median([spawn(args, phase, work, label if i == 0 else f"{label}#{i + 1}", **extra)
                    for i in range(RUNS)])


def _median(runs: list[dict]) -> dict:
    """The median of ``runs`` by seconds, with every run's seconds and the largest peak memory of them."""
    every = list(runs)
    runs = sorted(runs, key=lambda r: r["seconds"])
    middle = dict(runs[len(runs) // 2])
    for key in ("peak_kb", "hwm_kb"):
        middle[key] = max(r.get(key) or 0 for r in runs)
    middle["note"] += f"; median of {len(runs)} runs: " + ", ".join(f"{r['seconds']:.2f}s" for r in runs)
    middle["every"] = every
    for key in ("cpu", "backend_cpu"):
        values = sorted(r[key] for r in runs if r.get(key) is not None)
        middle[key] = values[len(values) // 2] if values else None
    return middle


def simulate_and_run(args, work: Path, sim_out: Path) -> tuple[dict, dict]:
    """simulate and the recorded run RUNS times each, in turns (simulate, run, simulate, run, …), so that
    the machine's load, which moves from one minute to the next, weighs on both alike: their medians."""
    simulations, runs = [], []
    for i in range(RUNS):
        suffix = "" if i == 0 else f"#{i + 1}"
        simulations.append(spawn(args, "simulate", work, f"simulate{suffix}", out=sim_out))
        runs.append(spawn(args, "run", work, f"run{suffix}"))  # each run cancels its batch: the next may run
    return _median(simulations), _median(runs)


def settle(args) -> None:
    """Before each measured phase: a CHECKPOINT, then the machine's dirty pages written out (sync).
    Otherwise the writes of what ran before are flushed while the phase runs, by chance in one phase
    and not another: the server starts a checkpoint by itself after about half a gigabyte of WAL
    (max_wal_size 1 GB here; seen in its log, one landed inside an import and took 2 s of it), and the
    kernel writes out the files the setup and the snapshot wrote some seconds after. Every phase, the
    baseline's and DuckDB's included, starts settled."""
    import os

    import psycopg

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    os.sync()


def simulate_phases(args, work: Path, results: dict, sim_out: Path, duck_out: Path, export_dir: Path):
    """simulate with the ledger snapshot ready (after the job an upload queues: the figure held to the
    target, as DuckDB reads its own columnar copy), then without one (it reads the database and writes
    the snapshot), the export, DuckDB; both simulations compared with DuckDB to the fen."""
    clear_snapshot(args)
    results["snapshot"] = spawn(args, "snapshot", work, "snapshot")
    # simulate, the run and DuckDB each run RUNS times, each in a fresh process: the medians are compared
    # (this machine's speed moves by a fifth from one second to the next), every run's time is printed.
    results["simulate"], results["run"] = simulate_and_run(args, work, sim_out)
    clear_snapshot(args)
    cold_out = work / "simulate-cold.csv"
    results["simulate-cold"] = spawn(args, "simulate", work, "simulate-cold", out=cold_out)
    results["export"] = spawn(args, "export", work, "export", export_dir=export_dir)
    results["duckdb"] = median_of(args, "duckdb", work, "duckdb", export_dir=export_dir, out=duck_out)
    agree, lines = compare(sim_out, duck_out)
    cold_agree, cold_lines = compare(cold_out, duck_out)
    simulated = json.loads(Path(str(sim_out) + ".json").read_text())
    recorded = results["run"]["totals"]
    run_agree = all(recorded[k] == simulated[k] for k in recorded)
    lines.append(f"    run (recorded batch): {'the same totals' if run_agree else 'DIFFERENT: ' + repr(recorded)}")
    cold_agree = cold_agree and run_agree
    lines.append(f"    simulate-cold (no snapshot): {'the same lines and totals' if cold_agree else 'DIFFERENT:'}")
    if not cold_agree:
        lines.extend(cold_lines)
    return agree and cold_agree, lines


def simulate_only(args) -> None:
    """``--reuse-database``: simulate, export and DuckDB (and with ``--profile`` simulate under cProfile)
    against the ledger an earlier run kept with ``--keep``; no setup, COPY or import, and the database
    is left as it was."""
    work = Path(tempfile.mkdtemp(prefix="huiqi-bench-subsidy-"))
    args.data_dir = work / "data"
    args.data_dir.mkdir()
    try:
        t0 = time.perf_counter()
        sim_out, duck_out, export_dir = work / "simulate.csv", work / "duckdb.csv", work / "export"
        print(f"reusing the database at {args.database_url}; work dir {work}", flush=True)
        print(f"  start: {load_average()}", flush=True)
        results: dict[str, dict] = {}
        agree, compare_lines = simulate_phases(args, work, results, sim_out, duck_out, export_dir)
        profiled = None
        if args.profile:
            prof = spawn(args, "simulate", work, "profile-simulate", profile_out=work / "simulate.prof")
            profiled = ("simulate", work / "simulate.prof", prof["seconds"])
        print(f"  end:   {load_average()}; total {time.perf_counter() - t0:.0f}s", flush=True)
        print(f"\nInterest-subsidy benchmark, simulate only, on the kept database {args.database_url}\n")
        print_table(results)
        print("\nsimulate vs DuckDB, every beneficiary to the fen:")
        for line in compare_lines:
            print(line)
        print(f"  → {'AGREE to the fen' if agree else 'DO NOT AGREE'}")
        print()
        print_simulate_targets(results, print_simulate_ratio(results))
        if profiled:
            print_profile(*profiled)
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


def print_profile(label: str, path: Path, seconds: float, top: int = 20) -> None:
    import pstats

    print()
    print(f"=== cProfile of {label} ({seconds:.2f}s under the profiler), top {top} by cumulative time ===")
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    print(f"=== {label}: top 12 by own (total) time ===")
    stats.sort_stats("tottime").print_stats(12)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=300_000)
    parser.add_argument("--payments-per-loan", type=int, default=6)
    parser.add_argument("--enterprises", type=int, help="registry size (default: loans / 3)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--profile", action="store_true",
                        help="also profile simulate and the loans/payments imports (cProfile, top 20)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and the bench database")
    parser.add_argument("--reuse-database", action="store_true",
                        help="only simulate and DuckDB (the export between them not counted), against the "
                             "database an earlier run kept with --keep at the same --database-url: no setup, "
                             "COPY or import; the database is left as it was")
    # Internal: one measured phase in a child process.
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--export-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args)
        return
    if args.reuse_database:
        simulate_only(args)
        return
    if args.enterprises is None:
        args.enterprises = max(100, args.loans // 3)

    work = Path(tempfile.mkdtemp(prefix="huiqi-bench-subsidy-"))
    args.data_dir = work / "data"
    args.data_dir.mkdir()
    setup: dict = {}
    try:
        t0 = time.perf_counter()
        name = recreate_database(args.database_url)
        print(f"database {name} re-created (UTF8, C.UTF-8, template0); work dir {work}", flush=True)
        configure_environment(args.database_url, str(args.data_dir))
        setup_django()
        from django.core.management import call_command
        from django.db import connections

        from huiqi.registry import demo as rdemo

        call_command("migrate", verbosity=0)
        setup["migrate_s"] = time.perf_counter() - t0
        print(f"migrated in {setup['migrate_s']:.1f}s", flush=True)

        t1 = time.perf_counter()
        rdemo.SCALES[SCALE] = args.enterprises
        counts = rdemo.build_demo(SCALE, args.seed)
        setup.update(registry_s=time.perf_counter() - t1, enterprises=counts["enterprises"],
                     owners=counts["owners"])
        print(f"registry (demo builder, setup): {counts['enterprises']:,} enterprises, "
              f"{counts['owners']:,} owners in {setup['registry_s']:.1f}s", flush=True)

        files = write_files(work, args)
        paths = files.pop("paths")
        setup.update(files, files_s=files["seconds"], sizes={k: p.stat().st_size for k, p in paths.items()})
        print(f"files written in {setup['files_s']:.1f}s (ledger generated in {files['generated_s']:.1f}s): "
              f"{files['loans']:,} loans, {files['payments']:,} payments, {files['banks']} banks", flush=True)
        connections.close_all()

        rows = {"banks": files["banks"], "loans": files["loans"], "payments": files["payments"]}
        sim_out, duck_out, export_dir = work / "simulate.csv", work / "duckdb.csv", work / "export"
        print(f"  start: {load_average()}", flush=True)
        results: dict[str, dict] = {}
        for kind in ("loans", "payments"):
            results[f"copy-{kind}"] = spawn(args, "copy", work, f"copy-{kind}", kind=kind, csv=paths[kind],
                                            rows=rows[kind])
        for kind in ("banks", "loans", "payments"):
            results[f"import-{kind}"] = spawn(args, "import", work, f"import-{kind}", kind=kind,
                                              csv=paths[kind], rows=rows[kind])
        agree, compare_lines = simulate_phases(args, work, results, sim_out, duck_out, export_dir)
        profiles = []
        if args.profile:
            prof = spawn(args, "simulate", work, "profile-simulate", profile_out=work / "simulate.prof")
            profiles.append(("simulate", work / "simulate.prof", prof["seconds"]))
            results["empty-ledger"] = spawn(args, "empty-ledger", work, "empty-ledger")
            for kind in ("loans", "payments"):
                prof = spawn(args, "import", work, f"profile-import-{kind}", kind=kind, csv=paths[kind],
                             rows=rows[kind], profile_out=work / f"import-{kind}.prof")
                profiles.append((f"import-{kind}", work / f"import-{kind}.prof", prof["seconds"]))
        print(f"  end:   {load_average()}; total {time.perf_counter() - t0:.0f}s", flush=True)
        report(args, setup, results, agree, compare_lines)
        for label, path, seconds in profiles:
            print_profile(label, path, seconds)
    finally:
        clean_up(work, args.database_url, args.keep)


if __name__ == "__main__":
    main()
