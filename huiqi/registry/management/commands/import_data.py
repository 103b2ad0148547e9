"""`huiqi import KIND FILE`: load a file through the same path as an upload.

Kinds: registry (the enterprise registry extract), loans, payments, npl, banks (the bank ledger files).
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core.errors import DomainError

IMPORTERS = {}


def importer(kind):
    def register(func):
        IMPORTERS[kind] = func
        return func

    return register


@importer("registry")
def _registry(path, stdout, progress):
    from huiqi.registry import services

    record = services.import_registry_file(None, path, progress=progress)
    return record.status, record.message, (record.error_report + ".xlsx") if record.error_report else None


def _ledger(kind):
    def run(path, stdout, progress):
        from huiqi.lending import imports

        record = imports.import_path(None, kind, path, progress=progress)
        return record.status, record.message, (record.error_report + ".xlsx") if record.error_report else None

    return run


for _kind in ("loans", "payments", "npl", "banks"):
    IMPORTERS[_kind] = _ledger(_kind)


class Command(BaseCommand):
    help = "Import a file: huiqi import registry|loans|payments|npl|banks FILE (CSV in UTF-8/GBK or XLSX)"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file", type=Path)

    def handle(self, *args, kind, file, **options):
        if not file.exists():
            raise CommandError(f"文件不存在 file not found: {file}")
        tty = sys.stderr.isatty()

        def progress(done, total, message="", force=False):
            if tty and total:
                sys.stderr.write(f"\r{done * 100 // total:3d}% {message}   ")

        try:
            status, message, report = IMPORTERS[kind](file, self.stdout, progress)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if tty:
            sys.stderr.write("\n")
        self.stdout.write(f"{status}: {message}")
        if status == "refused":
            if report:
                self.stdout.write(f"错误报告 error report: {report}")
            raise CommandError("文件被拒绝，未入库 the file was refused; nothing was stored", returncode=2)
