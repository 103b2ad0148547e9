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


def report_jobs(user, kind: str, *, done: bool = False):
    """The jobs of ``kind`` (a report's PDF) the user asked for, newest first; ``done``: only those that
    succeeded, whose file can be downloaded, and then an administrator's reach is everyone's."""
    qs = Job.objects.filter(kind=kind).order_by("-created_at")
    if done:
        qs = qs.filter(status=Job.Status.SUCCEEDED)
        return qs if user.has_perm("core.view_all_jobs") else qs.filter(created_by=user)
    return qs.filter(created_by=user)


def audit_for(user):
    """The audit log, newest first, for those who may read it (``filters.AuditFilter`` narrows it)."""
    if not user.has_perm("core.view_audit"):
        return AuditEvent.objects.none()
    return AuditEvent.objects.all()


def parameters_for(user):
    if not user.has_perm("core.view_parameters"):
        return Parameter.objects.none()
    return Parameter.objects.all()


def parameter_keys(user) -> list[str]:
    """The parameters a user may read, by key (those a page can show as a form first)."""
    from . import params

    if not user.has_perm("core.view_parameters"):
        return []
    stored = set(Parameter.objects.order_by().values_list("key", flat=True).distinct())
    return sorted(stored | set(params.SCHEMAS), key=lambda k: (params.field_set(k) is None, k))


def parameter_history(user, key: str) -> list[Parameter]:
    """Every dated value of ``key``, latest first, each with ``events``: who wrote it and when (audit)."""
    if not user.has_perm("core.view_parameters"):
        return []
    rows = list(Parameter.objects.filter(key=key).select_related("created_by").order_by("-effective_from"))
    events: dict[str, list] = {}
    for event in AuditEvent.objects.filter(model=Parameter._meta.label, object_id__in=[str(r.pk) for r in rows]) \
            .order_by("at", "id"):
        events.setdefault(event.object_id, []).append(event)
    for row in rows:
        row.events = events.get(str(row.pk), [])
    return rows


def parameter_proposals(user, key: str | None = None, *, pending_only: bool = False):
    """Proposed changes of money parameters, newest first."""
    from .models import ParameterProposal

    if not user.has_perm("core.view_parameters"):
        return ParameterProposal.objects.none()
    qs = ParameterProposal.objects.select_related("proposed_by", "decided_by")
    if key is not None:
        qs = qs.filter(key=key)
    if pending_only:
        qs = qs.filter(status=ParameterProposal.Status.PENDING)
    return qs


def proposals_to_decide(user):
    """Pending proposals this user may approve: another person's, for someone who may edit parameters."""
    from .models import ParameterProposal

    if not user.has_perm("core.edit_parameters"):
        return ParameterProposal.objects.none()
    return parameter_proposals(user, pending_only=True).exclude(proposed_by=user)
