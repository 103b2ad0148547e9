"""Pages of core: jobs with live progress, the audit log, parameters."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import audit, clock, filters, formats, parameter_changes, params, selectors
from .downloads import file_download
from .errors import DomainError
from .forms import ParameterForm
from .i18n import Joined
from .models import AuditEvent, Job, ParameterProposal
from .pagination import paginate
from .tabular import write_rows


@login_required
def job_list(request):
    qs, f = filters.apply(filters.JobFilter, request, selectors.jobs_for(request.user))
    page, query = paginate(request, qs)
    return render(request, "core/job_list.html", {"page": page, "query": query, "f": f, "since": f["from"],
                                                  "statuses": Job.Status.choices})


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


def _audit(request):
    """The audit log the reader may read, filtered by the URL, and what each filter holds."""
    if not request.user.has_perm("core.view_audit"):
        raise PermissionDenied
    return filters.apply(filters.AuditFilter, request, selectors.audit_for(request.user))


@login_required
def audit_list(request):
    qs, f = _audit(request)
    page, query = paginate(request, qs, per_page=50)
    entries = audit.read(page.object_list, request.user)
    models = AuditEvent.objects.order_by().values_list("model", flat=True).distinct()
    actions = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
    return render(request, "core/audit_list.html", {
        "page": page, "query": query, "entries": entries, "f": f, "filtered": any(f.values()),
        "models": sorted(((m, audit.model_label(AuditEvent(model=m))) for m in models),
                         key=lambda m: str(m[1])),
        "actions": sorted(((a, audit.action_label(a)) for a in actions), key=lambda a: str(a[1])),
        "organisations": audit.PEOPLE.organisations(),
    })


@login_required
def audit_export(request, fmt):
    """The log as the page shows it (the same reader's scope and filters), every row, as XLSX or CSV."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    qs, _f = _audit(request)
    header, rows = audit.export_header(), audit.export_rows(qs.iterator(chunk_size=2000))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return file_download(lambda path: write_rows(path, header, rows), f"audit-{stamp}.{fmt}")


@login_required
def audit_detail(request, pk):
    if not request.user.has_perm("core.view_audit"):
        raise PermissionDenied
    event = get_object_or_404(selectors.audit_for(request.user), pk=pk)
    entry = audit.read([event], request.user, every_field=True)[0]
    return render(request, "core/audit_detail.html", {"event": event, "entry": entry})


@login_required
def parameter_list(request):
    if not request.user.has_perm("core.view_parameters"):
        raise PermissionDenied
    page, query = paginate(request, selectors.parameters_for(request.user), per_page=50)
    rows = [(p, params.program_label(p.program), params.label(p.key), params.describe(p.key, p.value))
            for p in page]
    keys = [(k, params.label(k)) for k in selectors.parameter_keys(request.user)]
    to_decide = [(p, params.label(p.key)) for p in selectors.proposals_to_decide(request.user)]
    return render(request, "core/parameter_list.html", {"page": page, "query": query, "rows": rows,
                                                        "keys": keys, "to_decide": to_decide})


def _display(check, value) -> str:
    """A field's value as a reader sees it: yes/no, choice labels, money with thousands separators."""
    if value is None or value == "":
        return "—"
    if check.kind == "boolean":
        return _("是") if value else _("否")
    if check.kind == "choice":
        return str(dict(check.choices).get(value, value))
    if check.kind == "choices" and isinstance(value, list):
        return str(Joined((dict(check.choices).get(v, v) for v in value), "、", ", "))
    if check.kind == "money":
        try:
            return formats.number(value if isinstance(value, (int, Decimal)) else str(value), 2)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _shown(schema, values: dict) -> list[dict]:
    """{field: value} as rows of label, value and unit, in the schema's order."""
    return [{"name": name, "label": check.label or name, "value": _display(check, values.get(name)),
             "unit": check.unit, "money": check.money} for name, check in schema.checks.items()]


def _change_rows(changes) -> list[dict]:
    return [{"name": c.name, "label": c.check.label or c.name, "unit": c.check.unit, "money": c.check.money,
             "before": _display(c.check, c.before), "after": _display(c.check, c.after), "changed": c.changed}
            for c in changes]


@login_required
def parameter_detail(request, key):
    """One parameter: the value in force today, its history, pending money changes, and (for those who
    may edit) the form; a valid form is shown first as a preview of what changes, then confirmed."""
    if not request.user.has_perm("core.view_parameters"):
        raise PermissionDenied
    schema = params.field_set(key)
    history = selectors.parameter_history(request.user, key)
    if schema is None and not history:
        raise Http404
    may_edit = schema is not None and request.user.has_perm("core.edit_parameters")
    today = clock.today()
    form = None
    if may_edit:
        initial = parameter_changes.fields_in_force(key, today)
        form = ParameterForm(key, request.POST or None, initial=initial, today=today)
    elif request.method == "POST":
        raise PermissionDenied
    # "edit" comes back from the preview to change the values again.
    if request.method == "POST" and "edit" not in request.POST and form.is_valid():
        new_values = form.values()
        if "confirm" not in request.POST:
            changes = parameter_changes.changes(key, schema.as_fields(new_values), form.cleaned_data["effective_from"])
            return render(request, "core/parameter_preview.html", {
                "key": key, "label": params.label(key), "form": form, "changes": _change_rows(changes), "any_change": any(c.changed for c in changes),
                "needs_approval": any(c.changed and c.check.money for c in changes),
                "effective_from": form.cleaned_data["effective_from"],
            })
        try:
            done = parameter_changes.submit(request.user, key, new_values, form.cleaned_data["effective_from"],
                                            note=form.cleaned_data["note"])
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            if isinstance(done, ParameterProposal):
                messages.success(request, _("修改涉及金额，已提交审批：须由另一位工作人员批准后生效。"))
            else:
                messages.success(request, _("参数已保存，自 %(day)s 起生效。") % {"day": done.effective_from.isoformat()})
            return redirect("core:parameter_detail", key=key)
    in_force = params.value(key, default=None)
    if schema is not None:
        for row in history:
            row.shown = _shown(schema, schema.as_fields(row.value))
    proposals = list(selectors.parameter_proposals(request.user, key)[:20])
    for proposal in proposals:
        if schema is not None and proposal.status == ParameterProposal.Status.PENDING:
            proposal.changes = [c for c in _change_rows(parameter_changes.changes(
                key, schema.as_fields(proposal.value), proposal.effective_from)) if c["changed"]]
    return render(request, "core/parameter_detail.html", {
        "key": key, "label": params.label(key), "schema": schema, "form": form, "history": history,
        "current": _shown(schema, schema.as_fields(in_force)) if schema and in_force is not None else None,
        "raw_current": in_force, "today": today,
        "proposals": proposals,
        "decidable": set(selectors.proposals_to_decide(request.user).filter(key=key).values_list("pk", flat=True)),
    }, status=400 if form is not None and form.errors else 200)


@login_required
@require_POST
def parameter_proposal_decide(request, pk):
    """Approve or reject another person's proposed money change."""
    proposal = get_object_or_404(selectors.parameter_proposals(request.user), pk=pk)
    if not request.user.has_perm("core.edit_parameters"):
        raise PermissionDenied
    note = request.POST.get("note", "")[:300]
    try:
        if request.POST.get("decision") == "approve":
            row = parameter_changes.approve(request.user, proposal.pk, note=note)
            messages.success(request, _("已批准，自 %(day)s 起生效。") % {"day": row.effective_from.isoformat()})
        else:
            parameter_changes.reject(request.user, proposal.pk, note=note)
            messages.success(request, _("已驳回，参数未修改。"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("core:parameter_detail", key=proposal.key)
