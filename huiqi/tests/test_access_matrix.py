"""The access matrix: every page and API endpoint, walked as every role and as an anonymous visitor.

It fails on any access a role is given that it must not have (or is refused that it should
have), and on any foreign row shown: an enterprise, a business owner or a job outside the
caller's scope, or an unmasked resident ID number, appearing anywhere in a page, a JSON body or
an exported file.

The URL patterns are read from the resolver, so a page or endpoint added later is walked too:
until it has a row in ``EXPECT`` (and, when its path has parameters, a filler in ``FILL``) the
matrix fails and says what to add. Write methods of the API are discovered the same way and must
be listed in ``WRITE_TABLE``.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import importlib
import io
import json
import random
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.views.static import serve as static_serve

from conftest import build_city, build_users, enterprise_maker, fast_known_password, rows_kept_for_scope
from huiqi.tests.matrix import ADMIN_LOGIN, HOME, LOGIN, NA, NF, NO, OK, ROLES, SIGNED_IN, UNAUTH, row

# No module-wide django_db mark: the database comes with the ``world`` fixture, which first puts the
# world's additions in place for the test (in a savepoint of their own, below the test's).


# Detail URLs are filled (FILL below) with: enterprise ns1 (南山, member: "enterprise"), business
# owner A (owns ns1 南山 and ft1 福田), the job of the "enterprise" user, a refused registry import
# uploaded by the bureau, the first audit record, a parameter.
EXPECT = {
    #                                     anon        ent  ent2 dist dist2 dept bureau bank inst audit admin
    "home":                          row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "healthz":                       row(OK,          OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "accounts:login":                row(OK,         HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME, HOME,
                                         HOME),
    "registry:enterprise_list":      row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "registry:enterprise_export":    row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  NO,  NO,  OK,  OK),
    "registry:enterprise_detail":    row(LOGIN,       OK,  NF,  OK,  NF,  OK,  OK,  NO,  NO,  OK,  OK),
    "registry:bank_list":            row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "registry:import":               row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "registry:import_template":      row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    # A file's confirmation is the uploader's own (the world's import is the bureau's, its upload the bank's).
    "registry:import_submitted":     row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  NF),
    "registry:import_detail":        row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "registry:import_error_report":  row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "core:job_list":                 row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "core:job_detail":               row(LOGIN,       OK,  NF,  NF,  NF,  NF,  NF,  NF,  NF,  NF,  OK),
    "core:job_progress":             row(LOGIN,       OK,  NF,  NF,  NF,  NF,  NF,  NF,  NF,  NF,  OK),
    "core:audit_list":               row(LOGIN,       NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK,  OK),
    "core:audit_detail":             row(LOGIN,       NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK,  OK),
    "core:audit_export":             row(LOGIN,       NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK,  OK),
    "core:parameter_list":           row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "core:parameter_detail":         row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "core:parameter_proposal_decide": row(LOGIN,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    # Bureau staff and administrators are Django staff; everyone else is sent to the admin log-in.
    "admin:index":                   row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN,
                                         ADMIN_LOGIN, OK, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK),
    # The loan ledger: the loan is bank_a's (user "bank"), lent to ns1 (user "enterprise"); the upload is
    # a refused loans file of bank_a.
    "lending:loan_list":             row(LOGIN,       OK,  OK,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "lending:upload":                row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  NO,  OK),
    "lending:upload_submitted":      row(LOGIN,       NO,  NO,  NO,  NO,  NO,  NF,  OK,  NO,  NO,  NF),
    "lending:upload_detail":         row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "lending:upload_error_report":   row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "lending:template":              row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    # Interest subsidy: batches are the bureau's, auditors' and administrators' (auditors read, do not
    # act). The batch is the released one of the world (an action is asked of the open one).
    # /subsidy/ is each reader's page: the batches, "my interest subsidy", or the bank's loans.
    "subsidy:index":                 row(LOGIN,       OK,  OK,  NO,  NO,  NO,  OK,  OK,  NO,  OK,  OK),
    "subsidy:simulate":              row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:simulate_export":       row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:batch_detail":          row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:batch_action":          row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "subsidy:batch_file":            row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:beneficiaries":         row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:beneficiaries_export":  row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:loan_lines":            row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:loan_lines_export":     row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "subsidy:reconcile":             row(LOGIN,       NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "subsidy:reconciliation_template": row(LOGIN,     NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    # Confirming or sending back a reconciliation file takes POST only (test_post_subsidy_reconciliation).
    "subsidy:reconciliation_decide": row(LOGIN,       NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    # The exports of those two pages (administrators hold every permission and read everything).
    "subsidy:mine_export":           row(LOGIN,       OK,  OK,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK),
    "subsidy:bank_export":           row(LOGIN,       NO,  NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK),
    # --- API (anonymous: 401; objects outside the scope: 404) ---
    "api-root":                      row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "api-me":                        row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "api-token":                     row(NA,          NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "enterprise-list":               row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "enterprise-detail":             row(UNAUTH,      OK,  NF,  OK,  NF,  OK,  OK,  NF,  NF,  OK,  OK),
    "owner-list":                    row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "owner-detail":                  row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  NF,  NF,  OK,  OK),
    "district-list":                 row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "district-detail":               row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "industry-list":                 row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "industry-detail":               row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "bank-list":                     row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "bank-detail":                   row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "institution-list":              row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "institution-detail":            row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "registry-import-list":          row(UNAUTH,      NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "registry-import-detail":        row(UNAUTH,      NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  NO,  OK),
    "loan-list":                     row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "loan-detail":                   row(UNAUTH,      OK,  NF,  NF,  NF,  NF,  OK,  OK,  NF,  OK,  OK),
    "ledger-upload-list":            row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "ledger-upload-detail":          row(UNAUTH,      NF,  NF,  NF,  NF,  NF,  OK,  OK,  NF,  OK,  OK),
    # Subsidy lists are scoped (a bank its loans' lines, an enterprise its own, in released batches);
    # a batch itself is the city-wide readers'. The actions take POST only (see WRITE_TABLE).
    "subsidy-batch-list":            row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "subsidy-batch-detail":          row(UNAUTH,      NF,  NF,  NF,  NF,  NF,  OK,  NF,  NF,  OK,  OK),
    "subsidy-batch-run":             row(UNAUTH,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "subsidy-batch-review":          row(UNAUTH,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "subsidy-batch-approve":         row(UNAUTH,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "subsidy-batch-release":         row(UNAUTH,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "subsidy-batch-cancel":          row(UNAUTH,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "subsidy-batch-reconcile":       row(UNAUTH,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "subsidy-loan-line-list":        row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "subsidy-payment-list":          row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "subsidy-reconciliation-list":   row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "subsidy-reconciliation-detail": row(UNAUTH,      NF,  NF,  NF,  NF,  NF,  OK,  NF,  NF,  OK,  OK),
    "subsidy-reconciliation-confirm": row(UNAUTH,     NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "subsidy-reconciliation-reject": row(UNAUTH,      NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA,  NA),
    "job-list":                      row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "job-detail":                    row(UNAUTH,      OK,  NF,  NF,  NF,  NF,  NF,  NF,  NF,  NF,  OK),
    "audit-list":                    row(UNAUTH,      NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK,  OK),
    "audit-detail":                  row(UNAUTH,      NO,  NO,  NO,  NO,  NO,  NO,  NO,  NO,  OK,  OK),
    "parameter-list":                row(UNAUTH,      NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    "parameter-detail":              row(UNAUTH,      NO,  NO,  NO,  NO,  NO,  OK,  NO,  NO,  OK,  OK),
    # --- the API's description: for signed-in users (a client with its token; a person after log-in) ---
    "api-schema":                    row(UNAUTH,      OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "api-docs":                      row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
    "api-redoc":                     row(LOGIN,       OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK,  OK),
}

# What an anonymous visitor may open; every other page/endpoint must send it to log in (or 401/403).
PUBLIC = {"accounts:login", "healthz", "api-token"}

# Path parameters, per url name, from the fixture data (``world``). DRF's ``format`` suffix is
# filled with "json" for every pattern that has it.
FILL = {
    "registry:enterprise_export": lambda w: {"fmt": "csv"},
    "registry:enterprise_detail": lambda w: {"uscc": w["ns1"].uscc},
    "registry:import_template": lambda w: {"lang": "zh", "fmt": "csv"},
    "registry:import_detail": lambda w: {"pk": w["import"].pk},
    "registry:import_submitted": lambda w: {"pk": w["import"].pk},
    "lending:upload_submitted": lambda w: {"pk": w["ledger_upload"].pk},
    "registry:import_error_report": lambda w: {"pk": w["import"].pk, "fmt": "csv"},
    "lending:upload_detail": lambda w: {"pk": w["ledger_upload"].pk},
    "lending:upload_error_report": lambda w: {"pk": w["ledger_upload"].pk, "fmt": "csv"},
    "lending:template": lambda w: {"kind": "loans", "lang": "zh", "fmt": "csv"},
    "loan-detail": lambda w: {"pk": w["loan_a"].pk},
    "ledger-upload-detail": lambda w: {"pk": w["ledger_upload"].pk},
    "subsidy:simulate_export": lambda w: {"fmt": "csv"},
    "subsidy:batch_detail": lambda w: {"pk": w["subsidy_released"].pk},
    "subsidy:batch_action": lambda w: {"pk": w["subsidy_open"].pk, "action": "review"},
    "subsidy:batch_file": lambda w: {"pk": w["subsidy_released"].pk, "name": "payments.csv"},
    "subsidy:beneficiaries": lambda w: {"pk": w["subsidy_released"].pk},
    "subsidy:beneficiaries_export": lambda w: {"pk": w["subsidy_released"].pk, "fmt": "xlsx"},
    "subsidy:loan_lines": lambda w: {"pk": w["subsidy_released"].pk},
    "subsidy:loan_lines_export": lambda w: {"pk": w["subsidy_released"].pk, "fmt": "csv"},
    "subsidy:reconcile": lambda w: {"pk": w["subsidy_released"].pk},
    "subsidy:reconciliation_template": lambda w: {"lang": "zh", "fmt": "xlsx"},
    "subsidy:reconciliation_decide": lambda w: {"pk": w["subsidy_released"].pk,
                                                "rid": w["subsidy_reconciliation"].pk, "decision": "confirm"},
    **{f"subsidy-reconciliation-{a}": (lambda w: {"pk": w["subsidy_reconciliation"].pk})
       for a in ("detail", "confirm", "reject")},
    "subsidy:mine_export": lambda w: {"fmt": "xlsx"},
    "subsidy:bank_export": lambda w: {"fmt": "xlsx"},
    "subsidy-batch-detail": lambda w: {"pk": w["subsidy_released"].pk},
    **{f"subsidy-batch-{a}": (lambda w: {"pk": w["subsidy_open"].pk})
       for a in ("review", "approve", "release", "cancel", "reconcile")},
    "core:job_detail": lambda w: {"pk": w["job"].pk},
    "core:job_progress": lambda w: {"pk": w["job"].pk},
    "core:audit_detail": lambda w: {"pk": w["audit"].pk},
    "core:audit_export": lambda w: {"fmt": "xlsx"},
    "core:parameter_detail": lambda w: {"key": w["parameter"].key},
    "core:parameter_proposal_decide": lambda w: {"pk": 1},  # POST only: a GET is refused before the lookup
    "enterprise-detail": lambda w: {"uscc": w["ns1"].uscc},
    "owner-detail": lambda w: {"pk": w["owner_a"].pk},
    "district-detail": lambda w: {"pk": "440305"},
    "industry-detail": lambda w: {"pk": "C39"},
    "bank-detail": lambda w: {"code": w["bank_a"].code},
    "institution-detail": lambda w: {"code": w["institution"].code},
    "registry-import-detail": lambda w: {"pk": w["import"].pk},
    "job-detail": lambda w: {"pk": w["job"].pk},
    "audit-detail": lambda w: {"pk": w["audit"].pk},
    "parameter-detail": lambda w: {"pk": w["parameter"].pk},
}

# Not walked: Django admin internals (its index is), the language switch, log-out (POST only), static/media.
SKIPPED_NAMES = {"set_language", "accounts:logout"}

# Every API write: (url name) -> {method: roles allowed}. Anything else writable fails the matrix.
WRITE_TABLE = {
    "api-token": {"post": set(ROLES)},  # the public token exchange (checks the password itself)
    "enterprise-list": {"post": {"bureau", "admin"}},
    "parameter-list": {"post": {"bureau", "admin"}},
    "registry-import-list": {"post": {"bureau", "admin"}},
    "ledger-upload-list": {"post": {"bank", "bureau", "admin"}},
    **{f"subsidy-batch-{a}": {"post": {"bureau", "admin"}}
       for a in ("run", "review", "approve", "release", "cancel", "reconcile")},
    **{f"subsidy-reconciliation-{a}": {"post": {"bureau", "admin"}} for a in ("confirm", "reject")},
}

# --- rows kept by the apps themselves (huiqi/<app>/tests/access.py) -----------------------------
PREPARE = {}  # url name -> the app's prepare(world)
for _config in apps.get_app_configs():
    if not _config.name.startswith("huiqi."):
        continue
    try:
        _access = importlib.import_module(f"{_config.name}.tests.access")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"{_config.name}.tests", f"{_config.name}.tests.access"):
            raise
        continue
    _clash = (EXPECT.keys() & _access.EXPECT.keys())
    assert not _clash, f"{_access.__name__} repeats rows of the matrix: {sorted(_clash)}"
    EXPECT.update(_access.EXPECT)
    FILL.update(getattr(_access, "FILL", {}))
    WRITE_TABLE.update(getattr(_access, "WRITE_TABLE", {}))
    PUBLIC |= set(getattr(_access, "PUBLIC", ()))
    SKIPPED_NAMES |= set(getattr(_access, "SKIPPED_NAMES", ()))
    if hasattr(_access, "prepare"):
        PREPARE.update(dict.fromkeys(_access.EXPECT, _access.prepare))


# --- who sees which rows -----------------------------------------------------------------------
ENTERPRISES = ("ns1", "ns2", "ft1", "ba1")
CITY = set(ENTERPRISES)
VISIBLE = {
    "anonymous": set(),
    "enterprise": {"ns1"},
    "enterprise2": {"ft1"},
    "district": {"ns1", "ns2"},   # 440305 南山
    "district2": {"ft1"},         # 440304 福田
    "department": CITY,
    "bureau": CITY,
    "bank": set(),
    "institution": set(),
    "auditor": CITY,
    "admin": CITY,
}
REGISTRY_READERS = {"enterprise", "enterprise2", "district", "district2", "department", "bureau", "auditor",
                    "admin"}
OWNERS = {"owner_a": ("ns1", "ft1"), "owner_b": ("ba1",)}
# Loans of the world: loan number -> (bank user who may see it, borrower key). A bank sees its
# borrowers' identifiers through its loans, though not in the registry.
LOANS = {"MATRIX-LOAN-A": ("bank", "ns1"), "MATRIX-LOAN-B": (None, "ft1")}
LEDGER_READERS = {"bureau", "auditor", "admin"}


def loans_visible(role) -> set[str]:
    return {no for no, (bank_user, borrower) in LOANS.items()
            if role in LEDGER_READERS or role == bank_user or (role.startswith("enterprise") and borrower in VISIBLE[role])}


def borrowers_visible(role) -> set[str]:
    return {LOANS[no][1] for no in loans_visible(role)}
OWNERS_VISIBLE = {role: {o for o, owns in OWNERS.items() if VISIBLE[role] & set(owns)} for role in ROLES}


# --- URL patterns from the resolver ------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    name: str | None
    route: str
    params: tuple[str, ...]
    callback: object

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/v1/")

    @property
    def label(self) -> str:
        r = self.route.replace("^", "").replace("$", "")
        r = re.sub(r"\\\.\(\?P<(\w+)>[^)]*\)/\?", r".<\1>", r)
        r = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", r)
        r = re.sub(r"<\w+:(\w+)>", r"<\1>", r)
        return f"{self.name} /{r}"


def _join(route1: str, route2: str) -> str:
    # As django.urls.resolvers does for ResolverMatch.route.
    return route1 + (route2.removeprefix("^"))


def _walk(patterns, prefix="", namespace="", params=()):
    for p in patterns:
        keys = params + tuple(p.pattern.regex.groupindex)
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace) if x)
            yield from _walk(p.url_patterns, _join(prefix, str(p.pattern)), ns, keys)
        else:
            name = (f"{namespace}:{p.name}" if namespace else p.name) if p.name else None
            yield Endpoint(name, _join(prefix, str(p.pattern)), keys, p.callback)


def _skipped(ep: Endpoint) -> bool:
    if ep.route.startswith("admin/") and ep.name != "admin:index":
        return True
    return ep.name in SKIPPED_NAMES or ep.callback is static_serve


ALL_ENDPOINTS = list(_walk(get_resolver().url_patterns))
ENDPOINTS = [ep for ep in ALL_ENDPOINTS if not _skipped(ep)]


def build_url(ep: Endpoint, world) -> str:
    if ep.name is None:
        pytest.fail(f"URL pattern {ep.label} has no name: name it and add it to EXPECT in {__file__}")
    if ep.name not in EXPECT:
        pytest.fail(f"{ep.label} is not in the access matrix: add a row for {ep.name!r} to EXPECT in "
                    f"{__file__} (one outcome per role {ROLES})")
    needed = [k for k in ep.params if k != "format"]
    kwargs = {}
    if needed:
        if ep.name not in FILL:
            pytest.fail(f"{ep.label} has path parameters {needed} the access matrix cannot fill: "
                        f"add a filler for {ep.name!r} to FILL in {__file__}")
        kwargs = FILL[ep.name](world)
        missing = set(needed) - set(kwargs)
        if missing:
            pytest.fail(f"FILL[{ep.name!r}] gives no value for {sorted(missing)} of {ep.label}")
    if "format" in ep.params:
        kwargs["format"] = "json"
    url = reverse(ep.name, kwargs={k: v for k, v in kwargs.items() if k in ep.params})
    assert resolve(url).route == ep.route, f"{url} resolves to {resolve(url).route}, not to {ep.label}"
    return url


# --- fixtures ----------------------------------------------------------------------------------
REGISTRY_HEADER = "统一社会信用代码,企业名称,主体类型,所属区,行业代码,从业人员（人）,营业收入（万元）,资产总额（万元）,数据年度\n"
LOAN_HEADER = ("银行机构代码,贷款合同编号,借款人证件号码,借款人名称,借款人类型,所属企业证件号码,贷款用途,担保方式,是否首贷,"
               "贷款金额（元）,年利率（%）,放款日期,到期日期,原贷款合同编号\n")
PAYMENT_HEADER = "银行机构代码,贷款合同编号,计息起日,计息止日,付息日期,实付利息（元）\n"
BAD_REGISTRY_CSV = (REGISTRY_HEADER + "91440300BADCODE000,深圳市坏数据有限公司,企业,440305,C39,10,100,,2019\n").encode()


def good_registry_csv(uscc: str) -> bytes:
    return (REGISTRY_HEADER + f"{uscc},深圳市矩阵导入测试有限公司,企业,440305,C39,10,100,,2019\n").encode()


FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """A test may make users of its own: a cheap hasher (no password is checked)."""
    settings.PASSWORD_HASHERS = FAST_HASHER


@pytest.fixture(scope="module")
def _world_once(request, django_db_setup, django_db_blocker, password_hash, tmp_path_factory):
    """The world, built once for the module's ~2,000 tests; each test rolls back to it."""
    with rows_kept_for_scope(request, django_db_blocker):
        with django_db_blocker.unblock(), _building(), pytest.MonkeyPatch.context() as mp:
            fast_known_password(mp, password_hash)
            city = build_city(enterprise_maker())
            base = build_world(city, build_users(city))
            # Files the world's records point at outlive every test of the module.
            base["tmp_path"] = tmp_path_factory.mktemp("world")
        layers = _Additions(base, django_db_blocker)
        try:
            yield layers
        finally:
            layers.drop()


