import pytest
from django.test import Client
from django.urls import reverse

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_and_lists_demo_accounts(users):
    users["bureau"].is_demo = True
    users["bureau"].save()
    html = Client().get(reverse("accounts:login")).content.decode()
    assert 'lang="zh-Hans"' in html
    assert "登录惠企平台" in html
    assert "演示账户" in html and "bureau" in html


def test_english_browser_still_gets_chinese_first(users):
    html = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get(reverse("accounts:login")).content.decode()
    assert 'lang="zh-Hans"' in html and "登录惠企平台" in html


def test_english_switch(users):
    c = Client()
    c.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = c.get(reverse("accounts:login")).content.decode()
    assert 'lang="en"' in html
    assert "Sign in" in html


def test_password_is_argon2(users):
    assert users["bureau"].password.startswith("argon2")


def test_lockout_after_repeated_failures(users, settings):
    settings.HUIQI_LOGIN_MAX_FAILURES = 3
    c = Client()
    url = reverse("accounts:login")
    for _ in range(3):
        r = c.post(url, {"username": "bureau", "password": "wrong"})
        assert r.status_code == 200
    # Locked now: even the right password is refused, with the lock-out message.
    r = c.post(url, {"username": "bureau", "password": PASSWORD})
    assert r.status_code == 200
    assert "锁定" in r.content.decode()
    users["bureau"].refresh_from_db()
    assert users["bureau"].locked_until is not None
    from huiqi.core.models import AuditEvent

    assert AuditEvent.objects.filter(action="lock", object_id=str(users["bureau"].pk)).exists()


def test_good_login_resets_failures(users):
    c = Client()
    url = reverse("accounts:login")
    c.post(url, {"username": "bureau", "password": "wrong"})
    r = c.post(url, {"username": "bureau", "password": PASSWORD})
    assert r.status_code == 302
    users["bureau"].refresh_from_db()
    assert users["bureau"].failed_logins == 0


def test_session_cookie_is_httponly(users):
    c = Client()
    c.post(reverse("accounts:login"), {"username": "bureau", "password": PASSWORD})
    cookie = c.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_session_idle_clock_restarts_with_use_but_is_written_at_most_once_a_window(users, settings, monkeypatch):
    """A used session stays alive (its expiry moves on), without a write on every page."""
    import datetime as dt
    import time

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    settings.HUIQI_SESSION_REFRESH_SECONDS = 300
    real_time, real_now, offset = time.time, timezone.now, [0]
    monkeypatch.setattr(time, "time", lambda: real_time() + offset[0])
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(seconds=offset[0]))
    c = Client()
    c.post(reverse("accounts:login"), {"username": "bureau", "password": PASSWORD})
    key = c.cookies["sessionid"].value

    def expiry():
        return Session.objects.get(session_key=key).expire_date

    assert c.get("/").status_code == 200
    first = expiry()
    offset[0] = 60
    c.get("/")
    assert expiry() == first                        # within the window: not written again
    offset[0] = 400
    assert c.get("/").status_code == 200
    assert expiry() - first >= dt.timedelta(seconds=300)   # after it: written, the idle clock restarted


def test_api_token_for_machine_clients(users):
    c = Client()
    r = c.post("/api/v1/auth/token/", {"username": "bank", "password": PASSWORD}, content_type="application/json")
    assert r.status_code == 200
    token = r.json()["token"]
    me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200 and me.json()["role"] == "bank"
    bad = Client().get("/api/v1/me/", HTTP_AUTHORIZATION="Token nope")
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "authentication_failed"
