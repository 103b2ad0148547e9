"""Page helpers shared by list pages: pagination that keeps the filters in the URL."""

from __future__ import annotations

from django.core.paginator import Paginator


def paginate(request, qs, per_page: int = 25):
    try:
        per_page = max(10, min(200, int(request.GET.get("per_page", per_page))))
    except ValueError:
        pass
    page = Paginator(qs, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
