"""Publishing: nothing lost, nothing doubled, nothing unapproved (DESIGN.md, "Publishing").

PostgreSQL is the source of truth; Celery and Redis only deliver work and may lose or repeat it.

- `dispatch_due()` (beat, every few seconds, several may run at once) claims due posts in batches
  with `SELECT … FOR UPDATE SKIP LOCKED`, moves them `scheduled → publishing` with a lease token and
  an expiry, and enqueues one `publish_post(post_id, token)` per post after commit.
- `publish(post_id, token)` (the task) first moves the post to *sending* with a conditional update on
  the token, the status and the approved revision: zero rows means someone else has it or the
  content changed, and it stops. Then it re-checks the account and pauses, sends exactly the
  approved revision and records the outcome, again conditionally on the token.
- `sweep()` (beat) re-drives posts whose lease expired: never sent → claimed again; sent but the
  worker died before recording the answer → retried with the same idempotency key where the
  publisher honours one, else `needs_review` (it may or may not be live).
- Retries are not Celery countdowns (Redis would redeliver long ones after its visibility timeout):
  the post goes back to `scheduled` with `next_attempt_at`, backoff with jitter, honouring
  Retry-After, and the dispatcher claims it again when due.
- A post more than `PUBLISH_MISSED_WINDOW` late is `failed` with reason `missed`, never published
  late silently. A post held by a pause stays `scheduled` until the pause lifts (or the window
  passes).
"""

import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from approvals.audit import audit_record
from matrix.models import AccountStatus

from . import publishers, ratelimits
from .models import Notification, Post, PostStatus, PublishAttempt
from .pauses import accounts_paused_q, pause_covering

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=getattr(settings, "PUBLISH_LEASE_SECONDS", 120))
MISSED_WINDOW = timedelta(seconds=getattr(settings, "PUBLISH_MISSED_WINDOW_SECONDS", 3600))
MAX_ATTEMPTS = getattr(settings, "PUBLISH_MAX_ATTEMPTS", 6)
BACKOFF_BASE = getattr(settings, "PUBLISH_BACKOFF_BASE_SECONDS", 30)
BACKOFF_MAX = getattr(settings, "PUBLISH_BACKOFF_MAX_SECONDS", 3600)
BATCH_SIZE = getattr(settings, "PUBLISH_CLAIM_BATCH", 500)


def _enqueue(claims):
    from .tasks import publish_post

    # One producer (one broker connection) for the whole list, not one acquired per task.
    with publish_post.app.producer_or_acquire() as producer:
        for post_id, token in claims:
            publish_post.apply_async((post_id, str(token)), producer=producer)


@dataclass
class DispatchReport:
    claimed: list = field(default_factory=list)
    missed: list = field(default_factory=list)
    deferred: list = field(default_factory=list)  # held by a rate limit


def dispatch_due(*, now=None, batch_size=BATCH_SIZE, max_batches=40, enqueue=_enqueue):
    """Claim every due post (in batches of `batch_size`) and enqueue its publish task after commit."""
    report = DispatchReport()
    claims = []
    try:
        for _batch in range(max_batches):
            claimed, missed, deferred, batch_claims = _claim_batch(now=now or timezone.now(), batch_size=batch_size)
            report.claimed += claimed
            report.missed += missed
            report.deferred += deferred
            claims += batch_claims
            if len(claimed) + len(missed) + len(deferred) < batch_size:
                break
    finally:
        # Every batch is claimed (each committed on its own) before anything is enqueued: enqueueing
        # costs far more than claiming, and a burst's last batch must not wait for the first ones'
        # tasks to reach the broker. After the commit of a caller's transaction, if there is one.
        # Claims never enqueued (a crash here) are re-driven by the sweeper when their lease ends.
        if claims:
            transaction.on_commit(lambda: enqueue(claims))
    return report


