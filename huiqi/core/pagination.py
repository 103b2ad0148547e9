"""Page helpers shared by list pages: pagination that keeps the filters in the URL."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import Count, Window


def _per_page(request, per_page: int) -> int:
    try:
        return max(10, min(200, int(request.GET.get("per_page", per_page))))
    except ValueError:
        return per_page


def _query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def paginate(request, qs, per_page: int = 25):
    page = Paginator(qs, _per_page(request, per_page)).get_page(request.GET.get("page"))
    return page, _query(request)


def paginate_counted(request, qs, per_page: int = 25):
    """As ``paginate``, in one statement where ``paginate`` takes two: the page's rows carry the number of
    all of them (``COUNT(*) OVER ()``), so a long filtered list (an EXISTS over another table, say) is
    filtered once instead of counted and then read. A page past the end, or no number, is read as
    ``paginate`` reads it."""
    per_page = _per_page(request, per_page)
    try:
        number = int(request.GET.get("page") or 1)
    except (TypeError, ValueError):
        number = 1
    paginator = Paginator(qs, per_page)
    if number >= 1:
        rows = list(qs.annotate(_count_of_all=Window(Count("pk")))[(number - 1) * per_page:number * per_page])
        if rows:
            paginator.count = rows[0]._count_of_all  # the cached property, set: no second count
            return Page(rows, number, paginator), _query(request)
    return paginator.get_page(number), _query(request)
