"""Enterprise requests in the access matrix (``huiqi/tests/test_access_matrix.py``).

The world gets (``prepare``): a policy question of ns1 (南山, user "enterprise"), routed to the SME service
bureau (the agency of the matrix's department user), with a PDF attachment, linked under a common
problem. District officers see their district's requests, a department its own department's, bureau,
auditors and administrators the city; banks and fund institutions have no part in the channel.

Open311 (``/open311/v2/``): discovery and the service list are public, as the standard has them;
requests are read with an API key (or a session) and scoped like every other read, so an anonymous
client is refused (403, the standard's error for a missing key).
"""

from __future__ import annotations

from huiqi.tests.matrix import LOGIN, NA, NF, NO, OK, UNAUTH, row

EXPECT = {
    #                                     anon   ent  ent2 dist dist2 dept bureau bank inst audit admin
    "requests:index":                row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "requests:new":                  row(LOGIN, OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "requests:inbox":                row(LOGIN, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "requests:figures":              row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "requests:figures_export":       row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "requests:problems":             row(LOGIN, NO,  NO,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "requests:problem":              row(LOGIN, NO,  NO,  OK,  NF,  OK,  OK,  NO,  NO,  OK,  OK),
    "requests:detail":               row(LOGIN, OK,  NF,  OK,  NF,  OK,  OK,  NO,  NO,  OK,  OK),
    # The confirmation of filing is the filer's own (the "enterprise" user filed the world's request).
    "requests:submitted":            row(LOGIN, OK,  NF,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  NF),
    "requests:act":                  row(LOGIN, NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "requests:attachment":           row(LOGIN, OK,  NF,  OK,  NF,  OK,  OK,  NO,  NO,  OK,  OK),
    # --- API: lists are scoped (empty for banks), a request outside the scope is a 404 ---
    "enterprise-request-list":       row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "enterprise-request-detail":     row(UNAUTH, OK, NF,  OK,  NF,  OK,  OK,  NF,  NF,  OK,  OK),
    "enterprise-request-act":        row(UNAUTH, NA, NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "request-category-list":         row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "request-category-detail":       row(UNAUTH, OK, OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    # --- Open311 GeoReport v2 ---
    "open311:discovery":             row(OK,    OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "open311:services":              row(OK,    OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "open311:service_definition":    row(OK,    OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "open311:requests":              row(NO,    OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "open311:request_detail":        row(NO,    OK,  NF,  OK,  NF,  OK,  OK,  NF,  NF,  OK,  OK),
}

FILL = {
    "requests:figures_export": lambda w: {"fmt": "xlsx"},
    "requests:problem": lambda w: {"pk": w["rq_problem"].pk},
    "requests:detail": lambda w: {"number": w["rq_request"].number},
    "requests:submitted": lambda w: {"number": w["rq_request"].number},
    "requests:act": lambda w: {"number": w["rq_request"].number, "action": "accept"},
    "requests:attachment": lambda w: {"number": w["rq_request"].number, "pk": w["rq_attachment"].pk},
    "enterprise-request-detail": lambda w: {"number": w["rq_request"].number},
    "enterprise-request-act": lambda w: {"number": w["rq_request"].number, "act": "accept"},
    "request-category-detail": lambda w: {"code": "policy"},
    "open311:discovery": lambda w: {"fmt": "json"},
    "open311:services": lambda w: {"fmt": "xml"},
    "open311:service_definition": lambda w: {"code": "policy", "fmt": "xml"},
    "open311:requests": lambda w: {"fmt": "json"},
    "open311:request_detail": lambda w: {"number": w["rq_request"].number, "fmt": "json"},
}

# An enterprise user files for its own enterprise (a hotline operator, not a matrix role, for any).
# Actions: each checks who may do it (a department on its own requests, an enterprise on its own, the
# bureau supervising), as on the pages.
WRITE_TABLE = {"enterprise-request-list": {"post": {"enterprise", "enterprise2", "admin"}},
               "enterprise-request-act": {"post": {"enterprise", "enterprise2", "department", "bureau", "admin"}}}
PUBLIC = {"open311:discovery", "open311:services", "open311:service_definition"}


def prepare(world):
    """Add the request records to the world (once per test)."""
    if "rq_request" in world:
        return world
    from django.core.files.uploadedfile import SimpleUploadedFile

    from huiqi.requests import services
    from huiqi.requests.models import Category

    users = world["users"]
    req = services.submit_request(
        users["enterprise"], enterprise=world["ns1"], category=Category.objects.get(code="policy"),
        title="矩阵测试：稳岗补贴申报条件", description="请问稳岗补贴的申报条件是什么？<script>alert(1)</script>",
        attachments=[SimpleUploadedFile("证明.pdf", b"%PDF-1.4\n%%EOF\n")])
    assert req.agency.code == "SME-SZ"
    world["rq_request"] = req
    world["rq_attachment"] = req.attachments.get()
    world["rq_problem"] = services.create_common_problem(users["department"], "稳岗补贴申报", req.category, [req])
    return world
