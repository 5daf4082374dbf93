"""A dealer operator adapts the campaign draft a marketer pushed to them: filling in the fields keeps
the campaign's approved wording, so the post is scheduled without a person; changing the wording sends
it to a marketer, who sees the change against the template."""

import re

import pytest
from playwright.sync_api import expect

from approvals.models import AuditEvent, Review, ReviewStep
from content import services
from content.models import Post, PostStatus
from tests.e2e.helpers import login, switch_user
from tests.factories import DealerFactory, SocialAccountFactory, UserFactory

TEMPLATE = "{dealer_name}春季试驾开启，欢迎来{city}店里看看。"
DEALER_NAME = "极光汽车浦东店"
CITY = "上海"
FILLED = f"{DEALER_NAME}春季试驾开启，欢迎来{CITY}店里看看。"
ADDED = "，到店即送精美礼品"


@pytest.fixture
def pushed(brand, marketer):
    """The marketer's spring campaign pushed to the brand's two dealer accounts, each with its own
    operator. Returns the Pudong operator and the draft they received."""
    from matrix.models import Platform

    wechat = Platform.objects.get(slug="wechat_oa")
    pudong = DealerFactory(brand=brand, code="E101", name=DEALER_NAME, region="East", city=CITY)
    hangzhou = DealerFactory(brand=brand, code="E102", name="极光汽车西湖店", region="East", city="杭州")
    operator = UserFactory(username="pudong.operator", role="dealer_operator", brand=brand, dealer=pudong,
                           first_name="Mei", last_name="Zhou")
    other = UserFactory(username="xihu.operator", role="dealer_operator", brand=brand, dealer=hangzhou)
    account = SocialAccountFactory(brand=brand, platform=wechat, tier="dealer", dealer=pudong, handle="aurora_pudong",
                                   operators=[operator])
    SocialAccountFactory(brand=brand, platform=wechat, tier="dealer", dealer=hangzhou, handle="aurora_xihu",
                         operators=[other])
    campaign = services.campaign_create(actor=marketer, brand=brand, name="春季试驾", brief="Spring test drives at every store.",
                                        template_body=TEMPLATE, target={"tiers": ["dealer"]})
    report = services.campaign_push(actor=marketer, campaign=campaign)
    assert len(report.created) == 2 and not report.skipped
    draft = Post.objects.get(campaign=campaign, account=account)
    assert (draft.author, draft.body, draft.status) == (operator, FILLED, PostStatus.DRAFT)
    return operator, draft


def _open_draft(page, live_server, operator, draft):
    """The operator follows the notification to the draft and opens it for editing."""
    login(page, live_server, operator.username)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_test_id("nav-notifications").locator(".unread-badge")).to_have_text("1")
    nav.get_by_test_id("nav-notifications").click()
    notification = page.get_by_test_id("notification")
    expect(notification).to_have_count(1)  # the other store's draft is not theirs
    expect(notification).to_contain_text("Campaign draft to adapt")
    notification.get_by_role("button", name=re.compile("春季试驾")).click()

    expect(page).to_have_url(re.compile(rf"/posts/{draft.pk}/$"))
    expect(page.get_by_test_id("post-status")).to_have_text("Draft")
    expect(page.get_by_test_id("draft-body")).to_have_text(FILLED)
    page.get_by_test_id("post-actions").get_by_role("link", name="Edit").click()
    page.wait_for_load_state()  # htmx notes the text's value when it loads; a change made before that would not count as typed
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit post")

    # The campaign's wording is shown locked, its fields as inputs holding this store's values.
    template = page.get_by_test_id("campaign-template")
    expect(template.get_by_role("heading", level=2)).to_have_text("Campaign “春季试驾”")
    expect(template.locator(".locked-wording")).to_have_text(["春季试驾开启，欢迎来", "店里看看。"])
    expect(template.locator(".template-text .template-field")).to_have_text(["{dealer_name}", "{city}"])
    expect(template.locator("#tpl_dealer_name")).to_have_value(DEALER_NAME)
    expect(template.locator("#tpl_city")).to_have_value(CITY)
    expect(page.locator("#id_body")).to_have_value(FILLED)
    expect(page.get_by_test_id("template-diff").locator(".message")).to_have_class(re.compile(r"\bsuccess\b"))
    return template