def _building():
    from django.test import override_settings

    return override_settings(PASSWORD_HASHERS=FAST_HASHER, HUIQI_PROGRESS_CONNECTION=False)


class _Additions:
    """The base world, and on top of it, in a savepoint, what the current tests add to it
    (``subsidy_world``, an app's ``prepare``): a run of consecutive tests that add the same shares them,
    as the tests of one endpoint do."""

    def __init__(self, base, django_db_blocker):
        from django.db import connection

        self.base, self.blocker = base, django_db_blocker
        self.depth = len(connection.atomic_blocks)
        self.adds, self.world, self.savepoint = (), base, None

    def world_with(self, adds):
        from django.db import connection, transaction

        adds = tuple(adds)
        with self.blocker.unblock():
            open_now = len(connection.atomic_blocks) - self.depth - (self.savepoint is not None)
            assert open_now == 0, ("the world's additions are made before the test's own transaction opens: "
                                   "a test gets its database through the world fixture, unmarked")
            if adds != self.adds:
                self.drop()
                if adds:
                    self.savepoint = transaction.atomic()
                    self.savepoint.__enter__()
                    self.world = copy.deepcopy(self.base)
                    with _building():
                        for add in adds:
                            add(self.world)
                self.adds = adds
        return self.world

    def drop(self):
        from django.db import transaction

        if self.savepoint is not None:
            with self.blocker.unblock():
                transaction.set_rollback(True)
                self.savepoint.__exit__(None, None, None)
        self.adds, self.world, self.savepoint = (), self.base, None


