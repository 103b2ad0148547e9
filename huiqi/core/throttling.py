"""Rate limits shared by every server process, and the client address they are counted by.

DRF's own throttles keep their counts in the process's cache (each gunicorn worker counted alone) and
take the client's address from any ``X-Forwarded-For`` a client sends. Here the counts are rows of
``RateCounter`` incremented in the database, and ``X-Forwarded-For`` is read only when the request
comes from a proxy listed in ``HUIQI_TRUSTED_PROXIES``, taking the address that proxy appended.
"""

from __future__ import annotations

import datetime as dt
import random

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from .models import RateCounter


def client_address(request) -> str:
    """The client's address: the peer's, or the one our own proxy saw when the peer is that proxy."""
    meta = getattr(request, "META", {})
    peer = meta.get("REMOTE_ADDR", "")
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and peer in getattr(settings, "HUIQI_TRUSTED_PROXIES", ()):
        return forwarded.split(",")[-1].strip() or peer
    return peer


def hit(key: str, limit: int, period_seconds: int, now=None) -> bool:
    """Count one request of ``key`` in the current window; False once the window holds ``limit``."""
    now = now or timezone.now()
    start = dt.datetime.fromtimestamp(int(now.timestamp()) // period_seconds * period_seconds, tz=dt.timezone.utc)
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key, window_start=start).update(hits=F("hits") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=start, hits=1)
            except IntegrityError:  # another process created the window first
                RateCounter.objects.filter(key=key, window_start=start).update(hits=F("hits") + 1)
        hits = RateCounter.objects.filter(key=key, window_start=start).values_list("hits", flat=True).get()
    if random.random() < 0.01:  # now and then, forget windows long gone
        RateCounter.objects.filter(window_start__lt=now - dt.timedelta(days=1)).delete()
    return hits <= limit


class SharedRateThrottle(SimpleRateThrottle):
    """A DRF throttle (``rate = "30/min"``) counted per client address across every process."""

    scope = "shared"

    def get_rate(self):
        return self.rate

    def get_cache_key(self, request, view):
        return f"{self.scope}:{client_address(request)}"

    def allow_request(self, request, view):
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return hit(self.get_cache_key(request, view), self.num_requests, self.duration)

    def wait(self):
        return self.duration
