"""What the access matrix is written in: the roles walked, the outcomes, and one row per URL name.

Apps added later keep their own rows in ``huiqi/<app>/tests/access.py`` (``EXPECT``, ``FILL``,
``WRITE_TABLE`` and optionally ``PUBLIC``, ``SKIPPED_NAMES`` and ``prepare(world)``, called before any
of that app's URLs is walked); ``huiqi/tests/test_access_matrix.py`` merges them with its own.
"""

from __future__ import annotations

ROLES = ("anonymous", "enterprise", "enterprise2", "district", "district2", "department", "bureau", "bank",
         "institution", "auditor", "admin")
SIGNED_IN = ROLES[1:]

# --- outcomes ----------------------------------------------------------------------------------
OK = 200
UNAUTH = 401          # API called without credentials
NO = 403              # forbidden
NF = 404              # an object outside the caller's scope: its existence is not revealed
NA = 405              # method not allowed (the token exchange takes POST only)
LOGIN = "login"       # 302 to the log-in page (?next=…)
HOME = "home"         # 302 to the home page (the log-in page, for someone already signed in)
ADMIN_LOGIN = "admin-login"  # 302 to the Django admin's log-in page (not staff)


def row(*outcomes):
    assert len(outcomes) == len(ROLES), f"a row needs one outcome per role {ROLES}, got {outcomes}"
    return dict(zip(ROLES, outcomes))
