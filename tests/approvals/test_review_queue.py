"""The review queue and the review page: who sees what waits for them, deciding through the page,
stale and bulk decisions, diffs, keyset pages and query counts."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import selectors
from approvals.models import AuditEvent, ReviewStep, StepStatus
from content import services
from content.models import PostStatus
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

CLEAN = "新车今日上市，欢迎到店试驾。"
RISKY = "我们是行业第一的品牌"  # ad_law: sends the post to a reviewer step


def later(hours=24):
    return timezone.now() + timedelta(hours=hours)


@pytest.fixture
def author(brand):
    """A second marketer who writes the posts the `marketer` fixture reviews."""
    return UserFactory(role="marketer", brand=brand, username="author.marketer")


def submitted(actor, account, body=CLEAN, **extra):
    post = services.post_create(actor=actor, account=account, body=body, scheduled_at=later(), **extra)
    return services.post_submit(actor=actor, post=post)


def current_step(post):
    return ReviewStep.objects.get(post=post, status=StepStatus.IN_PROGRESS)


def queue_posts(user, **filters):
    return [step.post for step in selectors.review_queue(user=user, filters=filters)]


def page_queue_posts(client, user, query=""):
    client.force_login(user)
    response = client.get(f"/review/{query}")
    assert response.status_code == 200
    return [row["post"] for row in response.context["rows"]]


# --- who sees what ----------------------------------------------------------------------------


def test_the_queue_shows_a_marketer_what_waits_for_them_and_not_their_own_posts(client, brand_account, marketer, author):
    post = submitted(author, brand_account)
    own = submitted(marketer, brand_account, body="周末到店有礼")
    assert page_queue_posts(client, marketer) == [post]
    assert page_queue_posts(client, author) == [own]


def test_the_queue_never_shows_another_brands_posts(client, brand_account, marketer, author, outsider, other_brand,
                                                    platforms):
    submitted(author, brand_account)
    theirs_account = SocialAccountFactory(brand=other_brand, platform=platforms["weibo"], tier="brand", handle="borealis")
    other_author = UserFactory(role="marketer", brand=other_brand, username="other.author")
    theirs = submitted(other_author, theirs_account)
    assert page_queue_posts(client, outsider) == [theirs]
    assert theirs not in page_queue_posts(client, marketer)
    assert client.get(f"/review/{current_step(theirs).pk}/").status_code == 404


def test_a_reviewer_sees_only_review_decision_posts_once_they_reach_the_reviewer_step(brand_account, marketer, author,
                                                                                      reviewer):
    risky = submitted(author, brand_account, body=RISKY)
    clean = submitted(author, brand_account)
    assert queue_posts(reviewer) == []  # both wait for a marketer first
    services.post_approve(actor=marketer, post=risky)
    services.post_approve(actor=marketer, post=clean)
    assert queue_posts(reviewer) == [risky]
    assert queue_posts(marketer) == []
    assert services.post_approve(actor=reviewer, post=risky).status == PostStatus.SCHEDULED
    assert queue_posts(reviewer) == []


def test_an_executive_sees_the_owner_step_of_their_own_account(executive_account, executive, marketer, reviewer):
    post = submitted(marketer, executive_account, body="Proud of our team this year.")
    assert queue_posts(executive) == [post]
    assert queue_posts(reviewer) == []
    services.post_approve(actor=executive, post=post)
    assert queue_posts(executive) == []
    assert queue_posts(reviewer) == [post]


def test_an_escalated_step_waits_for_the_backup_group_too(brand, brand_account, author, employee):
    post = submitted(author, brand_account)
    backup = Group.objects.create(name="PR backup")
    employee.groups.add(backup)
    step = current_step(post)
    ReviewStep.objects.filter(pk=step.pk).update(backup_group=backup)
    assert queue_posts(employee) == []  # not escalated yet
    ReviewStep.objects.filter(pk=step.pk).update(escalated_at=timezone.now())
    assert queue_posts(employee) == [post]


def test_a_person_who_approved_one_step_is_not_offered_the_next(brand_account, marketer, author):
    post = submitted(author, brand_account, body=RISKY)
    group = Group.objects.get(name="marketer")
    services.post_approve(actor=marketer, post=post)
    # The next step falls to a group the same marketer is in: still not theirs (one person, one step).
    ReviewStep.objects.filter(post=post, status=StepStatus.IN_PROGRESS).update(kind="group", role="", group=group)
    assert queue_posts(marketer) == []


def test_the_queue_filters_by_tier_category_and_campaign(client, brand, brand_account, dealer_account, marketer,
                                                         author):
    campaign = services.campaign_create(actor=author, brand=brand, name="Spring", template_body="春季试驾开启。")
    on_brand = submitted(author, brand_account, campaign=campaign)
    risky = submitted(author, brand_account, body=RISKY)
    on_dealer = submitted(author, dealer_account)
    assert queue_posts(marketer) == [on_brand, risky, on_dealer]
    assert queue_posts(marketer, tier="dealer") == [on_dealer]
    assert queue_posts(marketer, category="ad_law") == [risky]
    assert queue_posts(marketer, campaign=campaign.pk) == [on_brand]
    assert page_queue_posts(client, marketer, "?category=ad_law&tier=brand") == [risky]


def test_an_admin_may_see_everything_waiting_but_decides_nothing_that_is_not_theirs(client, admin_user, brand_account,
                                                                                   author):
    post = submitted(author, brand_account)
    assert page_queue_posts(client, admin_user) == []
    response = client.get("/review/?scope=all")
    assert [row["post"] for row in response.context["rows"]] == [post]
    assert response.context["rows"][0]["approvable"] is False
    assert 'name="step"' not in response.content.decode()


def test_each_row_shows_account_author_waiting_time_overdue_mark_and_highlighted_hits(client, brand_account, marketer,
                                                                                     author):
    post = submitted(author, brand_account, body=RISKY)
    ReviewStep.objects.filter(post=post).update(due_at=timezone.now() - timedelta(minutes=5))
    client.force_login(marketer)
    html = client.get("/review/").content.decode()
    assert "@aurora_official" in html and str(author) in html
    assert "overdue" in html
    assert re.search(r'<mark class="hit hit-review" title="[^"]+"[^>]*>行业第一</mark>', html)
    # A row with hits cannot be ticked for bulk approval.
    assert 'name="step"' not in html


# --- deciding through the page -----------------------------------------------------------------


def test_approving_on_the_review_page_records_the_decision_and_opens_the_next_post(client, brand_account, marketer,
                                                                                  author):
    first = submitted(author, brand_account)
    second = submitted(author, brand_account, body="周末试驾活动")
    step = current_step(first)
    client.force_login(marketer)
    page = client.get(f"/review/{step.pk}/")
    assert page.status_code == 200
    sha = page.context["approve_form"].initial["revision_sha256"]
    assert sha == first.revision.sha256
    assert f'value="{sha}"' in page.content.decode()
    response = client.post(f"/review/{step.pk}/approve/", {"approve-revision_sha256": sha, "approve-comment": "好"})
    assert response.status_code == 302
    assert response["Location"] == f"/review/{current_step(second).pk}/"
    first.refresh_from_db()
    assert first.status == PostStatus.SCHEDULED
    step.refresh_from_db()
    assert (step.status, step.decided_by, step.comment) == (StepStatus.APPROVED, marketer, "好")
    assert AuditEvent.objects.filter(action="approvals.step.approve", object_id=str(step.pk), actor=marketer).exists()


def test_after_the_last_item_the_page_returns_to_the_queue_keeping_its_filters(client, brand_account, marketer, author):
    post = submitted(author, brand_account)
    step = current_step(post)
    client.force_login(marketer)
    response = client.post(f"/review/{step.pk}/approve/", {
        "approve-revision_sha256": post.revision.sha256, "approve-filters": "tier=brand",
    })
    assert response["Location"] == "/review/?tier=brand"


def test_request_changes_needs_a_comment_and_sends_the_post_back(client, brand_account, marketer, author):
    post = submitted(author, brand_account)
    step = current_step(post)
    client.force_login(marketer)
    response = client.post(f"/review/{step.pk}/request-changes/", {"changes-revision_sha256": post.revision.sha256,
                                                                    "changes-comment": "  "})
    assert response.status_code == 400
    assert "Say what needs to change." in response.content.decode()
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    response = client.post(f"/review/{step.pk}/request-changes/", {"changes-revision_sha256": post.revision.sha256,
                                                                    "changes-comment": "加上活动时间"})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.CHANGES_REQUESTED
    step.refresh_from_db()
    assert (step.status, step.comment) == (StepStatus.CHANGES_REQUESTED, "加上活动时间")


def test_a_decision_on_a_revision_that_changed_meanwhile_is_refused_with_the_services_message(client, brand_account,
                                                                                              marketer, author):
    post = submitted(author, brand_account)
    step = current_step(post)
    client.force_login(marketer)
    seen = client.get(f"/review/{step.pk}/").context["approve_form"].initial["revision_sha256"]
    post = services.post_update(actor=author, post=post, body="新车今日上市，限时优惠！")
    response = client.post(f"/review/{step.pk}/approve/", {"approve-revision_sha256": seen}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert "The post changed after you opened it; review the new revision." in messages
    # The reviewer lands on the new revision's step.
    assert response.context["step"] == current_step(post)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.approved_revision_id is None
    assert not AuditEvent.objects.filter(action="approvals.step.approve").exists()


def test_a_step_decided_by_someone_else_meanwhile_is_not_decided_again(client, brand, brand_account, marketer, author,
                                                                       reviewer):
    post = submitted(author, brand_account, body=RISKY)
    step = current_step(post)
    colleague = UserFactory(role="marketer", brand=brand, username="colleague")
    services.post_approve(actor=colleague, post=post)
    client.force_login(marketer)
    response = client.post(f"/review/{step.pk}/approve/", {"approve-revision_sha256": post.revision.sha256},
                           follow=True)
    assert any("decided meanwhile" in str(m) for m in response.context["messages"])
    assert current_step(post).name == "Risk review"  # still waiting for the reviewer


def test_the_author_cannot_decide_their_own_post_through_the_page(client, brand_account, author):
    post = submitted(author, brand_account)
    step = current_step(post)
    client.force_login(author)
    page = client.get(f"/review/{step.pk}/")
    assert page.status_code == 200 and not page.context["may_decide"]
    assert 'id="approve-form"' not in page.content.decode()
    response = client.post(f"/review/{step.pk}/approve/", {"approve-revision_sha256": post.revision.sha256})
    assert response.status_code == 403
    assert "You cannot approve or reject your own post." in response.content.decode()


def test_decisions_need_a_post_request_with_a_csrf_token(brand_account, marketer, author):
    from django.test import Client

    post = submitted(author, brand_account)
    step = current_step(post)
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    assert client.get(f"/review/{step.pk}/approve/").status_code == 405
    assert client.post(f"/review/{step.pk}/approve/", {"approve-revision_sha256": post.revision.sha256}).status_code == 403
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_the_post_link_opens_its_current_step(client, brand_account, marketer, author, outsider):
    post = submitted(author, brand_account)
    client.force_login(marketer)
    assert client.get(f"/review/posts/{post.pk}/")["Location"] == f"/review/{current_step(post).pk}/"
    client.force_login(outsider)
    assert client.get(f"/review/posts/{post.pk}/").status_code == 404


# --- what the review page shows ----------------------------------------------------------------


def test_the_review_page_highlights_hits_and_diffs_against_the_previous_revision(client, brand_account, marketer,
                                                                                 author):
    post = submitted(author, brand_account, body="周末试驾<b>活动</b>")
    services.post_request_changes(actor=marketer, post=post, comment="写上时间")
    post = services.post_update(actor=author, post=post, body="周六试驾<b>活动</b>，我们是行业第一")
    post = services.post_submit(actor=author, post=post)
    client.force_login(marketer)
    html = client.get(f"/review/{current_step(post).pk}/").content.decode()
    assert re.search(r'<mark class="hit hit-review" title="[^"]+"', html)
    assert "<del>末</del><ins>六</ins>" in html
    assert "<ins>，我们是行业第一</ins>" in html
    assert "&lt;b&gt;活动&lt;/b&gt;" in html and "<b>活动</b>" not in html
    assert "写上时间" in html  # the earlier request for changes, in the history


def test_the_review_page_diffs_a_campaign_post_against_its_filled_template(client, brand, dealer_account,
                                                                           dealer_operator, marketer):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Spring", target={"tiers": ["dealer"]},
                                        template_body="{dealer_name}春季试驾开启，欢迎来{city}店里看看。")
    post = services.campaign_push(actor=marketer, campaign=campaign).created[0]
    post = services.post_update(actor=dealer_operator, post=post, body=post.body.replace("欢迎", "热烈欢迎"),
                                scheduled_at=later())
    post = services.post_submit(actor=dealer_operator, post=post)
    assert post.status == PostStatus.IN_REVIEW
    client.force_login(marketer)
    html = client.get(f"/review/{current_step(post).pk}/").content.decode()
    assert 'data-testid="diff-template"' in html and "<ins>热烈</ins>" in html


# --- bulk approval -------------------------------------------------------------------------------


def test_bulk_approval_approves_clean_posts_and_refuses_posts_with_hits(client, brand_account, marketer, author):
    clean = [submitted(author, brand_account, body=f"{CLEAN} {n}") for n in range(2)]
    risky = submitted(author, brand_account, body=RISKY)
    client.force_login(marketer)
    html = client.get("/review/").content.decode()
    ticks = re.findall(r'name="step" value="(\d+)"', html)
    assert sorted(ticks) == sorted(str(current_step(p).pk) for p in clean)
    response = client.post("/review/approve-selected/", {"step": [*ticks, str(current_step(risky).pk)]}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert "Approved 2 post(s)." in messages
    assert any("It has screening hits; review it on its own." in m and f"#{risky.pk}" in m for m in messages)
    for post in clean:
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED
    risky.refresh_from_db()
    assert risky.status == PostStatus.IN_REVIEW


def test_bulk_approval_ignores_steps_that_do_not_wait_for_the_person(client, brand_account, marketer, author, reviewer):
    post = submitted(author, brand_account)
    client.force_login(reviewer)
    response = client.post("/review/approve-selected/", {"step": [str(current_step(post).pk)]}, follow=True)
    assert any("no longer wait for you" in str(m) for m in response.context["messages"])
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


def test_bulk_approval_refuses_a_post_edited_after_the_queue_showed_it(client, brand_account, marketer, author):
    post = submitted(author, brand_account)
    step = current_step(post)
    services.post_update(actor=author, post=post, body="改过的文字")
    client.force_login(marketer)
    client.post("/review/approve-selected/", {"step": [str(step.pk)]})
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW


# --- pages and query counts ---------------------------------------------------------------------


def test_the_queue_is_cut_into_keyset_pages(brand_account, marketer, author):
    posts = [submitted(author, brand_account, body=f"{CLEAN} {n}") for n in range(5)]
    first = selectors.review_queue_page(user=marketer, per_page=2)
    assert [s.post for s in first.rows] == posts[:2] and first.total == 5 and first.previous_cursor is None
    second = selectors.review_queue_page(user=marketer, after=first.next_cursor, per_page=2)
    assert [s.post for s in second.rows] == posts[2:4]
    third = selectors.review_queue_page(user=marketer, after=second.next_cursor, per_page=2)
    assert [s.post for s in third.rows] == posts[4:] and third.next_cursor is None
    back = selectors.review_queue_page(user=marketer, before=third.previous_cursor, per_page=2)
    assert [s.post for s in back.rows] == posts[2:4]
    assert selectors.review_queue_page(user=marketer, after="not-a-cursor", per_page=2).rows == first.rows


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("query", ["", "?tier=brand&category=ad_law", "?scope=all"])
def test_the_queue_page_needs_the_same_number_of_queries_for_2_or_12_posts(client, brand_account, dealer_account,
                                                                          marketer, author, admin_user, query):
    user = admin_user if "scope" in query else marketer
    client.force_login(user)
    for n in range(2):
        submitted(author, brand_account, body=f"{RISKY} {n}")
    few = _queries(client, f"/review/{query}")
    for n in range(10):
        submitted(author, dealer_account if n % 2 else brand_account, body=f"{RISKY if n % 3 else CLEAN} {n}")
    assert _queries(client, f"/review/{query}") == few
    print(f"queue page {query or '(no filter)'}: {few} queries")


def test_the_review_page_needs_the_same_number_of_queries_however_long_its_history(client, brand_account, marketer,
                                                                                   author):
    short = submitted(author, brand_account)
    long = submitted(author, brand_account, body="第一版")
    for n in range(3):
        services.post_request_changes(actor=marketer, post=long, comment=f"再改 {n}")
        long = services.post_update(actor=author, post=long, body=f"第{n + 2}版")
        long = services.post_submit(actor=author, post=long)
    client.force_login(marketer)
    # Each page has one neighbour in the queue (the other post) and the same parts to show.
    few = _queries(client, f"/review/{current_step(short).pk}/")
    assert _queries(client, f"/review/{current_step(long).pk}/") == few
    print(f"review page: {few} queries")
