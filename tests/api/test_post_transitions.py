"""The life of a post through the API: submit, approve, request changes, cancel — and the refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import AuditEvent, Review, ReviewStep
from content import services
from content.models import Post, PostStatus
from tests.factories import SocialAccountFactory, UserFactory


def later(hours=24):
    return timezone.now() + timedelta(hours=hours)


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


@pytest.fixture
def draft(author, brand_account):
    return services.post_create(actor=author, account=brand_account, body="新车今日上市，欢迎到店试驾。", scheduled_at=later())


@pytest.fixture
def in_review(author, draft):
    return services.post_submit(actor=author, post=draft)


def url(post, transition):
    return f"/api/v1/posts/{post.pk}/{transition}/"


def actions_of(post):
    return list(AuditEvent.objects.filter(object_type="content.post", object_id=str(post.pk))
                .order_by("id").values_list("action", flat=True))


# Submit


def test_submitting_a_clean_post_starts_its_review(client_for, author, draft):
    response = client_for(author).post(url(draft, "submit"))
    assert response.status_code == 200, response.content
    data = response.json()
    post = Post.objects.get()
    assert data["status"] == "in_review"
    assert data["revision"]["number"] == 1 and data["revision"]["sha256"] == post.revision.sha256
    assert data["screening"] == {"decision": "pass", "hits": []}
    assert data["submitted_at"] is not None
    [step] = data["steps"]
    assert (step["name"], step["kind"], step["status"]) == ("Marketing approval", "role", "in_progress")
    assert step["decided_by"] is None and step["due_at"] is not None and step["revision_sha256"] == ""
    assert actions_of(post) == ["content.post.create", "content.post.submit"]


def test_a_post_that_screening_blocks_is_blocked_with_its_hits(client_for, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="保本保息，稳赚不赔", scheduled_at=later())
    response = client_for(author).post(url(post, "submit"))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "blocked" and data["steps"] == []
    assert data["screening"]["decision"] == "block"
    hit = data["screening"]["hits"][0]
    assert set(hit) == {"category", "severity", "term", "start", "end", "message"}
    assert hit["category"] == "finance" and "保本保息，稳赚不赔"[hit["start"]:hit["end"]]
    assert not Review.objects.exists()
    assert actions_of(post)[-1] == "content.post.blocked"


def test_a_review_hit_adds_the_reviewer_step(client_for, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="我们是行业第一的品牌", scheduled_at=later())
    data = client_for(author).post(url(post, "submit")).json()
    assert data["screening"]["decision"] == "review"
    assert [(s["name"], s["status"]) for s in data["steps"]] == [("Marketing approval", "in_progress"),
                                                                  ("Risk review", "waiting")]


def test_an_unchanged_campaign_template_goes_straight_to_scheduled(client_for, brand, marketer, dealer_account,
                                                                   dealer_operator):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Spring",
                                        template_body="{dealer_name}春季试驾开启，欢迎来{city}店里看看。",
                                        target={"tiers": ["dealer"]})
    [post] = services.campaign_push(actor=marketer, campaign=campaign).created
    response = client_for(dealer_operator).post(url(post, "submit"))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "scheduled" and data["approved_at"] is not None
    assert {step["status"] for step in data["steps"]} == {"skipped"}
    assert data["scheduled_at"] is not None  # as soon as approved


def test_a_submitted_post_cannot_be_submitted_again(client_for, author, in_review):
    response = client_for(author).post(url(in_review, "submit"))
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert Review.objects.count() == 1


def test_a_post_for_an_account_awaiting_consent_is_refused_naming_the_account(client_for, marketer, brand, employee):
    account = SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="pending")
    post = services.post_create(actor=marketer, account=account, body="Hello")
    response = client_for(marketer).post(url(post, "submit"))
    assert response.status_code == 400
    assert list(response.json()) == ["account"]
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT and post.revision is None


@pytest.mark.parametrize(("role", "expected"), [("marketer", 200), ("reviewer", 403), ("executive", 404),
                                                ("outsider", 404)])
def test_who_may_submit(request, client_for, draft, role, expected):
    response = client_for(request.getfixturevalue(role)).post(url(draft, "submit"))
    assert response.status_code == expected, response.content
    draft.refresh_from_db()
    assert draft.status == ("in_review" if expected == 200 else "draft")


# Approve


def test_a_marketer_other_than_the_author_approves(client_for, marketer, in_review):
    response = client_for(marketer).post(url(in_review, "approve"), {"comment": "好", "revision": in_review.revision.sha256},
                                         format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "scheduled" and data["approved_at"] is not None
    [step] = data["steps"]
    assert step["status"] == "approved" and step["decided_by"] == marketer.pk and step["comment"] == "好"
    assert step["revision_sha256"] == in_review.revision.sha256 and step["decided_at"] is not None
    assert actions_of(in_review)[-1] == "content.post.approve"
    assert AuditEvent.objects.filter(action="approvals.step.approve", actor=marketer).exists()


def test_approving_without_a_revision_or_comment_is_fine(client_for, marketer, in_review):
    response = client_for(marketer).post(url(in_review, "approve"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"


def test_the_author_never_approves_their_own_post(client_for, author, in_review):
    response = client_for(author).post(url(in_review, "approve"), {"revision": in_review.revision.sha256},
                                       format="json")
    assert response.status_code == 403
    assert "own post" in response.json()["detail"]
    assert ReviewStep.objects.get().status == "in_progress"


def test_an_approval_of_a_changed_post_is_refused_naming_revision(client_for, author, marketer, in_review):
    reviewed = in_review.revision.sha256
    client_for(author).patch(f"/api/v1/posts/{in_review.pk}/", {"body": "新车今日上市，欢迎周末到店试驾。"}, format="json")
    response = client_for(marketer).post(url(in_review, "approve"), {"revision": reviewed}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["revision"]
    post = Post.objects.get()
    assert post.status == PostStatus.IN_REVIEW and post.revision.number == 2
    # Approving what is there now works.
    response = client_for(marketer).post(url(in_review, "approve"), {"revision": post.revision.sha256}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "scheduled" and response.json()["revision"]["number"] == 2


def test_a_revision_that_is_not_a_sha256_is_refused(client_for, marketer, in_review):
    response = client_for(marketer).post(url(in_review, "approve"), {"revision": "abc"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["revision"]


@pytest.mark.parametrize(("role", "expected"), [("reviewer", 403), ("dealer_operator", 404), ("executive", 404),
                                                ("outsider", 404)])
def test_only_the_steps_deciders_approve(request, client_for, in_review, role, expected):
    response = client_for(request.getfixturevalue(role)).post(url(in_review, "approve"))
    assert response.status_code == expected, response.content
    assert Post.objects.get().status == PostStatus.IN_REVIEW


def test_a_draft_cannot_be_approved(client_for, marketer, draft):
    response = client_for(marketer).post(url(draft, "approve"))
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_an_executive_approves_their_own_account_then_a_reviewer(client_for, marketer, executive, reviewer,
                                                                 executive_account):
    post = services.post_create(actor=marketer, account=executive_account, body="Proud of our team.", scheduled_at=later())
    data = client_for(marketer).post(url(post, "submit")).json()
    assert [(s["name"], s["kind"], s["status"]) for s in data["steps"]] == [
        ("Owner approval", "owner", "in_progress"), ("Risk review", "role", "waiting")]
    assert client_for(reviewer).post(url(post, "approve")).status_code == 403  # not the reviewer's step yet
    data = client_for(executive).post(url(post, "approve")).json()
    assert data["status"] == "in_review"
    assert [s["status"] for s in data["steps"]] == ["approved", "in_progress"]
    data = client_for(reviewer).post(url(post, "approve")).json()
    assert data["status"] == "scheduled"


# Request changes


def test_request_changes_needs_a_comment(client_for, marketer, in_review):
    for body in ({}, {"comment": ""}, {"comment": "   "}):
        response = client_for(marketer).post(url(in_review, "request-changes"), body, format="json")
        assert response.status_code == 400, body
        assert list(response.json()) == ["comment"]
    assert Post.objects.get().status == PostStatus.IN_REVIEW


def test_request_changes_sends_the_post_back_with_the_comment(client_for, author, marketer, in_review):
    response = client_for(marketer).post(url(in_review, "request-changes"), {"comment": "加上活动时间"}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "changes_requested"
    [step] = data["steps"]
    assert (step["status"], step["comment"], step["decided_by"]) == ("changes_requested", "加上活动时间", marketer.pk)
    assert actions_of(in_review)[-1] == "content.post.request_changes"
    # The author edits and submits again: a new review of revision 2.
    client = client_for(author)
    client.patch(f"/api/v1/posts/{in_review.pk}/", {"body": "新车今日上市，周六10点欢迎到店试驾。"}, format="json")
    data = client.post(url(in_review, "submit")).json()
    assert data["status"] == "in_review" and data["revision"]["number"] == 2
    assert [s["status"] for s in data["steps"]] == ["in_progress"]


def test_request_changes_on_a_changed_post_is_refused_naming_revision(client_for, author, marketer, in_review):
    reviewed = in_review.revision.sha256
    client_for(author).patch(f"/api/v1/posts/{in_review.pk}/", {"body": "改过了"}, format="json")
    response = client_for(marketer).post(url(in_review, "request-changes"), {"comment": "no", "revision": reviewed},
                                         format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["revision"]


def test_the_author_cannot_request_changes_on_their_own_post(client_for, author, in_review):
    response = client_for(author).post(url(in_review, "request-changes"), {"comment": "hmm"}, format="json")
    assert response.status_code == 403


# Cancel


def test_cancelling_a_post_in_review_ends_its_review(client_for, author, in_review):
    response = client_for(author).post(url(in_review, "cancel"), {"reason": "launch moved"}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "cancelled"
    assert [s["status"] for s in data["steps"]] == ["cancelled"]
    assert not Review.objects.filter(status="in_progress").exists()
    event = AuditEvent.objects.get(action="content.post.cancel")
    assert event.after == {"status": "cancelled", "reason": "launch moved"} and event.actor == author


def test_cancelling_needs_no_reason(client_for, author, draft):
    response = client_for(author).post(url(draft, "cancel"))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


def test_a_cancelled_post_cannot_be_cancelled_or_submitted_again(client_for, author, draft):
    client = client_for(author)
    client.post(url(draft, "cancel"))
    for transition in ("cancel", "submit"):
        response = client.post(url(draft, transition))
        assert response.status_code == 400
        assert list(response.json()) == ["non_field_errors"]


@pytest.mark.parametrize(("role", "expected"), [("marketer", 200), ("reviewer", 403), ("employee", 404),
                                                ("outsider", 404)])
def test_who_may_cancel(request, client_for, in_review, role, expected):
    response = client_for(request.getfixturevalue(role)).post(url(in_review, "cancel"))
    assert response.status_code == expected, response.content
    assert Post.objects.get().status == ("cancelled" if expected == 200 else "in_review")


# Outsiders


@pytest.mark.parametrize("transition", ["submit", "approve", "request-changes", "cancel"])
def test_an_outsider_finds_no_post(client_for, outsider, in_review, transition):
    response = client_for(outsider).post(url(in_review, transition), {"comment": "x"}, format="json")
    assert response.status_code == 404
    assert actions_of(in_review) == ["content.post.create", "content.post.submit"]


def test_signing_in_is_required(api_client, in_review):
    assert api_client.post(url(in_review, "approve")).status_code == 401
    assert api_client.get("/api/v1/posts/").status_code == 401
