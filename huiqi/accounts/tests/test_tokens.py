"""API tokens expire and can be revoked — by their user (account page, API) and by an administrator (back
office, API) — and only a digest of the key is stored. Open311's api_key is the same token."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD
from huiqi.accounts import services
from huiqi.accounts.models import ApiToken
from huiqi.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def me(key):
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def expire(token):
    """Move the token's life into the past: issued two days ago, expired yesterday."""
    ApiToken.objects.filter(pk=token.pk).update(created_at=token.created_at - dt.timedelta(days=2),
                                                expires_at=token.created_at - dt.timedelta(days=1))


def signed_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_a_token_lives_the_configured_lifetime_and_only_its_digest_is_stored(users, settings):
    settings.HUIQI_API_TOKEN_DAYS = 30
    r = Client().post("/api/v1/auth/token/", {"username": "bank", "password": PASSWORD, "name": "报送系统"},
                      content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.user == users["bank"] and token.name == "报送系统"
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    assert dt.datetime.fromisoformat(body["expires_at"]) == token.expires_at and body["expires_at"].endswith("+08:00")
    key = body["token"]
    assert len(key) == 40 and token.prefix == key[:8]
    assert key not in (token.digest, token.name) and not ApiToken.objects.filter(digest=key).exists()
    assert me(key).json()["username"] == "bank"
    # Each exchange issues a token of its own; a shorter life may be asked, never a longer one.
    r = Client().post("/api/v1/auth/token/", {"username": "bank", "password": PASSWORD, "days": 1},
                      content_type="application/json")
    assert r.status_code == 200 and r.json()["token"] != key
    assert ApiToken.objects.get(pk=r.json()["id"]).expires_at - ApiToken.objects.get(pk=r.json()["id"]).created_at \
        == dt.timedelta(days=1)
    for days in (31, 0, "7", True):
        r = Client().post("/api/v1/auth/token/", {"username": "bank", "password": PASSWORD, "days": days},
                          content_type="application/json")
        assert r.status_code == 400 and r.json()["error"]["field"] == "days", days
    assert ApiToken.objects.filter(user=users["bank"]).count() == 2
    issued = AuditEvent.objects.filter(model="accounts.ApiToken", action="create")
    assert issued.count() == 2 and all(key not in str(e.after) and e.after["digest"] == "******" for e in issued)


def test_an_expired_token_is_refused_saying_so(users):
    token, key = services.issue_token(None, users["bank"])
    assert me(key).status_code == 200
    expire(token)
    r = me(key)
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"
    assert r.json()["error"]["code"] == "auth.token_expired"
    assert "过期" in r.json()["error"]["message_zh"] and "expired" in r.json()["error"]["message_en"]
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION="Token " + "0" * 40).json()["error"]["code"] == \
        "authentication_failed"


