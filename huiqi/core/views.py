"""Pages of core: jobs with live progress, the audit log, parameters."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from . import audit, filters, params, selectors
from .models import AuditEvent
from .pagination import paginate


@login_required
def job_list(request):
    page, query = paginate(request, selectors.jobs_for(request.user))
    return render(request, "core/job_list.html", {"page": page, "query": query})


@login_required
def job_detail(request, pk):
    job = get_object_or_404(selectors.jobs_for(request.user), pk=pk)
    return render(request, "core/job_detail.html", {"job": job})


@login_required
def job_progress(request, pk):
    job = get_object_or_404(selectors.jobs_for(request.user), pk=pk)
    response = render(request, "core/_job_progress.html", {"job": job})
    if job.finished and request.htmx:
        # The page around the progress bar shows the outcome (e.g. the import's error report).
        response["HX-Refresh"] = "true"
    return response


@login_required
def audit_list(request):
    if not request.user.has_perm("core.view_audit"):
        raise PermissionDenied
    qs, f = filters.apply(filters.AuditFilter, request, selectors.audit_for(request.user))
    page, query = paginate(request, qs, per_page=50)
    models = AuditEvent.objects.order_by().values_list("model", flat=True).distinct()
    actions = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
    return render(request, "core/audit_list.html", {
        "page": page, "query": query,
        "models": sorted(((m, audit.model_label(AuditEvent(model=m))) for m in models),
                         key=lambda m: str(m[1])),
        "actions": sorted(actions), "f": f,
    })


@login_required
def audit_detail(request, pk):
    if not request.user.has_perm("core.view_audit"):
        raise PermissionDenied
    event = get_object_or_404(selectors.audit_for(request.user), pk=pk)
    return render(request, "core/audit_detail.html", {"event": event})


@login_required
def parameter_list(request):
    if not request.user.has_perm("core.view_parameters"):
        raise PermissionDenied
    page, query = paginate(request, selectors.parameters_for(request.user), per_page=50)
    rows = [(p, params.program_label(p.program), params.label(p.key), params.describe(p.key, p.value))
            for p in page]
    return render(request, "core/parameter_list.html", {"page": page, "query": query, "rows": rows})
