"""Hot statements as server-side prepared statements (PostgreSQL).

Django binds parameters on the client, so PostgreSQL parses and plans every statement again; for a
statement run thousands of times a minute (a daily check's one-statement insert, the token and
enterprise it is sent with) the planning costs more than the work. ``fetchone`` sends such a
statement through a server-binding cursor of the same connection with ``prepare=True``: it is
prepared once per connection (kept for ``CONN_MAX_AGE``) and executed by name afterwards.

The statement runs in the connection's current transaction state, like any other; database errors
come back as Django's (``IntegrityError`` …). Queries sent this way do not pass Django's execute
wrappers (they are not in ``connection.queries``).
"""

from __future__ import annotations

from django.db import connection
from psycopg.pq import ExecStatus

TUPLES_OK = ExecStatus.TUPLES_OK

# Django turns preparing off (threshold None); its own client-binding cursors never prepare, so a
# threshold no query reaches leaves preparing to the explicit ``prepare=True`` below.
_NEVER = 2**31 - 1


def fetchone(sql: str, params, *, check_health: bool = True) -> tuple | None:
    """The first row of ``sql`` (``%s`` placeholders) run as a prepared statement, or None.

    ``check_health=False`` skips Django's per-request health check of a kept connection (one round
    trip): for a caller that, should the statement fail on a dead connection, answers another way."""
    # What ``connection.cursor()`` does first: the per-request health check, then (re)connect.
    if check_health:
        connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    cur = getattr(raw, "_huiqi_prepared_cursor", None)
    if cur is None:
        import psycopg

        if raw.prepare_threshold is None:
            raw.prepare_threshold = _NEVER
        cur = raw._huiqi_prepared_cursor = psycopg.Cursor(raw)
    with connection.wrap_database_errors:
        cur.execute(sql, params, prepare=True)
        # (``cur.description`` would build a column object per column on every call.)
        return cur.fetchone() if cur.pgresult.status == TUPLES_OK else None
