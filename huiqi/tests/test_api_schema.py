"""The OpenAPI schema at ``/api/schema/`` tells the truth about the API.

Schemathesis generates requests for every operation of the schema (a few examples each, from a fixed
seed, without shrinking) and calls the WSGI application in-process, over the small demo city with
one released and one open subsidy batch (the demo's own), once with a bureau token and once with an enterprise token.
Every response must be free of server errors and match the schema that describes it: a generated
client reads what the server sends (money as a decimal string, null where null comes back).
"""

from __future__ import annotations

import logging
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db

# Generated valid examples per operation and token, after the coverage phase's cases (which take each
# parameter and field to its boundaries and beyond): small enough for CI, about a minute on SQLite.
EXAMPLES = 5
TOKENS = ("bureau", "enterprise")


def test_schema_generates_without_warnings(tmp_path):
    """drf-spectacular resolves every field and enum name by itself (no collision, no guess)."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.stat().st_size > 0


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_money_is_a_decimal_string_in_the_schema():
    """No number of the schema is a float: money (元 and 万元) is a string of digits with a pattern."""
    schema = _schema()
    floats = [path for path, node in _walk(schema) if node.get("format") in ("double", "float")
              or node.get("type") == "number"]
    assert floats == []
    batch = schema["components"]["schemas"]["SubsidyBatch"]["properties"]
    payment = schema["components"]["schemas"]["SubsidyPayment"]["properties"]
    loan = schema["components"]["schemas"]["Loan"]["properties"]
    for field in (batch["due_total"], payment["payable"], loan["principal"]):
        assert field["type"] == "string" and field["format"] == "decimal" and field["pattern"]


def _demo_city():
    """The small demo city, which holds a released subsidy batch (an enterprise user sees its payments) and
    one still open (``subsidy.demo``)."""
    from huiqi.subsidy.models import BatchStatus, SubsidyBatch

    with override_settings(HUIQI_PROGRESS_CONNECTION=False):
        call_command("demo", "--scale", "small", verbosity=0)
    statuses = set(SubsidyBatch.objects.values_list("status", flat=True))
    assert BatchStatus.RELEASED in statuses and BatchStatus.RUN in statuses, statuses


def _token(client, username: str) -> str:
    """The user's API token, asked for as a machine client does (the demo password)."""
    from django.conf import settings

    response = client.post("/api/v1/auth/token/", json={"username": username,
                                                         "password": settings.HUIQI_DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return response.json["token"]


def _known_path_parameters(client, auth: dict, schema) -> dict[str, dict]:
    """For each operation with path parameters, the identifiers of a row the caller may read (the first of
    its list), so detail operations answer with a row and not only with 404. An operation whose list is
    empty for the caller keeps generated identifiers."""
    known: dict[str, dict] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        if not names:
            continue
        listing = operation.path.split("{", 1)[0]
        data = client.get(listing, headers=auth).json
        rows = data.get("results", []) if isinstance(data, dict) else data
        if listing == "/api/v1/subsidy-batches/":
            rows = sorted(rows, key=lambda r: r["status"] != "run")  # the open batch: its actions can act
        if not rows:
            continue
        # The action's name is left to generate: the schema lists them.
        known[operation.label] = {name: rows[0][name] for name in names if name in rows[0]}
    return known


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, called in-process inside the test's transaction: as Django's test
    client does, the connection is not closed at the end of each request (that would end the transaction).
    Django's test client connects that again after each of its requests: this test does not use it."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _coverage_cases(schema, operation, fixed: dict):
    """Schemathesis's coverage phase for the operation: each parameter and body field at its boundaries,
    missing, of another type, a body that is no object... (both modes). A case that does not vary the
    path addresses the caller's own row (``fixed``), so that its body reaches the code behind it."""
    generation = schema.config.generation_for(operation=operation, phase="coverage")
    for case in schema.iter_coverage_cases(operation, generation_modes=generation.modes,
                                           generation_config=generation):
        if fixed and case.meta.phase.data.parameter_location != "path":
            case.path_parameters = {**(case.path_parameters or {}), **fixed}
        yield case


@pytest.mark.fuzz
def test_responses_match_the_schema(wsgi_app, caplog):
    """No server error and no response outside the schema, as the bureau and as an enterprise user: a few
    generated valid examples of every operation (from a fixed seed), then the coverage phase's valid and
    invalid cases of each operation open to the caller. Every failure is collected (with a curl to
    reproduce it) before the test fails."""
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance
    from werkzeug.test import Client

    client = Client(wsgi_app)
    # Thousands of refusals (4xx) are the point of the run, not news: only server errors are logged.
    caplog.set_level(logging.ERROR, logger="django.request")
    started = time.monotonic()
    _demo_city()
    built = time.monotonic() - started
    # Both tokens first: the cases of the token endpoint itself soon meet its rate limit (a 429). The
    # schema, as the API docs, is read with a log-in.
    tokens = {username: _token(client, username) for username in TOKENS}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", wsgi_app,
                                            headers={"Authorization": f"Token {tokens[TOKENS[0]]}"})
    checks = [not_a_server_error, response_schema_conformance]
    budget = hypothesis.settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False)
    failures: list[str] = []
    calls = Counter()

    def check(case, auth: dict, where: str) -> int:
        calls[where.split(",")[1].strip()] += 1
        response = case.call(headers=auth)
        try:
            case.validate_response(response, checks=checks, headers=auth)
        except (AssertionError, BaseExceptionGroup) as exc:  # every failed check, with a curl
            failures.append(f"[{where}] {case.operation.label}\n{exc}")
        return response.status_code

    for username, token in tokens.items():
        auth = {"Authorization": f"Token {token}"}
        known = _known_path_parameters(client, auth, schema)
        for result in schema.get_all_operations():
            operation = result.ok()
            fixed = known.get(operation.label) or {}
            statuses = set()

            @given(case=operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
            @budget
            def examples(case):
                statuses.add(check(case, auth, f"{username}, examples"))

            examples()
            if statuses == {403}:
                continue  # closed to this caller: the coverage cases would meet the same door
            for case in _coverage_cases(schema, operation, fixed):
                check(case, auth, f"{username}, coverage")
    elapsed = time.monotonic() - started
    print(f"demo built in {built:.1f} s; calls {dict(calls)} over {len(list(schema.get_all_operations()))} "
          f"operations in {elapsed - built:.1f} s")
    assert not failures, f"{len(failures)} responses broke the schema or the server:\n\n" + "\n\n".join(
        failures[:40])


def test_a_record_id_beyond_any_column_is_refused_not_a_server_error(users, client_for, rf):
    """Found by the run above on SQLite: ``?batch=`` beyond a BIGINT reached the database (a 500). The API
    refuses it naming the field; a page leaves it out, as any value a filter cannot take."""
    from huiqi.core.filters import apply
    from huiqi.subsidy import selectors
    from huiqi.subsidy.filters import PaymentFilter

    bureau = client_for("bureau")
    for url in ("/api/v1/subsidy-payments/", "/api/v1/subsidy-loan-lines/"):
        for value in (str(10**24), str(2**63), "0", "-3"):
            response = bureau.get(url, {"batch": value})
            assert response.status_code == 400, (url, value, response.content)
            assert response.json()["error"]["field"] == "batch"
        assert bureau.get(url, {"batch": str(2**63 - 1)}).status_code == 200

    request = rf.get("/", {"batch": str(10**24)})
    request.user = users["bureau"]
    rows, typed = apply(PaymentFilter, request, selectors.beneficiary_lines_for(users["bureau"]))
    assert list(rows) == [] and typed["batch"] == str(10**24)
