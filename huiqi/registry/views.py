"""Registry pages: search and filter, one enterprise, banks, import with progress, export."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from huiqi.core import filters as core_filters
from huiqi.core.downloads import file_download
from huiqi.core.pagination import paginate
from huiqi.core.uploads import error_report_download

from . import filters, selectors, services
from .models import Enterprise

def _require(request, perm):
    if not request.user.has_perm(perm):
        raise PermissionDenied


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
    _require(request, "registry.import")
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "请选择要上传的文件（please choose a file to upload）"
        else:
            record = services.start_registry_import(request.user, upload)
            return redirect("registry:import_detail", pk=record.pk)
    page, query = paginate(request, selectors.imports_for(request.user))
    return render(request, "registry/import.html", {"page": page, "query": query, "error": error})


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
    if lang not in ("zh", "en") or fmt not in ("csv", "xlsx"):
        raise Http404
    return file_download(lambda path: services.write_registry_template(path, lang),
                         f"registry-template-{lang}.{fmt}")
