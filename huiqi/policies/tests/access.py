"""The policy hub in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``) one published item. The catalogue and an item's page are every signed-in
person's; 政策找我 is an enterprise's (its own enterprises only); the editor is the bureau's; the versions
with the workflow are the bureau's, departments', auditors' and administrators'."""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NO, OK, UNAUTH, row

EXPECT = {
    #                                     anon   ent  ent2 dist dist2 dept bureau bank inst audit admin
    "policies:index":                row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policies:item":                 row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policies:mine":                 row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "policies:new":                  row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "policies:edit":                 row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "policies:versions":             row(LOGIN, NO,  NO,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    "policies:publicity":            row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    # --- API: the catalogue is every signed-in caller's; matches are scoped (empty for non-enterprises) ---
    "policy-item-list":              row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-item-detail":            row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-match-list":             row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
}

FILL = {name: (lambda w: {"code": w["policy_item"]}) for name in ("policies:item", "policies:edit",
                                                                 "policies:versions", "policy-item-detail")}

WRITE_TABLE: dict = {}


def prepare(world):
    if "policy_item" in world:
        return world
    import datetime as dt

    from huiqi.policies import services

    users = world["users"]
    version = services.save_draft(users["bureau"], "MX1", {
        "title": "小微企业租金减免", "mode": "auto", "opens": "2020-02-01", "closes": None,
        "criteria": {"field": "size_class", "op": "in", "value": ["small", "micro"]}})
    services.submit(users["bureau"], version)
    services.publish(users["admin"], version, dt.date(2020, 2, 1))
    world["policy_item"] = "MX1"
    return world
