"""Transitions racing each other on real PostgreSQL: each thread has its own connection and its own
transaction, lined up with a barrier; a short sleep inside the first one's row lock makes sure the
other really waits on it rather than simply running after it."""

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from approvals.audit import audit_verify
from approvals.models import AuditEvent, Review, ReviewStep
from config.errors import DomainError, PermissionDeniedError
from content import services
from content.models import Post, PostStatus, Revision
from tests.factories import UserFactory
from tests.transactional import migrated_data, reseeded_after_session  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("migrated_data", "no_email_queue")

HOLD_SECONDS = 0.3


@pytest.fixture
def no_email_queue(monkeypatch):
    """Committed transactions enqueue notification emails: nothing to deliver them here."""
    from content import tasks

    monkeypatch.setattr(tasks, "notifications_email", SimpleNamespace(delay=lambda ids: None))


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


@pytest.fixture
def hold_first_lock(monkeypatch):
    """Whoever locks the post first keeps the lock a little longer, so the other is queued behind it."""
    real_lock = services._lock
    first = threading.Lock()

    def lock_and_hold(post):
        locked = real_lock(post)
        if first.acquire(blocking=False):
            time.sleep(HOLD_SECONDS)
        return locked

    monkeypatch.setattr(services, "_lock", lock_and_hold)


def race(*calls, stagger=0.0):
    """Run each call in its own thread at the same moment (the later ones `stagger` seconds apart);
    return each one's result or exception, in the order given."""
    barrier = threading.Barrier(len(calls), timeout=10)
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            time.sleep(stagger * index)
            outcomes[index] = call()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def submitted(author, account, body="新车今日上市，欢迎到店试驾。"):
    post = services.post_create(actor=author, account=account, body=body,
                                scheduled_at=timezone.now() + timedelta(days=1))
    return services.post_submit(actor=author, post=post)


def test_two_marketers_approving_the_same_step_at_once_record_one_decision(brand, brand_account, author,
                                                                          hold_first_lock):
    first, second = (UserFactory(username=f"marketer.{n}", role="marketer", brand=brand) for n in (1, 2))
    post = submitted(author, brand_account)
    sha = post.revision.sha256
    outcomes = race(*(lambda who=who: services.post_approve(actor=who, post=post, revision_sha256=sha)
                      for who in (first, second)))

    approved = [o for o in outcomes if isinstance(o, Post)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(approved) == 1 and len(refused) == 1
    assert isinstance(refused[0], DomainError) and refused[0].code == "invalid_status"
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.approved_revision_id == post.revision_id
    step = ReviewStep.objects.get(post=post)
    assert step.status == "approved" and step.decided_by in (first, second)
    assert AuditEvent.objects.filter(action="approvals.step.approve").count() == 1
    assert AuditEvent.objects.filter(action="content.post.approve").count() == 1
    assert audit_verify() == []


def test_the_loser_of_a_race_on_a_two_step_review_is_refused_the_next_step(brand, brand_account, author, reviewer,
                                                                           hold_first_lock):
    first, second = (UserFactory(username=f"marketer.{n}", role="marketer", brand=brand) for n in (1, 2))
    post = submitted(author, brand_account, body="我们是行业第一的品牌")  # ad_law: a reviewer step follows
    sha = post.revision.sha256
    outcomes = race(*(lambda who=who: services.post_approve(actor=who, post=post, revision_sha256=sha)
                      for who in (first, second)))

    assert sorted(type(o).__name__ for o in outcomes) == ["PermissionDeniedError", "Post"]
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    steps = list(ReviewStep.objects.filter(post=post).order_by("position").values_list("name", "status"))
    assert steps == [("Marketing approval", "approved"), ("Risk review", "in_progress")]
    assert AuditEvent.objects.filter(action="approvals.step.approve").count() == 1
    assert audit_verify() == []


@pytest.mark.parametrize("first", ["approve", "edit"])
def test_an_approval_never_applies_to_text_edited_at_the_same_moment(brand_account, author, marketer,
                                                                     hold_first_lock, first):
    post = submitted(author, brand_account)
    old_sha = post.revision.sha256

    def approve():
        return services.post_approve(actor=marketer, post=post, revision_sha256=old_sha)

    def edit():
        return services.post_update(actor=author, post=post, body="新车今日上市，欢迎到店试驾，名额有限。")

    calls = (approve, edit) if first == "approve" else (edit, approve)
    outcomes = dict(zip((c.__name__ for c in calls), race(*calls, stagger=0.1), strict=True))

    post.refresh_from_db()
    assert isinstance(outcomes["edit"], Post)
    assert post.body.endswith("名额有限。") and post.revision.number == 2
    # Whatever the order, what may go out was approved as exactly this text, or nothing is approved.
    assert post.approved_revision is None or post.approved_revision.sha256 == post.revision.sha256
    assert post.status == PostStatus.IN_REVIEW and post.approved_revision is None
    if first == "approve":
        # The approval landed on the old text; the edit then took it back and started a new review.
        assert isinstance(outcomes["approve"], Post)
        assert AuditEvent.objects.filter(action="content.post.back_to_review").count() == 1
    else:
        # The edit landed first: the approval of the old words is refused as stale.
        assert isinstance(outcomes["approve"], DomainError) and outcomes["approve"].code == "stale"
        assert not ReviewStep.objects.filter(post=post, status="approved").exists()
    assert list(Review.objects.filter(post=post).order_by("pk").values_list("status", flat=True))[-1] == "in_progress"
    assert Review.objects.filter(post=post, status="in_progress").get().revision == post.revision
    assert audit_verify() == []


def test_submitting_twice_at_once_starts_one_review(brand_account, author, hold_first_lock):
    post = services.post_create(actor=author, account=brand_account, body="周末试驾活动")
    outcomes = race(lambda: services.post_submit(actor=author, post=post),
                    lambda: services.post_submit(actor=author, post=post))

    assert sorted(type(o).__name__ for o in outcomes) == ["DomainError", "Post"]
    refused = next(o for o in outcomes if isinstance(o, DomainError))
    assert not isinstance(refused, PermissionDeniedError) and refused.code == "invalid_status"
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    assert Review.objects.filter(post=post).count() == 1
    assert Revision.objects.filter(post=post).count() == 1
    assert ReviewStep.objects.filter(post=post, status="in_progress").count() == 1
    assert AuditEvent.objects.filter(action="content.post.submit").count() == 1
    # And were the row lock ever bypassed, the database itself keeps one active review per post.
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(post=post, revision=post.revision, started_at=post.submitted_at)
    assert audit_verify() == []
