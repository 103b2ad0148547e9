"""The platform's business day: today and now as the programs see them.

In production these are the real date and time in Beijing. A demo of the 2020 city sets
``HUIQI_DEMO_TODAY`` (``YYYY-MM-DD``): every form's default date, every dashboard's "today" and every
business event (a daily check submitted, a request filed, a batch run) then falls on that day, at the
real time of day, so that what a visitor does joins the demo's data instead of starting a lonely day
in the real year. Security clocks (log-in lock-out, API tokens, sessions, job leases, rate limits) and
the audit log keep the real time.

Every program asks these two functions, never ``timezone.localdate()`` or ``timezone.now()``, for a
business day or a business event.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.conf import settings
from django.utils import timezone

# The day the demo city is shown on: the last day of its daily checks, with its people's work waiting.
# ``python3 dev.py run`` sets HUIQI_DEMO_TODAY to it; the demo builders leave that day's to-dos open.
DEMO_CITY_TODAY = dt.date(2020, 4, 2)


_fixed: dt.date | None = None


@contextlib.contextmanager
def fixed(day: dt.date):
    """Within the block, the business day is ``day`` whatever the setting says: ``huiqi demo`` builds the
    demo city's records on the day it is shown on."""
    global _fixed
    before, _fixed = _fixed, day
    try:
        yield day
    finally:
        _fixed = before


def demo_today() -> dt.date | None:
    """The fixed day of a demo (``HUIQI_DEMO_TODAY``, or the block of ``fixed``), or None in a real
    deployment."""
    if _fixed is not None:
        return _fixed
    value = getattr(settings, "HUIQI_DEMO_TODAY", None)
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def today() -> dt.date:
    """The business day in Beijing: the demo's day when one is set, else the real one."""
    return demo_today() or timezone.localdate()


def now() -> dt.datetime:
    """The business instant (aware): the real time of day on ``today()``."""
    real = timezone.now()
    day = demo_today()
    if day is None:
        return real
    local = timezone.localtime(real)
    return local.replace(year=day.year, month=day.month, day=day.day)
