"""What a person does over and over in the browser tests."""

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
