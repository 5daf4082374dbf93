"""The post list and a post's page: who sees what, filters, keyset pages, the review with its
decisions bound to the revision seen, the audit trail, and query counts that do not grow."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import ReviewStep
from content import selectors, services
from content.models import Post, PostStatus
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=True):
        yield


def later(hours=24):
    return NOW + timedelta(hours=hours)


def many_posts(account, author, count, **fields):
    """`count` drafts straight in the table (a read test needs rows, not the services' checks)."""
    return Post.objects.bulk_create([Post(account=account, author=author, body=f"post {i}", **fields)
                                     for i in range(count)])


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_only_the_posts_the_viewer_may_see(client, brand_account, employee_account, employee, author,
                                                          outsider):
    mine = services.post_create(actor=employee, account=employee_account, body="我的")
    brand_post = services.post_create(actor=author, account=brand_account, body="品牌")
    client.force_login(employee)
    assert [p.pk for p in client.get("/posts/").context["page"].posts] == [mine.pk]
    client.force_login(author)
    assert [p.pk for p in client.get("/posts/").context["page"].posts] == [brand_post.pk, mine.pk]
    client.force_login(outsider)
    assert client.get("/posts/").context["page"].posts == []


def test_the_list_filters(client, brand, platforms, brand_account, dealer_account, author, marketer):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="C1", template_body="x")
    a = services.post_create(actor=author, account=brand_account, body="新车上市 launch", scheduled_at=later(24))
    b = services.post_create(actor=marketer, account=dealer_account, body="试驾", scheduled_at=later(24 * 5),
                             campaign=campaign)
    c = services.post_create(actor=author, account=brand_account, body="LAUNCH party")
    services.post_submit(actor=author, post=c)
    client.force_login(marketer)

    def shown(query):
        response = client.get("/posts/?" + query)
        assert response.status_code == 200
        return {p.pk for p in response.context["page"].posts}

    assert shown("status=in_review") == {c.pk}
    assert shown("tier=dealer") == {b.pk}
    assert shown(f"platform={platforms['weibo'].pk}") == {a.pk, c.pk}
    assert shown(f"campaign={campaign.pk}") == {b.pk}
    assert shown("author=me") == {b.pk}
    assert shown(f"author={author.pk}") == {a.pk, c.pk}
    assert shown("q=launch") == {a.pk, c.pk}
    assert shown(f"brand={brand.pk}") == {a.pk, b.pk, c.pk}
    # Dates are days in the viewer's zone (Asia/Shanghai).
    assert shown("scheduled_from=2026-02-03&scheduled_to=2026-02-03") == {a.pk}
    assert shown("scheduled_from=2026-02-04") == {b.pk}
    assert shown("scheduled_to=2026-02-01") == set()


def test_a_bad_filter_shows_the_error_and_no_posts(client, marketer, brand_account):
    services.post_create(actor=marketer, account=brand_account, body="x")
    client.force_login(marketer)
    response = client.get("/posts/?status=nonsense")
    assert response.context["page"] is None
    assert response.context["form"].errors["status"]


def test_pages_walk_by_keyset_newest_first_even_when_times_tie(client, marketer, brand_account):
    with time_machine.travel(NOW, tick=False):  # every row gets the same created_at
        posts = many_posts(brand_account, marketer, 57)
    expected = [p.pk for p in sorted(posts, key=lambda p: p.pk, reverse=True)]
    client.force_login(marketer)
    first = client.get("/posts/").context["page"]
    assert [p.pk for p in first.posts] == expected[:50]
    assert first.has_next and not first.has_previous
    second = client.get(f"/posts/?after={first.next_cursor}").context["page"]
    assert [p.pk for p in second.posts] == expected[50:]
    assert second.has_previous and not second.has_next
    back = client.get(f"/posts/?before={second.previous_cursor}").context["page"]
    assert [p.pk for p in back.posts] == expected[:50]
    assert not back.has_previous and back.has_next


def test_the_page_links_keep_the_filters(client, marketer, brand_account):
    many_posts(brand_account, marketer, 52, status=PostStatus.DRAFT)
    client.force_login(marketer)
    html = client.get("/posts/?status=draft").content.decode()
    assert "?status=draft&amp;after=" in html


def test_a_nonsense_cursor_is_the_first_page(client, marketer, brand_account):
    many_posts(brand_account, marketer, 3)
    client.force_login(marketer)
    assert len(client.get("/posts/?after=abc.1").context["page"].posts) == 3
    assert selectors.decode_cursor("99999999999999999999999.1") is None


def test_the_total_is_shown_only_when_everything_fits_on_one_page(client, marketer, brand_account):
    many_posts(brand_account, marketer, 5)
    client.force_login(marketer)
    response = client.get("/posts/")
    assert response.context["page"].count == 5 and 'data-testid="post-count">(5)' in response.content.decode()
    many_posts(brand_account, marketer, 50)
    response = client.get("/posts/")
    assert response.context["page"].count is None and 'data-testid="post-count"' not in response.content.decode()


