"""A user's inbox of platform messages."""

from __future__ import annotations

from django.utils import timezone

from .. import selectors


def mark_read(user, notification_ids) -> int:
    """Mark these messages of the user's own inbox as read (once shown); others' messages are left alone."""
    return selectors.inbox_for(user).filter(pk__in=list(notification_ids)).update(read_at=timezone.now())
