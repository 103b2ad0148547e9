"""gunicorn's access log without secrets: ``huiqi serve`` runs gunicorn with ``--logger-class`` this class.

Its default line holds the request line whole (``%(r)s``), query string included, and a deployment may
add the query string, the referrer or any request header: every value of a line is redacted as Django's
own log lines are (``core.logs``), and the headers that carry credentials are left out altogether.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from .logs import REDACTED, redact

_CREDENTIAL_HEADERS = ("{authorization}i", "{cookie}i", "{proxy-authorization}i", "{x-api-key}i")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        clean = {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
        for header in _CREDENTIAL_HEADERS:
            if header in clean:
                clean[header] = REDACTED
        return clean
