"""`huiqi requests_sweep [--today YYYY-MM-DD]`: escalate overdue requests one level, close answered ones
after the waiting period, send pending e-mail and SMS. Idempotent: run it on a timer (every few minutes)."""

from __future__ import annotations

import datetime as dt

from django.core.management import BaseCommand, CommandError

from huiqi.core import formats


class Command(BaseCommand):
    help = "Escalate overdue enterprise requests, close answered ones after the waiting period, send notifications"

    def add_arguments(self, parser):
        parser.add_argument("--today", help="the day to sweep for (default: today, Asia/Shanghai)")

    def handle(self, *args, **o):
        from huiqi.requests import notifications, services

        try:
            today = dt.date.fromisoformat(o["today"]) if o["today"] else None
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD（date must be YYYY-MM-DD）: {o['today']}") from exc
        counts = services.sweep(today=today)
        sent = notifications.deliver_pending()
        self.stdout.write(
            f"升级至部门负责人 escalated to heads {formats.count(counts['escalated_to_heads'])} · 升级至市中小企业服务局 "
            f"escalated to the bureau {formats.count(counts['escalated_to_bureau'])} · 自动办结 closed automatically "
            f"{formats.count(counts['closed_automatically'])} · 通知 notifications sent {formats.count(sent['sent'])}, failed "
            f"{formats.count(sent['failed'])}, pending {formats.count(sent['pending'])}")
