"""`huiqi import KIND FILE`: load a file through the same path as an upload.

The kinds are what the apps declare (``IMPORTERS`` in their ``site.py``): registry, banks, loans,
payments, npl, …
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core.errors import DomainError
from huiqi.site import discovery


class Command(BaseCommand):
    help = "Import a file: huiqi import KIND FILE (CSV in UTF-8/GBK or XLSX)"

    def add_arguments(self, parser):
        kinds = discovery.importers()
        parser.add_argument("kind", choices=sorted(kinds),
                            help="; ".join(f"{k}: {v.help}" for k, v in sorted(kinds.items()) if v.help))
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="the user the file is sent as (kinds whose rows are a person's acts)")

    def handle(self, *args, kind, file, as_user=None, **options):
        if not file.exists():
            raise CommandError(f"文件不存在 file not found: {file}")
        importer = discovery.importers()[kind]
        extra = ()
        if importer.as_user:
            if not as_user:
                raise CommandError(f"{kind} 须指定报送人 needs --as USERNAME")
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=as_user, is_active=True).first()
            if user is None:
                raise CommandError(f"用户不存在或已停用 no active user named {as_user}")
            extra = (user,)
        elif as_user:
            raise CommandError(f"{kind} 不按用户导入 does not take --as")
        tty = sys.stderr.isatty()

        def progress(done, total, message="", force=False):
            if tty and total:
                sys.stderr.write(f"\r{done * 100 // total:3d}% {message}   ")

        try:
            record = importer.load(file, progress, *extra)
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc
        if tty:
            sys.stderr.write("\n")
        self.stdout.write(f"{record.status}: {record.message}")
        if record.status == "refused":
            for fmt in record.error_report_formats:
                self.stdout.write(f"错误报告 error report: {record.error_report}.{fmt}")
            raise CommandError("文件被拒绝，未入库 the file was refused; nothing was stored", returncode=2)
