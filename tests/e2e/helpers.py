"""What a person does over and over in the browser tests."""

import functools
from urllib.parse import urlsplit

from playwright.sync_api import expect

PASSWORD = "pw-for-tests-1"  # UserFactory's


def login(page, live_server, username, password=PASSWORD):
    """Log in through the real login form and land on the home page the role is sent to."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    # The button's text depends on the language; the login form is the one in <main>.
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: not urlsplit(url).path.startswith("/accounts/login/"))
    expect(page.locator(".whoami")).to_be_visible()


def table_rows(page, testid):
    """The body rows of a table, the "nothing matches" row excluded."""
    return page.locator(f"[data-testid={testid}] tbody tr:not(:has(td.muted[colspan]))")


def switch_user(page, live_server, username, password=PASSWORD):
    """Another person at the same browser: drop the session (and any language cookie) and log in."""
    page.context.clear_cookies()
    login(page, live_server, username, password)


CATALOGUE = "locale/zh_Hans/LC_MESSAGES/django.po"


@functools.cache
def _chinese_catalogue():
    import polib
    from django.conf import settings

    return {entry.msgid: entry for entry in polib.pofile(str(settings.BASE_DIR / CATALOGUE))}


def zh(msgid):
    """The Simplified Chinese translation of `msgid`, read from the catalogue (the singular form of a
    plural entry). Fails when the catalogue has no finished translation for it."""
    entry = _chinese_catalogue().get(msgid)
    assert entry is not None and entry.translated(), f"{msgid!r} has no Chinese translation in {CATALOGUE}"
    return entry.msgstr or entry.msgstr_plural[0]


def press_shortcut(page, key):
    """Press a page's keyboard shortcut once the page has loaded: its scripts are deferred, and a key
    pressed before they listen does nothing."""
    page.wait_for_load_state()
    page.keyboard.press(key)
