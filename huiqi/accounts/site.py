"""What accounts adds to the site: who-am-I and the token exchange under ``/api/v1/``, the to-do of a token
about to expire (a bank's upload system stops when its token does), and the demo's machine client."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huiqi.core.declarations import DemoStep, Todo

API_URLS = "huiqi.accounts.api.urlpatterns"

# How long before a token expires its user (and the administrators) are told on the home page.
TOKEN_WARNING_DAYS = 14


def _expiring(everyone: bool):
    def count(user) -> int:
        from . import selectors

        return selectors.tokens_expiring(user, timezone.now(), dt.timedelta(days=TOKEN_WARNING_DAYS),
                                         everyone=everyone).count()

    return count


TODOS = [
    Todo("accounts.tokens_expiring", _("14 天内到期的接口令牌"), _expiring(False), "accounts:account", order=96),
    # The back office's token list, live ones first by expiry.
    Todo("accounts.tokens_expiring_all", _("14 天内到期的接口令牌（全部用户）"), _expiring(True),
         "admin:accounts_apitoken_changelist", query={"revoked_at__isempty": "1", "o": "5"},
         permission="accounts.manage_users", roles=frozenset({"admin"}), order=97),
]


def _demo_token(scale, seed, progress) -> str:
    """The demo bank's upload system holds a token that runs out in ten days (its key is not shown)."""
    from . import selectors, services

    bank = selectors.demo_users().filter(username="bank", role="bank").first()
    if bank is None or selectors.tokens_for(bank).exists():
        return ""
    from django.conf import settings

    token, _key = services.issue_token(None, bank, name="报送系统", days=min(10, settings.HUIQI_API_TOKEN_DAYS))
    return (f"演示接口令牌已签发 demo API token issued\n"
            f"  {bank.username}  {token.name}  {token.prefix}…  "
            f"有效期至 expires {timezone.localtime(token.expires_at):%Y-%m-%d}")


DEMO = [DemoStep(16, _demo_token)]
