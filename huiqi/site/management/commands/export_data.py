"""`huiqi export KIND FILE`: write data to .csv or .xlsx (by the file's extension).

The kinds are what the apps declare (``EXPORTERS`` in their ``site.py``): registry, …
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core import formats
from huiqi.core.errors import DomainError
from huiqi.site import discovery


class Command(BaseCommand):
    help = "Export: huiqi export KIND FILE.csv|FILE.xlsx"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(discovery.exporters()))
        parser.add_argument("file", type=Path)

    def handle(self, *args, kind, file, **options):
        if file.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError("文件扩展名必须是 .csv 或 .xlsx  the file must end in .csv or .xlsx")
        try:
            n = discovery.exporters()[kind].write(file)
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc
        self.stdout.write(f"exported {formats.count(n)} {kind} records to {file}")