def needs(*adds):
    """What a test adds to the world: made once for consecutive tests that add the same."""
    def mark(test):
        test.world_additions = adds
        return test

    return mark


@pytest.fixture
def _world_for_test(request, _world_once):
    callspec = getattr(request.node, "callspec", None)
    ep = callspec.params.get("ep") if callspec else None
    adds = endpoint_additions(ep) if ep is not None else getattr(request.function, "world_additions", ())
    return _world_once.world_with(adds)


@pytest.fixture
def world(_world_for_test, db, tmp_path):
    """The city of conftest plus a record of every other kind a detail URL points at.

    A copy for this test (its rows are the database's again, whatever the test before it did), with
    this test's own folder; pages cache what they read, so the cache starts empty, as after a rebuild.
    """
    from django.core.cache import cache

    cache.clear()
    w = copy.deepcopy(_world_for_test)
    w["tmp_path"] = tmp_path
    return w


@pytest.fixture
def users(world):
    """The world's users (the root conftest's would be a second set, beside them)."""
    return world["users"]


def build_world(city, users):
    from huiqi.core import jobs, params
    from huiqi.core.identifiers import generate_resident_id
    from huiqi.core.models import AuditEvent
    from huiqi.registry import services

    w = dict(city)
    w["users"] = users
    w["owner_a"] = services.register_owner(
        None, resident_id=generate_resident_id(random.Random(11), address="440305"), name="司马南福",
        owns=[city["ns1"].uscc, city["ft1"].uscc])
    w["owner_b"] = services.register_owner(
        None, resident_id=generate_resident_id(random.Random(12), address="440306"), name="欧阳宝安",
        owns=[city["ba1"].uscc])
    # One job per user, each with a title that must show to its owner (and administrators) only.
    w["jobs"] = {role: jobs.enqueue("registry.import", {"import_id": 0}, user=u, title=f"任务-{role}-标记")
                 for role, u in users.items()}
    w["job"] = w["jobs"]["enterprise"]
    w["import"] = services.start_registry_import(users["bureau"],
                                                 SimpleUploadedFile("bad-registry.csv", BAD_REGISTRY_CSV))
    assert w["import"].status == "refused" and w["import"].error_report, "the bad file must be refused"
    from huiqi.lending.imports import start_upload
    from huiqi.lending.models import Loan

    loans = LOAN_HEADER + "".join(
        f"{bank},{no},{uscc},借款人,企业,,经营性,信用,否,\"1,000,000.00\",4.35,2020-03-10,2021-03-10,\n"
        for bank, no, uscc in (("ICBC-SZ", "MATRIX-LOAN-A", city["ns1"].uscc), ("CMB-SZ", "MATRIX-LOAN-B",
                                                                                 city["ft1"].uscc)))
    stored = start_upload(users["bureau"], "loans", SimpleUploadedFile("loans.csv", loans.encode()))
    assert stored.status == "stored", stored.message
    w["loan_a"] = Loan.objects.get(loan_no="MATRIX-LOAN-A")
    w["ledger_upload"] = start_upload(users["bank"], "loans", SimpleUploadedFile(
        "bad-loans.csv", (LOAN_HEADER + "ICBC-SZ,X,BAD,借款人,企业,,经营性,信用,否,1.00,4,2020-03-10,2021-03-10,\n").encode()))
    assert w["ledger_upload"].status == "refused"
    w["audit"] = AuditEvent.objects.order_by("id").first()
    w["parameter"] = params.set_value(users["bureau"], "resumption.attachment_max_bytes", "resumption", 2_000_000,
                                      dt.date(2020, 1, 2), description="access matrix")
    return w


