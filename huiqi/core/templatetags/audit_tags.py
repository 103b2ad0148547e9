"""The audit log as people read it: ``{% load audit_tags %}`` (see ``core.audit``, reading the log)."""

from __future__ import annotations

from django import template

from huiqi.core import audit

register = template.Library()


@register.filter
def action_label(action):
    return audit.action_label(action)


@register.filter
def model_label(event):
    return audit.model_label(event)


@register.filter
def object_text(event):
    return audit.object_text(event)


@register.filter
def field_changes(event):
    return audit.changes(event)


@register.filter
def actor(event):
    """Who did it: the person's name and organisation, or the platform itself ("系统")."""
    if event.actor_id is not None:
        person = audit.PEOPLE.describe([event.actor_id]).get(event.actor_id)
        if person is not None:
            return str(person)
    return audit.actor_text(event)
