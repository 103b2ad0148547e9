"""`huiqi export KIND FILE`: write data to .csv or .xlsx (by the file's extension). Kinds: registry."""

from __future__ import annotations

from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core.errors import DomainError


class Command(BaseCommand):
    help = "Export: huiqi export registry FILE.csv|FILE.xlsx"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["registry"])
        parser.add_argument("file", type=Path)

    def handle(self, *args, kind, file, **options):
        if file.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError("文件扩展名必须是 .csv 或 .xlsx  the file must end in .csv or .xlsx")
        from huiqi.registry import services
        from huiqi.registry.models import Enterprise

        try:
            n = services.export_registry(Enterprise.objects.all(), file)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"exported {n:,} enterprises to {file}")