def subsidy_world(w):
    """The interest subsidy's records, added to the world on demand (by the subsidy rows of the matrix
    and the subsidy tests): interest paid on both loans; a batch released (run by a third bureau user,
    reviewed by the bureau, approved and released by the administrator), the bank's reconciliation file of
    it sent back, and a later batch still open."""
    if "subsidy_released" in w:
        return w
    from huiqi.accounts.services import create_user
    from huiqi.lending.imports import start_upload
    from huiqi.subsidy import services as subsidy

    users = w["users"]
    paid = PAYMENT_HEADER + "".join(
        f"{bank},{no},2020-03-10,2020-06-10,2020-06-10,{interest}\n"
        for bank, no, interest in (("ICBC-SZ", "MATRIX-LOAN-A", "30000.00"),
                                   ("CMB-SZ", "MATRIX-LOAN-B", "20000.00")))
    stored = start_upload(users["bureau"], "payments", SimpleUploadedFile("payments.csv", paid.encode()))
    assert stored.status == "stored", stored.message
    # Batches name who ran them, and the one who ran a batch neither reviews nor approves it.
    runner = create_user(None, username="subsidy_runner", password=None, role="bureau", check_password=False)
    w["subsidy_released"] = subsidy.run_batch(runner, dt.date(2020, 8, 31))
    subsidy.review(users["bureau"], w["subsidy_released"])
    subsidy.approve(users["admin"], w["subsidy_released"])
    subsidy.release(users["admin"], w["subsidy_released"], w["tmp_path"] / "subsidy-release")
    assert w["subsidy_released"].payments.filter(status="pending").count() == 2
    w["subsidy_reconciliation"] = subsidy.reject_reconciliation(users["bureau"], subsidy.prepare_reconciliation(
        users["bureau"], w["subsidy_released"], SimpleUploadedFile(
            "sent-back.csv", f"beneficiary_id,status\n{w['ns1'].uscc},paid\n".encode())))
    w["subsidy_open"] = subsidy.run_batch(runner, dt.date(2020, 12, 31))
    return w


def endpoint_additions(ep: Endpoint) -> tuple:
    """What the matrix adds to the world before walking ``ep`` (each addition leaves a world that has
    it already alone)."""
    adds = (subsidy_world,) if ep.name and ep.name.startswith("subsidy") else ()
    return adds + ((PREPARE[ep.name],) if ep.name in PREPARE else ())


@pytest.fixture
def client_as(client_for):
    def make(role):
        return Client() if role == "anonymous" else client_for(role)

    return make


# --- helpers -----------------------------------------------------------------------------------
def describe(expected) -> str:
    return {LOGIN: "302 to the log-in page", HOME: "302 to the home page",
            ADMIN_LOGIN: "302 to the admin log-in page"}.get(expected, str(expected))


def assert_outcome(resp, expected, what: str):
    code, loc = resp.status_code, resp.get("Location", "")
    if expected == LOGIN:
        ok = code == 302 and loc.startswith(reverse("accounts:login"))
    elif expected == HOME:
        ok = code == 302 and loc == reverse("home")
    elif expected == ADMIN_LOGIN:
        ok = code == 302 and loc.startswith(reverse("admin:login"))
    else:
        ok = code == expected
    assert ok, f"{what}: expected {describe(expected)}, got {code}{' → ' + loc if loc else ''}"


def raw_body(resp) -> bytes:
    # Reading a streamed body to its end lets the test client close the response (and the file
    # behind it) the way a WSGI server would, without dropping the test's database connection.
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def xlsx_rows(data: bytes) -> list[list]:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [r for name in wb.sheet_names for r in wb.get_sheet_by_name(name).to_python()]


def body_text(resp) -> str:
    data = raw_body(resp)
    if data[:4] == b"PK\x03\x04":  # an .xlsx file
        return "\n".join("\t".join(str(c) for c in r) for r in xlsx_rows(data))
    return data.decode("utf-8", errors="replace")


def table_rows(resp) -> list[dict]:
    """The rows of an exported CSV or XLSX, as dicts keyed by the Chinese header."""
    data = raw_body(resp)
    if data[:4] == b"PK\x03\x04":
        rows = xlsx_rows(data)
        header, body = [str(c) for c in rows[0]], rows[1:]
        return [dict(zip(header, (str(c) for c in r))) for r in body if any(str(c) for c in r)]
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def foreign_markers(world, role) -> dict[str, str]:
    """Text that must never appear in anything ``role`` is shown, with what it would give away."""
    markers = {}
    for no in set(LOANS) - loans_visible(role):
        markers[no] = f"loan {no}"
    for key in ENTERPRISES:
        if key not in VISIBLE[role] and key not in borrowers_visible(role):
            e = world[key]
            markers[e.uscc] = f"the USCC of {key} ({e.name}, district {e.district_id})"
            markers[e.name] = f"the name of {key} (district {e.district_id})"
    for key in OWNERS:
        if key not in OWNERS_VISIBLE[role]:
            markers[world[key].name] = f"business owner {key} (owns {', '.join(OWNERS[key])})"
    for key in OWNERS:
        markers[world[key].resident_id] = f"the unmasked resident ID of {key}"
    if role != "admin":
        for other, job in world["jobs"].items():
            if other != role:
                markers[job.title] = f"the job of user {other!r}"
    return markers


