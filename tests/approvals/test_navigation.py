"""The main navigation links to the screening pages a role may use, and the pages that show hits load
their stylesheet in the head."""

import re

import pytest

from approvals.services import lexicon_create

pytestmark = pytest.mark.django_db

SCREENING_CSS = '<link rel="stylesheet" href="/static/css/screening.css">'


def _navigation(client, url="/matrix/accounts/"):
    html = client.get(url).content.decode()
    return re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)


@pytest.mark.parametrize(("role", "sees_lexicons"), [
    ("admin_user", True), ("reviewer", True), ("marketer", True),
    ("executive", False), ("employee", False), ("dealer_operator", False),
])
def test_every_role_is_linked_to_try_it_and_only_lexicon_readers_to_the_lexicons(client, request, role, sees_lexicons):
    client.force_login(request.getfixturevalue(role))
    nav = _navigation(client)
    assert nav.count('href="/approvals/try/"') == 1
    assert nav.count('href="/approvals/lexicons/"') == (1 if sees_lexicons else 0)


def test_the_screening_pages_show_each_link_once(client, reviewer):
    client.force_login(reviewer)
    for url in ["/approvals/try/", "/approvals/lexicons/", "/approvals/would-have-caught/"]:
        nav = _navigation(client, url)
        assert nav.count('href="/approvals/try/"') == 1, url
        assert nav.count('href="/approvals/lexicons/"') == 1, url


def test_pages_that_highlight_hits_load_the_screening_stylesheet_in_the_head(client, admin_user, brand):
    lexicon = lexicon_create(actor=admin_user, brand=brand, name="Code names", category="confidential")
    client.force_login(admin_user)
    for url in ["/approvals/try/", "/approvals/lexicons/", f"/approvals/lexicons/{lexicon.pk}/",
                "/approvals/would-have-caught/"]:
        head, _, body = client.get(url).content.decode().partition("</head>")
        assert head.count(SCREENING_CSS) == 1, url
        assert SCREENING_CSS not in body, url
    assert SCREENING_CSS not in client.get("/matrix/accounts/").content.decode()
