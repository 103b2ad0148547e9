"""Small things users notice: a favicon served locally, and an ordinary refusal (403) logged in one line
without a traceback (an error still carries its traceback)."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client, override_settings
from django.urls import path

from huiqi.urls import urlpatterns as site_urls


def test_a_favicon_from_this_site(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(resp.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an .ico file
    svg = client.get("/static/huiqi/favicon.svg")
    assert svg.status_code == 200 and b"<svg" in b"".join(svg.streaming_content)


@pytest.mark.django_db
def test_every_page_names_the_favicon():
    page = Client().get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/huiqi/favicon.svg" type="image/svg+xml">' in page
    assert 'href="/favicon.ico"' in page and "apple-touch-icon" in page


def _fails(request):
    raise RuntimeError("a real fault")


urlpatterns = [*site_urls, path("fails/", _fails)]


@pytest.fixture
def request_log():
    """What the configured handlers write for ``django.request``, as text (root's console handler)."""
    stream = io.StringIO()
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the settings give the root logger a console handler"
    olds = [h.setStream(stream) for h in handlers]
    yield stream
    for h, old in zip(handlers, olds):
        h.setStream(old)


@pytest.mark.django_db
def test_a_refused_page_is_logged_in_one_line_without_a_traceback(users, client_for, request_log):
    resp = client_for("bank").get("/registry/")
    assert resp.status_code == 403
    text = request_log.getvalue()
    assert "Forbidden (Permission denied): /registry/" in text
    assert "Traceback" not in text and "PermissionDenied" not in text


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG_PROPAGATE_EXCEPTIONS=False)
def test_an_error_still_carries_its_traceback(users, request_log):
    client = Client(raise_request_exception=False)
    client.force_login(users["bureau"])
    assert client.get("/fails/").status_code == 500
    text = request_log.getvalue()
    assert "Internal Server Error: /fails/" in text and "Traceback" in text and "a real fault" in text