@transaction.atomic
def _claim_batch(*, now, batch_size):
    due = (
        Post.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=PostStatus.SCHEDULED, scheduled_at__lte=now, approved_revision__isnull=False)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        # A post held by a pause stays scheduled: lifting the pause releases it.
        .exclude(accounts_paused_q(now, account_path="account"))
        .order_by("scheduled_at", "id")
        .values_list("id", "scheduled_at", "next_attempt_at", "account_id", "account__platform_id",
                     "account__posts_per_hour", "account__platform__account_posts_per_hour",
                     "account__platform__posts_per_hour")[:batch_size]
    )
    claimed, missed, candidates = [], [], []
    for post_id, scheduled_at, _next_attempt_at, account_id, platform_id, own, per_account, per_platform in due:
        # Retries and rate-limited posts too: a post is never published late silently.
        if now - scheduled_at > MISSED_WINDOW:
            missed.append(post_id)
        else:
            candidates.append((post_id, account_id, platform_id, own or per_account, per_platform))
    # Rate limits: a post whose account or platform sent its hourly share waits, still scheduled.
    waiting = ratelimits.deferrals(candidates, now=now)
    for post_id, wait_until in waiting.items():
        Post.objects.filter(pk=post_id).update(next_attempt_at=wait_until, updated_at=now,
                                               last_error="rate limit: waiting for a free slot")
    claimed = [row[0] for row in candidates if row[0] not in waiting]
    if missed:
        Post.objects.filter(pk__in=missed).update(
            status=PostStatus.FAILED, last_error="missed: more than the missed window late", updated_at=now
        )
        for post_id in missed:
            audit_record(actor=None, action="content.post.missed", object_type="content.post", object_id=post_id,
                         before={"status": PostStatus.SCHEDULED}, after={"status": PostStatus.FAILED})
    claims = []
    if claimed:
        # One token per batch: every check pairs it with the post's id, and a post claimed again gets
        # the token of its new batch. (One per post, as a CASE of 500 branches, cost ~300 ms of ORM
        # compilation per batch.)
        token = uuid.uuid4()
        tokens = dict.fromkeys(claimed, token)
        Post.objects.filter(pk__in=claimed).update(
            status=PostStatus.PUBLISHING, lease_token=token,
            lease_expires_at=now + LEASE, sending_started_at=None, updated_at=now,
        )
        claims = list(tokens.items())
    return claimed, missed, list(waiting), claims


def _backoff(attempts, retry_after):
    delay = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    delay = delay * (0.5 + random.random())  # jitter: retries of a burst do not arrive together
    if retry_after is not None:
        delay = max(delay, retry_after)
    return timedelta(seconds=delay)


def _finish(post_id, token, **changes):
    """Apply the outcome only if we still hold the lease: 1 when applied, 0 when someone else has it."""
    changes.setdefault("lease_token", None)
    changes.setdefault("lease_expires_at", None)
    changes["updated_at"] = timezone.now()
    return Post.objects.filter(pk=post_id, lease_token=token, status=PostStatus.PUBLISHING).update(**changes)


def _release(post_id, token, *, reason, next_attempt_at=None):
    """Back to `scheduled` (held, or to be retried), still approved."""
    return _finish(post_id, token, status=PostStatus.SCHEDULED, sending_started_at=None,
                   next_attempt_at=next_attempt_at, last_error=reason)


def publish(post_id, token):
    """Send one claimed post. Safe to run twice with the same token: only the first run moves it to
    sending; a run whose lease was taken back finds nothing to do."""
    token = uuid.UUID(str(token))
    now = timezone.now()
    post = (Post.objects.select_related("account__platform", "account__brand", "approved_revision", "revision")
            .filter(pk=post_id).first())
    if post is None or post.lease_token != token or post.status != PostStatus.PUBLISHING:
        return "not-mine"
    revision = post.approved_revision
    if revision is None or post.revision_id != revision.pk:
        # Edited after approval: what would go out is not what was approved.
        _finish(post_id, token, status=PostStatus.IN_REVIEW if post.revision_id else PostStatus.DRAFT,
                last_error="changed after approval")
        return "changed"
    account = post.account
    if account.status != AccountStatus.ACTIVE:
        _finish(post_id, token, status=PostStatus.FAILED, sending_started_at=None,
                last_error=f"account {account.status}: nothing may publish on it")
        audit_record(actor=None, action="content.post.fail", obj=post, after={"reason": f"account {account.status}"})
        return "account"
    pause = pause_covering(account, now)
    if pause is not None:
        _release(post_id, token, reason=f"held by pause #{pause.pk}")
        return "paused"
    # The point of no return: claim the send itself, conditionally on the token, the status and
    # the approved revision's hash. Zero rows: someone else is sending it, or it changed.
    moved = Post.objects.filter(
        pk=post_id, lease_token=token, status=PostStatus.PUBLISHING, sending_started_at__isnull=True,
        approved_revision__sha256=revision.sha256, revision_id=revision.pk,
    ).update(sending_started_at=now, attempts=post.attempts + 1, lease_expires_at=now + LEASE)
    if not moved:
        return "not-mine"
    publisher = publishers.get_publisher(account)
    # Numbered over the post's whole life (a retry by hand starts a new series of `attempts`).
    number = PublishAttempt.objects.filter(post=post).count() + 1
    attempt = PublishAttempt.objects.create(
        post=post, number=number, revision=revision, publisher=publisher.name or account.publisher,
        idempotency_key=publishers.idempotency_key(post, revision), started_at=now,
    )
    result = publisher.send(post=post, revision=revision, account=account, idempotency_key=attempt.idempotency_key,
                            media_urls=publishers.media_urls(revision))
    attempt.finished_at = timezone.now()
    attempt.outcome = result.outcome
    attempt.http_status = result.http_status
    attempt.reason = result.reason
    attempt.save(update_fields=["finished_at", "outcome", "http_status", "reason"])
    return _record(post, token, result, attempts=post.attempts + 1)


