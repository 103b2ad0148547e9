"""The policy hub in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``) one published item. The catalogue and an item's page are every signed-in
person's; 政策找我 is an enterprise's (its own enterprises only); the editor is the bureau's; the versions
with the workflow are the bureau's, departments', auditors' and administrators'. The push inbox and settings
are an enterprise's (another enterprise's message is not found); the message log is the bureau's and
auditors'; a message's link opens it for whoever follows it.

Online applications: the world gets an ``application`` item routed to SME-SZ (the department user's) and the
enterprise user's application of it with an attachment. An enterprise applies for its own enterprises (an
administrator, who acts for none, is refused); an application is read by its enterprise, the department it
is routed to and the city's readers (others: 404, or 403 without the page)."""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NA, NF, NO, OK, UNAUTH, row

LIST_ACTIONS = ("compile", "review", "publish", "close", "confirm", "prepare-payment", "approve-payment", "remove-entry",
                "decide", "results")

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
    "policies:funnel":               row(LOGIN, NO,  NO,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    "policies:funnel_export":        row(LOGIN, NO,  NO,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    # --- API: the catalogue is every signed-in caller's; matches are scoped (empty for non-enterprises) ---
    "policy-item-list":              row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-item-detail":            row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-match-list":             row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    # --- online applications ---
    "policies:apply":                row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO),
    "policies:applications":         row(LOGIN, OK,  OK,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    "policies:applications_export":  row(LOGIN, OK,  OK,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    "policies:application":          row(LOGIN, OK,  NF,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    "policies:applied":              row(LOGIN, OK,  NF,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "policies:application_file":     row(LOGIN, OK,  NF,  NO,  NO,  OK,  OK,  NO,  NO,  OK,  OK),
    "policy-application-list":       row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-application-detail":     row(UNAUTH, OK, NF,  NF,  NF,  OK,  OK,  NF,  NF,  OK,  OK),
    "policy-application-act":        row(UNAUTH, NA, NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    # --- 免申即享 lists: the bureau's (auditors read); the 公示 is public; an enterprise its own entries ---
    "policies:lists":                row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "policies:list":                 row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "policies:list_export":          row(LOGIN, NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    # The world's list has no payment list yet.
    "policies:payment_file":         row(LOGIN, NO,  NO,  NO,  NO,  NO,  NF,  NO,  NO,  NF,  NF),
    "policies:public_lists":         row(OK,    OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policies:public_list":          row(OK,    OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policies:own_lists":            row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "policy-list-list":              row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-list-detail":            row(UNAUTH, NF, NF,  NF,  NF,  NF,  OK,  NF,  NF,  OK,  OK),
    "policy-list-entries":           row(UNAUTH, NF, NF,  NF,  NF,  NF,  OK,  NF,  NF,  OK,  OK),
    "policy-list-objections":        row(UNAUTH, NF, NF,  NF,  NF,  NF,  OK,  NF,  NF,  OK,  OK),
    **{f"policy-list-{a}":           row(UNAUTH, NA, NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA) for a in LIST_ACTIONS},
    "policy-list-entry-list":        row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "policy-list-entry-detail":      row(UNAUTH, OK, NF,  NF,  NF,  NF,  NF,  NF,  NF,  NF,  NF),
    "policy-list-entry-decline":     row(UNAUTH, NA, NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "policy-list-entry-objection":   row(UNAUTH, NA, NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
}
PUBLIC = {"policies:public_lists", "policies:public_list"}

FILL = {name: (lambda w: {"code": w["policy_item"]}) for name in ("policies:item", "policies:edit",
                                                                 "policies:versions", "policy-item-detail")}
FILL["policies:message"] = lambda w: {"pk": w["policy_message"].pk}
FILL["policies:push_link"] = lambda w: {"token": w["policy_message"].token}
FILL.update({
    "policies:apply": lambda w: {"code": w["policy_appliable"]},
    "policies:applications_export": lambda w: {"fmt": "csv"},
    **{name: (lambda w: {"number": w["policy_application"].number})
       for name in ("policies:application", "policies:applied", "policy-application-detail")},
    "policy-application-act": lambda w: {"number": w["policy_application"].number, "act": "accept"},
    "policies:application_file": lambda w: {"number": w["policy_application"].number,
                                            "pk": w["policy_application"].attachments.get().pk},
})

_LIST = lambda w: {"pk": w["policy_list"].pk}  # noqa: E731
FILL.update({name: _LIST for name in ("policies:list", "policy-list-detail",
                                      "policy-list-entries", "policy-list-objections",
                                      *(f"policy-list-{a}" for a in LIST_ACTIONS if a != "compile"))})
FILL.update({"policies:public_list": lambda w: {"pk": w["policy_public_list"].pk},
             "policies:list_export": lambda w: {"pk": w["policy_list"].pk, "fmt": "csv"},
             "policies:payment_file": lambda w: {"pk": w["policy_list"].pk, "fmt": "csv"},
             **{n: (lambda w: {"pk": w["policy_entry"].pk}) for n in ("policy-list-entry-detail",
                                                                     "policy-list-entry-decline")}})

WRITE_TABLE: dict = {**{f"policy-list-{a}": {"post": {"bureau", "admin"}} for a in LIST_ACTIONS},
                     "policy-list-entry-decline": {"post": {"enterprise", "enterprise2"}},
                     "policy-list-entry-objection": {"post": {"enterprise", "enterprise2"}}}

# The link an SMS or e-mail carries is followed before anyone signs in: it records the open and leads to the
# inbox (which asks for the sign-in); it shows nothing of the message.
PUBLIC |= {"policies:push_link"}
# An enterprise applies for its own enterprises; the department moves the applications routed to it
# (administrators stand in), as on the pages.
WRITE_TABLE.update({"policy-application-list": {"post": {"enterprise", "enterprise2", "admin"}},
                    "policy-application-act": {"post": {"department", "admin"}}})


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
    # A publicised 免申即享 list of the item with the first enterprise user's enterprise on it.
    from huiqi.policies.models import AutoEntry, AutoList

    ns1 = users["enterprise"].enterprises.get()
    world["policy_list"] = AutoList.objects.create(
        item=version.item, version=version, list_date=dt.date(2020, 4, 28), status="publicised",
        compiled_by=users["bureau"], reviewed_by=users["admin"], published_on=dt.date(2020, 4, 30),
        objections_until=dt.date(2020, 5, 11))
    world["policy_entry"] = AutoEntry.objects.create(auto_list=world["policy_list"], beneficiary_id=ns1.uscc,
                                                     name=ns1.name, beneficiary_kind=ns1.kind, enterprise=ns1,
                                                     amount_fen=100_000)
    # The 公示 publishes its enterprises' names to everyone by design, which the matrix's check of foreign
    # rows cannot tell from a leak: the public page is walked on a list of one natural person, masked.
    world["policy_public_list"] = AutoList.objects.create(
        item=version.item, version=version, list_date=dt.date(2020, 4, 28), status="publicised",
        compiled_by=users["bureau"], reviewed_by=users["admin"], published_on=dt.date(2020, 4, 30),
        objections_until=dt.date(2020, 5, 11))
    AutoEntry.objects.create(auto_list=world["policy_public_list"], beneficiary_id="110101199003077777", name="王五",
                             beneficiary_kind="business_owner", amount_fen=100_000)
    from zoneinfo import ZoneInfo

    from huiqi.policies.models import PushEntry, PushMessage

    at = dt.datetime(2020, 2, 3, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    message = PushMessage.objects.create(enterprise=users["enterprise"].enterprises.get(), channel="inbox",
                                         day=at.date(), scheduled_at=at, state="delivered", sent_at=at,
                                         delivered_at=at, token="matrix-push-token")
    PushEntry.objects.create(message=message, item=version.item, version=version, reason="new_match")
    world["policy_message"] = message

    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.registry.models import Agency

    version = services.save_draft(users["bureau"], "MX2", {
        "title": "中小企业房租补贴", "mode": "application", "opens": "2020-02-01", "closes": None,
        "criteria": {"field": "kind", "op": "eq", "value": "enterprise"}}, department=Agency.objects.get(code="SME-SZ"))
    services.submit(users["bureau"], version)
    services.publish(users["admin"], version, dt.date(2020, 2, 1))
    world["policy_appliable"] = "MX2"
    world["policy_application"] = services.submit_application(
        users["enterprise"], enterprise=world["ns1"], code="MX2", statement="矩阵测试", day=dt.date(2020, 3, 2),
        attachments=[SimpleUploadedFile("证明.pdf", b"%PDF-1.4\n%%EOF\n")])
    return world