def test_a_dealer_operator_fills_in_a_field_and_the_unchanged_wording_is_scheduled_without_a_person(
    page, live_server, pushed
):
    operator, draft = pushed
    template = _open_draft(page, live_server, operator, draft)

    template.locator("#tpl_city").fill("上海浦东")
    adapted = f"{DEALER_NAME}春季试驾开启，欢迎来上海浦东店里看看。"
    expect(page.locator("#id_body")).to_have_value(adapted)  # the text follows the field
    result = page.get_by_test_id("screening-result")
    expect(result.get_by_test_id("decision")).to_have_text("Pass: nothing found")
    diff = page.get_by_test_id("template-diff")
    expect(diff.locator(".message.success")).to_contain_text("scheduled without waiting for a person")
    expect(diff.get_by_test_id("diff")).to_have_count(0)

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("post-status")).to_have_text("Scheduled")
    expect(page.locator(".message.success")).to_have_text(
        f"{draft.account}: approved without a human step and scheduled."
    )
    # No hits, so no risk review; the marketer's step is skipped for the unchanged wording.
    steps = page.get_by_test_id("review-steps").locator("tbody tr")
    expect(steps).to_have_count(1)
    expect(steps.locator(".pill")).to_have_class(re.compile(r"\bstep-skipped\b"))

    post = Post.objects.select_related("revision", "approved_revision").get(pk=draft.pk)
    assert (post.status, post.body, post.revision.number, post.approved_revision_id) == (
        PostStatus.SCHEDULED, adapted, 1, post.revision_id
    )
    review = Review.objects.get(post=post)
    assert review.status == "approved"
    assert [(s.name, s.status, s.decided_by_id, s.comment) for s in ReviewStep.objects.filter(post=post)] == [
        ("Marketing approval", "skipped", None, "unchanged campaign template without hits"),
    ]
    events = list(AuditEvent.objects.filter(object_type="content.post", object_id=str(post.pk)).order_by("id"))
    # The draft was created by the push, for the operator (content.campaign.push lists it too).
    assert [e.action for e in events] == [
        "content.post.create", "content.post.update", "content.post.submit", "content.post.approve",
    ]
    push = AuditEvent.objects.get(action="content.campaign.push", object_id=str(post.campaign_id))
    assert post.pk in push.after["created"]
    created, update, submit, approve = events
    assert created.actor_id == push.actor_id and created.after["author_id"] == operator.pk
    assert update.actor_id == operator.pk
    assert submit.actor_id == operator.pk and submit.after["template_unchanged"] is True
    assert approve.actor_id is None and approve.after["automatic"] is True
    # Nobody else's draft moved.
    assert set(Post.objects.exclude(pk=post.pk).values_list("status", flat=True)) == {PostStatus.DRAFT}


def test_changing_the_campaign_wording_sends_the_draft_to_a_marketer_who_sees_the_change(
    page, live_server, pushed, marketer
):
    operator, draft = pushed
    _open_draft(page, live_server, operator, draft)

    body = page.locator("#id_body")
    edited = FILLED.removesuffix("。") + ADDED + "。"  # a new claim: no longer the approved wording
    body.fill(edited)
    body.press("End")
    diff = page.get_by_test_id("template-diff")
    expect(diff.locator(".message.warning")).to_contain_text("a person reviews this post before it goes out")
    expect(diff.get_by_test_id("diff").locator("ins")).to_have_text(ADDED)
    expect(page.get_by_test_id("screening-result").get_by_test_id("decision")).to_have_text("Pass: nothing found")

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("post-status")).to_have_text("In review")
    expect(page.locator(".message.success")).to_have_text(f"{draft.account}: submitted; the post waits for review.")

    post = Post.objects.select_related("revision").get(pk=draft.pk)
    assert (post.status, post.body, post.revision.number) == (PostStatus.IN_REVIEW, edited, 1)
    # No hits: the marketer's step alone, no risk review.
    assert [(s.name, s.status) for s in ReviewStep.objects.filter(post=post)] == [("Marketing approval", "in_progress")]
    submit = AuditEvent.objects.get(action="content.post.submit", object_id=str(post.pk))
    assert submit.actor_id == operator.pk and submit.after["template_unchanged"] is False

    # The marketer opens it from the queue and sees what changed against the campaign template.
    switch_user(page, live_server, marketer.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    row = page.get_by_test_id("queue-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Campaign: 春季试驾")
    row.get_by_role("link", name="@aurora_pudong").click()
    template_diff = page.get_by_test_id("diff-template")
    expect(template_diff.get_by_role("heading")).to_have_text("Against the campaign template")
    expect(template_diff.locator("ins")).to_have_text(ADDED)
    expect(template_diff.locator("del")).to_have_count(0)
    expect(template_diff.locator(".template-fields dd")).to_have_text([DEALER_NAME, CITY])
    expect(page.get_by_test_id("diff-previous")).to_have_count(0)  # the first revision

    page.locator("#approve-form").get_by_role("button", name=re.compile("Approve")).click()
    expect(page.locator(".message.success").first).to_have_text(f"Approved: {draft.account}.")
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.approved_revision_id == post.revision_id
    step = ReviewStep.objects.get(post=post)
    assert (step.status, step.decided_by_id, step.revision_sha256) == ("approved", marketer.pk, post.revision.sha256)
    assert AuditEvent.objects.filter(action="approvals.step.approve", object_id=str(step.pk), actor=marketer).exists()
