"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server.

Every test here is marked ``browser``. Without /usr/bin/chromium (or without Playwright) they are
skipped with a reason, so ``python3 dev.py test`` still passes on a machine without a browser.
One browser is launched per session; every test gets its own context (cookies, language, viewport).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop in this thread; Django would otherwise refuse ORM calls
# made by fixtures (the ``users`` fixture) while it runs.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# HUIQI_E2E_CHROMIUM points at another Chromium build (or at nothing, to check the skip).
CHROMIUM = Path(os.environ.get("HUIQI_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
HERE = Path(__file__).resolve().parent

# The screens the tests look through: a desktop and a small phone (360×740, the narrowest common one).
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

try:
    import playwright.sync_api  # noqa: F401

    _HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover - the dev lock installs it
    _HAVE_PLAYWRIGHT = False

if not CHROMIUM.exists():
    SKIP_REASON = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium); not found, skipped"
elif not _HAVE_PLAYWRIGHT:
    SKIP_REASON = "browser tests need the playwright package (pip install -r requirements-dev.lock); skipped"
else:
    SKIP_REASON = ""


def pytest_collection_modifyitems(config, items):
    """Mark every test of this directory ``browser``; skip them all when there is no browser."""
    for item in items:
        if HERE not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if SKIP_REASON:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def browser():
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser):
    """``new_page(**context_options)``: a page in a fresh context (closed after the test). Every
    page is watched for what the Content-Security-Policy refused: a test whose pages had anything
    refused (an inline script, a resource from elsewhere) fails."""
    contexts = []
    refused = []

    def watch(message):
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    def make(**options):
        options.setdefault("locale", "zh-CN")
        options.setdefault("timezone_id", "Asia/Shanghai")
        options.setdefault("viewport", {"width": 1280, "height": 900})
        ctx = browser.new_context(**options)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("console", watch)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert refused == [], refused


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def server(transactional_db, live_server):
    """The live server, with a transactional database so the server thread sees the test's rows."""
    return live_server


@pytest.fixture
def accounts(transactional_db, users):
    """The root conftest's ``users`` (one per role), committed so the live server sees them."""
    return users


def login(page, live_server, username, password):
    """Log in through the form and wait for the page it leads to."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("form:has(input[name=username]) button[type=submit]").click()
    if "/accounts/login/" in page.url:
        alert = page.locator("[role=alert]")
        detail = alert.inner_text() if alert.count() else "(no error shown)"
        raise AssertionError(f"log-in as {username!r} failed: still on {page.url}: {detail}")
    return page


@pytest.fixture(scope="session")
def shots() -> Path:
    """Where screenshots go: ``HUIQI_SCREENSHOTS``, else ``huiqi-screenshots`` in the system's temporary
    folder (outside the repository). ``docs/screenshots/`` keeps a set made with it."""
    import tempfile

    folder = Path(os.environ.get("HUIQI_SCREENSHOTS") or Path(tempfile.gettempdir()) / "huiqi-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fits(page):
    """Nothing on the page is wider than the screen: a person never scrolls sideways."""
    # The screen's own width: a phone's browser widens its window (zooms out) to what is too wide.
    screen = page.viewport_size["width"]
    wide = page.evaluate("Math.max(document.documentElement.scrollWidth, window.innerWidth)")
    assert wide <= screen, f"{page.url}: the page is {wide}px wide on a {screen}px screen: " + page.evaluate(
        """w => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > w + 1)
                 .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
                 .join(', ')""", screen)


@pytest.fixture
def day_of_work(settings, accounts, server):
    """``huiqi.site.tests.work.a_days_work`` on its day: something waits for every role."""
    from huiqi.registry.models import Bank, Enterprise
    from huiqi.site.tests.work import DAY, a_days_work

    from conftest import enterprise_maker

    settings.HUIQI_DEMO_TODAY = DAY.isoformat()
    city = {key: Enterprise.objects.get(name=name) for key, name in (
        ("ns1", "深圳市南山云创电子科技有限公司"), ("ns2", "深圳市前海汇通商贸有限公司"), ("ft1", "深圳市福田华信软件技术有限公司"))}
    city["bank_a"] = Bank.objects.get(code="ICBC-SZ")
    return a_days_work(accounts, city, enterprise_maker())
