"""The policy hub in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``) one published item. The catalogue and an item's page are every signed-in
person's; 政策找我 is an enterprise's (its own enterprises only); the editor is the bureau's; the versions
with the workflow are the bureau's, departments', auditors' and administrators'. The push inbox and settings
are an enterprise's (another enterprise's message is not found); the message log is the bureau's and
auditors'; a message's link opens it for whoever follows it."""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NF, NO, OK, UNAUTH, row

EXPECT = {
    #                                     anon   ent  ent2 dist dist2 dept bureau bank inst audit admin
    "policies:index":                row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policies:item":                 row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policies:mine":                 row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "policies:new":                  row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "policies:edit":                 row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "policies:versions":             row(LOGIN, NO,  NO,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    "policies:publicity":            row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    # 精准推送: an enterprise's own inbox and settings (the world's message is ns1's); the bureau's log.
    "policies:inbox":                row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "policies:message":              row(LOGIN, OK,  NF,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "policies:push_settings":        row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "policies:push_log":             row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "policies:push_link":            row(OK,    OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    # --- API: the catalogue is every signed-in caller's; matches are scoped (empty for non-enterprises) ---
    "policy-item-list":              row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-item-detail":            row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-match-list":             row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
}

FILL = {name: (lambda w: {"code": w["policy_item"]}) for name in ("policies:item", "policies:edit",
                                                                 "policies:versions", "policy-item-detail")}
FILL["policies:message"] = lambda w: {"pk": w["policy_message"].pk}
FILL["policies:push_link"] = lambda w: {"token": w["policy_message"].token}

WRITE_TABLE: dict = {}

# The link an SMS or e-mail carries is followed before anyone signs in: it records the open and leads to the
# inbox (which asks for the sign-in); it shows nothing of the message.
PUBLIC = {"policies:push_link"}


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
    from zoneinfo import ZoneInfo

    from huiqi.policies.models import PushEntry, PushMessage

    at = dt.datetime(2020, 2, 3, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    message = PushMessage.objects.create(enterprise=users["enterprise"].enterprises.get(), channel="inbox",
                                         day=at.date(), scheduled_at=at, state="delivered", sent_at=at,
                                         delivered_at=at, token="matrix-push-token")
    PushEntry.objects.create(message=message, item=version.item, version=version, reason="new_match")
    world["policy_message"] = message
    return world
