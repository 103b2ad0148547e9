"""`huiqi policies load FILE.json | match CODE [--on YYYY-MM-DD] --out DIR | explain CODE USCC [--on YYYY-MM-DD]`:
the policy hub headless, as ``shared/specs/policy-hub.md`` (its last section) says; and `huiqi policies push
[--on YYYY-MM-DD]`, the day's precise push (run it daily at the ``digest_time`` parameter, 09:00 by default;
running a day again adds nothing), and `huiqi policies receipt TOKEN delivered|failed|opened [--error TEXT]`, a
channel's delivery report on one SMS or e-mail."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from huiqi.core.errors import DomainError
from huiqi.core.headless import parse_day, write_csv


class Command(BaseCommand):
    help = ("Policy hub: `policies load FILE.json`, `policies match CODE --out DIR`, `policies explain CODE USCC`, "
            "`policies push [--on DATE]`")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="store or replace policy items from a JSON array")
        load.add_argument("file", type=Path)
        match = sub.add_parser("match", help="outcomes.csv of one item for every enterprise (batch evaluator)")
        match.add_argument("code")
        match.add_argument("--on", help="the day (YYYY-MM-DD), today when omitted")
        match.add_argument("--out", required=True, type=Path, help="folder for outcomes.csv")
        explain = sub.add_parser("explain", help="one enterprise's outcome and every leaf, as JSON")
        explain.add_argument("code")
        explain.add_argument("uscc")
        explain.add_argument("--on", help="the day (YYYY-MM-DD), today when omitted")
        push = sub.add_parser("push", help="the day's push: new matches, closing reminders, requests for facts")
        push.add_argument("--on", help="the day (YYYY-MM-DD), today when omitted")
        receipt = sub.add_parser("receipt", help="a channel's report on one SMS or e-mail, by its link token")
        receipt.add_argument("token")
        receipt.add_argument("state", choices=["delivered", "failed", "opened"])
        receipt.add_argument("--error", default="", help="what the channel said, for a failure")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc

    def _load(self, file, **options):
        from huiqi.policies import services

        try:
            text = file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"文件不存在 file not found: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"无法读取 {file}（须为 UTF-8） cannot read {file} (must be UTF-8): {exc}") from None
        try:
            items = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{file} 不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}） "
                               f"{file} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        stored = services.load_items(None, _plain(items))
        self.stdout.write(f"已存储 {len(stored)} 个政策事项 stored {len(stored)} policy items")

    def _match(self, code, on=None, out=None, **options):
        from huiqi.policies import selectors, services

        day = parse_day(on) if on else None
        services.item(code)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "outcomes.csv"
        write_csv(path, ("uscc", "outcome"), selectors.outcome_rows(code, day).iterator(chunk_size=5000))
        self.stdout.write(str(path))

    def _push(self, on=None, **options):
        from huiqi.core import formats
        from huiqi.policies import push

        counts = push.run(parse_day(on) if on else None)
        self.stdout.write(
            f"企业 enterprises {formats.count(counts['enterprises'])} · 站内 inbox {formats.count(counts['inbox'])} · "
            f"短信 SMS {formats.count(counts['sms'])} · 邮件 e-mail {formats.count(counts['email'])} · 超上限转站内 "
            f"capped {formats.count(counts['capped'])} · 已发送 sent {formats.count(counts['sent'])} · 失败 failed "
            f"{formats.count(counts['failed'])}")

    def _receipt(self, token, state, error="", **options):
        from huiqi.policies import push
        from huiqi.policies.models import PushMessage

        message = PushMessage.objects.filter(token=token).exclude(channel="inbox").first()
        if message is None:
            raise CommandError(f"没有链接令牌为 {token} 的短信或邮件 no SMS or e-mail with token {token}")
        push.record_receipt(message, state, error)
        self.stdout.write(f"{message.pk} {message.channel} {message.address}: {state}")

    def _explain(self, code, uscc, on=None, **options):
        from huiqi.policies import selectors, services

        day = parse_day(on) if on else None
        services.item(code)
        found = selectors.explanation(code, uscc.strip().upper(), day)
        if found is None:
            raise CommandError(f"企业名录中没有统一社会信用代码为 {uscc} 的主体 no enterprise with USCC {uscc} in the registry")
        self.stdout.write(json.dumps(found.as_json(), ensure_ascii=False, indent=2))


def _plain(value):
    """The file's values as stored: a JSON number with a fraction, read exactly, is kept as its text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
