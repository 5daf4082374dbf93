"""Posting by hand in the browser: the owner of an assisted account opens the post they were told
to publish, copies the approved text, gets a bad URL refused and confirms with the live one."""

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from content import services
from content.models import Post, PostStatus
from tests.e2e.helpers import login
from tests.factories import SocialAccountFactory

CLEAN = "新车今日上市，欢迎到店试驾。"
LIVE = "https://www.linkedin.com/posts/ceo_li-42"


def test_the_owner_copies_the_approved_text_and_confirms_the_live_url(page, live_server, brand, platforms,
                                                                      executive, marketer):
    account = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="executive", owner=executive,
                                   handle="ceo_li")
    post = services.post_submit(actor=marketer, post=services.post_create(actor=marketer, account=account,
                                                                         body=CLEAN))
    # Where the dispatcher leaves an assisted post after handing it over.
    due = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHING, approved_revision=post.revision,
                                           scheduled_at=due, approved_at=due)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, live_server, executive.username)

    page.goto(f"{live_server.url}/posts/{post.pk}/")
    page.get_by_test_id("confirm-link").get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/posts/{post.pk}/confirm/$"))
    expect(page.get_by_test_id("approved-text")).to_have_value(CLEAN)
    page.wait_for_load_state()
    page.get_by_test_id("copy-text").click()
    expect(page.get_by_test_id("copy-text")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == CLEAN

    form = page.get_by_test_id("confirm-form")
    form.locator("input[name=url]").fill("linkedin.com/posts/ceo_li-42")
    form.get_by_test_id("confirm").click()
    expect(page.locator(".field-error .errorlist")).to_contain_text("https://")
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHING

    page.get_by_test_id("confirm-form").locator("input[name=url]").fill(LIVE)
    page.get_by_test_id("confirm-form").get_by_test_id("confirm").click()
    expect(page).to_have_url(re.compile(rf"/posts/{post.pk}/$"))
    expect(page.get_by_test_id("post-status")).to_have_text("Published")
    expect(page.get_by_role("link", name=LIVE)).to_be_visible()
    post.refresh_from_db()
    assert (post.status, post.url) == (PostStatus.PUBLISHED, LIVE)
