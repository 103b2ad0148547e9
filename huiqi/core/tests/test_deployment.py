"""Deployment defaults: a Content-Security-Policy on every page, no inline script for it to block, a
configured host list, Open311 discovery that does not echo the Host header, and `check --deploy`
clean with the production settings the README documents."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[3]


def test_every_page_carries_the_content_security_policy(users, client_for):
    for path in ("/", "/accounts/login/", "/api/docs/"):
        client = client_for("bureau") if path != "/accounts/login/" else Client()
        response = client.get(path)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]


def test_templates_carry_no_inline_script_for_the_policy_to_block():
    inline = []
    for path in (ROOT / "huiqi" / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+=\"", text):
            inline.append(str(path.relative_to(ROOT)))
    assert inline == []


def test_hosts_are_a_configured_list_not_everything():
    assert "*" not in settings.ALLOWED_HOSTS


@pytest.mark.django_db
def test_open311_discovery_does_not_echo_the_host_header(settings):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    settings.HUIQI_PUBLIC_URL = "https://huiqi.example.gov.cn"
    body = Client(HTTP_HOST="evil.example").get("/open311/v2/discovery.json").json()
    assert body["endpoints"][0]["url"] == "https://huiqi.example.gov.cn/open311/v2"


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    env = {**os.environ, "HUIQI_DATA_DIR": str(tmp_path), "HUIQI_HTTPS": "1",
           "SECRET_KEY": "x" * 20 + "a-long-and-random-production-secret-key-0123456789",
           "HUIQI_ALLOWED_HOSTS": "huiqi.example.gov.cn", "HUIQI_PUBLIC_URL": "https://huiqi.example.gov.cn",
           "HUIQI_CSRF_TRUSTED_ORIGINS": "https://huiqi.example.gov.cn"}
    env.pop("HUIQI_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "huiqi.cli", "check", "--deploy", "--tag", "security"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "System check identified no issues" in done.stdout, done.stderr
