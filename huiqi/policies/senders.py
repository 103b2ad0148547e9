"""How a push leaves the platform by SMS or e-mail: a sender, chosen like Django's e-mail backends by a dotted
path (``HUIQI_PUSH_SENDER``). The default sends through the platform's own channels (the SMS gateway of
``HUIQI_SMS_BACKEND`` and Django's e-mail backend), both of which only write to the log until a deployment
configures a real operator. A sender raises on failure; delivery receipts come later
(``push.record_receipt``)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

DEFAULT = "huiqi.policies.senders.PlatformSender"


class Sender:
    """The interface: ``send(channel, address, subject, text)``; returns nothing, raises when it fails."""

    def send(self, channel: str, address: str, subject: str, text: str) -> None:  # pragma: no cover
        raise NotImplementedError


class PlatformSender(Sender):
    """SMS through the platform's gateway (``HUIQI_SMS_BACKEND``), e-mail through Django's mail settings."""

    def send(self, channel, address, subject, text):
        if channel == "email":
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=False)
        elif channel == "sms":
            import_string(settings.HUIQI_SMS_BACKEND)().send(address, f"【惠企】{subject} {text}")
        else:
            raise ValueError(channel)


class MemorySender(Sender):
    """Keeps what it sends in ``MemorySender.outbox`` (tests and drills)."""

    outbox: list[tuple[str, str, str, str]] = []

    def send(self, channel, address, subject, text):
        MemorySender.outbox.append((channel, address, subject, text))


class FailingSender(Sender):
    """A channel that is down."""

    def send(self, channel, address, subject, text):
        raise ConnectionError(f"{channel} gateway unreachable")


def sender() -> Sender:
    return import_string(getattr(settings, "HUIQI_PUSH_SENDER", DEFAULT))()
