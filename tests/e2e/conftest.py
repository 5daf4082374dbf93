"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

One browser for all of them, a fresh context (cookies, language, storage) per test. The live
server makes every test transactional: data written here is committed, so the server thread sees it.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser_locale(locale): the browser's language (Accept-Language)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # The page fixture looks at this to decide whether to keep a screenshot.
    setattr(item, f"e2e_report_{report.when}", report)


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all browser tests (they run one after another: pytest-django puts the
    transactional tests together), stopped before any other test runs."""
    from playwright.sync_api import sync_playwright

    # While Playwright's sync API runs, this thread has an event loop, and Django refuses the ORM
    # calls the tests make to arrange and check data. Nothing here is really async. Only for as long
    # as the browser lives: the variable must not leak into other tests (`check --deploy` fails on it).
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


def _seed():
    """The rows the data migrations made (platforms, policy version, default workflows): a
    transactional test ends with a flush that empties every table (role groups come back by
    themselves, from post_migrate; these do not)."""
    from tests.transactional import reseed

    reseed()


@pytest.fixture(autouse=True)
def seeded_data(transactional_db):
    """The migrations' rows, seeded again in each browser test: the previous test's flush took them."""
    _seed()


@pytest.fixture(scope="session", autouse=True)
def _seeded_data_after_session(django_db_setup, django_db_blocker):
    yield
    # The last test's flush emptied the registry; with --reuse-db the next run (of any test) would
    # start without platforms.
    with django_db_blocker.unblock():
        _seed()


@pytest.fixture
def page(request, browser, live_server):
    marker = request.node.get_closest_marker("browser_locale")
    context = browser.new_context(
        base_url=live_server.url, locale=marker.args[0] if marker else "en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "e2e_report_call", None)
    if report is not None and report.failed:
        RESULTS_DIR.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        page.screenshot(path=str(RESULTS_DIR / f"{name}.png"), full_page=True)
    context.close()
