"""The compose page in the browser: one text for three accounts, with the live character counter and
the live risk check, makes three posts in review; the same page in Simplified Chinese."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from approvals import engine
from approvals.models import AuditEvent, ReviewStep
from approvals.templatetags.screening import message_parts
from content.forms import local_to_utc
from content.models import Post, PostStatus
from tests.e2e.helpers import login, table_rows, zh
from tests.factories import SocialAccountFactory

ZONE = "Asia/Shanghai"
# 最好的 is an absolute claim (Advertising Law art. 9): screening says "review", not "block".
RISKY = "最好的"
TEXT = f"全新电动SUV今日上市，这是我们做过{RISKY}一台车，欢迎周末到店试驾。"


@pytest.fixture
def accounts(brand):
    """Three of the brand's accounts on platforms that take text alone; Weibo's is the tightest limit."""
    from matrix.models import Platform

    platforms = {p.slug: p for p in Platform.objects.all()}
    return [
        SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="brand", handle="aurora_official"),
        SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="self_operated", handle="aurora_global"),
        SocialAccountFactory(brand=brand, platform=platforms["wechat_oa"], tier="self_operated", handle="aurora_service"),
    ]


def _choose(page, account):
    page.get_by_test_id("account-picker").locator("label.account-option", has_text=f"@{account.handle}").locator(
        "input[type=checkbox]"
    ).check()


def _wall_clock_in_three_days():
    local = (timezone.now() + timedelta(days=3)).astimezone(zoneinfo.ZoneInfo(ZONE))
    return local.replace(hour=10, minute=30, second=0, microsecond=0, tzinfo=None)


def test_a_marketer_composes_one_text_for_three_accounts_and_gets_three_posts_in_review(
    page, live_server, marketer, accounts
):
    weibo = accounts[0]
    login(page, live_server, marketer.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Posts").click()
    page.get_by_role("link", name="New post").click()
    page.wait_for_load_state()  # htmx notes the text's value when it loads; a change made before that would not count as typed
    expect(page.get_by_role("heading", level=1)).to_have_text("New post")

    for account in accounts:
        _choose(page, account)
    expect(page.locator("[data-selected-count]")).to_have_text("3 chosen")

    body = page.locator("#id_body")
    body.fill(TEXT)
    # The counter follows the text at once, for the tightest of the three limits.
    expect(page.get_by_test_id("counter")).to_have_text(
        f"{len(TEXT)} / 2000 characters: the tightest limit of the 3 accounts chosen is Weibo ({weibo})"
    )
    body.press("End")  # screening runs on key up, after a pause in typing

    result = page.get_by_test_id("screening-result")
    expect(result.get_by_test_id("decision")).to_have_text("Review: a reviewer must look at it")
    mark = result.get_by_test_id("highlighted-text").locator("mark.hit")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(RISKY)
    expect(mark).to_have_class(re.compile(r"\bhit-review\b"))
    expect(mark).to_have_attribute("data-category", "ad_law")
    expect(mark).to_have_attribute("title", re.compile(r"Advertising Law art\. 9.* → great"))
    expect(result.get_by_test_id("highlighted-text")).to_have_text(TEXT)
    expect(result.get_by_test_id("hit-list")).to_contain_text("ad_law")

    wall_clock = _wall_clock_in_three_days()
    page.locator("#id_scheduled_at").fill(wall_clock.strftime("%Y-%m-%dT%H:%M"))
    expect(page.get_by_test_id("zone-label")).to_have_text(ZONE)
    page.get_by_test_id("submit").click()

    expect(page).to_have_url(re.compile(r"/posts/\?author=me$"))
    expect(page.locator(".message.success")).to_have_text("3 posts created (In review: 3).")
    rows = table_rows(page, "post-table")
    expect(rows).to_have_count(3)
    for account in accounts:
        row = rows.filter(has_text=f"@{account.handle}")
        expect(row.locator(".post-status")).to_have_text("In review")
        expect(row.locator(".post-excerpt")).to_contain_text("全新电动SUV今日上市")

    posts = list(Post.objects.filter(author=marketer).select_related("revision").order_by("account__handle"))
    assert sorted(p.account_id for p in posts) == sorted(a.pk for a in accounts)
    expected_time = local_to_utc(wall_clock, ZONE)
    for post in posts:
        assert (post.status, post.body, post.scheduled_at) == (PostStatus.IN_REVIEW, TEXT, expected_time)
        assert post.revision.post_id == post.pk and post.revision.number == 1 and post.revision.body == TEXT
        assert post.revision.screening["decision"] == "review"
        assert [h["category"] for h in post.revision.screening["hits"]] == ["ad_law"]
        assert post.revisions.count() == 1
        # A marketer other than the author first, then a reviewer (screening said review).
        steps = ReviewStep.objects.filter(post=post).order_by("position")
        assert [(s.name, s.status, s.decided_by_id) for s in steps] == [
            ("Marketing approval", "in_progress", None), ("Risk review", "waiting", None)
        ]
    assert len({p.revision_id for p in posts}) == 3  # one revision each, not one shared
    for action in ("content.post.create", "content.post.submit"):
        events = AuditEvent.objects.filter(action=action, object_type="content.post")
        assert sorted(int(e.object_id) for e in events) == sorted(p.pk for p in posts), action
        assert {e.actor_id for e in events} == {marketer.pk}


@pytest.mark.browser_locale("zh-CN")
def test_the_compose_page_counts_and_screens_in_simplified_chinese(page, live_server, marketer, accounts):
    weibo = accounts[0]
    login(page, live_server, marketer.username)
    page.goto(f"{live_server.url}/posts/new/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("New post"))
    expect(page.get_by_role("heading", name=zh("Risk check as you type"))).to_be_visible()
    expect(page.get_by_test_id("submit")).to_have_text(zh("Submit for review"))

    _choose(page, weibo)
    expect(page.locator("[data-selected-count]")).to_have_text(zh("{count} chosen").format(count=1))
    body = page.locator("#id_body")
    body.fill(TEXT)
    # The script's messages come translated from the page; the platform has its Chinese name.
    expect(page.get_by_test_id("counter")).to_have_text(
        zh("{length} / {limit} characters on {platform} ({account})").format(
            length=len(TEXT), limit=2000, platform=weibo.platform.name_zh, account=weibo
        )
    )
    body.press("End")
    result = page.get_by_test_id("screening-result")
    expect(result.get_by_test_id("decision")).to_have_text(zh("Review: a reviewer must look at it"))
    mark = result.get_by_test_id("highlighted-text").locator("mark.hit")
    expect(mark).to_have_text(RISKY)
    # The explanation in the reader's language: the Chinese half of the engine's message.
    hit = engine.builtin_policy().screen(TEXT).hits[0]
    with translation.override("zh-hans"):
        explanation, suggestion = message_parts(hit.message)
    expect(mark).to_have_attribute("title", f"{explanation} → {suggestion}")
    expect(result.get_by_test_id("hit-list").locator("th").first).to_have_text(zh("Text"))

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("post-status")).to_have_text(zh("In review"))
    post = Post.objects.get(author=marketer)
    assert (post.account_id, post.status, post.revision.number) == (weibo.pk, PostStatus.IN_REVIEW, 1)
    expect(page.locator(".message.success")).to_have_text(
        zh("%(account)s: submitted; the post waits for review.") % {"account": weibo}
    )
