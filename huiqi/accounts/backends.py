"""Log-in with lock-out after repeated failures (per account), recorded in the audit log."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from huiqi.core import audit


class AccountLocked(Exception):
    pass


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            User().set_password(password)  # same work as a real check: no timing oracle for names
            return None
        now = timezone.now()
        if user.locked_until and user.locked_until > now:
            if request is not None:
                request.huiqi_locked_until = user.locked_until
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            if user.failed_logins or user.locked_until:
                User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            return user
        failures = user.failed_logins + 1
        locked_until = None
        if failures >= settings.HUIQI_LOGIN_MAX_FAILURES:
            locked_until = now + dt.timedelta(minutes=settings.HUIQI_LOGIN_LOCK_MINUTES)
            failures = 0
            audit.record(None, "lock", user, before=None, after={"locked_until": locked_until.isoformat()},
                         note="连续登录失败，账户锁定 locked after repeated failed log-ins")
            if request is not None:
                request.huiqi_locked_until = locked_until
        User.objects.filter(pk=user.pk).update(failed_logins=failures, locked_until=locked_until)
        return None