def assert_no_foreign_rows(text: str, world, role, what: str, echoed: str = ""):
    """``echoed``: the caller's own search input, which a page may repeat back in its search box."""
    shown = [why for marker, why in foreign_markers(world, role).items()
             if marker in text and marker != echoed]
    assert not shown, f"{what} shows {role!r} rows outside its scope: " + "; ".join(shown)


def assert_error_body(resp, what: str):
    body = resp.json()
    err = body.get("error") if isinstance(body, dict) else None
    assert isinstance(err, dict) and {"code", "message_zh", "message_en"} <= set(err), (
        f"{what}: API error body must be {{'error': {{code, message_zh, message_en}}}}, got {body}")


def api_results(resp) -> list[dict]:
    data = resp.json()
    assert "next" not in data or data["next"] is None, "the test expects one page"
    return data["results"] if isinstance(data, dict) else data


# --- the matrix --------------------------------------------------------------------------------
def test_every_url_pattern_is_in_the_expectation_table():
    unnamed = [ep.label for ep in ENDPOINTS if ep.name is None]
    assert not unnamed, f"URL patterns without a name (name them, add them to EXPECT): {unnamed}"
    names = {ep.name for ep in ENDPOINTS}
    missing = sorted(names - EXPECT.keys())
    assert not missing, f"add these url names to EXPECT in {__file__}: {missing}"
    stale = sorted(EXPECT.keys() - names)
    assert not stale, f"EXPECT names urls that no longer exist: {stale}"
    unfillable = sorted({ep.label for ep in ENDPOINTS
                         if [k for k in ep.params if k != "format"] and ep.name not in FILL})
    assert not unfillable, f"add fillers for these to FILL in {__file__}: {unfillable}"
    for name, outcomes in EXPECT.items():
        if name not in PUBLIC:
            assert outcomes["anonymous"] in (LOGIN, ADMIN_LOGIN, UNAUTH, NO), (
                f"EXPECT lets an anonymous visitor open {name!r}: only {sorted(PUBLIC)} are public")


@pytest.mark.parametrize("ep, role", [
    pytest.param(ep, role, id=f"{ep.label} as {role}") for ep in ENDPOINTS for role in ROLES
])
def test_access_matrix(ep, role, world, client_as):
    for add in endpoint_additions(ep):
        add(world)
    url = build_url(ep, world)
    what = f"GET {url} ({ep.name}) as {role}"
    resp = client_as(role).get(url)
    if role == "anonymous" and ep.name not in PUBLIC:
        code, loc = resp.status_code, resp.get("Location", "")
        assert code in (401, 403) or (code == 302 and "login" in loc), (
            f"{what}: an anonymous visitor must be sent to log in or refused, got {code} {loc}")
    assert_outcome(resp, EXPECT[ep.name][role], what)
    if resp.status_code == 200:
        assert_no_foreign_rows(body_text(resp), world, role, what)
    elif ep.is_api and resp.status_code >= 400:
        assert_error_body(resp, what)


# --- foreign rows in lists, details and exports ------------------------------------------------
@pytest.mark.parametrize("role", SIGNED_IN)
def test_enterprise_lists_show_exactly_the_callers_scope(role, world, client_as):
    c = client_as(role)
    visible = {world[k].uscc for k in VISIBLE[role]}
    foreign = {world[k].uscc for k in CITY - VISIBLE[role]}

    resp = c.get(reverse("enterprise-list"), {"page_size": 500})
    assert resp.status_code == 200, f"GET /api/v1/enterprises/ as {role}: {resp.status_code}"
    got = {r["uscc"] for r in api_results(resp)}
    assert got == visible, f"/api/v1/enterprises/ as {role}: shows {sorted(got)}, must show {sorted(visible)}"

    resp = c.get(reverse("registry:enterprise_list"))
    if role not in REGISTRY_READERS:
        assert resp.status_code == 403, f"/registry/ as {role}: expected 403, got {resp.status_code}"
        return
    assert resp.status_code == 200
    html = body_text(resp)
    assert not {u for u in foreign if u in html}, f"/registry/ as {role} shows foreign USCCs"
    assert {u for u in visible if u in html} == visible, f"/registry/ as {role} misses enterprises in scope"


@pytest.mark.parametrize("role", [r for r in SIGNED_IN if VISIBLE[r] != CITY])
def test_filters_cannot_widen_the_scope(role, world, client_as):
    """Asking for a foreign district, USCC, name or industry by filter gives nothing of it."""
    c = client_as(role)
    for key in sorted(CITY - VISIBLE[role]):
        e = world[key]
        for query in ({"district": e.district_id}, {"q": e.uscc}, {"q": e.name}, {"q": e.uscc[:10]},
                      {"industry": e.industry.section}):
            resp = c.get(reverse("enterprise-list"), query)
            assert resp.status_code == 200
            assert e.uscc not in {r["uscc"] for r in api_results(resp)}, (
                f"/api/v1/enterprises/?{query} as {role} shows foreign {key}")
            if role in REGISTRY_READERS:
                resp = c.get(reverse("registry:enterprise_list"), query)
                assert resp.status_code == 200
                html = body_text(resp)
                assert_no_foreign_rows(html, world, role, f"/registry/?{query} as {role}",
                                       echoed=query.get("q", ""))
                assert f"/registry/e/{e.uscc}/" not in html, (
                    f"/registry/?{query} as {role} links foreign {key}")
                resp = c.get(reverse("registry:enterprise_export", kwargs={"fmt": "csv"}), query)
                assert resp.status_code == 200
                got = {r["统一社会信用代码"] for r in table_rows(resp)}
                assert e.uscc not in got, f"/registry/export.csv?{query} as {role} exports foreign {key}"


@pytest.mark.parametrize("role", ["district", "enterprise", "bank"])
def test_industry_division_filter_keeps_the_scope(role, world, client_as):
    """``industry`` may be a division or group code (not only a section letter): it answers, scoped."""
    c = client_as(role)
    for key in ENTERPRISES:
        e = world[key]
        query = {"industry": e.industry_id}
        resp = c.get(reverse("enterprise-list"), query)
        assert resp.status_code == 200, f"/api/v1/enterprises/?{query} as {role}: {resp.status_code}"
        got = {r["uscc"] for r in api_results(resp)}
        want = {e.uscc} if key in VISIBLE[role] else set()
        assert got == want, f"/api/v1/enterprises/?{query} as {role}: {sorted(got)}, must be {sorted(want)}"
        if role in REGISTRY_READERS:
            resp = c.get(reverse("registry:enterprise_list"), query)
            assert resp.status_code == 200, f"/registry/?{query} as {role}: {resp.status_code}"
            assert_no_foreign_rows(body_text(resp), world, role, f"/registry/?{query} as {role}")


