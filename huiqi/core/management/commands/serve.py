"""`huiqi serve [--host H] [--port P]`: gunicorn with static files (WhiteNoise), plus the job worker.

Migrations are applied and static files collected first, so a fresh checkout can be served at once.

By default gunicorn runs synchronous worker processes, 2 × CPUs + 1 of them (its own recommendation;
at most 17, for PostgreSQL's connection limit):
every request is taken from the one listening queue by whichever process is free, so at the morning
peak of daily checks no client waits behind a busier process, and no request waits for another's
Python thread (docs/decisions.md, "Serving"). Each process holds one request at a time; in production
put a buffering reverse proxy in front (nginx does by default), as gunicorn's documentation advises, so
that slow clients and large uploads do not hold a process. ``--threads N`` (N > 1) runs threaded
workers instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import BaseCommand, call_command

# Each worker keeps up to two database connections (the default and the progress one): a cap keeps a
# large host within PostgreSQL's default max_connections (100) beside the job workers.
MAX_DEFAULT_WORKERS = 17


def default_workers() -> int:
    """2 × the CPUs this process may run on + 1, at most ``MAX_DEFAULT_WORKERS``."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(2 * cpus + 1, MAX_DEFAULT_WORKERS)


class Command(BaseCommand):
    help = "Serve Huiqi with gunicorn (production-grade), static files included, and a background job worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HUIQI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HUIQI_PORT", "8000")))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("HUIQI_WEB_WORKERS", str(default_workers()))))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("HUIQI_WEB_THREADS", "1")),
                            help="more than 1: threaded workers (gthread) with this many threads each")
        parser.add_argument("--no-worker", action="store_true", help="do not start the in-process job worker")
        parser.add_argument("--skip-migrate", action="store_true")

    def handle(self, *args, host, port, workers, threads, no_worker, skip_migrate, **options):
        if not skip_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        worker = None
        if settings.HUIQI_INPROCESS_WORKER and not no_worker:
            worker = subprocess.Popen([sys.executable, "-m", "huiqi.cli", "worker"])
        url = f"http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"惠企 Huiqi is serving at {url}  (Ctrl+C to stop)"))
        cmd = [
            sys.executable, "-m", "gunicorn", "huiqi.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
            "--worker-class", "gthread" if threads > 1 else "sync", "--timeout", "120", "--access-logfile", "-",
            "--forwarded-allow-ips", "127.0.0.1",
            # Its access log without secrets (Open311's api_key in a query string).
            "--logger-class", "huiqi.core.access_log.RedactingLogger",
        ]
        server = subprocess.Popen(cmd)
        children = [p for p in (server, worker) if p is not None]

        def stop(signum, frame):
            for child in children:
                if child.poll() is None:
                    child.terminate()

        # A service manager stops us with SIGTERM: take the web server and the worker down with us.
        signal.signal(signal.SIGTERM, stop)
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop(None, None)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