@transaction.atomic
def _record(post, token, result, *, attempts):
    """Apply the platform's answer; the post's new state and its audit event commit together."""
    outcome = publishers.Outcome
    now = timezone.now()
    if result.outcome == outcome.PUBLISHED:
        if _finish(post.pk, token, status=PostStatus.PUBLISHED, external_id=result.external_id[:200],
                   url=result.url[:500], published_at=now, last_error=""):
            audit_record(actor=None, action="content.post.publish", obj=post,
                         after={"external_id": result.external_id, "url": result.url, "attempts": attempts})
        return "published"
    if result.outcome == outcome.PENDING_CONFIRMATION:
        # A person posts it by hand; the post stays `publishing` (no lease: the sweeper leaves it).
        _finish(post.pk, token, status=PostStatus.PUBLISHING, handed_over_at=now, last_error="")
        return "handed-over"
    retryable = result.outcome == outcome.RETRY or (result.outcome == outcome.AMBIGUOUS and result.idempotent)
    if retryable and attempts < MAX_ATTEMPTS:
        _release(post.pk, token, reason=result.reason, next_attempt_at=now + _backoff(attempts, result.retry_after))
        return "retry"
    if result.outcome == outcome.AMBIGUOUS and not result.idempotent:
        status, reason = PostStatus.NEEDS_REVIEW, f"may or may not be live: {result.reason}"
    elif retryable:
        status, reason = PostStatus.FAILED, f"attempts spent: {result.reason}"
    else:
        status, reason = PostStatus.FAILED, result.reason
    if _finish(post.pk, token, status=status, last_error=reason):
        audit_record(actor=None, action=f"content.post.{status}", obj=post, after={"reason": reason})
        _notify_outcome(post, status, reason)
    return status


def _notify_outcome(post, status, reason):
    from .services import notify

    people = [p for p in {post.author, post.account.owner} if p is not None and p.is_active]
    notify(people, kind=Notification.Kind.PUBLISH_FAILED, post=post,
           message=f"{post.account}: {status} — {reason}")


def sweep(*, now=None):
    """Re-drive posts whose lease expired (their worker died or their task was lost)."""
    now = now or timezone.now()
    expired = list(
        Post.objects.filter(status=PostStatus.PUBLISHING, lease_expires_at__lt=now, handed_over_at__isnull=True)
        .select_related("account").values_list("pk", "lease_token", "sending_started_at", "account__publisher")[:1000]
    )
    redriven, needs_review, lost = [], [], []
    for post_id, token, sending_started_at, publisher_name in expired:
        if sending_started_at is None:
            # Claimed but never sent: claim it again.
            if _release(post_id, token, reason=""):
                redriven.append(post_id)
            continue
        publisher = publishers.get_publisher_by_name(publisher_name)
        if publisher.idempotent:
            # It may have reached the platform; the same idempotency key makes a second send safe.
            if _release(post_id, token, reason="worker lost during the send; retried with the same key",
                        next_attempt_at=now):
                redriven.append(post_id)
                lost.append(post_id)
        elif _finish(post_id, token, status=PostStatus.NEEDS_REVIEW,
                     last_error="worker lost during the send: it may or may not be live"):
            needs_review.append(post_id)
            lost.append(post_id)
            audit_record(actor=None, action="content.post.needs_review", object_type="content.post",
                         object_id=post_id, after={"reason": "worker lost during the send"})
    if lost:
        # The attempt the lost worker was making would otherwise show as running forever.
        PublishAttempt.objects.filter(post_id__in=lost, finished_at__isnull=True).update(
            finished_at=now, outcome=publishers.Outcome.AMBIGUOUS, reason="worker lost during the send")
    return redriven, needs_review
