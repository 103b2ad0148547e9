"""Log-in with lock-out after repeated failures (per account), recorded in the audit log."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from huiqi.core import audit
from huiqi.core.i18n import stored


class AccountLocked(Exception):
    pass


class LockoutModelBackend(ModelBackend):
    """Each attempt first takes one of the account's allowed failures in the database (an atomic
    increment), and only then is the password checked: however many attempts arrive at once, at most
    ``HUIQI_LOGIN_MAX_FAILURES`` passwords are tried before the account locks."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            User().set_password(password)  # same work as a real check: no timing oracle for names
            return None
        now = timezone.now()
        allowance = settings.HUIQI_LOGIN_MAX_FAILURES
        taken = (User.objects.filter(pk=user.pk, failed_logins__lt=allowance)
                 .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
                 .update(failed_logins=F("failed_logins") + 1))
        if not taken:
            self._lock_if_spent(user, now, request)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            return user
        self._lock_if_spent(user, now, request)
        return None

    @staticmethod
    def _lock_if_spent(user, now, request) -> None:
        """Lock the account once its allowance is spent (one attempt wins the lock and audits it)."""
        User = type(user)
        failures, locked_until = User.objects.filter(pk=user.pk).values_list("failed_logins", "locked_until").get()
        if not (locked_until and locked_until > now) and failures >= settings.HUIQI_LOGIN_MAX_FAILURES:
            until = now + dt.timedelta(minutes=settings.HUIQI_LOGIN_LOCK_MINUTES)
            won = User.objects.filter(pk=user.pk, failed_logins__gte=settings.HUIQI_LOGIN_MAX_FAILURES).update(
                failed_logins=0, locked_until=until)
            if won:
                audit.record(None, "lock", user, before=None, after={"locked_until": until.isoformat()},
                             note=stored(gettext_lazy("连续登录失败，账户锁定")))
            locked_until = User.objects.filter(pk=user.pk).values_list("locked_until", flat=True).get()
        if request is not None and locked_until and locked_until > now:
            request.huiqi_locked_until = locked_until
