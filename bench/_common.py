"""Helpers shared by the benchmarks in ``bench/``: a throw-away PostgreSQL database, Django set up
against it, and peak-memory readings. Nothing here imports Django at import time, so a script can
point ``DATABASE_URL`` and ``HUIQI_DATA_DIR`` at its own database and directory before Django loads."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/huiqi_bench"


def add_project_to_path() -> None:
    if str(PROJECT) not in sys.path:
        sys.path.insert(0, str(PROJECT))


def database_name(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise SystemExit(f"--database-url must name a database: {url}")
    return name


def recreate_database(url: str) -> str:
    """Drop (if present) and create the database of ``url`` in UTF-8 from template0; return its name."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    name = params.pop("dbname", None)
    if not name:
        raise SystemExit(f"--database-url must name a database: {url}")
    if name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop the {name} database; name a bench database in --database-url")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL(
            "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        ).format(sql.Identifier(name)))
    return name


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(url)
    name = params.pop("dbname")
    with psycopg.connect(**params, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def configure_environment(database_url: str, data_dir: str) -> None:
    """Point Huiqi's settings at the bench database and directory. Call before Django is imported."""
    if "django" in sys.modules and "django.conf" in sys.modules:
        from django.conf import settings

        if settings.configured:
            raise RuntimeError("configure_environment() must run before Django's settings are loaded")
    os.environ["DATABASE_URL"] = database_url
    os.environ["HUIQI_DATA_DIR"] = data_dir
    os.environ["HUIQI_DEBUG"] = "0"  # DEBUG keeps every query in memory, which would skew RSS
    os.environ["DJANGO_SETTINGS_MODULE"] = "huiqi.settings"


def setup_django() -> None:
    add_project_to_path()
    import django

    django.setup()


def maxrss_kb() -> int:
    """This process's peak resident set size so far, in KB (Linux reports ru_maxrss in KB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def current_rss_kb() -> int:
    """This process's resident set size now, in KB (Linux /proc; falls back to the peak)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return maxrss_kb()


def hwm_kb() -> int | None:
    """VmHWM from /proc/self/status: the peak RSS of this process image alone, in KB (None off Linux).

    Unlike ``ru_maxrss``, it does not carry over the parent's high-water mark through fork + exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fresh_rusage_command(cmd: list[str]) -> list[str]:
    """``cmd`` run through ``/bin/sh``, which forks it rather than being replaced by it.

    On Linux a process's ``ru_maxrss`` survives exec and starts from the high-water mark of the process
    it was forked from, so a child of a big parent reports the parent's peak. ``sh`` is small, and a
    child it forks (the command is not the last in the script, so sh does not exec it) starts from sh's
    few MB: the child's ``ru_maxrss`` is then its own."""
    return ["/bin/sh", "-c", '"$@"; exit $?', "sh", *cmd]


def load_average() -> str:
    """The machine's load, printed beside the figures: a 2-core machine is rarely quiet."""
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
    except OSError:
        return "load average unknown"


def profiled(profile_out: str | None, fn):
    """``fn()``, under cProfile with its statistics written to ``profile_out`` when one is given."""
    if not profile_out:
        return fn()
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        return fn()
    finally:
        profiler.disable()
        profiler.dump_stats(profile_out)


def clean_up(work, database_url: str, keep: bool) -> None:
    """Remove the bench's work folder and database, unless asked to keep them."""
    if keep:
        print(f"\nkept {work} and the database")
        return
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 - Django may not have been set up
        pass
    try:
        drop_database(database_url)
    except Exception as exc:  # noqa: BLE001 - best effort clean-up
        print(f"could not drop the bench database: {exc}")
