#!/usr/bin/env python3
"""The two commands a newcomer needs, with nothing but Python 3.11:

    python3 dev.py run     install, prepare the embedded database, load the demo city, serve
    python3 dev.py test    install with the test tools, run every test (pytest arguments pass through)

and, for a contributor who adds or changes a translatable string (docs/translation.md):

    python3 dev.py messages    collect each app's strings into its English catalogue, compile, list what
                               lacks English (``--check``: change nothing, fail if anything is out of date)

Everything goes into ./.venv from the pinned lock files; DATABASE_URL switches to PostgreSQL.
The venv's own pip is first replaced by the pinned, hashed pip of requirements-pip.lock, so that
the install does not depend on which pip this Python bundles nor on what is released upstream.
The PDF report needs two system parts (Pango and a CJK font); `run` says when one is missing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
PIP_LOCK = "requirements-pip.lock"
# The demo city's "today" (huiqi.core.clock.DEMO_CITY_TODAY): forms' default dates and dashboards fall on it.
DEMO_TODAY = "2020-04-02"


def sh(*args, **kw):
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.run([str(a) for a in args], check=True, cwd=ROOT, **kw)


def ensure_env(lock: str) -> None:
    """Create .venv and install the lock file (again only when the lock changed)."""
    if sys.version_info < (3, 11):
        sys.exit("Huiqi needs Python 3.11 or newer / 需要 Python 3.11 或更高版本")
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{lock}"
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes()
                                     for name in (PIP_LOCK, lock, "pyproject.toml"))).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    pip = (PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--require-hashes")
    sh(*pip, "-r", ROOT / PIP_LOCK)
    sh(*pip, "-r", ROOT / lock)
    sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
       "-e", ROOT)
    stamp.write_text(digest)


def huiqi(*args):
    return sh(BIN / "huiqi", *args)


def check_system_parts() -> None:
    """Say, before serving, which system parts the PDF report lacks (the rest of the site works)."""
    subprocess.run([str(BIN / "huiqi"), "check", "--deploy", "--tag", "huiqi_system", "--fail-level", "CRITICAL"],
                   cwd=ROOT, check=False)


def run(argv):
    ensure_env("requirements.lock")
    check_system_parts()
    host = os.environ.get("HUIQI_HOST", "127.0.0.1")
    port = os.environ.get("HUIQI_PORT", "8000")
    os.environ.setdefault("HUIQI_DEMO_TODAY", DEMO_TODAY)
    huiqi("migrate", "--no-input")
    huiqi("demo", "--scale", os.environ.get("HUIQI_DEMO_SCALE", "small"))
    huiqi("serve", "--host", host, "--port", port, *argv)


def test(argv):
    ensure_env("requirements-dev.lock")
    env = dict(os.environ)
    env.setdefault("HUIQI_DATA_DIR", str(ROOT / "var" / "test"))
    result = subprocess.run([str(PY), "-m", "pytest", *argv], cwd=ROOT, env=env)
    sys.exit(result.returncode)


def messages(argv):
    ensure_env("requirements-dev.lock")
    result = subprocess.run([str(BIN / "huiqi"), "messages", *argv], cwd=ROOT)
    sys.exit(result.returncode)


def main():
    commands = {"run": run, "test": test, "messages": messages}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
