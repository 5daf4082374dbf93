"""The life of a post through review: submit, route, approve, request changes, cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import AuditEvent, Review, ReviewStep
from config.errors import DomainError, PermissionDeniedError
from content import services
from content.models import Post, PostStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def later(hours=24):
    return timezone.now() + timedelta(hours=hours)


def test_a_clean_brand_post_needs_one_marketer_other_than_the_author(brand, brand_account, marketer):
    author = UserFactory(role="marketer", brand=brand, username="author.marketer")
    post = services.post_create(actor=author, account=brand_account, body="新车今日上市，欢迎到店试驾。", scheduled_at=later())
    post = services.post_submit(actor=author, post=post)
    assert post.status == PostStatus.IN_REVIEW
    steps = list(ReviewStep.objects.filter(post=post).order_by("position"))
    assert [(s.name, s.status) for s in steps] == [("Marketing approval", "in_progress")]
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=author, post=post)
    post = services.post_approve(actor=marketer, post=post, comment="ok")
    assert post.status == PostStatus.SCHEDULED
    assert post.approved_revision_id == post.revision_id
    step = ReviewStep.objects.get(post=post)
    assert step.decided_by == marketer and step.revision_sha256 == post.revision.sha256
    actions = list(AuditEvent.objects.filter(object_type="content.post", object_id=str(post.pk)).values_list("action", flat=True))
    assert actions == ["content.post.create", "content.post.submit", "content.post.approve"]


def test_a_review_hit_adds_the_reviewer_step(brand_account, marketer, reviewer, admin_user):
    post = services.post_create(actor=admin_user, account=brand_account, body="我们是行业第一的品牌", scheduled_at=later())
    post = services.post_submit(actor=admin_user, post=post)
    assert post.revision.screening["decision"] == "review"
    assert list(ReviewStep.objects.filter(post=post).values_list("name", flat=True)) == ["Marketing approval", "Risk review"]
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=reviewer, post=post)  # not the reviewer's step yet
    services.post_approve(actor=marketer, post=post)
    post = services.post_approve(actor=reviewer, post=post)
    assert post.status == PostStatus.SCHEDULED


def test_screening_block_stops_the_post_before_any_step(brand_account, marketer):
    post = services.post_create(actor=marketer, account=brand_account, body="保本保息，稳赚不赔", scheduled_at=later())
    post = services.post_submit(actor=marketer, post=post)
    assert post.status == PostStatus.BLOCKED
    assert not Review.objects.filter(post=post).exists()


def test_an_edit_after_approval_sends_the_post_back_and_the_old_approval_never_applies(brand, brand_account, marketer):
    author = UserFactory(role="marketer", brand=brand, username="author2")
    post = services.post_create(actor=author, account=brand_account, body="周末试驾活动", scheduled_at=later())
    post = services.post_submit(actor=author, post=post)
    old_sha = post.revision.sha256
    post = services.post_approve(actor=marketer, post=post)
    assert post.status == PostStatus.SCHEDULED
    # Saving without a change and moving the time keep the approval.
    post = services.post_update(actor=author, post=post, body="周末试驾活动", scheduled_at=later(30))
    assert post.status == PostStatus.SCHEDULED
    post = services.post_update(actor=author, post=post, body="周末试驾活动，名额有限")
    assert post.status == PostStatus.IN_REVIEW and post.approved_revision_id is None
    with pytest.raises(DomainError) as refused:
        services.post_approve(actor=marketer, post=post, revision_sha256=old_sha)
    assert refused.value.code == "stale"
    post = services.post_approve(actor=marketer, post=post, revision_sha256=post.revision.sha256)
    assert post.status == PostStatus.SCHEDULED and post.approved_revision.number == 2


def test_executive_owner_step_then_reviewer(executive_account, executive, marketer, reviewer):
    post = services.post_create(actor=marketer, account=executive_account, body="Proud of our team this year.", scheduled_at=later())
    post = services.post_submit(actor=marketer, post=post)
    assert post.status == PostStatus.IN_REVIEW
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=reviewer, post=post)
    services.post_approve(actor=executive, post=post)
    post = services.post_approve(actor=reviewer, post=post)
    assert post.status == PostStatus.SCHEDULED


def test_request_changes_then_resubmit(brand_account, marketer, admin_user):
    post = services.post_create(actor=admin_user, account=brand_account, body="草稿", scheduled_at=later())
    services.post_submit(actor=admin_user, post=post)
    with pytest.raises(DomainError):
        services.post_request_changes(actor=marketer, post=post, comment=" ")
    post = services.post_request_changes(actor=marketer, post=post, comment="加上活动时间")
    assert post.status == PostStatus.CHANGES_REQUESTED
    post = services.post_update(actor=admin_user, post=post, body="草稿：周六10点")
    post = services.post_submit(actor=admin_user, post=post)
    assert post.status == PostStatus.IN_REVIEW and post.revision.number == 2
    post = services.post_cancel(actor=admin_user, post=post)
    assert post.status == PostStatus.CANCELLED
    assert not Review.objects.filter(post=post, status="in_progress").exists()


def test_an_unchanged_campaign_template_without_hits_needs_no_human(brand, dealer_account, dealer_operator, marketer):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Spring", template_body="{dealer_name}春季试驾开启，欢迎来{city}店里看看。",
                                        target={"tiers": ["dealer"]})
    report = services.campaign_push(actor=marketer, campaign=campaign)
    assert [p.account for p in report.created] == [dealer_account]
    post = report.created[0]
    assert post.author == dealer_operator and "Shanghai" in post.body
    services.post_update(actor=dealer_operator, post=post, body=post.body.replace("Shanghai", "浦东"), scheduled_at=later())
    post = services.post_submit(actor=dealer_operator, post=Post.objects.get(pk=post.pk))
    assert post.status == PostStatus.SCHEDULED


def test_a_photo_post_without_words_can_be_submitted(brand, brand_account, marketer, admin_user):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "red").save(buffer, format="PNG")
    photo = services.media_upload(actor=admin_user, brand=brand, file=SimpleUploadedFile("car.png", buffer.getvalue()))
    post = services.post_create(actor=admin_user, account=brand_account, body="", media=[photo], scheduled_at=later())
    post = services.post_submit(actor=admin_user, post=post)
    assert post.status == PostStatus.IN_REVIEW
    assert post.revision.screening["decision"] == "pass"
    assert post.revision.media[0]["sha256"] == photo.sha256


def test_a_decision_bound_to_a_step_is_refused_once_that_step_was_decided(brand_account, marketer, reviewer, admin_user):
    post = services.post_create(actor=admin_user, account=brand_account, body="我们是行业第一的品牌", scheduled_at=later())
    post = services.post_submit(actor=admin_user, post=post)
    first = ReviewStep.objects.get(post=post, name="Marketing approval")
    services.post_approve(actor=marketer, post=post, step_id=first.pk)
    # The reviewer opened the first step's page; it was decided meanwhile: nothing lands on step two.
    with pytest.raises(DomainError) as refused:
        services.post_approve(actor=reviewer, post=post, step_id=first.pk)
    assert refused.value.code == "stale"
    assert ReviewStep.objects.get(post=post, name="Risk review").status == "in_progress"
