"""``huiqi messages``: collect each app's strings into its own English catalogue, and compile them all.

Each project app keeps ``locale/en/LC_MESSAGES/django.po`` beside its code; the project's
``huiqi/locale/`` keeps the strings of the project-wide templates and modules (``base.html``, the
pager, ``settings.py``) and the correction of Django's own Chinese in ``zh_Hans``. The command runs
Django's ``makemessages`` once per catalogue (tests and migrations are not scanned), drops strings
the code no longer has, compiles every catalogue, and lists the English still missing: a new
string's msgstr is written in its app's ``.po`` by hand, then the command is run again.
``--check`` changes nothing and fails when a catalogue is out of date with the code or incomplete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.core.management.commands import makemessages
from django.test.utils import override_settings

LANGUAGE = "en"
NOT_SCANNED = ["tests", "migrations", "locale", "static", "__pycache__", "*.egg-info"]


class _MakeMessages(makemessages.Command):
    # A new msgid never inherits a similar one's English as a fuzzy guess: it waits for its own.
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]


def catalogues() -> list[tuple[Path, list[str]]]:
    """(directory scanned, names not scanned) of every catalogue: each project app's, then the project's."""
    project = Path(apps.get_app_config("core").path).parent
    own = [Path(a.path) for a in apps.get_app_configs()
           if a.name.startswith("huiqi.") and Path(a.path).parent == project]
    return [(path, NOT_SCANNED) for path in own] + [(project, NOT_SCANNED + [p.name for p in own])]


def po_file(root: Path) -> Path:
    return root / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"


def problems(po: Path) -> list[str]:
    """The msgids of ``po`` without English, and those marked fuzzy."""
    out = "".join(subprocess.run(["msgattrib", which, "--no-wrap", str(po)], capture_output=True, text=True,
                                 check=True).stdout for which in ("--untranslated", "--only-fuzzy"))
    ids = [line[7:-1] for line in out.splitlines() if line.startswith('msgid "') and line != 'msgid ""']
    return [i.encode().decode("unicode_escape").encode("latin-1").decode("utf-8") for i in ids]


class Command(BaseCommand):
    help = "Collect each app's strings into its English catalogue, compile them all, list missing English."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="change nothing; fail when a catalogue is out of date or lacks English")

    def handle(self, *args, check=False, **options):
        for tool in ("xgettext", "msgmerge", "msgattrib", "msgfmt"):
            if shutil.which(tool) is None:
                raise CommandError(f"{tool} not found: install GNU gettext (Debian: apt-get install gettext)")
        missing, stale = {}, []
        for root, skip in catalogues():
            po = po_file(root)
            before = po.read_bytes() if po.exists() else b""
            self._collect(root, skip)
            if check and _content(po.read_bytes()) != _content(before):
                stale.append(str(po))
                po.write_bytes(before) if before else po.unlink()
                continue
            missing[po] = problems(po)
            if not check:
                self._compile(po)
        for po, ids in missing.items():
            if ids:
                self.stderr.write(f"{po}: {len(ids)} string(s) without English:")
                for msgid in ids:
                    self.stderr.write(f"  {msgid}")
        if check and stale:
            raise CommandError("out of date with the code (run `huiqi messages`): " + ", ".join(stale))
        if any(missing.values()):
            raise CommandError("write the English of the strings above in their .po files, then run this "
                               "again")
        if not check:
            self.stdout.write(f"{len(missing)} catalogues up to date and compiled")

    def _collect(self, root: Path, skip: list[str]) -> None:
        (root / "locale").mkdir(exist_ok=True)
        cwd = os.getcwd()
        try:
            os.chdir(root)
            # No LOCALE_PATHS: makemessages then writes into the scanned directory's own locale/.
            with override_settings(LOCALE_PATHS=[]):
                _MakeMessages(stdout=self.stdout, stderr=self.stderr).run_from_argv(
                    ["huiqi", "makemessages", "--locale", LANGUAGE, "--no-obsolete", "--verbosity", "0",
                     "--add-location", "file",
                     *(f"--ignore={name}" for name in skip)])
        finally:
            os.chdir(cwd)

    def _compile(self, po: Path) -> None:
        for path in sorted(po.parent.parent.parent.glob("*/LC_MESSAGES/*.po")):
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".mo", delete=False) as tmp:
                pass
            try:
                subprocess.run(["msgfmt", "--check", "-o", tmp.name, str(path)], check=True)
                os.replace(tmp.name, path.with_suffix(".mo"))
            finally:
                Path(tmp.name).unlink(missing_ok=True)


def _content(data: bytes) -> bytes:
    """A catalogue without the line makemessages rewrites on every run (its creation date)."""
    return b"\n".join(line for line in data.splitlines() if not line.startswith(b'"POT-Creation-Date:'))