@pytest.mark.parametrize("key", ENTERPRISES)
@pytest.mark.parametrize("role", ROLES)
def test_enterprise_detail_outside_scope_is_404(role, key, world, client_as):
    from huiqi.core.identifiers import generate_uscc

    c = client_as(role)
    e = world[key]
    inside = key in VISIBLE[role]
    page = reverse("registry:enterprise_detail", kwargs={"uscc": e.uscc})
    api = reverse("enterprise-detail", kwargs={"uscc": e.uscc})

    if role == "anonymous":
        expected_page, expected_api = LOGIN, UNAUTH
    elif role not in REGISTRY_READERS:
        expected_page, expected_api = NO, NF
    else:
        expected_page = expected_api = OK if inside else NF
    resp = c.get(page)
    assert_outcome(resp, expected_page, f"GET {page} ({key}, district {e.district_id}) as {role}")
    text = body_text(resp)
    if not inside:
        assert e.name not in text, f"{page} as {role} reveals the foreign enterprise's name"
    resp = c.get(api)
    assert_outcome(resp, expected_api, f"GET {api} ({key}, district {e.district_id}) as {role}")
    if not inside:
        assert e.name not in body_text(resp), f"{api} as {role} reveals the foreign enterprise's name"

    if expected_api == NF:
        # A foreign enterprise looks exactly like one that does not exist.
        nowhere = generate_uscc(random.Random(9999))
        assert c.get(reverse("enterprise-detail", kwargs={"uscc": nowhere})).status_code == 404
        if expected_page == NF:
            assert c.get(reverse("registry:enterprise_detail", kwargs={"uscc": nowhere})).status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("role", ROLES)
def test_export_contains_only_the_callers_enterprises(role, fmt, world, client_as):
    url = reverse("registry:enterprise_export", kwargs={"fmt": fmt})
    resp = client_as(role).get(url)
    if role == "anonymous":
        assert_outcome(resp, LOGIN, f"GET {url} as {role}")
        return
    if role not in REGISTRY_READERS:
        assert_outcome(resp, NO, f"GET {url} as {role}")
        return
    assert resp.status_code == 200
    got = {r["统一社会信用代码"] for r in table_rows(resp)}
    visible = {world[k].uscc for k in VISIBLE[role]}
    assert got == visible, f"{url} as {role} exports {sorted(got)}, must export exactly {sorted(visible)}"


