"""Simplified Chinese: chosen with the switcher, or by the browser's own language."""

import re

import polib
import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.helpers import login

CATALOGUE = settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# The pages a person uses most, each with the strings that must be translated on it (beside the
# navigation, which every page shows).
NAVIGATION = ["Matrix", "Accounts", "My accounts", "Register employee", "Log out"]
PAGES = {
    "/matrix/": ("matrix-grid", ["Matrix overview", "Tier", "Total"]),
    "/matrix/accounts/": ("account-table", ["Search", "All tiers", "Filter", "Clear", "Status", "No account matches these filters."]),
    "/accounts/people/register/": (None, ["The person", "Their social accounts", "Add another account", "Register"]),
    "/me/accounts/": ("my-accounts", ["You have no accounts in the matrix."]),
}


def _translations():
    """msgid → msgstr from the Chinese catalogue, or None while there is no catalogue yet."""
    if not CATALOGUE.exists():
        return None
    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(CATALOGUE)) if entry.translated()}


def _expect_translated(page, translations, msgids):
    for msgid in msgids:
        assert translations.get(msgid), f"{msgid!r} has no Chinese translation in {CATALOGUE}"
        expect(page.locator("body")).to_contain_text(translations[msgid])


def test_the_switcher_turns_the_pages_into_simplified_chinese_and_back(page, live_server, admin_user):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with page.expect_navigation():
        page.locator("select[name=language]").select_option("zh-hans")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("select[name=language]")).to_have_value("zh-hans")

    login(page, live_server, admin_user.username)
    translations = _translations()
    for path, (testid, msgids) in PAGES.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("main h1")).to_be_visible()
        if testid:
            expect(page.get_by_test_id(testid)).to_be_visible()
        # Until the catalogue exists the pages render in English with lang="zh-hans"; from then on
        # the key strings must be in Chinese.
        if translations is not None:
            _expect_translated(page, translations, NAVIGATION + msgids)

    with page.expect_navigation():
        page.locator("select[name=language]").select_option("en")
    expect(page).to_have_url(re.compile(r"/me/accounts/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My accounts")


@pytest.mark.browser_locale("zh-CN")
def test_a_browser_set_to_chinese_gets_simplified_chinese_without_switching(page, live_server):
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("select[name=language]")).to_have_value("zh-hans")
    translations = _translations()
    if translations is not None:
        _expect_translated(page, translations, ["Log in", "Username", "Password", "Forgotten your password?"])
