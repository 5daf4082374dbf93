"""Company lexicons in the browser: an admin builds one and sees it at work on "Try it"; reviewers
read the lexicon pages, employees are neither linked to them nor let in."""

import re

from playwright.sync_api import expect

from approvals import engine
from approvals.models import Lexicon, LexiconTerm
from approvals.services import lexicon_create, lexicon_term_add
from tests.e2e.helpers import login

CODE_NAME = "天穹计划"
NOTE = "未公开项目代号，请勿提及"
ALLOWED = "最低价保障"  # covers the Advertising Law's "最低价", which alone would be highlighted
TEXT = f"{CODE_NAME}下周发布，享受{ALLOWED}"


def _nav(page):
    return page.get_by_role("navigation", name="Main")


def test_an_admin_builds_a_lexicon_and_try_it_highlights_its_term_but_not_the_allowed_phrase(
    page, live_server, admin_user
):
    # Without the allow-list phrase the built-in packs would highlight part of it.
    assert "最低价" in [TEXT[hit.start:hit.end] for hit in engine.builtin_policy().screen(TEXT).hits]
    login(page, live_server, admin_user.username)

    _nav(page).get_by_role("link", name="Lexicons").click()
    form = page.get_by_test_id("lexicon-create")
    form.get_by_label("Name").fill("Code names")
    form.get_by_label("Category").fill("confidential")
    form.get_by_role("button", name="Create lexicon").click()
    expect(page.locator(".message.success")).to_have_text("Lexicon “Code names” created.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Code names")

    add = page.get_by_test_id("term-add")
    add.locator("[name=term]").fill(CODE_NAME)
    add.locator("[name=note]").fill(NOTE)
    add.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("notice")).to_have_text(f"“{CODE_NAME}” added.")
    add = page.get_by_test_id("term-add")  # htmx swapped the section in again
    add.locator("[name=term]").fill(ALLOWED)
    add.get_by_label("Allow-list").check()
    add.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("notice")).to_have_text(f"“{ALLOWED}” added to the allow-list.")
    terms = page.get_by_test_id("term-table")
    expect(terms.locator(f"tr[data-term='{CODE_NAME}']")).to_contain_text("risky")
    expect(terms.locator(f"tr[data-term='{ALLOWED}']")).to_contain_text("allow-list")
    lexicon = Lexicon.objects.get(name="Code names")
    assert {(t.term, t.allow) for t in LexiconTerm.objects.filter(lexicon=lexicon)} == {
        (CODE_NAME, False), (ALLOWED, True)
    }

    _nav(page).get_by_role("link", name="Try it").click()
    text = page.locator("#id_text")
    text.fill(TEXT)
    text.press("End")  # screening runs as you type (on key up)

    highlighted = page.get_by_test_id("highlighted-text")
    marks = highlighted.locator("mark.hit")
    expect(marks).to_have_count(1)
    expect(marks).to_have_text(CODE_NAME)
    expect(marks).to_have_class(re.compile(r"\bhit-block\b"))
    marks.hover()
    expect(marks).to_have_attribute("title", re.compile(rf"confidential list.*→ {NOTE}"))
    # The highlight's colour comes from screening.css, which the page loads in its head.
    expect(marks).to_have_css("background-color", "rgb(251, 211, 208)")
    expect(highlighted).to_have_text(TEXT)
    expect(highlighted.locator("mark", has_text="最低价")).to_have_count(0)
    expect(page.get_by_test_id("hit-list")).to_contain_text(NOTE)


def test_a_reviewer_opens_the_lexicon_pages_from_the_navigation(page, live_server, admin_user, reviewer):
    lexicon = lexicon_create(actor=admin_user, name="Code names", category="confidential")
    lexicon_term_add(actor=admin_user, lexicon=lexicon, term=CODE_NAME, note=NOTE)
    login(page, live_server, reviewer.username)

    _nav(page).get_by_role("link", name="Lexicons").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lexicons")
    page.get_by_test_id("lexicon-table").get_by_role("link", name="Code names").click()

    expect(page).to_have_url(re.compile(rf"/approvals/lexicons/{lexicon.pk}/$"))
    expect(page.get_by_test_id("term-table").locator(f"tr[data-term='{CODE_NAME}']")).to_contain_text(NOTE)


def test_an_employee_is_not_linked_to_the_lexicons_and_is_refused_at_the_door(page, live_server, admin_user, employee):
    lexicon = lexicon_create(actor=admin_user, name="Code names", category="confidential")
    lexicon_term_add(actor=admin_user, lexicon=lexicon, term=CODE_NAME)
    login(page, live_server, employee.username)

    expect(_nav(page).get_by_role("link", name="Try it")).to_be_visible()
    expect(_nav(page).get_by_role("link", name="Lexicons")).to_have_count(0)
    for path in ["/approvals/lexicons/", f"/approvals/lexicons/{lexicon.pk}/"]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        expect(page.locator("body")).not_to_contain_text(CODE_NAME)
