"""Registry pages: search and filter, one enterprise, banks, import with progress, export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from huiqi.core import filters as core_filters
from huiqi.core.downloads import file_download
from huiqi.core.errors import DomainError
from huiqi.core.formpages import confirmation, guide_context, upload_confirmation
from huiqi.core.forms import add_domain_error
from huiqi.core.pagination import paginate
from huiqi.core.uploads import error_report_download
from huiqi.core.permissions import require_page as _require

from . import filters, selectors, services
from .forms import ImportForm
from .models import Enterprise, RegistryImport
from .site import GUIDES

@login_required
def enterprise_list(request):
    _require(request, "registry.view")
    qs, f = core_filters.apply(filters.EnterpriseFilter, request, selectors.enterprises_listed(request.user))
    page, query = paginate(request, qs)
    return render(request, "registry/enterprise_list.html", {
        "page": page, "query": query, "f": f,
        "districts": selectors.districts(),
        "sections": selectors.industries("section"),
        "sizes": Enterprise.Size.choices,
        "kinds": Enterprise.Kind.choices,
        "filtered": any(f.values()),
    })


@login_required
def enterprise_detail(request, uscc):
    _require(request, "registry.view")
    try:
        enterprise = selectors.enterprise_detail(request.user, uscc)
    except Enterprise.DoesNotExist:
        raise Http404 from None
    return render(request, "registry/enterprise_detail.html", {
        "e": enterprise, "owners": enterprise.owners.all(),
    })


@login_required
def enterprise_export(request, fmt):
    _require(request, "registry.view")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    qs, _f = core_filters.apply(filters.EnterpriseFilter, request, selectors.enterprises_listed(request.user))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return file_download(lambda path: services.export_registry(qs, path), f"enterprises-{stamp}.{fmt}")


@login_required
def bank_list(request):
    page, query = paginate(request, selectors.banks(), per_page=50)
    return render(request, "registry/bank_list.html", {"page": page, "query": query})


@login_required
def import_page(request):
    """The guide, the import form and the imports so far; a file received leads to its confirmation."""
    _require(request, "registry.import")
    posted = request.method == "POST"  # bound even when nothing came: an empty post lists what is missing
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                record = services.start_registry_import(request.user, form.cleaned_data["file"],
                                                        form.cleaned_data["kind"])
                return redirect("registry:import_submitted", pk=record.pk)
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status
    page, query = paginate(request, selectors.imports_for(request.user))
    return render(request, "registry/import.html", {"page": page, "query": query, "form": form,
                                                    "kinds": RegistryImport.Kind.choices,
                                                    **guide_context(GUIDES["registry.import"], form)},
                  status=status)


@login_required
def import_submitted(request, pk):
    """The confirmation of a registry file just sent, for the person who sent it."""
    _require(request, "registry.import")
    record = get_object_or_404(selectors.imports_for(request.user).filter(uploaded_by=request.user), pk=pk)
    return confirmation(request, upload_confirmation(record, reverse("registry:import_detail", args=[record.pk])))


@login_required
def import_detail(request, pk):
    _require(request, "registry.import")
    record = get_object_or_404(selectors.imports_for(request.user), pk=pk)
    errors = services.read_error_rows(record, limit=500) if record.error_report else []
    report_url = reverse("registry:import_error_report", args=[record.pk, "csv"])[:-3]
    return render(request, "registry/import_detail.html", {"r": record, "errors": errors, "report_url": report_url})


@login_required
def import_error_report(request, pk, fmt):
    _require(request, "registry.import")
    record = get_object_or_404(selectors.imports_for(request.user), pk=pk)
    if fmt not in record.error_report_formats:
        raise Http404
    return error_report_download(record, fmt, f"import-{record.pk}-errors.{fmt}")


@login_required
def import_template(request, lang, fmt):
    """A kind's template (``?kind=``: the registry extract when none), Chinese or English columns."""
    kind = request.GET.get("kind") or RegistryImport.Kind.REGISTRY
    if lang not in ("zh", "en") or fmt not in ("csv", "xlsx") or kind not in RegistryImport.Kind.values:
        raise Http404
    name = "registry" if kind == RegistryImport.Kind.REGISTRY else f"registry-{kind}"
    return file_download(lambda path: services.write_registry_template(path, lang, kind),
                         f"{name}-template-{lang}.{fmt}")