# The audit log is read city-wide by auditors and administrators, and by no one else (site/permissions.py).
AUDIT_READERS = {"auditor", "admin"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("role", ROLES)
def test_audit_export_is_the_whole_log_to_its_readers_and_nothing_to_others(role, fmt, world, client_as):
    from huiqi.core.models import AuditEvent

    url = reverse("core:audit_export", kwargs={"fmt": fmt})
    resp = client_as(role).get(url)
    if role not in AUDIT_READERS:
        assert_outcome(resp, LOGIN if role == "anonymous" else NO, f"GET {url} as {role}")
        assert "Content-Disposition" not in resp, f"{url} as {role}: a file of the audit log was sent"
        return
    assert resp.status_code == 200
    got = [int(float(r["记录编号"])) for r in table_rows(resp)]
    want = list(AuditEvent.objects.order_by("-at", "-id").values_list("pk", flat=True))
    assert got == want, f"{url} as {role} exports records {got}, must export the whole log {want}"
    filtered = [int(float(r["记录编号"])) for r in table_rows(client_as(role).get(url, {"action": "create"}))]
    assert filtered == [pk for pk in want if AuditEvent.objects.get(pk=pk).action == "create"]


@pytest.mark.parametrize("role", SIGNED_IN)
def test_owners_show_only_the_scope(role, world, client_as):
    """Business owners of enterprises in scope, and of what they own only the enterprises in scope."""
    c = client_as(role)
    visible_uscc = {world[k].uscc for k in VISIBLE[role]}
    resp = c.get(reverse("owner-list"))
    assert resp.status_code == 200
    rows = api_results(resp)
    got = {r["id"] for r in rows}
    want = {world[k].pk for k in OWNERS_VISIBLE[role]}
    assert got == want, f"/api/v1/owners/ as {role}: owners {sorted(got)}, must be {sorted(want)}"
    for r in rows:
        foreign = sorted(set(r["owns"]) - visible_uscc)
        assert not foreign, (f"/api/v1/owners/ as {role}: owner {r['name']} lists enterprises outside the "
                             f"caller's scope in 'owns': {foreign}")
        assert "*" in r["resident_id"], f"/api/v1/owners/ as {role}: resident ID not masked"
    for key in OWNERS:
        url = reverse("owner-detail", kwargs={"pk": world[key].pk})
        resp = c.get(url)
        expected = OK if key in OWNERS_VISIBLE[role] else NF
        assert_outcome(resp, expected, f"GET {url} ({key}) as {role}")
        if resp.status_code == 200:
            foreign = sorted(set(resp.json()["owns"]) - visible_uscc)
            assert not foreign, f"{url} as {role} lists enterprises outside the caller's scope: {foreign}"


@pytest.mark.parametrize("role", SIGNED_IN)
def test_jobs_are_their_users_own(role, world, client_as):
    c = client_as(role)
    jobs = world["jobs"]
    own = {j.pk for j in jobs.values()} if role == "admin" else {jobs[role].pk}
    resp = c.get(reverse("job-list"))
    assert resp.status_code == 200
    got = {r["id"] for r in api_results(resp)}
    assert got == own, f"/api/v1/jobs/ as {role} lists jobs {sorted(got)}, must list {sorted(own)}"

    html = body_text(c.get(reverse("core:job_list")))
    assert jobs[role].title in html, f"/core/jobs/ as {role} does not show the user's own job"
    assert_no_foreign_rows(html, world, role, f"/core/jobs/ as {role}")

    for other, job in jobs.items():
        expected = OK if (other == role or role == "admin") else NF
        for url in (reverse("core:job_detail", kwargs={"pk": job.pk}),
                    reverse("core:job_progress", kwargs={"pk": job.pk}),
                    reverse("job-detail", kwargs={"pk": job.pk})):
            resp = c.get(url)
            assert_outcome(resp, expected, f"GET {url} (job of {other}) as {role}")
            if resp.status_code == 200:
                assert_no_foreign_rows(body_text(resp), world, role, f"GET {url} as {role}")


# --- writes ------------------------------------------------------------------------------------
def _write_methods(ep: Endpoint) -> set[str]:
    reads = {"get", "head", "options"}
    actions = getattr(ep.callback, "actions", None)
    if actions:
        return set(actions) - reads
    cls = getattr(ep.callback, "cls", None) or getattr(ep.callback, "view_class", None)
    if cls is None:
        return set()
    return {m for m in cls.http_method_names if hasattr(cls, m)} - reads


def test_every_api_write_is_in_the_write_table():
    found: dict[str, set[str]] = {}
    for ep in ENDPOINTS:
        if ep.is_api:
            methods = _write_methods(ep)
            if methods:
                found.setdefault(ep.name, set()).update(methods)
    declared = {name: set(methods) for name, methods in WRITE_TABLE.items()}
    assert found == declared, (f"API endpoints that accept writes {found} differ from WRITE_TABLE "
                               f"{declared}: add each new write to WRITE_TABLE and to the write tests "
                               f"in {__file__}")


def _counts():
    from huiqi.core.models import AuditEvent, Parameter
    from huiqi.registry.models import Enterprise, RegistryImport

    return {"enterprises": Enterprise.objects.count(), "parameters": Parameter.objects.count(),
            "imports": RegistryImport.objects.count(), "audit": AuditEvent.objects.count()}


def _assert_refused(resp, role, what, before):
    expected = UNAUTH if role == "anonymous" else NO
    assert_outcome(resp, expected, what)
    assert_error_body(resp, what)
    assert _counts() == before, f"{what} was refused but changed the database: {before} → {_counts()}"


@pytest.mark.parametrize("role", ROLES)
def test_post_enterprise(role, world, client_as):
    from huiqi.core.identifiers import generate_uscc
    from huiqi.registry.models import Enterprise

    uscc = generate_uscc(random.Random(4242))
    body = {"uscc": uscc, "name": "深圳市矩阵写入测试有限公司", "district": "440305", "industry": "C39",
            "employees": 10, "revenue_wan": "100", "figures_year": 2019}
    before = _counts()
    url = reverse("enterprise-list")
    what = f"POST {url} as {role}"
    resp = client_as(role).post(url, json.dumps(body), content_type="application/json")
    if role in WRITE_TABLE["enterprise-list"]["post"]:
        assert resp.status_code == 201, f"{what}: expected 201, got {resp.status_code} {resp.content[:300]!r}"
        assert Enterprise.objects.filter(uscc=uscc).exists()
    else:
        _assert_refused(resp, role, what, before)


@pytest.mark.parametrize("role", ROLES)
def test_delete_api_token(role, world, client_as):
    """An API token is revoked by its user (the bank's, here) and by administrators; to anyone else it is
    not there (404), and it stays live."""
    from huiqi.accounts.services import issue_token

    token, _key = issue_token(None, world["users"]["bank"])
    url = reverse("api-token-detail", kwargs={"pk": token.pk})
    what = f"DELETE {url} as {role}"
    resp = client_as(role).delete(url)
    token.refresh_from_db()
    if role in WRITE_TABLE["api-token-detail"]["delete"]:
        assert resp.status_code == 204 and token.revoked_at is not None, f"{what}: got {resp.status_code}"
    else:
        assert_outcome(resp, UNAUTH if role == "anonymous" else NF, what)
        assert_error_body(resp, what)
        assert token.revoked_at is None, f"{what} was refused but revoked the token"


@pytest.mark.parametrize("role", ROLES)
def test_post_parameter(role, world, client_as):
    from huiqi.core.models import Parameter

    body = {"key": "resumption.attachment_max_bytes", "program": "resumption", "value": 3_000_000,
            "effective_from": "2020-06-01", "description": "access matrix", "note": "test"}
    before = _counts()
    url = reverse("parameter-list")
    what = f"POST {url} as {role}"
    resp = client_as(role).post(url, json.dumps(body), content_type="application/json")
    if role in WRITE_TABLE["parameter-list"]["post"]:
        assert resp.status_code == 201, f"{what}: expected 201, got {resp.status_code} {resp.content[:300]!r}"
        assert Parameter.objects.filter(key="resumption.attachment_max_bytes", value=3_000_000).exists()
    else:
        _assert_refused(resp, role, what, before)


@pytest.mark.parametrize("role", ROLES)
def test_post_registry_import(role, world, client_as):
    from huiqi.core.identifiers import generate_uscc
    from huiqi.registry.models import Enterprise

    uscc = generate_uscc(random.Random(4243))
    before = _counts()
    url = reverse("registry-import-list")
    what = f"POST {url} as {role}"
    upload = SimpleUploadedFile("registry.csv", good_registry_csv(uscc), content_type="text/csv")
    resp = client_as(role).post(url, {"file": upload})
    if role in WRITE_TABLE["registry-import-list"]["post"]:
        assert resp.status_code == 201, f"{what}: expected 201, got {resp.status_code} {resp.content[:300]!r}"
        assert Enterprise.objects.filter(uscc=uscc).exists()
    else:
        _assert_refused(resp, role, what, before)


@pytest.mark.parametrize("role", ROLES)
def test_post_registry_import_page(role, world, client_as):
    """The page's upload form: the same rule as the API."""
    from huiqi.core.identifiers import generate_uscc
    from huiqi.registry.models import Enterprise

    uscc = generate_uscc(random.Random(4244))
    before = _counts()
    url = reverse("registry:import")
    what = f"POST {url} as {role}"
    upload = SimpleUploadedFile("registry.csv", good_registry_csv(uscc), content_type="text/csv")
    resp = client_as(role).post(url, {"file": upload})
    if role in ("bureau", "admin"):
        assert resp.status_code == 302 and "/registry/import/" in resp["Location"], (
            f"{what}: expected a redirect to the import, got {resp.status_code}")
        assert Enterprise.objects.filter(uscc=uscc).exists()
    else:
        assert_outcome(resp, LOGIN if role == "anonymous" else NO, what)
        assert _counts() == before, f"{what} was refused but changed the database"


# --- interest subsidy: writes and scoped lines ---------------------------------------------------
SUBSIDY_ACTIONS = ("run", "review", "approve", "release", "cancel", "reconcile")


def _subsidy_state():
    from huiqi.subsidy.models import SubsidyBatch, SubsidyPayment, SubsidyReconciliation

    return {**_counts(), "batches": sorted(SubsidyBatch.objects.values_list("id", "status")),
            "payments": sorted(SubsidyPayment.objects.values_list("id", "status")),
            "reconciliations": sorted(SubsidyReconciliation.objects.values_list("id", "status"))}


@needs(subsidy_world)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", SUBSIDY_ACTIONS)
def test_post_subsidy_batch_action(action, role, world, client_as):
    """Each batch action through the API: allowed roles move the batch, everyone else is refused and
    nothing changes. The batch is first brought to the state the action starts from by other people."""
    from huiqi.subsidy import services as subsidy
    from huiqi.subsidy.models import SubsidyBatch

    subsidy_world(world)
    users, batch = world["users"], world["subsidy_open"]
    other = users["admin"] if role != "admin" else users["bureau"]  # never the caller
    data, fmt = {}, "json"
    if action == "run":
        subsidy.cancel(users["bureau"], batch, note="矩阵测试 matrix")
        data = {"cutoff": "2021-01-31"}
        url = reverse("subsidy-batch-run")
    else:
        if action == "approve":
            subsidy.review(other, batch)
        elif action == "release":
            subsidy.review(users["bureau"], batch)
            subsidy.approve(users["admin"], batch)
        elif action == "cancel":
            data = {"note": "矩阵测试 matrix"}
        elif action == "reconcile":
            batch = world["subsidy_released"]
            data = {"file": SimpleUploadedFile("reconcile.csv",
                                               f"beneficiary_id,status\n{world['ns1'].uscc},paid\n".encode())}
            fmt = "multipart"
        url = reverse(f"subsidy-batch-{action}", kwargs={"pk": batch.pk})
    before = _subsidy_state()
    what = f"POST {url} as {role}"
    c = client_as(role)
    if fmt == "multipart":
        resp = c.post(url, data)
    else:
        resp = c.post(url, json.dumps(data), content_type="application/json")
    if role in WRITE_TABLE[f"subsidy-batch-{action}"]["post"]:
        if action == "run":  # queued as a job, which records the batch when a worker runs it
            from huiqi.core import jobs

            assert resp.status_code == 202, f"{what}: expected 202, got {resp.status_code} {resp.content[:300]!r}"
            jobs.run_pending()  # the world's other queued jobs (imports, snapshots) run too
        else:
            assert resp.status_code in (200, 201), (
                f"{what}: expected success, got {resp.status_code} {resp.content[:300]!r}")
        assert _subsidy_state() != before, f"{what} succeeded but changed nothing"
        if action == "run":
            assert SubsidyBatch.objects.filter(cutoff=dt.date(2021, 1, 31), status="run").exists()
    else:
        assert_outcome(resp, UNAUTH if role == "anonymous" else NO, what)
        assert_error_body(resp, what)
        assert _subsidy_state() == before, f"{what} was refused but changed the database"


@needs(subsidy_world)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("decision", ("confirm", "reject"))
def test_post_subsidy_reconciliation(decision, role, world, client_as):
    """Confirming or sending back a bank's reconciliation file, through the API and the page: the bureau
    and administrators may (a file someone else uploaded), everyone else is refused and nothing changes."""
    from huiqi.subsidy import services as subsidy

    subsidy_world(world)
    users, released = world["users"], world["subsidy_released"]
    uploader = users["admin"] if role != "admin" else users["bureau"]  # never the caller
    file = SimpleUploadedFile("r.csv", f"beneficiary_id,status\n{world['ns1'].uscc},paid\n".encode())
    rec = subsidy.prepare_reconciliation(uploader, released, file)
    allowed = role in WRITE_TABLE[f"subsidy-reconciliation-{decision}"]["post"]
    for url, api in ((reverse(f"subsidy-reconciliation-{decision}", kwargs={"pk": rec.pk}), True),
                     (reverse("subsidy:reconciliation_decide",
                              kwargs={"pk": released.pk, "rid": rec.pk, "decision": decision}), False)):
        before = _subsidy_state()
        what = f"POST {url} as {role}"
        resp = client_as(role).post(url, json.dumps({}), content_type="application/json") if api else \
            client_as(role).post(url)
        if allowed:
            assert resp.status_code == (200 if api else 302), (
                f"{what}: expected success, got {resp.status_code} {raw_body(resp)[:300]!r}")
            assert _subsidy_state() != before, f"{what} succeeded but changed nothing"
            return
        assert_outcome(resp, (UNAUTH if api else LOGIN) if role == "anonymous" else NO, what)
        if api:
            assert_error_body(resp, what)
        assert _subsidy_state() == before, f"{what} was refused but changed the database"


@needs(subsidy_world)
@pytest.mark.parametrize("role", ROLES)
def test_post_subsidy_pages(role, world, client_as):
    """The pages' forms: the same rule as the API (run a batch, review, reconcile)."""
    subsidy_world(world)
    released, batch = world["subsidy_released"], world["subsidy_open"]
    c = client_as(role)
    before = _subsidy_state()
    reconciliation = f"beneficiary_id,status\n{world['ns1'].uscc},paid\n".encode()
    posts = [(reverse("subsidy:batch_action", kwargs={"pk": batch.pk, "action": "review"}), {}),
             (reverse("subsidy:reconcile", kwargs={"pk": released.pk}),
              {"file": SimpleUploadedFile("r.csv", reconciliation)})]
    for url, data in posts:
        resp = c.post(url, data)
        what = f"POST {url} as {role}"
        if role in ("bureau", "admin"):
            assert resp.status_code == 302, f"{what}: expected a redirect, got {resp.status_code}"
        else:
            assert_outcome(resp, LOGIN if role == "anonymous" else NO, what)
            assert _subsidy_state() == before, f"{what} was refused but changed the database"
    url = reverse("subsidy:index")
    resp = c.post(url, {"cutoff": "2021-01-31"})
    if role in ("bureau", "admin"):
        assert resp.status_code == 409, f"POST {url} as {role}: another batch is open, expected 409"
    else:
        assert_outcome(resp, LOGIN if role == "anonymous" else NO, f"POST {url} as {role}")


# Subsidy loan lines of the world: loan → who may read its lines (besides the city-wide readers).
SUBSIDY_LINE_READERS = {"MATRIX-LOAN-A": {"bank", "enterprise"}, "MATRIX-LOAN-B": {"enterprise2"}}


@needs(subsidy_world)
@pytest.mark.parametrize("role", SIGNED_IN)
def test_subsidy_lines_show_exactly_the_scope(role, world, client_as):
    subsidy_world(world)
    c = client_as(role)
    city_wide = role in ("bureau", "auditor", "admin")
    released, open_batch = world["subsidy_released"].pk, world["subsidy_open"].pk
    want = {(b, no) for no, readers in SUBSIDY_LINE_READERS.items() for b in (released, open_batch)
            if city_wide or (role in readers and b == released)}
    resp = c.get(reverse("subsidy-loan-line-list"))
    assert resp.status_code == 200
    got = {(r["batch"], r["loan_no"]) for r in api_results(resp)}
    assert got == want, f"/api/v1/subsidy-loan-lines/ as {role}: {sorted(got)}, must be {sorted(want)}"

    owners = {"ns1": {"enterprise"}, "ft1": {"enterprise2"}}
    want = {(b, world[k].uscc) for k, readers in owners.items() for b in (released, open_batch)
            if city_wide or (role in readers and b == released)}
    resp = c.get(reverse("subsidy-payment-list"))
    got = {(r["batch"], r["beneficiary_id"]) for r in api_results(resp)}
    assert got == want, f"/api/v1/subsidy-payments/ as {role}: {sorted(got)}, must be {sorted(want)}"

    if role in ("enterprise", "enterprise2", "bank"):
        page = reverse("subsidy:index")
        for query in ({"batch": open_batch}, {"q": "MATRIX"}, {"outcome": "eligible"}):
            resp = c.get(page, query)
            assert resp.status_code == 200
            assert_no_foreign_rows(body_text(resp), world, role, f"{page}?{query} as {role}")
            shown = set(re.findall(r'data-loan="([\w-]+)"', body_text(resp)))
            assert shown <= {no for no, readers in SUBSIDY_LINE_READERS.items() if role in readers}


# --- token authentication ----------------------------------------------------------------------
def test_bank_machine_client_with_token(world):
    from huiqi.accounts.services import issue_token
    from huiqi.registry.models import Enterprise

    key = issue_token(None, world["users"]["bank"])[1]
    c = Client()
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}

    me = c.get(reverse("api-me"), **auth)
    assert me.status_code == 200 and me.json()["role"] == "bank" and me.json()["enterprises"] == []
    bearer = c.get(reverse("api-me"), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bearer.status_code == 200 and bearer.json()["username"] == "bank"

    resp = c.get(reverse("enterprise-list"), **auth)
    assert resp.status_code == 200 and api_results(resp) == [], "a bank sees no enterprise"
    assert_no_foreign_rows(body_text(resp), world, "bank", "GET /api/v1/enterprises/ with the bank's token")
    for key in ENTERPRISES:
        resp = c.get(reverse("enterprise-detail", kwargs={"uscc": world[key].uscc}), **auth)
        assert resp.status_code == 404, f"bank token: enterprise {key} gives {resp.status_code}, not 404"
    resp = c.get(reverse("owner-list"), **auth)
    assert resp.status_code == 200 and api_results(resp) == []
    resp = c.get(reverse("bank-list"), **auth)
    assert resp.status_code == 200 and world["bank_a"].code in {b["code"] for b in api_results(resp)}
    for name in ("audit-list", "parameter-list", "registry-import-list"):
        resp = c.get(reverse(name), **auth)
        assert resp.status_code == 403, f"bank token: {name} gives {resp.status_code}, not 403"
        assert_error_body(resp, name)

    before = Enterprise.objects.count()
    resp = c.post(reverse("enterprise-list"), json.dumps({"uscc": "91440300708461136T", "name": "x",
                                                          "district": "440305", "industry": "C39"}),
                  content_type="application/json", **auth)
    assert resp.status_code == 403 and Enterprise.objects.count() == before

    # A token opens the API, not the pages; a wrong token is 401.
    assert_outcome(c.get(reverse("registry:enterprise_list"), **auth), LOGIN, "page with a token")
    resp = c.get(reverse("api-me"), HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert resp.status_code == 401
    assert_error_body(resp, "wrong token")