def test_a_user_issues_and_revokes_tokens_on_the_account_page(users):
    c = signed_in(users["enterprise"])
    page = c.get(reverse("accounts:account"))
    assert page.status_code == 200 and "还没有接口令牌" in page.content.decode()
    r = c.post(reverse("accounts:account"), {"name": "ERP", "days": "10"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    token = ApiToken.objects.get(user=users["enterprise"])
    key = r.content.decode().split("data-key>")[1].split("<")[0]
    assert token.prefix == key[:8] and token.expires_at - token.created_at == dt.timedelta(days=10)
    assert me(key).status_code == 200
    page = c.get(reverse("accounts:account")).content.decode()
    assert key not in page and f'data-token="{token.pk}" data-state="active"' in page  # shown once only
    assert c.post(reverse("accounts:account"), {"name": "x", "days": "91"}).status_code == 400

    # Another user's token is not this page's to revoke.
    other, other_key = services.issue_token(None, users["enterprise2"])
    assert c.post(reverse("accounts:token_revoke", args=[other.pk])).status_code == 404
    assert me(other_key).status_code == 200

    r = c.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("accounts:account")
    assert me(key).status_code == 401 and me(key).json()["error"]["code"] == "auth.token_revoked"
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == users["enterprise"]
    assert AuditEvent.objects.filter(model="accounts.ApiToken", object_id=str(token.pk), action="revoke").count() == 1
    page = c.get(reverse("accounts:account")).content.decode()
    assert f'data-token="{token.pk}" data-state="revoked"' in page
    c.post(reverse("accounts:token_revoke", args=[token.pk]))  # again: nothing changes
    assert AuditEvent.objects.filter(model="accounts.ApiToken", object_id=str(token.pk), action="revoke").count() == 1


def test_the_api_lists_and_revokes_the_callers_tokens_and_an_administrator_anyones(users):
    mine, key = services.issue_token(None, users["bank"], name="a")
    spare, spare_key = services.issue_token(None, users["bank"], name="b")
    other, other_key = services.issue_token(None, users["district"])
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    c = Client()
    listed = c.get(reverse("api-token-list"), **auth).json()
    assert [(t["id"], t["state"], t["current"]) for t in listed] == [(spare.pk, "active", False),
                                                                     (mine.pk, "active", True)]
    assert all(set(t) == {"id", "username", "name", "prefix", "created_at", "expires_at", "revoked_at", "state",
                          "current"} for t in listed)
    assert c.get(reverse("api-token-detail", args=[other.pk]), **auth).status_code == 404
    assert c.delete(reverse("api-token-detail", args=[other.pk]), **auth).status_code == 404
    assert me(other_key).status_code == 200

    assert c.delete(reverse("api-token-detail", args=[spare.pk]), **auth).status_code == 204
    assert me(spare_key).json()["error"]["code"] == "auth.token_revoked"
    assert c.get(reverse("api-token-detail", args=[spare.pk]), **auth).json()["state"] == "revoked"
    assert c.delete(reverse("api-token-detail", args=[mine.pk]), **auth).status_code == 204  # itself
    assert c.get(reverse("api-token-list"), **auth).status_code == 401

    admin = signed_in(users["admin"])
    assert {t["id"] for t in admin.get(reverse("api-token-list")).json()} >= {mine.pk, spare.pk, other.pk}
    assert admin.delete(reverse("api-token-detail", args=[other.pk])).status_code == 204
    assert me(other_key).status_code == 401
    other.refresh_from_db()
    assert other.revoked_by == users["admin"]


def test_an_administrator_revokes_tokens_in_the_back_office(users):
    token, key = services.issue_token(None, users["bank"])
    admin = signed_in(users["admin"])
    url = reverse("admin:accounts_apitoken_changelist")
    page = admin.get(url).content.decode()
    assert token.prefix in page and key not in page
    r = admin.post(url, {"action": "revoke", "_selected_action": [token.pk]})
    assert r.status_code == 302
    assert me(key).json()["error"]["code"] == "auth.token_revoked"
    assert signed_in(users["bureau"]).get(url).status_code == 403
    assert admin.get(reverse("admin:accounts_apitoken_add")).status_code == 403


def test_open311_refuses_an_expired_or_revoked_api_key(users, city):
    url = "/open311/v2/requests.json"
    token, key = services.issue_token(None, users["enterprise"])
    assert Client().get(url, {"api_key": key}).status_code == 200
    expire(token)
    r = Client().get(url, {"api_key": key})
    assert r.status_code == 403 and "expired" in r.json()[0]["description"]
    r = Client().post(url, {"api_key": key, "service_code": "financing", "address_string": "南山区",
                            "description": "续贷"})
    assert r.status_code == 403 and "expired" in r.json()[0]["description"]
    token, key = services.issue_token(None, users["enterprise"])
    services.revoke_token(users["enterprise"], token)
    r = Client().get(url, {"api_key": key})
    assert r.status_code == 403 and "revoked" in r.json()[0]["description"]
    assert Client().get(url, {"api_key": "nope"}).json() == [{"code": 403, "description": "api_key missing or invalid"}]


def test_createuser_issues_a_token_that_expires(db, capsys, settings):
    settings.HUIQI_API_TOKEN_DAYS = 14
    call_command("createuser", "robot", "--role", "bureau", "--password", "Another-str0ng-pass", "--token")
    key = capsys.readouterr().out.split("token: ")[1].split()[0]
    token = ApiToken.objects.get(user__username="robot")
    assert token.prefix == key[:8] and token.expires_at - token.created_at == dt.timedelta(days=14)
    assert me(key).status_code == 200


def test_the_api_description_says_how_tokens_expire_and_are_revoked(client_for, settings):
    schema = client_for("bank").get("/api/schema/", {"format": "json"}).json()
    said = schema["info"]["description"]
    for point in ("expires", "HUIQI_API_TOKEN_DAYS", "DELETE /api/v1/auth/tokens/{id}/", "auth.token_expired",
                  "auth.token_revoked", "api_key"):
        assert point in said, point
    assert "/api/v1/auth/tokens/{id}/" in schema["paths"] and "delete" in schema["paths"]["/api/v1/auth/tokens/{id}/"]
    assert "expires_at" in schema["components"]["schemas"]["TokenResponse"]["properties"]


def test_the_migration_carries_drfs_keys_over_and_empties_their_table(users, settings):
    """A database of an earlier version holds DRF's plain keys (``authtoken_token``): each becomes a token
    valid HUIQI_API_TOKEN_DAYS days from the migration, and the plain keys are gone."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module("huiqi.accounts.migrations.0004_api_tokens")
    settings.HUIQI_API_TOKEN_DAYS = 5
    old_key = "a" * 40
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, "
                       "user_id bigint NOT NULL)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, NULL, %s)", [old_key, users["bank"].pk])
    migration.carry_over_keys(apps, SimpleNamespace(connection=connection))  # all it uses of a schema editor
    token = ApiToken.objects.get(user=users["bank"])
    assert token.prefix == "aaaaaaaa" and token.expires_at - token.created_at == dt.timedelta(days=5)
    assert me(old_key).json()["username"] == "bank"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
        cursor.execute("DROP TABLE authtoken_token")