def test_the_list_uses_the_same_number_of_queries_for_5_or_60_posts(client, marketer, brand, platforms, brand_account,
                                                                    django_assert_max_num_queries):
    client.force_login(marketer)
    dealer = SocialAccountFactory(brand=brand, tier="dealer", platform=platforms["douyin"])
    many_posts(brand_account, marketer, 3)
    many_posts(dealer, UserFactory(brand=brand, role="marketer"), 2)
    url = "/posts/?q=post&tier=dealer&status=draft"
    small = queries(client, "/posts/"), queries(client, url)
    for _ in range(6):
        account = SocialAccountFactory(brand=brand, tier="dealer", platform=platforms["weibo"])
        many_posts(account, UserFactory(brand=brand, role="employee"), 10)
    assert (queries(client, "/posts/"), queries(client, url)) == small
    # Session, user, the filters' brands, platforms and campaigns, the page's rows, "may compose",
    # and the navigation's unread notification count; +1: the pause banner.
    with django_assert_max_num_queries(9):
        client.get("/posts/")


def test_the_list_escapes_what_authors_typed(client, marketer, brand_account):
    services.post_create(actor=marketer, account=brand_account, body="<script>alert(1)</script>")
    client.force_login(marketer)
    html = client.get("/posts/").content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


# --- one post -------------------------------------------------------------------------------


def test_an_outsider_gets_404_on_another_brands_post(client, outsider, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="内部")
    client.force_login(outsider)
    assert client.get(f"/posts/{post.pk}/").status_code == 404
    assert client.post(f"/posts/{post.pk}/cancel/").status_code == 404
    assert client.post(f"/posts/{post.pk}/decide/", {"decision": "approve", "revision_sha256": "x"}).status_code == 404
    assert Post.objects.get(pk=post.pk).status == PostStatus.DRAFT


def test_the_page_shows_the_time_in_the_accounts_zone_and_the_viewers(client, marketer, brand, platforms):
    ny = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us", timezone="America/New_York")
    post = services.post_create(actor=marketer, account=ny, body="Hello", scheduled_at=datetime(2026, 6, 1, 13, 0, tzinfo=UTC))
    client.force_login(marketer)  # the viewer's zone is Asia/Shanghai
    html = client.get(f"/posts/{post.pk}/").content.decode()
    assert "2026-06-01 09:00</strong> America/New_York" in html
    assert "2026-06-01 21:00 Asia/Shanghai" in html


def test_the_page_highlights_the_hits_of_the_submitted_revision(client, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="我们是行业第一的品牌 <i>x</i>")
    post = services.post_submit(actor=author, post=post)
    client.force_login(author)
    html = client.get(f"/posts/{post.pk}/").content.decode()
    assert '<mark class="hit hit-review"' in html and "第一</mark>" in html
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "<i>x</i>" not in html


def test_revisions_show_what_changed_from_the_one_before(client, author, marketer, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="周末试驾活动", scheduled_at=later())
    post = services.post_submit(actor=author, post=post)
    post = services.post_request_changes(actor=marketer, post=post, comment="加上时间")
    services.post_update(actor=author, post=post, body="周末试驾活动，周六10点 <b>")
    services.post_submit(actor=author, post=post)
    client.force_login(author)
    response = client.get(f"/posts/{post.pk}/")
    revisions = response.context["revisions"]
    assert [r.number for r in revisions] == [2, 1]
    assert ("insert", "，周六10点 <b>") in revisions[0].diff
    html = response.content.decode()
    assert "<ins>，周六10点 &lt;b&gt;</ins>" in html


def test_the_review_steps_and_the_audit_trail(client, author, marketer, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="新车上市", scheduled_at=later())
    post = services.post_submit(actor=author, post=post)
    post = services.post_approve(actor=marketer, post=post, comment="好", revision_sha256=post.revision.sha256)
    client.force_login(author)
    response = client.get(f"/posts/{post.pk}/")
    [review] = response.context["reviews"]
    [step] = review.steps.all()
    assert step.who == "Marketer" and step.decided_by == marketer
    html = response.content.decode()
    assert post.revision.sha256[:12] in html and "好" in html
    actions = [e.action for e in response.context["events"]]
    assert actions == ["content.post.create", "content.post.submit", "approvals.step.approve", "content.post.approve"]


def test_the_author_gets_edit_submit_and_cancel_but_not_approve(client, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="初稿", scheduled_at=later())
    client.force_login(author)
    response = client.get(f"/posts/{post.pk}/")
    assert response.context["can_edit"] and response.context["can_submit"] and response.context["can_cancel"]
    services.post_submit(actor=author, post=post)
    response = client.get(f"/posts/{post.pk}/")
    assert not response.context["can_submit"] and response.context["decision_form"] is None


