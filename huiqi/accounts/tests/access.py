"""Accounts in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``) an API token of the bank's user. Everyone signed in has an account page and
lists its own tokens; a token is seen and revoked by its user and by administrators only (404 to anyone
else). Revoking on the page takes POST only.
"""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NA, NF, OK, UNAUTH, row

EXPECT = {
    #                                     anon    ent  ent2 dist dist2 dept bureau bank inst audit admin
    "accounts:account":              row(LOGIN,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "accounts:token_revoke":         row(LOGIN,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "api-token-list":                row(UNAUTH, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "api-token-detail":              row(UNAUTH, NF,  NF,  NF,  NF,  NF,  NF,  OK,  NF,  NF,  OK),
}

FILL = {
    "accounts:token_revoke": lambda w: {"pk": w["api_token"].pk},
    "api-token-detail": lambda w: {"pk": w["api_token"].pk},
}

WRITE_TABLE = {"api-token-detail": {"delete": {"bank", "admin"}}}


def prepare(world):
    """Add the bank user's API token to the world (once per test)."""
    if "api_token" not in world:
        from huiqi.accounts.services import issue_token

        world["api_token"], _key = issue_token(None, world["users"]["bank"], name="matrix")
    return world
