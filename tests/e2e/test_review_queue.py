"""The review queue and the review page in the browser: a post with Advertising Law hits goes through
a marketer and a reviewer, back to its author with a comment, and through both again once fixed;
keyboard shortcuts; and the review page in Simplified Chinese."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from approvals import engine
from approvals.models import AuditEvent, Review, ReviewStep
from approvals.templatetags.screening import message_parts
from content import services
from content.models import Post, PostStatus
from tests.e2e.helpers import login, press_shortcut, switch_user, zh
from tests.factories import SocialAccountFactory, UserFactory

# Two absolute claims (最好的, 国内首款): screening says review. The reviewer wants the first gone; the
# second is a fact the company can prove, and stays in the fixed text.
REMOVED = "这是我们做过最好的一台车"
ADDED = "CLTC续航650公里"
FIRST = f"全新电动SUV今日上市，{REMOVED}，国内首款800V量产SUV，欢迎周末到店试驾。"
FIXED = f"全新电动SUV今日上市，{ADDED}，国内首款800V量产SUV，欢迎周末到店试驾。"
COMMENT = "“最好的”是绝对化用语，请改成具体的续航数据；“国内首款”有公告支持，可以保留。"


@pytest.fixture
def account(brand, employee):
    from matrix.models import Platform

    return SocialAccountFactory(brand=brand, platform=Platform.objects.get(slug="weibo"), tier="employee",
                                owner=employee, handle="emp_wang")


def _submitted(author, account, body=FIRST):
    post = services.post_create(actor=author, account=account, body=body,
                                scheduled_at=timezone.now() + timedelta(days=2))
    return services.post_submit(actor=author, post=post)


def _steps(post):
    """(revision, step, status, decided by, sha256 decided on) of every step of every review, in order."""
    return [
        (s.review.revision.number, s.name, s.status, s.decided_by_id, s.revision_sha256)
        for s in ReviewStep.objects.filter(post=post).select_related("review__revision").order_by("review_id", "position")
    ]


def _text_marks(page):
    """The highlighted passages of the text under review (not the marks of the hit list below it)."""
    return page.locator("section[aria-labelledby=text-title]").get_by_test_id("highlighted-text").locator("mark.hit")


def _open_queue(page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Review queue")


def _approve_on_the_review_page(page, account, *, press_a=False):
    """Approve with the button, or with the `a` shortcut: a single key could approve a post with hits
    by accident, so the shortcut asks first (the button is a deliberate click and does not)."""
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    if press_a:
        press_shortcut(page, "a")
    else:
        page.locator("#approve-form").get_by_role("button", name=re.compile("Approve")).click()
    expect(page.locator(".message.success")).to_have_text(f"Approved: {account}.")
    page.remove_listener("dialog", accept)
    assert dialogs == (["This post has screening hits. Approve it anyway?"] if press_a else [])


def test_a_post_goes_back_to_its_author_with_a_comment_and_is_approved_once_fixed(
    page, live_server, employee, account, marketer, reviewer
):
    post = _submitted(employee, account)
    first = post.revision
    assert first.screening["decision"] == "review"
    assert [h["category"] for h in first.screening["hits"]] == ["ad_law", "ad_law"]

    # The marketer works the queue from the keyboard: j selects the post, o opens it, a approves.
    login(page, live_server, marketer.username)
    _open_queue(page)
    row = page.get_by_test_id("queue-row")
    expect(row).to_have_count(1)
    expect(row.locator("mark.hit")).to_have_text(["最好的", "国内首款"])
    press_shortcut(page, "j")
    expect(row).to_have_class(re.compile(r"\bis-selected\b"))
    press_shortcut(page, "o")
    expect(page).to_have_url(re.compile(r"/review/\d+/$"))
    expect(page.get_by_test_id("step-status")).to_contain_text("Marketing approval")
    _approve_on_the_review_page(page, account, press_a=True)
    expect(page.locator(".message.info")).to_have_text("Nothing else waits for you.")
    assert [s[:4] for s in _steps(post)] == [
        (1, "Marketing approval", "approved", marketer.pk), (1, "Risk review", "in_progress", None)
    ]

    # The reviewer sees the hits in place, with the reason on hover, and requests changes.
    switch_user(page, live_server, reviewer.username)
    _open_queue(page)
    row = page.get_by_test_id("queue-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("decision-badge")).to_have_text("Review")
    expect(row).to_contain_text("2 hits")
    row.get_by_role("link", name="@emp_wang").click()
    expect(page.get_by_test_id("step-status")).to_contain_text("Risk review")
    text = page.locator("section[aria-labelledby=text-title]")
    expect(text).to_contain_text("Hover a highlighted passage for the reason and a suggested rewrite.")
    marks = _text_marks(page)
    expect(marks).to_have_text(["最好的", "国内首款"])
    marks.first.hover()
    expect(marks.first).to_have_attribute("title", re.compile(r"Advertising Law art\. 9.* → great"))
    expect(marks.first).to_have_css("background-color", re.compile(r"rgb\("))
    expect(text.get_by_test_id("hit-list").locator("tbody tr")).to_have_count(2)
    # The first revision of a post of no campaign: nothing to compare with.
    expect(page.get_by_test_id("diff-previous")).to_have_count(0)
    expect(page.get_by_test_id("diff-template")).to_have_count(0)
    history = page.get_by_test_id("review-history").locator("tbody tr")
    expect(history.first).to_contain_text("Marketing approval")
    expect(history.first).to_contain_text(str(marketer))

    press_shortcut(page, "r")  # the shortcut puts the cursor in the comment
    comment = page.locator("#request-changes textarea")
    expect(comment).to_be_focused()
    comment.fill(COMMENT)
    page.locator("#request-changes").get_by_role("button", name=re.compile("Request changes")).click()
    expect(page.locator(".message.success")).to_have_text(f"Changes requested: {account}.")
    post.refresh_from_db()
    assert post.status == PostStatus.CHANGES_REQUESTED
    step = ReviewStep.objects.get(post=post, name="Risk review")
    assert (step.status, step.decided_by_id, step.comment, step.revision_sha256) == (
        "changes_requested", reviewer.pk, COMMENT, first.sha256
    )
    event = AuditEvent.objects.get(action="content.post.request_changes", object_id=str(post.pk))
    assert (event.actor_id, event.after["comment"], event.after["revision"]) == (reviewer.pk, COMMENT, 1)

    # The author is told, reads the comment on the post, fixes the text and submits it again.
    switch_user(page, live_server, employee.username)
    page.get_by_role("navigation", name="Main").get_by_test_id("nav-notifications").click()
    notification = page.get_by_test_id("notification").filter(has_text=COMMENT)
    expect(notification.locator(".badge")).to_have_text("Changes requested")
    notification.locator("button.notification-message").click()
    expect(page).to_have_url(re.compile(rf"/posts/{post.pk}/$"))
    expect(page.get_by_test_id("post-status")).to_have_text("Changes requested")
    decided = page.get_by_test_id("review-steps").locator("tbody tr", has_text="Risk review")
    expect(decided).to_contain_text("Changes requested")
    expect(decided).to_contain_text(COMMENT)
    expect(decided).to_contain_text(str(reviewer))
    page.get_by_test_id("post-actions").get_by_role("link", name="Edit").click()
    page.wait_for_load_state()  # htmx notes the text's value when it loads; a change made before that would not count as typed
    body = page.locator("#id_body")
    expect(body).to_have_value(FIRST)
    body.fill(FIXED)
    body.press("End")
    # The live check drops the hit that was fixed (a list: the count as well as the text).
    expect(page.get_by_test_id("screening-result").get_by_test_id("highlighted-text").locator("mark.hit")).to_have_text(
        ["国内首款"]
    )
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("post-status")).to_have_text("In review")
    post.refresh_from_db()
    second = post.revision
    assert (post.status, second.number, second.body, second.screening["decision"]) == (
        PostStatus.IN_REVIEW, 2, FIXED, "review"
    )

    # The marketer approves the fixed revision; the reviewer sees what changed since the first one.
    switch_user(page, live_server, marketer.username)
    _open_queue(page)
    page.get_by_test_id("queue-row").get_by_role("link", name="@emp_wang").click()
    expect(page.get_by_test_id("step-status")).to_contain_text("Marketing approval")
    _approve_on_the_review_page(page, account)

    switch_user(page, live_server, reviewer.username)
    _open_queue(page)
    page.get_by_test_id("queue-row").get_by_role("link", name="@emp_wang").click()
    expect(page.get_by_test_id("step-status")).to_contain_text("Risk review")
    expect(_text_marks(page)).to_have_text(["国内首款"])
    diff = page.get_by_test_id("diff-previous")
    expect(diff.get_by_role("heading")).to_have_text("Against revision 1")
    expect(diff.locator("del")).to_have_text(REMOVED)
    expect(diff.locator("ins")).to_have_text(ADDED)
    expect(page.get_by_test_id("review-history")).to_contain_text(COMMENT)
    _approve_on_the_review_page(page, account)
    expect(page.locator(".message.info")).to_have_text("Nothing else waits for you.")
    expect(page.get_by_test_id("queue-empty")).to_be_visible()

    post.refresh_from_db()
    assert (post.status, post.approved_revision_id) == (PostStatus.SCHEDULED, second.pk)
    assert _steps(post) == [
        (1, "Marketing approval", "approved", marketer.pk, first.sha256),
        (1, "Risk review", "changes_requested", reviewer.pk, first.sha256),
        (2, "Marketing approval", "approved", marketer.pk, second.sha256),
        (2, "Risk review", "approved", reviewer.pk, second.sha256),
    ]
    assert list(Review.objects.filter(post=post).order_by("id").values_list("status", flat=True)) == [
        "changes_requested", "approved"
    ]
    approvals = AuditEvent.objects.filter(action="approvals.step.approve").order_by("id")
    assert [(e.actor_id, e.after["revision"]) for e in approvals] == [
        (marketer.pk, 1), (marketer.pk, 2), (reviewer.pk, 2)
    ]
    post_events = AuditEvent.objects.filter(object_type="content.post", object_id=str(post.pk)).order_by("id")
    assert [(e.action, e.actor_id) for e in post_events] == [
        ("content.post.create", employee.pk),
        ("content.post.submit", employee.pk),
        ("content.post.request_changes", reviewer.pk),
        ("content.post.update", employee.pk),
        ("content.post.submit", employee.pk),
        ("content.post.approve", reviewer.pk),
    ]

    # The author sees it scheduled.
    switch_user(page, live_server, employee.username)
    page.goto(f"{live_server.url}/posts/{post.pk}/")
    expect(page.get_by_test_id("post-status")).to_have_text("Scheduled")


def test_queue_shortcuts_move_open_and_approve_and_the_help_lists_them(
    page, live_server, brand, marketer, employee, account
):
    """j/k move through the queue, ? shows the help, Enter opens, j goes on to the next post from a
    review page, u goes back, and a on the queue approves a post without hits."""
    other = UserFactory(username="li.lei", role="employee", brand=brand)
    from matrix.models import Platform

    other_account = SocialAccountFactory(brand=brand, platform=Platform.objects.get(slug="weibo"), tier="employee",
                                         owner=other, handle="emp_li")
    risky = _submitted(employee, account)
    clean = _submitted(other, other_account, body="周末到店试驾，欢迎预约。")
    assert clean.revision.screening["hits"] == []

    login(page, live_server, marketer.username)
    _open_queue(page)
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(2)  # oldest first
    expect(rows.nth(0)).to_contain_text("@emp_wang")
    expect(rows.nth(1)).to_contain_text("@emp_li")
    selected = page.locator("[data-queue-row].is-selected")
    press_shortcut(page, "j")
    expect(selected).to_contain_text("@emp_wang")
    press_shortcut(page, "j")
    expect(selected).to_contain_text("@emp_li")
    press_shortcut(page, "k")
    expect(selected).to_contain_text("@emp_wang")

    press_shortcut(page, "?")
    help_dialog = page.locator("#shortcut-help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Next / previous post in the list")
    press_shortcut(page, "?")
    expect(help_dialog).to_be_hidden()

    press_shortcut(page, "Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("@emp_wang")
    press_shortcut(page, "j")  # the next post in the queue
    expect(page.get_by_role("heading", level=1)).to_contain_text("@emp_li")
    press_shortcut(page, "k")
    expect(page.get_by_role("heading", level=1)).to_contain_text("@emp_wang")
    press_shortcut(page, "u")
    expect(page.get_by_test_id("queue-table")).to_be_visible()

    # On the queue, a approves the selected post when it has no hits to look at.
    press_shortcut(page, "j")
    press_shortcut(page, "j")
    expect(selected).to_contain_text("@emp_li")
    press_shortcut(page, "a")
    expect(page.locator(".message.success")).to_have_text("Approved 1 post(s).")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("@emp_wang")
    clean.refresh_from_db()
    risky.refresh_from_db()
    assert (clean.status, risky.status) == (PostStatus.SCHEDULED, PostStatus.IN_REVIEW)
    step = ReviewStep.objects.get(post=clean)
    assert (step.status, step.decided_by_id) == ("approved", marketer.pk)
    assert AuditEvent.objects.filter(action="approvals.step.approve", actor=marketer).count() == 1


@pytest.mark.browser_locale("zh-CN")
def test_a_reviewer_requests_changes_in_simplified_chinese(page, live_server, employee, account, marketer, reviewer):
    post = _submitted(employee, account)
    services.post_approve(actor=marketer, post=post, revision_sha256=post.revision.sha256)

    login(page, live_server, reviewer.username)  # a reviewer lands on the queue
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_contain_text(zh("Review queue"))
    row = page.get_by_test_id("queue-row")
    expect(row.get_by_test_id("decision-badge")).to_have_text(zh("Review"))
    row.get_by_role("link", name="@emp_wang").click()

    for heading in ("Text", "Review history", "Your decision"):
        expect(page.get_by_role("heading", level=2, name=zh(heading), exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text(zh("Hover a highlighted passage for the reason and a suggested rewrite."))
    mark = _text_marks(page).first
    hit = engine.builtin_policy().screen(FIRST).hits[0]
    with translation.override("zh-hans"):
        explanation, suggestion = message_parts(hit.message)
    expect(mark).to_have_attribute("title", f"{explanation} → {suggestion}")

    press_shortcut(page, "?")
    help_dialog = page.locator("#shortcut-help")
    expect(help_dialog.get_by_role("heading")).to_have_text(zh("Keyboard shortcuts"))
    expect(help_dialog).to_contain_text(zh("Next / previous post in your queue"))
    press_shortcut(page, "?")
    expect(help_dialog).to_be_hidden()

    press_shortcut(page, "r")
    form = page.locator("#request-changes")
    expect(form.locator("textarea")).to_be_focused()
    expect(form.locator("label")).to_have_text(zh("What needs to change"))
    form.locator("textarea").fill(COMMENT)
    submit = form.get_by_role("button")
    expect(submit).to_contain_text(zh("Request changes"))
    submit.click()

    expect(page.locator(".message.success")).to_have_text(zh("Changes requested: %(account)s.") % {"account": account})
    expect(page.locator(".message.info")).to_have_text(zh("Nothing else waits for you."))
    expect(page.get_by_test_id("queue-empty")).to_have_text(zh("Nothing waits for you. Well done."))
    post = Post.objects.get(pk=post.pk)
    assert post.status == PostStatus.CHANGES_REQUESTED
    step = ReviewStep.objects.get(post=post, name="Risk review")
    assert (step.status, step.decided_by_id, step.comment) == ("changes_requested", reviewer.pk, COMMENT)
    assert AuditEvent.objects.filter(action="content.post.request_changes", actor=reviewer,
                                     object_id=str(post.pk)).exists()