def test_approving_from_the_page(client, author, marketer, brand_account):
    post = services.post_submit(actor=author, post=services.post_create(
        actor=author, account=brand_account, body="新车上市", scheduled_at=later()))
    client.force_login(marketer)
    page = client.get(f"/posts/{post.pk}/")
    sha = page.context["decision_form"]["revision_sha256"].value()
    assert sha == post.revision.sha256 and f'value="{sha}"' in page.content.decode()
    response = client.post(f"/posts/{post.pk}/decide/", {"decision": "approve", "comment": "ok", "revision_sha256": sha})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert ReviewStep.objects.get(post=post).revision_sha256 == sha


def test_approving_a_stale_page_is_refused_with_the_message(client, author, marketer, brand_account):
    post = services.post_submit(actor=author, post=services.post_create(
        actor=author, account=brand_account, body="周末试驾活动", scheduled_at=later()))
    client.force_login(marketer)
    seen = client.get(f"/posts/{post.pk}/").context["decision_form"]["revision_sha256"].value()
    services.post_update(actor=author, post=post, body="周末试驾活动，名额有限")  # a new revision under review
    response = client.post(f"/posts/{post.pk}/decide/", {"decision": "approve", "comment": "看过了",
                                                         "revision_sha256": seen})
    assert response.status_code == 409
    html = response.content.decode()
    assert "The post changed after you opened it; review the new revision." in html
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.revision.number == 2
    # The page now shows the new revision, the form is bound to it and the comment is kept.
    form = response.context["decision_form"]
    assert form["revision_sha256"].value() == post.revision.sha256 != seen
    assert form["comment"].value() == "看过了"
    assert "名额有限" in html


def test_requesting_changes_needs_a_comment_next_to_the_field(client, author, marketer, brand_account):
    post = services.post_submit(actor=author, post=services.post_create(
        actor=author, account=brand_account, body="草稿", scheduled_at=later()))
    client.force_login(marketer)
    response = client.post(f"/posts/{post.pk}/decide/", {"decision": "request_changes", "comment": " ",
                                                         "revision_sha256": post.revision.sha256})
    assert response.status_code == 400
    assert response.context["decision_form"].errors["comment"] == ["Say what needs to change."]
    response = client.post(f"/posts/{post.pk}/decide/", {"decision": "request_changes", "comment": "加上时间",
                                                         "revision_sha256": post.revision.sha256})
    assert response.status_code == 302
    assert Post.objects.get(pk=post.pk).status == PostStatus.CHANGES_REQUESTED


def test_someone_whose_step_it_is_not_gets_403(client, author, reviewer, brand_account):
    post = services.post_submit(actor=author, post=services.post_create(
        actor=author, account=brand_account, body="新车上市", scheduled_at=later()))
    client.force_login(reviewer)
    assert client.get(f"/posts/{post.pk}/").context["decision_form"] is None
    response = client.post(f"/posts/{post.pk}/decide/", {"decision": "approve", "revision_sha256": post.revision.sha256})
    assert response.status_code == 403
    assert Post.objects.get(pk=post.pk).status == PostStatus.IN_REVIEW


def test_cancelling_and_submitting_from_the_page(client, author, reviewer, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="新车上市", scheduled_at=later())
    client.force_login(reviewer)
    assert client.post(f"/posts/{post.pk}/cancel/").status_code == 403
    client.force_login(author)
    assert 'data-testid="cancel-form"' in client.get(f"/posts/{post.pk}/").content.decode()
    assert client.post(f"/posts/{post.pk}/submit/").status_code == 302
    assert Post.objects.get(pk=post.pk).status == PostStatus.IN_REVIEW
    response = client.post(f"/posts/{post.pk}/cancel/", {"reason": "活动取消"}, follow=True)
    assert "The post is cancelled." in response.content.decode()
    assert Post.objects.get(pk=post.pk).status == PostStatus.CANCELLED
    # Cancelling twice says why not.
    response = client.post(f"/posts/{post.pk}/cancel/", follow=True)
    assert "cannot be cancelled" in response.content.decode()


def test_the_pages_only_accept_post_for_changes(client, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="x")
    client.force_login(author)
    for action in ("submit", "cancel", "decide"):
        assert client.get(f"/posts/{post.pk}/{action}/").status_code == 405


def test_the_detail_page_uses_the_same_number_of_queries_for_one_or_many_revisions(
        client, author, marketer, reviewer, brand_account, django_assert_max_num_queries):
    one = services.post_submit(actor=author, post=services.post_create(
        actor=author, account=brand_account, body="新车", scheduled_at=later()))
    many = services.post_create(actor=author, account=brand_account, body="第一版 行业第一", scheduled_at=later())
    for i in range(3):
        many = services.post_submit(actor=author, post=many)
        services.post_approve(actor=marketer, post=many)
        many = services.post_request_changes(actor=reviewer, post=many, comment=f"改 {i}")
        services.post_update(actor=author, post=many, body=f"第{i + 2}版 行业第一")
    many = services.post_submit(actor=author, post=many)
    client.force_login(marketer)
    assert queries(client, f"/posts/{one.pk}/") == queries(client, f"/posts/{many.pk}/")
    with django_assert_max_num_queries(16):
        client.get(f"/posts/{many.pk}/")
