"""The pool's pages for what banks report by file: the upload page (five-tier classifications, claims by
the non-performing loans file), each file's outcome and refusal report, the templates, and a loan as the
pool sees it (its classification history, NPL date and claims)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from huiqi.core.permissions import require_page as _require
from huiqi.core.upload_pages import UploadPages
from huiqi.lending import selectors as lending

from . import imports, selectors
from .models import PoolUpload


def _kinds(user) -> list[tuple[str, str]]:
    """The kinds of file the reader may send."""
    return [(k, label) for k, label in PoolUpload.Kind.choices if user.has_perm(imports.PERMISSIONS[k])]


def _guide():
    from .site import GUIDES

    return GUIDES["pool.upload"]


def _detail(request, record) -> dict:
    """A claims file's page lists the claims it filed."""
    if record.kind != "claims":
        return {"claims": None}
    return {"claims": selectors.claims_for(request.user).filter(upload=record).order_by("id")}


PAGES = UploadPages(
    namespace="pool", read=lambda request: _require(request, "pool.view"),
    send=lambda request: _require(request, "pool.file_claim"), records=selectors.uploads_for, kinds=_kinds,
    all_kinds=PoolUpload.Kind.choices, start=imports.start_upload,
    schema=lambda user, kind: imports.IMPORTERS[kind](user).schema() if kind in imports.IMPORTERS else None,
    report_name=lambda r: f"pool-{r.kind}-{r.pk}", template_name=lambda kind, lang: f"pool-{kind}-template-{lang}",
    guide=_guide, list_template="pool/uploads.html", detail_template="pool/upload_detail.html",
    detail_context=_detail)


@login_required
def loan_detail(request, pk):
    """A loan as the pool sees it: its facts, its five-tier classification history and the NPL date it
    gives, its NPL record and its claims (a bank: its own loans only)."""
    _require(request, "pool.view")
    loan = selectors.loan_for(request.user, pk)
    history = selectors.classification_history(loan.pk)
    return render(request, "pool/loan_detail.html", {
        "loan": loan, "npl_date": history.npl_date,
        "npl": lending.non_performing().filter(loan=loan).first(),
        "classifications": selectors.classifications_for(request.user).filter(loan=loan).order_by("on"),
        "claims": selectors.claims_for(request.user).filter(loan=loan).order_by("-filed_at")})
