"""`huiqi createuser USERNAME --role ROLE [...]`: create a user in one role with its organisation."""

from __future__ import annotations

import getpass

from django.core.management import BaseCommand, CommandError

from huiqi.accounts import services
from huiqi.accounts.selectors import Role
from huiqi.core import formats
from huiqi.core.errors import DomainError
from huiqi.registry import selectors as registry


class Command(BaseCommand):
    help = "Create a user: --role enterprise|district|department|bureau|bank|institution|auditor|admin"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="omit to be asked (or set HUIQI_NEW_PASSWORD)")
        parser.add_argument("--name", default="")
        parser.add_argument("--district", help="district code, e.g. 440305")
        parser.add_argument("--agency", help="department code, e.g. SME-SZ")
        parser.add_argument("--bank", help="bank code")
        parser.add_argument("--institution", help="fund institution code")
        parser.add_argument("--enterprise", action="append", default=[], help="USCC (repeatable)")
        parser.add_argument("--token", action="store_true",
                            help="also issue and print an API token (valid HUIQI_API_TOKEN_DAYS days)")

    def handle(self, *args, **o):
        import os

        password = o["password"] or os.environ.get("HUIQI_NEW_PASSWORD")
        if not password:
            password = getpass.getpass("密码 password: ")
        try:
            user = services.create_user(
                None, username=o["username"], password=password, role=o["role"], display_name=o["name"],
                district=_get("district", o["district"]), agency=_get("agency", o["agency"]),
                bank=_get("bank", o["bank"]), institution=_get("institution", o["institution"]),
                enterprises=[_get("enterprise", u) for u in o["enterprise"]],
            )
        except DomainError as exc:
            raise CommandError(exc.in_both_languages) from exc
        self.stdout.write(self.style.SUCCESS(f"created {user.username} ({user.get_role_display()})"))
        if o["token"]:
            token, key = services.issue_token(None, user, name="createuser")
            expires = formats.beijing(token.expires_at)
            self.stdout.write(f"token: {key}  (有效期至 expires {expires})")


def _get(kind, code):
    if not code:
        return None
    found = registry.organisation(kind, code)
    if found is None:
        raise CommandError(f"未找到 not found: {registry.organisation_label(kind)} {code}")
    return found
