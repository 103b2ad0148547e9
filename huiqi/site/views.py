"""The site's own pages: the home page (to-dos, each app's panels) and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render

from huiqi.accounts.selectors import Role

from . import discovery
from .todos import todos_for


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    """我的待办 first (what waits for this person, each a link with its count); an enterprise's own services
    next to it; then the panels each app adds."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    panels = [p for p in (panel(request.user) for panel in discovery.home_panels()) if p]
    return render(request, "site/home.html", {"todos": todos_for(request.user), "panels": panels,
                                              "own_services": request.user.role == Role.ENTERPRISE})
