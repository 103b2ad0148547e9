"""No secret given in a query string or a form (Open311's ``api_key``) reaches a log line or an error
report: Django's own server log, its request log and error e-mails, and gunicorn's access log."""

from __future__ import annotations

import datetime as dt
import io
import logging
from types import SimpleNamespace

import pytest
from django.core import mail
from django.test import Client

from huiqi.core.logs import redact

SECRET = "5f2b8c1e0d9a4b7c6e3f2a1b0c9d8e7f6a5b4c3d"


@pytest.mark.parametrize(("text", "clean"), [
    ("GET /open311/v2/requests.json?api_key=abc HTTP/1.1", "GET /open311/v2/requests.json?api_key=[redacted] HTTP/1.1"),
    ("/x?status=open&API_KEY=abc&token=def#top", "/x?status=open&API_KEY=[redacted]&token=[redacted]#top"),
    ("api%5Fkey=abc&apikey=d;access_token=e", "api%5Fkey=[redacted]&apikey=[redacted];access_token=[redacted]"),
    ("'/x?api_key=abc'", "'/x?api_key=[redacted]'"),
    ("/x?my_api_key=abc&csrfmiddlewaretoken=d&tokens=e", "/x?my_api_key=abc&csrfmiddlewaretoken=d&tokens=e"),
    ("no parameters", "no parameters"),
])
def test_redact(text, clean):
    assert redact(text) == clean


def test_the_development_servers_access_log_is_redacted():
    """``runserver`` logs each request line to ``django.server`` (Django's WSGIRequestHandler)."""
    logger = logging.getLogger("django.server")
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers
    stream = io.StringIO()
    olds = [h.setStream(stream) for h in handlers]
    try:
        logger.info('"%s" %s %s', f"GET /open311/v2/requests.json?api_key={SECRET}&status=open HTTP/1.1", "200",
                    "2", extra={"status_code": 200})
    finally:
        for handler, old in zip(handlers, olds):
            handler.setStream(old)
    line = stream.getvalue()
    assert SECRET not in line and "?api_key=[redacted]&status=open" in line


def test_an_error_report_and_its_log_line_hold_no_secret(db, settings, monkeypatch):
    """A 500 on a request that carries the key in its query string and its form: the administrators'
    e-mail (Django's error report: parameters, address, environment, each frame's variables) and the
    console log line say nothing of it."""
    from huiqi.requests import open311

    settings.ADMINS = [("ops", "ops@example.org")]
    settings.DEBUG = False

    def broken(request, fmt):
        raise RuntimeError("boom")

    monkeypatch.setattr(open311, "_create", broken)
    console = io.StringIO()
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    assert handlers
    olds = [h.setStream(console) for h in handlers]
    try:
        r = Client(raise_request_exception=False).post(f"/open311/v2/requests.json?api_key={SECRET}",
                                                       {"api_key": SECRET, "service_code": "x"})
    finally:
        for handler, old in zip(handlers, olds):
            handler.setStream(old)
    assert r.status_code == 500
    assert len(mail.outbox) == 1
    report = mail.outbox[0].body + mail.outbox[0].subject
    assert "RuntimeError" in report and "api_key" in report
    assert SECRET not in report
    assert "Internal Server Error: /open311/v2/requests.json" in console.getvalue()
    assert SECRET not in console.getvalue()


def test_the_debug_page_holds_no_secret(rf, settings):
    from django.views.debug import technical_500_response

    settings.DEBUG = True
    request = rf.get(f"/open311/v2/requests.json?api_key={SECRET}&status=open", HTTP_REFERER=f"/x?token={SECRET}")
    try:
        raise ValueError("boom")
    except ValueError as exc:
        page = technical_500_response(request, type(exc), exc, exc.__traceback__).content.decode()
    assert "boom" in page and "api_key" in page and SECRET not in page


def test_gunicorns_access_log_is_redacted():
    """``huiqi serve`` runs gunicorn with ``access_log.RedactingLogger``; its default line has the request
    line whole, and a deployment may log the query string, the referrer or a header."""
    from gunicorn.config import Config

    from huiqi.core.access_log import RedactingLogger
    from huiqi.core.management.commands import serve

    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s q=%(q)s "%(f)s" %({authorization}i)s')
    log = RedactingLogger(cfg)
    stream = io.StringIO()
    log.access_log.handlers[0].setStream(stream)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/open311/v2/requests.xml?api_key={SECRET}",
               "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": f"api_key={SECRET}", "REMOTE_ADDR": "10.0.0.1",
               "HTTP_REFERER": f"https://x.example/?token={SECRET}"}
    req = SimpleNamespace(headers=[("AUTHORIZATION", f"Token {SECRET}")])
    resp = SimpleNamespace(status="200 OK", sent=12, headers=[])
    log.access(resp, req, environ, dt.timedelta(milliseconds=5))
    line = stream.getvalue()
    assert line.startswith('10.0.0.1 "GET /open311/v2/requests.xml?api_key=[redacted] HTTP/1.1" 200')
    assert SECRET not in line

    assert "huiqi.core.access_log.RedactingLogger" in _serve_command(serve)


def _serve_command(serve) -> list[str]:
    """The gunicorn command line ``huiqi serve`` starts (nothing is started)."""
    started = []

    class Process:
        def __init__(self, cmd):
            started.append(cmd)

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    real_popen, real_call = serve.subprocess.Popen, serve.call_command
    serve.subprocess.Popen, serve.call_command = Process, lambda *a, **k: None
    try:
        serve.Command().handle(host="127.0.0.1", port=8000, workers=1, threads=1, no_worker=True, skip_migrate=True)
    finally:
        serve.subprocess.Popen, serve.call_command = real_popen, real_call
    (cmd,) = [c for c in started if "gunicorn" in c]
    return cmd
