"""Secrets stay out of logs and error reports.

Open311 clients send the platform API token as ``api_key``, in the query string of their reads as the
standard has it; an access log writes every request line whole, and an error report shows the request's
address, parameters and environment. Here every log line is redacted (``RedactSecrets``, a filter on
each of the settings' handlers; ``access_log.RedactingLogger`` for gunicorn's access log) and so is
every error report (``ExceptionReporter`` and ``ExceptionReporterFilter``, the settings' defaults).
"""

from __future__ import annotations

import logging
import re

from django.views import debug

REDACTED = "[redacted]"

# Parameter names whose values are secrets (an underscore may come percent-encoded).
_SECRET_NAME = r"api(?:_|%5f|-)?key|access(?:_|%5f)token|token|password|secret"
_SECRET_NAMES = re.compile(rf"(?:{_SECRET_NAME})\Z", re.I)
# A secret's value in a query string, a request line, an address or a form body.
_IN_TEXT = re.compile(rf"((?:^|[?&;\s\"'])(?:{_SECRET_NAME})=)[^&;\s\"'#]*", re.I)


def redact(text: str) -> str:
    """``text`` with the value of every secret parameter (``api_key=…``, ``token=…``) replaced."""
    return _IN_TEXT.sub(rf"\1{REDACTED}", text) if "=" in text else text


def is_secret(name: str) -> bool:
    return bool(_SECRET_NAMES.match(name or ""))


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message carries a secret parameter; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted: the handler reports it as it would
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class NoTracebackForForbidden(logging.Filter):
    """Keeps the one line of a refused request (403) and drops its traceback: Django logs the
    ``PermissionDenied`` a page raised with its stack, which says nothing about a user who may not see a page
    and buries the tracebacks that matter. Every record is let through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            record.exc_info, record.exc_text = None, None
        return True


class ExceptionReporterFilter(debug.SafeExceptionReporterFilter):
    """Django's filter, and also: secret parameters of the form and secrets in the request's environment
    (its query string, the raw address a server passes on) are hidden, in debug pages too."""

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        return {k: redact(v) if isinstance(v, str) else v for k, v in meta.items()}

    def get_post_parameters(self, request):
        parameters = super().get_post_parameters(request)
        secrets = [k for k in parameters if is_secret(k)] if request is not None else []
        if secrets:
            parameters = parameters.copy()
            for name in secrets:
                parameters[name] = self.cleansed_substitute
        return parameters


class ExceptionReporter(debug.ExceptionReporter):
    """Django's report of an error (the debug page, the administrators' e-mail) without the values of
    secret query parameters: in the parameter list, the request's address, and the local variables of
    each frame (a request shows its address with the query string)."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        for frame in data.get("frames", ()):
            if "vars" in frame:
                frame["vars"] = [(k, redact(v) if isinstance(v, str) else v) for k, v in frame["vars"]]
        if "request_GET_items" in data:
            data["request_GET_items"] = [(k, self.filter.cleansed_substitute if is_secret(k) else v)
                                         for k, v in data["request_GET_items"]]
        if isinstance(data.get("exception_value"), str):
            data["exception_value"] = redact(data["exception_value"])
        if isinstance(data.get("request_insecure_uri"), str):
            data["request_insecure_uri"] = redact(data["request_insecure_uri"])
        return data
