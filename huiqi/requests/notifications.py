"""The notification outbox: in-platform messages always, e-mail through Django's mail settings, SMS
through a pluggable gateway (``HUIQI_SMS_BACKEND``, a dotted path to a class with ``send(phone, text)``).

``notify`` only writes rows, inside the caller's transaction, so a message exists exactly when the
change it tells of does. ``deliver_pending`` sends what is due; a failure is kept on the row with a
growing pause before the next attempt, and the row is never dropped.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from huiqi.core import clock
from huiqi.core.i18n import shown

from .models import Notification

log = logging.getLogger("huiqi.requests")

# Pauses before the 2nd, 3rd, … attempt; the last repeats.
BACKOFF_MINUTES = (1, 5, 15, 60, 240)


class ConsoleSmsGateway:
    """The default gateway: writes the message to the log (no operator is contracted in a demo)."""

    def send(self, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text)


class FailingSmsGateway:
    """A gateway that is down, for tests and drills."""

    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("SMS gateway unreachable")


def sms_gateway():
    path = getattr(settings, "HUIQI_SMS_BACKEND", "huiqi.requests.notifications.ConsoleSmsGateway")
    return import_string(path)()


def notify(users, subject: str, body: str, *, request=None, dedupe: str | None = None,
           sms: bool = False) -> list[Notification]:
    """Queue a message to each user: in-platform always, e-mail when the user has an address, SMS when
    asked and the user has a phone. ``dedupe`` (per user) makes repeating the same notice harmless."""
    now = clock.now()  # the time of the change it tells of
    rows = []
    for user in {u.pk: u for u in users if u is not None}.values():
        key = f"{dedupe}:{user.pk}" if dedupe else None
        rows.append(Notification(recipient=user, channel=Notification.Channel.INBOX, subject=subject[:500],
                                 body=body, request=request, state=Notification.State.SENT, created_at=now,
                                 sent_at=now, dedupe_key=key))
        if user.email:
            rows.append(Notification(recipient=user, address=user.email, channel=Notification.Channel.EMAIL,
                                     subject=subject[:500], body=body, request=request,
                                     dedupe_key=f"{key}:email" if key else None))
        if sms and user.phone:
            rows.append(Notification(recipient=user, address=user.phone, channel=Notification.Channel.SMS,
                                     subject=subject[:500], body=body, request=request,
                                     dedupe_key=f"{key}:sms" if key else None))
    if dedupe:
        taken = set(Notification.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows])
                    .values_list("dedupe_key", flat=True))
        rows = [r for r in rows if r.dedupe_key not in taken]
    Notification.objects.bulk_create(rows)
    return rows


def notify_contact(req, subject: str, body: str, *, sms: bool = False) -> list[Notification]:
    """Queue a message to the contact a request carries (the e-mail and, when asked, the phone given on
    filing): for an enterprise with no platform user, such as a caller of the hotline."""
    rows = []
    if req.contact_email:
        rows.append(Notification(address=req.contact_email, channel=Notification.Channel.EMAIL,
                                 subject=subject[:500], body=body, request=req))
    if sms and req.contact_phone:
        rows.append(Notification(address=req.contact_phone, channel=Notification.Channel.SMS,
                                 subject=subject[:500], body=body, request=req))
    Notification.objects.bulk_create(rows)
    return rows


def _deliver(row: Notification, gateway) -> None:
    # E-mail and SMS leave the platform in its language (a message is kept as its msgid and params).
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = shown(row.subject), shown(row.body)
        if row.channel == Notification.Channel.EMAIL:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [row.address], fail_silently=False)
        elif row.channel == Notification.Channel.SMS:
            gateway.send(row.address, f"【惠企】{subject}")


def deliver_pending(limit: int = 500, now: dt.datetime | None = None) -> dict:
    """Send due e-mail and SMS rows; returns counts. Each row is claimed in its own short transaction
    (SKIP LOCKED on PostgreSQL) so two workers never send one message twice."""
    now = now or timezone.now()
    gateway = sms_gateway()
    sent = failed = 0
    for _ in range(limit):
        with transaction.atomic():
            row = (Notification.objects.select_for_update(skip_locked=True)
                   .filter(state=Notification.State.PENDING, next_attempt_at__lte=now)
                   .order_by("next_attempt_at", "id").first())
            if row is None:
                break
            row.attempts += 1
            try:
                _deliver(row, gateway)
            except Exception as exc:  # noqa: BLE001 - any failure of a channel leaves the row to retry
                pause = BACKOFF_MINUTES[min(row.attempts, len(BACKOFF_MINUTES)) - 1]
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                row.next_attempt_at = now + dt.timedelta(minutes=pause)
                failed += 1
            else:
                row.state = Notification.State.SENT
                row.sent_at = timezone.now()
                row.last_error = ""
                sent += 1
            row.save(update_fields=["attempts", "last_error", "next_attempt_at", "state", "sent_at"])
    return {"sent": sent, "failed": failed,
            "pending": Notification.objects.filter(state=Notification.State.PENDING).count()}
