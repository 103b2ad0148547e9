"""Log-in and token exchange under attack: the lock-out holds against parallel guesses, the token
throttle counts across processes by the real client address, and malformed credentials are a 400."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth import authenticate
from django.db import connection, connections
from django.test import Client, RequestFactory
from django.utils import timezone

from huiqi.accounts.models import User
from huiqi.core import throttling
from huiqi.core.models import RateCounter

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="parallel writers need a server database")
@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_try_no_more_than_the_allowance(settings, monkeypatch):
    settings.HUIQI_LOGIN_MAX_FAILURES = 5
    User.objects.create_user("target", password="Right-passw0rd!", role="bureau")
    checked = []
    real_check = User.check_password

    def slow_check(self, raw):
        checked.append(raw)
        time.sleep(0.05)  # the window in which 40 guesses used to pass the read-then-write count
        return real_check(self, raw)

    monkeypatch.setattr(User, "check_password", slow_check)
    start = threading.Barrier(40)

    def guess(i):
        try:
            start.wait()
            authenticate(None, username="target", password=f"wrong-{i}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) <= 5
    assert User.objects.get(username="target").locked_until is not None
    # Locked: the right password is not even tried.
    assert authenticate(None, username="target", password="Right-passw0rd!") is None
    assert len(checked) <= 5


@pytest.mark.parametrize("body", [{"username": "bank", "password": ["a", "b"]}, [1, 2],
                                  {"username": ["bank"], "password": "x"}, {"username": "bank"},
                                  {"username": "bank", "password": "x\x00y"}])
def test_malformed_credentials_are_a_400_naming_the_field(users, body):
    r = Client().post("/api/v1/auth/token/", body, content_type="application/json")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"] in ("username", "password")


def test_the_token_throttle_is_shared_and_counted_in_the_database(users, settings, monkeypatch):
    settings.HUIQI_TRUSTED_PROXIES = []
    instant = timezone.now().replace(second=0, microsecond=0)
    monkeypatch.setattr(throttling.timezone, "now", lambda: instant)  # one window, whatever the clock
    c = Client(REMOTE_ADDR="203.0.113.9")
    codes = [c.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"},
                    content_type="application/json").status_code for _ in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429
    assert RateCounter.objects.get(key="token:203.0.113.9").hits == 31
    # Another process sees the same count: a fresh throttle object reads it from the database.
    assert throttling.hit("token:203.0.113.9", 30, 60) is False
    # A forged X-Forwarded-For from an untrusted peer does not open a new allowance.
    forged = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert forged.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"},
                       content_type="application/json").status_code == 429


def test_the_client_address_is_believed_only_from_a_trusted_proxy(settings):
    settings.HUIQI_TRUSTED_PROXIES = ["10.0.0.2"]
    rf = RequestFactory()
    assert throttling.client_address(rf.get("/", REMOTE_ADDR="203.0.113.9",
                                            HTTP_X_FORWARDED_FOR="1.2.3.4")) == "203.0.113.9"
    assert throttling.client_address(rf.get("/", REMOTE_ADDR="10.0.0.2",
                                            HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7")) == "198.51.100.7"
