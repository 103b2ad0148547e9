"""Reads of core tables, scoped to the asking user."""

from __future__ import annotations

from .models import AuditEvent, Job, Parameter


def jobs_for(user):
    """A user's own jobs; administrators see every job."""
    if not getattr(user, "is_authenticated", False):
        return Job.objects.none()
    if user.has_perm("core.view_all_jobs"):
        return Job.objects.all()
    return Job.objects.filter(created_by=user)


def audit_for(user, *, model: str = "", action: str = "", actor: str = "", object_id: str = "",
              date_from=None, date_to=None):
    if not user.has_perm("core.view_audit"):
        return AuditEvent.objects.none()
    qs = AuditEvent.objects.all()
    if model:
        qs = qs.filter(model=model)
    if action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs


def parameters_for(user):
    if not user.has_perm("core.view_parameters"):
        return Parameter.objects.none()
    return Parameter.objects.all()
