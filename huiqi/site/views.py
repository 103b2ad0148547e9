"""The site's own pages: the home page (each app adds its panels) and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render

from . import discovery


def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    panels = [p for p in (panel(request.user) for panel in discovery.home_panels()) if p]
    return render(request, "site/home.html", {"panels": panels})
