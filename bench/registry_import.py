"""Registry import benchmark on PostgreSQL: the real import path against raw ``COPY``.

    .venv/bin/python bench/registry_import.py [--rows 100000]
        [--database-url postgres://postgres@127.0.0.1:5432/huiqi_bench] [--seed 20200301] [--profile] [--keep]

One run:

1. drops and re-creates its own database (UTF-8, C.UTF-8, from template0), points ``DATABASE_URL`` and
   ``HUIQI_DATA_DIR`` (a temp dir) at it, sets Django up and migrates (which loads the reference data);
2. writes a deterministic registry CSV of N valid rows with the Chinese headers (``random.Random(seed)``),
   and a copy with 1 % of the rows changed;
3. runs each measured phase in a fresh child process (this script again, ``--phase``), so that each
   phase's peak RSS (``ru_maxrss``, a process-wide high-water mark) is its own:

   * ``copy``       raw ``COPY … FROM STDIN (FORMAT csv, HEADER true)`` of the CSV's bytes into an
                    unconstrained all-text table (the baseline of the target);
   * ``insert-indexed`` (information) ``INSERT … SELECT`` of those rows into a clone of
                    ``registry_enterprise`` with all its indexes, checks and deferred foreign keys: what the
                    database alone costs for the real schema, with no Python at all;
   * ``import-new`` ``services.import_registry_file(None, csv)`` on the fresh database: every row new;
   * ``import-same`` the same file again: the digest short-cut, nothing changes;
   * ``import-mod`` the modified copy: 1 % of the rows updated (and audited), the rest unchanged;
   * with ``--profile``: the tables are emptied and ``import-new`` is run again under cProfile
     (kept apart so the timed phases are not slowed by the profiler);

   Children are started through ``/bin/sh`` (see ``_common.fresh_rusage_command``): on Linux a child
   exec'd straight from this process would inherit this process's ``ru_maxrss``. The import phases also
   time their parts with thin wrappers around the real functions (validate, size class, COPY, commit).

4. prints a table (phase, seconds, rows/s, peak RSS, RSS growth over the child's baseline after
   ``django.setup()``), the import/COPY ratio and whether the targets (≤ 4× COPY, peak < 300 MB) hold.
   Times are printed, never asserted; row counts and statuses are asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a file, Python puts bench/ first on the path, where bench/requests.py would hide the HTTP
# library of that name from every package that imports it: take bench/ off, put the project on.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import (  # noqa: E402
    clean_up,
    load_average,
    DEFAULT_DATABASE_URL,
    configure_environment,
    current_rss_kb,
    fresh_rusage_command,
    hwm_kb,
    maxrss_kb,
    recreate_database,
    setup_django,
)

RAW_TABLE = "bench_raw_registry"
TARGET_RATIO = 4.0
TARGET_PEAK_MB = 300.0
FIGURES_YEAR = 2019

HEADERS = ["统一社会信用代码", "企业名称", "主体类型", "所属区", "行业代码", "从业人员（人）", "营业收入（万元）",
           "资产总额（万元）", "数据年度"]

# --------------------------------------------------------------------------------------------------
# Data


_BRAND = list("华信达盛鑫源泰恒宏兴隆安嘉瑞丰佳美康怡通广博创远新科智联鹏海天和中金宝利诚德昌荣福祥")
_TRADE = ["科技", "电子", "贸易", "实业", "物流", "餐饮管理", "建筑工程", "信息技术", "生物医药", "文化传播",
          "供应链管理", "新材料", "智能装备", "投资咨询", "精密制造", "环保科技", "网络科技", "医疗器械"]
_FORM = ["有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司"]
_SHOP = ["便利店", "餐馆", "五金店", "理发店", "服装店", "电器维修部", "水果店", "茶庄", "药店", "文具店"]
_DISTRICT_SHORT = {"440303": "罗湖区", "440304": "福田区", "440305": "南山区", "440306": "宝安区",
                   "440307": "龙岗区", "440308": "盐田区", "440309": "龙华区", "440310": "坪山区",
                   "440311": "光明区", "DP": "大鹏新区", "SS": "深汕特别合作区"}


def _money(rng: random.Random, mu: float, sigma: float) -> str:
    """An amount in 万元 with up to 6 decimals (a fen is 0.000001 万元), now and then with separators."""
    value = rng.lognormvariate(mu, sigma)
    places = rng.choice((2, 2, 2, 4, 6))
    text = f"{value:.{places}f}"
    if rng.random() < 0.02 and value >= 1000:
        text = f"{value:,.{places}f}"  # quoted by the csv writer; the parser accepts 1,234.50
    return text


def generate_rows(n: int, seed: int, districts: list[str], industries: list[str]) -> list[list[str]]:
    from huiqi.core.identifiers import generate_uscc

    rng = random.Random(seed)
    seen: set[str] = set()
    rows = []
    for _ in range(n):
        individual = rng.random() < 0.15
        kind = "individual_business" if individual else "enterprise"
        district = rng.choice(districts)
        division = district if district.isdigit() else "440300"
        while True:
            uscc = generate_uscc(rng, kind, division)
            if uscc not in seen:
                seen.add(uscc)
                break
        brand = "".join(rng.choice(_BRAND) for _ in range(rng.randint(2, 3)))
        if individual:
            name = f"深圳市{_DISTRICT_SHORT.get(district, '')}{brand}{rng.choice(_SHOP)}"
            employees = str(rng.randint(1, 9))
            revenue = _money(rng, 3.0, 1.0)
            assets = _money(rng, 2.5, 1.0)
        else:
            name = f"{rng.choice(('深圳市', '深圳', ''))}{brand}{rng.choice(_TRADE)}{rng.choice(_FORM)}"
            employees = str(int(rng.lognormvariate(3.2, 1.4)))
            revenue = _money(rng, 6.5, 1.8)
            assets = _money(rng, 6.0, 1.8)
        if rng.random() < 0.05:
            employees = ""
        if rng.random() < 0.08:
            revenue = ""
        if rng.random() < 0.10:
            assets = ""
        kind_text = rng.choice(("企业", "enterprise")) if not individual else rng.choice(("个体工商户", "个体"))
        rows.append([uscc, name, kind_text, district, rng.choice(industries), employees, revenue, assets,
                     str(FIGURES_YEAR)])
    return rows


def modify_rows(rows: list[list[str]], seed: int, fraction: float = 0.01) -> tuple[list[list[str]], int]:
    """A copy of ``rows`` with ``fraction`` of them changed (figures, sometimes the name)."""
    rng = random.Random(seed + 1)
    out = [r[:] for r in rows]
    picked = rng.sample(range(len(out)), max(1, int(len(out) * fraction)))
    for i in picked:
        row = out[i]
        old = int(row[5]) if row[5] else 0
        row[5] = str(old + rng.randint(1, 500))  # always differs, so every picked row is an update
        if rng.random() < 0.5:
            row[6] = _money(rng, 7.0, 1.5)
        if rng.random() < 0.2:
            row[1] = row[1] + "（深圳）"
    return out, len(picked)


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADERS)
        w.writerows(rows)


# --------------------------------------------------------------------------------------------------
# Phases (each runs in a child process)


def _phase_copy(args) -> dict:
    import psycopg
    from psycopg import sql

    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in range(len(HEADERS)))
    with psycopg.connect(args.database_url) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(RAW_TABLE)))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(RAW_TABLE), columns))
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, HEADER true)").format(
                    sql.Identifier(RAW_TABLE))) as copy:
                with open(args.csv, "rb") as f:
                    while block := f.read(1 << 20):
                        copy.write(block)
        conn.commit()
        seconds = time.perf_counter() - start
        loaded = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(RAW_TABLE))).fetchone()[0]
    assert loaded == args.rows, f"COPY loaded {loaded} rows, expected {args.rows}"
    return {"seconds": seconds, "rows": loaded, "note": f"{loaded:,} rows into {RAW_TABLE} (all text)"}


def _phase_insert_indexed(args) -> dict:
    """Information only: the database's own cost of the real schema, without any Python.

    ``INSERT … SELECT`` of the rows COPY loaded into a clone of ``registry_enterprise`` with all its
    indexes (b-trees, the GIN trigram index on name), checks and the two deferred foreign keys."""
    import psycopg

    like = "bench_enterprise_like"
    with psycopg.connect(args.database_url) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {like}")
        conn.execute(f"CREATE TABLE {like} (LIKE registry_enterprise INCLUDING ALL)")
        conn.execute(f"ALTER TABLE {like} ADD FOREIGN KEY (district_id) REFERENCES registry_district(code) "
                     "DEFERRABLE INITIALLY DEFERRED")
        conn.execute(f"ALTER TABLE {like} ADD FOREIGN KEY (industry_id) REFERENCES registry_industry(code) "
                     "DEFERRABLE INITIALLY DEFERRED")
        conn.commit()
        indexes = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", (like,)).fetchone()[0]
        start = time.perf_counter()
        conn.execute(f"""
            INSERT INTO {like} (uscc, name, kind, district_id, industry_id, employees, revenue_fen, assets_fen,
                                figures_year, size_class, size_missing, size_year, is_key_enterprise,
                                created_at, updated_at)
            SELECT c0, c1,
                   CASE WHEN c2 IN ('企业', 'enterprise') THEN 'enterprise' ELSE 'individual_business' END,
                   c3, c4, nullif(c5, '')::int,
                   (replace(nullif(c6, ''), ',', '')::numeric * 1000000)::bigint,
                   (replace(nullif(c7, ''), ',', '')::numeric * 1000000)::bigint,
                   c8::smallint, 'unknown', '', c8::smallint, false, now(), now()
            FROM {RAW_TABLE}""")
        conn.commit()
        seconds = time.perf_counter() - start
        loaded = conn.execute(f"SELECT count(*) FROM {like}").fetchone()[0]
        conn.execute(f"DROP TABLE {like}")
        conn.commit()
    assert loaded == args.rows, f"inserted {loaded} rows, expected {args.rows}"
    return {"seconds": seconds, "rows": loaded,
            "note": f"(info) {loaded:,} rows INSERT…SELECT into a clone of registry_enterprise: "
                    f"{indexes} indexes, checks, 2 deferred FKs"}


def _instrument() -> dict[str, float]:
    """Time the parts of the real path by wrapping them (behaviour unchanged; no per-row overhead)."""
    from django.db import connections
    from django.db.models.query import QuerySet

    from huiqi.registry import imports

    spent: dict[str, float] = {}

    def timed(label, fn):
        def wrapper(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
        return wrapper

    def timed_generator(label, fn):
        def wrapper(*a, **kw):
            gen = fn(*a, **kw)
            while True:  # time only the generator's own work, not its consumer's
                t = time.perf_counter()
                try:
                    item = next(gen)
                except StopIteration:
                    spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
                    return
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
                yield item
        return wrapper

    imports.save_path = timed("save file + digest", imports.save_path)
    from huiqi.core import uploads

    uploads.iter_chunks = timed_generator("read + parse + check (iter_chunks)", uploads.iter_chunks)
    imports.RegistryImporter.build = timed_generator("size class (RegistryImporter.build)",
                                                     imports.RegistryImporter.build)
    imports._store = timed("_store (incl. commit)", imports._store)
    if hasattr(imports, "_store_postgresql"):
        imports._store_postgresql = timed("  set-based write (_store_postgresql)", imports._store_postgresql)
    QuerySet.bulk_create = timed("  bulk_create audit", QuerySet.bulk_create)
    conn = connections["default"]
    conn.commit = timed("  commit (deferred FK checks)", conn.commit)
    return spent


def _run_import(path: str, profile_out: str | None = None):
    """The real path, timed; returns (record, seconds, seconds until validation passed or None, parts)."""
    from django.db import connection

    from huiqi.registry.services import import_registry_file

    connection.ensure_connection()
    parts = _instrument() if not profile_out else {}
    marks: dict[str, float] = {}

    def progress(done, total, message, force=False):
        if force:  # process() forces one report when validation has passed and the write begins
            marks["validated"] = time.perf_counter()

    profiler = None
    if profile_out:
        import cProfile

        profiler = cProfile.Profile()
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    record = import_registry_file(None, path, progress=progress)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    if profiler:
        profiler.dump_stats(profile_out)
    validated = marks["validated"] - start if "validated" in marks else None
    if "_store (incl. commit)" in parts:
        inner = sum(v for k, v in parts.items() if k.startswith("  "))
        parts["  rest (audit records)"] = parts["_store (incl. commit)"] - inner
    parts["total"] = seconds
    return record, seconds, validated, parts


def _describe(record) -> str:
    return (f"status={record.status} total={record.rows_total:,} created={record.rows_created:,} "
            f"updated={record.rows_updated:,} unchanged={record.rows_unchanged:,}")


def _phase_import_new(args) -> dict:
    record, seconds, validated, parts = _run_import(args.csv, args.profile_out)
    assert record.status == "stored", f"import refused or unchanged: {record.status}: {record.message[:500]}"
    assert record.rows_created == args.rows, _describe(record)
    assert record.rows_updated == 0, _describe(record)
    return {"seconds": seconds, "validate_seconds": validated, "rows": record.rows_total, "note": _describe(record),
            "parts": parts}


def _phase_import_same(args) -> dict:
    record, seconds, validated, parts = _run_import(args.csv)
    assert record.status == "unchanged", _describe(record) + " " + record.message[:300]
    assert record.rows_created == 0 and record.rows_updated == 0, _describe(record)
    return {"seconds": seconds, "validate_seconds": validated, "rows": args.rows,
            "note": _describe(record) + " (digest short-cut)", "parts": parts}


def _phase_import_mod(args) -> dict:
    record, seconds, validated, parts = _run_import(args.csv)
    assert record.status == "stored", _describe(record) + " " + record.message[:300]
    assert record.rows_created == 0, _describe(record)
    assert record.rows_updated == args.changed, f"expected {args.changed} updates: {_describe(record)}"
    assert record.rows_unchanged == args.rows - args.changed, _describe(record)
    return {"seconds": seconds, "validate_seconds": validated, "rows": record.rows_total, "note": _describe(record),
            "parts": parts}


def _phase_import_profiled(args) -> dict:
    from django.db import connection

    # Back to an empty registry (and no earlier import of this digest), so the profile is of the create path.
    with connection.cursor() as cur:
        cur.execute("TRUNCATE registry_enterprise, registry_registryimport, core_auditevent CASCADE")
    return _phase_import_new(args)


PHASES = {
    "copy": _phase_copy,
    "insert-indexed": _phase_insert_indexed,
    "import-new": _phase_import_new,
    "import-same": _phase_import_same,
    "import-mod": _phase_import_mod,
    "import-profiled": _phase_import_profiled,
}


def run_phase(args) -> None:
    """Child side: set Django up, take the RSS baseline, run one phase, write its result as JSON."""
    configure_environment(args.database_url, args.data_dir)
    setup_django()
    baseline = maxrss_kb()
    baseline_now = current_rss_kb()
    result = PHASES[args.phase](args)
    result.update(phase=args.phase, baseline_kb=baseline, baseline_now_kb=baseline_now, peak_kb=maxrss_kb(),
                  end_kb=current_rss_kb(), hwm_kb=hwm_kb())
    Path(args.result).write_text(json.dumps(result))


# --------------------------------------------------------------------------------------------------
# Orchestration (the parent)


def spawn(args, phase: str, csv_path: Path, work: Path, **extra) -> dict:
    result = work / f"result-{phase}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase, "--rows", str(args.rows),
           "--database-url", args.database_url, "--data-dir", str(args.data_dir), "--csv", str(csv_path),
           "--result", str(result)]
    for key, value in extra.items():
        if value is not None:
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    print(f"  … {phase}", flush=True)
    # Through sh, so the child's ru_maxrss is its own and not this (bigger) process's high-water mark.
    proc = subprocess.run(fresh_rusage_command(cmd), cwd=str(Path(__file__).resolve().parent.parent))
    if proc.returncode != 0:
        raise SystemExit(f"phase {phase} failed (exit {proc.returncode})")
    return json.loads(result.read_text())


def _mb(kb: int) -> float:
    return kb / 1024


def report(results: list[dict], rows: int) -> None:
    print()
    print(f"{'phase':<16}{'seconds':>9}{'rows/s':>11}{'peak RSS MB':>13}{'Δ RSS MB':>10}{'VmHWM MB':>10}"
          f"{'validate s':>12}{'write s':>9}")
    print("-" * 90)
    for r in results:
        seconds = r["seconds"]
        rate = rows / seconds if seconds else float("inf")
        v = r.get("validate_seconds")
        vs = f"{v:10.2f}" if v is not None else f"{'—':>10}"
        ws = f"{seconds - v:7.2f}" if v is not None else f"{'—':>7}"
        hwm = f"{_mb(r['hwm_kb']):10.1f}" if r.get("hwm_kb") else f"{'—':>10}"
        print(f"{r['phase']:<16}{seconds:9.2f}{rate:11,.0f}{_mb(r['peak_kb']):13.1f}"
              f"{_mb(r['peak_kb'] - r['baseline_kb']):10.1f}{hwm}  {vs}  {ws}")
    print("-" * 90)
    print("peak RSS = ru_maxrss of the phase's own child process; Δ RSS = peak minus that child's ru_maxrss right\n"
          "after django.setup() (its baseline); VmHWM = the kernel's peak RSS of the child, as a cross-check.\n"
          "validate s = until process() reports validation passed; write s = the rest (size class, COPY, commit).")
    for r in results:
        print(f"  {r['phase']:<15} baseline {_mb(r['baseline_kb']):.1f} MB; {r['note']}")
    for r in results:
        parts = r.get("parts")
        if parts and len(parts) > 1:
            print(f"\n  where {r['phase']}'s {r['seconds']:.2f}s went (timing wrappers around the real functions):")
            top = ["save file + digest", "validate (parse + check)", "_store (incl. commit)"]
            for label in [k for k in top if k in parts] + [k for k in parts if k.startswith("  ")]:
                print(f"    {label:<34}{parts[label]:8.2f}s")
    base = {r["phase"]: r for r in results}
    copy = base["copy"]["seconds"]
    print()
    for phase in ("insert-indexed", "import-new", "import-same", "import-mod"):
        if phase in base:
            print(f"ratio {phase + '/COPY:':<22}{base[phase]['seconds'] / copy:8.2f}×")
    ratio = base["import-new"]["seconds"] / copy
    imports_ = [base[p] for p in ("import-new", "import-same", "import-mod")]
    worst = max(imports_, key=lambda r: r["peak_kb"])
    peak = _mb(worst["peak_kb"])
    peak_new = _mb(base["import-new"]["peak_kb"])
    delta_new = _mb(base["import-new"]["peak_kb"] - base["import-new"]["baseline_kb"])
    print()
    print(f"target: import within {TARGET_RATIO:g}× of COPY   → import-new {ratio:.2f}×  "
          f"{'MET' if ratio <= TARGET_RATIO else 'NOT MET'}")
    print(f"target: peak memory < {TARGET_PEAK_MB:g} MB       → import-new peak {peak_new:.1f} MB (Δ {delta_new:.1f} MB); "
          f"largest import peak {peak:.1f} MB ({worst['phase']})  {'MET' if peak < TARGET_PEAK_MB else 'NOT MET'}")


def print_profile(path: Path, top: int = 25) -> None:
    import pstats

    print()
    print(f"=== cProfile of import-new (re-run on emptied tables), top {top} by cumulative time ===")
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    print("=== top 15 by own (total) time ===")
    stats.sort_stats("tottime").print_stats(15)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed", type=int, default=20200301)
    parser.add_argument("--profile", action="store_true", help="also profile the import (cProfile, top 25)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and the bench database")
    # Internal: one measured phase in a child process.
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--changed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run_phase(args)
        return

    work = Path(tempfile.mkdtemp(prefix="huiqi-bench-"))
    args.data_dir = work / "data"
    args.data_dir.mkdir()
    try:
        t0 = time.perf_counter()
        name = recreate_database(args.database_url)
        print(f"database {name} re-created (UTF8, C.UTF-8, template0); data dir {args.data_dir}", flush=True)
        configure_environment(args.database_url, str(args.data_dir))
        setup_django()
        from django.core.management import call_command
        from django.db import connections

        from huiqi.registry import rules
        from huiqi.registry.models import District, Industry

        call_command("migrate", verbosity=0)
        districts = list(District.objects.order_by("order").values_list("code", flat=True))
        industries = []
        for code in Industry.objects.exclude(level="section").exclude(code__in=["G59", "K70"]).order_by("code") \
                .values_list("code", flat=True):
            rules.industry_group(code)  # every code used must be one the import accepts
            industries.append(code)
        print(f"migrated in {time.perf_counter() - t0:.1f}s; {len(districts)} districts, "
              f"{len(industries)} industry codes", flush=True)

        t1 = time.perf_counter()
        rows = generate_rows(args.rows, args.seed, districts, industries)
        csv_path = work / f"registry-{args.rows}.csv"
        write_csv(csv_path, rows)
        modified, changed = modify_rows(rows, args.seed)
        mod_path = work / f"registry-{args.rows}-modified.csv"
        write_csv(mod_path, modified)
        del rows, modified
        print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.1f} MB) and a copy with "
              f"{changed:,} changed rows in {time.perf_counter() - t1:.1f}s", flush=True)
        connections.close_all()

        print(f"  start: {load_average()}", flush=True)
        results = [
            spawn(args, "copy", csv_path, work),
            spawn(args, "insert-indexed", csv_path, work),
            spawn(args, "import-new", csv_path, work),
            spawn(args, "import-same", csv_path, work),
            spawn(args, "import-mod", mod_path, work, changed=changed),
        ]
        profile_path = None
        if args.profile:
            profile_path = work / "import.prof"
            prof = spawn(args, "import-profiled", csv_path, work, profile_out=profile_path)
            print(f"  (profiled import-new took {prof['seconds']:.2f}s under cProfile)")
        print(f"  end:   {load_average()}", flush=True)
        print(f"\nRegistry import benchmark: {args.rows:,} rows, PostgreSQL {args.database_url}")
        report(results, args.rows)
        if profile_path:
            print_profile(profile_path)
    finally:
        clean_up(work, args.database_url, args.keep)


if __name__ == "__main__":
    main()
