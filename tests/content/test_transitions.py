"""Every transition of a post, what it records, and every refusal: a transition from a status it does
not accept, a decision by someone who may not make it, a submission for an account that is not open."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.services import user_offboard
from approvals.audit import audit_verify
from approvals.models import AuditEvent, Review, ReviewStep, StepKind, Workflow, WorkflowStep
from config.errors import DomainError, PermissionDeniedError
from content import services
from content.models import Notification, Post, PostStatus, Revision, content_sha256
from matrix.services import account_archive, account_withdraw_consent
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

CLEAN = "新车今日上市，欢迎到店试驾。"


def later(hours=24):
    return timezone.now() + timedelta(hours=hours)


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


@pytest.fixture
def draft(author, brand_account):
    return services.post_create(actor=author, account=brand_account, body=CLEAN, scheduled_at=later())


@pytest.fixture
def in_review(author, draft):
    return services.post_submit(actor=author, post=draft)


@pytest.fixture
def scheduled(in_review, marketer):
    return services.post_approve(actor=marketer, post=in_review)


def set_status(post, status):
    Post.objects.filter(pk=post.pk).update(status=status)
    post.refresh_from_db()
    return post


def actions_of(post):
    return list(AuditEvent.objects.filter(object_type="content.post", object_id=str(post.pk))
                .order_by("id").values_list("action", flat=True))


# --- the way through -----------------------------------------------------------------------


def test_a_post_goes_draft_review_changes_review_scheduled_cancelled_and_each_step_is_audited(
        author, draft, marketer):
    assert draft.status == PostStatus.DRAFT and draft.revision is None
    post = services.post_submit(actor=author, post=draft)
    assert post.status == PostStatus.IN_REVIEW and post.revision.number == 1
    assert post.revision.sha256 == content_sha256(CLEAN, [])
    post = services.post_request_changes(actor=marketer, post=post, comment="加上试驾时间")
    assert post.status == PostStatus.CHANGES_REQUESTED
    post = services.post_update(actor=author, post=post, body=CLEAN + "周六10点开始。")
    post = services.post_submit(actor=author, post=post)
    assert post.revision.number == 2
    post = services.post_approve(actor=marketer, post=post, revision_sha256=post.revision.sha256)
    assert post.status == PostStatus.SCHEDULED and post.approved_revision.number == 2
    post = services.post_cancel(actor=author, post=post, reason="launch moved")
    assert post.status == PostStatus.CANCELLED
    assert actions_of(post) == [
        "content.post.create", "content.post.submit", "content.post.request_changes", "content.post.update",
        "content.post.submit", "content.post.approve", "content.post.cancel",
    ]
    cancel = AuditEvent.objects.filter(action="content.post.cancel").get()
    assert (cancel.before, cancel.after) == ({"status": "scheduled"}, {"status": "cancelled", "reason": "launch moved"})
    assert audit_verify() == []


def test_revisions_are_frozen_at_each_submission(author, draft, marketer):
    post = services.post_submit(actor=author, post=draft)
    services.post_request_changes(actor=marketer, post=post, comment="再短一点")
    services.post_update(actor=author, post=post, body="新车上市。")
    services.post_submit(actor=author, post=post)
    assert list(Revision.objects.filter(post=post).values_list("number", "body")) == [(1, CLEAN), (2, "新车上市。")]
    first = Review.objects.filter(post=post).order_by("pk").first()
    assert first.revision.number == 1 and first.status == "changes_requested"


def test_request_changes_ends_the_review_and_tells_the_author(author, brand_account, marketer, reviewer):
    post = services.post_create(actor=author, account=brand_account, body="我们是行业第一的品牌", scheduled_at=later())
    post = services.post_submit(actor=author, post=post)
    post = services.post_request_changes(actor=marketer, post=post, comment="  不要用“第一”  ")
    steps = list(ReviewStep.objects.filter(post=post).order_by("position").values_list("status", "comment"))
    assert steps == [("changes_requested", "不要用“第一”"), ("cancelled", "")]
    assert Review.objects.get(post=post).status == "changes_requested"
    note = Notification.objects.get(kind="changes_requested")
    assert note.user == author and "不要用“第一”" in note.message


def test_cancelling_a_post_in_review_ends_its_review(in_review, author):
    post = services.post_cancel(actor=author, post=in_review)
    assert post.status == PostStatus.CANCELLED
    assert Review.objects.get(post=post).status == "cancelled"
    assert list(ReviewStep.objects.filter(post=post).values_list("status", flat=True)) == ["cancelled"]


@pytest.mark.parametrize("status", ["draft", "blocked", "changes_requested"])
def test_a_draft_blocked_or_returned_post_can_be_cancelled(draft, author, status):
    post = services.post_cancel(actor=author, post=set_status(draft, status))
    assert post.status == PostStatus.CANCELLED


def test_a_blocked_post_is_edited_and_submitted_again(author, brand_account, marketer):
    post = services.post_create(actor=author, account=brand_account, body="保本理财，稳赚不赔", scheduled_at=later())
    post = services.post_submit(actor=author, post=post)
    assert post.status == PostStatus.BLOCKED
    assert AuditEvent.objects.get(action="content.post.blocked").after["hits"]
    post = services.post_update(actor=author, post=post, body="理财有风险，投资需谨慎。")
    post = services.post_submit(actor=author, post=post)
    assert post.status == PostStatus.IN_REVIEW and post.revision.number == 2


def test_a_save_that_changes_nothing_keeps_the_approval_and_records_nothing(scheduled, author):
    events = AuditEvent.objects.count()
    post = services.post_update(actor=author, post=scheduled, body=CLEAN)
    assert post.status == PostStatus.SCHEDULED and post.approved_revision_id == post.revision_id
    assert AuditEvent.objects.count() == events
    assert Revision.objects.filter(post=post).count() == 1


def test_moving_an_approved_post_keeps_its_approval(scheduled, author):
    new_time = later(48)
    post = services.post_update(actor=author, post=scheduled, scheduled_at=new_time)
    assert post.status == PostStatus.SCHEDULED and post.scheduled_at == new_time
    assert post.approved_revision_id == post.revision_id


def test_an_edit_to_a_post_in_review_restarts_its_review_on_a_new_revision(in_review, author, marketer):
    post = services.post_update(actor=author, post=in_review, body=CLEAN + "限时优惠。")
    assert post.status == PostStatus.IN_REVIEW and post.revision.number == 2
    assert list(Review.objects.filter(post=post).order_by("pk").values_list("status", flat=True)) == [
        "cancelled", "in_progress"]


def test_an_approval_without_a_time_schedules_the_post_as_soon_as_approved(author, brand_account, marketer):
    post = services.post_create(actor=author, account=brand_account, body=CLEAN)
    post = services.post_submit(actor=author, post=post)
    moment = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(moment, tick=False):
        post = services.post_approve(actor=marketer, post=post)
    assert post.status == PostStatus.SCHEDULED and post.scheduled_at == post.approved_at == moment


# --- refusals: the status does not allow it ---------------------------------------------------


def test_a_post_in_review_cannot_be_submitted_again(in_review, author):
    with pytest.raises(DomainError) as refused:
        services.post_submit(actor=author, post=in_review)
    assert refused.value.code == "invalid_status"
    assert Review.objects.filter(post=in_review).count() == 1


@pytest.mark.parametrize("status", ["scheduled", "publishing", "published", "failed", "needs_review", "cancelled"])
def test_only_drafts_blocked_and_returned_posts_can_be_submitted(draft, author, status):
    with pytest.raises(DomainError) as refused:
        services.post_submit(actor=author, post=set_status(draft, status))
    assert refused.value.code == "invalid_status"


@pytest.mark.parametrize("status", ["draft", "blocked", "changes_requested", "scheduled"])
def test_a_post_not_in_review_cannot_be_approved_or_returned(draft, marketer, status):
    post = set_status(draft, status)
    with pytest.raises(DomainError) as refused:
        services.post_approve(actor=marketer, post=post)
    assert refused.value.code == "invalid_status"
    with pytest.raises(DomainError):
        services.post_request_changes(actor=marketer, post=post, comment="no")
    post.refresh_from_db()
    assert post.status == status


@pytest.mark.parametrize("status", ["publishing", "published", "failed", "needs_review", "cancelled"])
def test_a_post_that_started_publishing_or_ended_cannot_be_cancelled(draft, author, status):
    post = set_status(draft, status)
    with pytest.raises(DomainError) as refused:
        services.post_cancel(actor=author, post=post)
    assert refused.value.code == "invalid_status"
    post.refresh_from_db()
    assert post.status == status


@pytest.mark.parametrize("status", ["cancelled", "published", "publishing"])
def test_a_cancelled_or_published_post_cannot_be_edited(draft, author, status):
    post = set_status(draft, status)
    with pytest.raises(DomainError) as refused:
        services.post_update(actor=author, post=post, body="新的文字")
    assert refused.value.code == "invalid_status"
    post.refresh_from_db()
    assert post.body == CLEAN


@pytest.mark.parametrize("comment", ["", "   ", None])
def test_request_changes_needs_a_comment(in_review, marketer, comment):
    with pytest.raises(DomainError) as refused:
        services.post_request_changes(actor=marketer, post=in_review, comment=comment)
    assert refused.value.field == "comment"
    in_review.refresh_from_db()
    assert in_review.status == PostStatus.IN_REVIEW
    assert ReviewStep.objects.get(post=in_review).status == "in_progress"


def test_a_submission_whose_time_has_passed_is_refused(draft, author):
    with time_machine.travel(later(25)):
        with pytest.raises(DomainError) as refused:
            services.post_submit(actor=author, post=draft)
    assert refused.value.field == "scheduled_at"


def test_a_time_in_the_past_is_refused_and_a_naive_one_too(draft, author):
    with pytest.raises(DomainError):
        services.post_update(actor=author, post=draft, scheduled_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(DomainError):
        services.post_update(actor=author, post=draft, scheduled_at=later().replace(tzinfo=None))


# --- refusals: the person may not ------------------------------------------------------------


def test_nobody_decides_their_own_post(in_review, author):
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=author, post=in_review)
    with pytest.raises(PermissionDeniedError):
        services.post_request_changes(actor=author, post=in_review, comment="fine by me")


def test_one_person_approves_one_step_of_a_review(brand, brand_account, author, marketer):
    workflow = Workflow.objects.create(brand=brand, tier="brand", name="Four eyes twice")
    for position, name in enumerate(["Copy check", "Final sign-off"]):
        WorkflowStep.objects.create(workflow=workflow, position=position, name=name, kind=StepKind.ROLE,
                                    role="marketer")
    post = services.post_create(actor=author, account=brand_account, body=CLEAN, scheduled_at=later())
    post = services.post_submit(actor=author, post=post)
    services.post_approve(actor=marketer, post=post)
    with pytest.raises(PermissionDeniedError) as refused:
        services.post_approve(actor=marketer, post=post)
    assert "another person" in str(refused.value.message)
    second = UserFactory(username="second.marketer", role="marketer", brand=brand)
    post = services.post_approve(actor=second, post=post)
    assert post.status == PostStatus.SCHEDULED
    assert list(ReviewStep.objects.filter(post=post).order_by("position").values_list("decided_by", flat=True)) == [
        marketer.pk, second.pk]


def test_an_offboarded_reviewer_cannot_decide(in_review, marketer, admin_user):
    user_offboard(actor=admin_user, user=marketer)
    marketer.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        services.post_approve(actor=marketer, post=in_review)
    with pytest.raises(PermissionDeniedError):
        services.post_request_changes(actor=marketer, post=in_review, comment="no")


def test_an_offboarded_author_can_neither_submit_nor_edit_nor_write(draft, author, admin_user, brand_account):
    user_offboard(actor=admin_user, user=author)
    author.refresh_from_db()
    with pytest.raises(PermissionDeniedError):
        services.post_submit(actor=author, post=draft)
    with pytest.raises(PermissionDeniedError):
        services.post_update(actor=author, post=draft, body="x")
    with pytest.raises(PermissionDeniedError):
        services.post_create(actor=author, account=brand_account, body="x")


def test_a_draft_for_a_pending_account_is_kept_but_cannot_be_submitted(brand, platforms, employee):
    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="employee", owner=employee,
                                   status="pending")
    post = services.post_create(actor=employee, account=account, body=CLEAN, scheduled_at=later())
    with pytest.raises(DomainError) as refused:
        services.post_submit(actor=employee, post=post)
    assert refused.value.field == "account" and "consent" in str(refused.value.message)
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT and not Revision.objects.filter(post=post).exists()


def test_a_paused_account_takes_no_submission(employee_account, employee):
    post = services.post_create(actor=employee, account=employee_account, body=CLEAN, scheduled_at=later())
    account_withdraw_consent(actor=employee, account=employee_account)
    with pytest.raises(DomainError) as refused:
        services.post_submit(actor=employee, post=post)
    assert "paused" in str(refused.value.message)


def test_an_archived_account_takes_no_new_post(brand_account, author, admin_user):
    account = account_archive(actor=admin_user, account=brand_account, reason="rebrand")
    with pytest.raises(DomainError) as refused:
        services.post_create(actor=author, account=account, body=CLEAN)
    assert "archived" in str(refused.value.message)


# --- bulk approval -------------------------------------------------------------------------


def test_bulk_approval_takes_clean_posts_and_refuses_the_rest_with_a_reason(author, brand_account, marketer):
    def post(body, submit=True):
        created = services.post_create(actor=author, account=brand_account, body=body, scheduled_at=later())
        return services.post_submit(actor=author, post=created) if submit else created

    clean, with_hits, draft = post(CLEAN), post("我们是行业第一的品牌"), post("还没写完", submit=False)
    mine = services.post_create(actor=marketer, account=brand_account, body="自己写的", scheduled_at=later())
    mine = services.post_submit(actor=marketer, post=mine)
    approved, refused = services.posts_bulk_approve(actor=marketer, posts=[clean, with_hits, draft, mine])
    assert [p.pk for p in approved] == [clean.pk]
    assert [p.pk for p, _reason in refused] == [with_hits.pk, draft.pk, mine.pk]
    assert "hits" in str(refused[0][1])
    assert Post.objects.get(pk=clean.pk).status == PostStatus.SCHEDULED
    assert Post.objects.get(pk=draft.pk).status == PostStatus.DRAFT
    assert Post.objects.get(pk=mine.pk).status == PostStatus.IN_REVIEW


def test_clearing_the_time_of_an_approved_post_means_as_soon_as_possible(scheduled, author):
    moment = timezone.now() + timedelta(minutes=1)
    with time_machine.travel(moment, tick=False):
        post = services.post_update(actor=author, post=scheduled, scheduled_at=None)
    # A scheduled post without a time would never be picked up by the dispatcher.
    assert post.status == PostStatus.SCHEDULED and post.scheduled_at == moment
    assert Post.objects.get(pk=post.pk).scheduled_at == moment
