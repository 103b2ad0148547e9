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


def audit_for(user):
    """The audit log, newest first, for those who may read it (``filters.AuditFilter`` narrows it)."""
    if not user.has_perm("core.view_audit"):
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()


def parameters_for(user):
    if not user.has_perm("core.view_parameters"):
        return Parameter.objects.none()
    return Parameter.objects.all()
