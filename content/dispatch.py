"""Publishing: nothing lost, nothing doubled, nothing unapproved (DESIGN.md, "Publishing").

PostgreSQL is the source of truth; Celery and Redis only deliver work and may lose or repeat it.

- `dispatch_due()` (beat, every few seconds, several may run at once) claims due posts in batches
  with `SELECT … FOR UPDATE SKIP LOCKED`, moves them `scheduled → publishing` with a lease token and
  an expiry, and enqueues one `publish_batch([(post_id, token), …])` task per few posts after commit.
- `publish_many(claims)` (the task) re-checks the account, the pauses and the revision, then moves
  the posts to *sending* under row locks, conditionally on the token, the status and the approved
  revision: a post that fails that check has someone else sending it or changed, and is left alone.
  It sends exactly the approved revisions (at once, on a pool of threads) and records each outcome,
  again conditionally on the token, in one transaction with the audit events.
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
import os
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from approvals.audit import audit_record, audit_record_many
from matrix.models import AccountStatus, SocialAccount

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
# Posts per publish task, and threads per worker process sending them at once.
TASK_BATCH = getattr(settings, "PUBLISH_TASK_BATCH", 100)
SEND_THREADS = getattr(settings, "PUBLISH_SEND_THREADS", 64)
# The longest a send may take (connect, then the answer) plus room to record it: a send not started
# this long before its lease ends is not started (content/checks.py keeps the lease above it).
SEND_DEADLINE_MARGIN = timedelta(seconds=2 * getattr(settings, "PUBLISH_HTTP_TIMEOUT", 10)
                                 + getattr(settings, "PUBLISH_SEND_MARGIN_SECONDS", 30))


def _enqueue(claims, *, queue=None):
    """One `publish_batch` task per TASK_BATCH claims, through one producer (one broker connection)
    for the whole list."""
    from .tasks import publish_batch

    options = {"queue": queue} if queue else {}
    with publish_batch.app.producer_or_acquire() as producer:
        for start in range(0, len(claims), TASK_BATCH):
            chunk = [[post_id, str(token)] for post_id, token in claims[start:start + TASK_BATCH]]
            publish_batch.apply_async((chunk,), producer=producer, **options)


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
        audit_record_many(actor=None, events=[
            {"action": "content.post.missed", "object_type": "content.post", "object_id": post_id,
             "before": {"status": PostStatus.SCHEDULED}, "after": {"status": PostStatus.FAILED}}
            for post_id in missed])
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
    """Send one claimed post (see `publish_many`): its outcome, e.g. "published" or "not-mine"."""
    return publish_many([(post_id, token)])[int(post_id)]


def publish_many(claims):
    """Send a batch of claimed posts [(post_id, lease_token), …]; {post_id: outcome}.

    Safe to run twice with the same claims: only the first run moves a post to sending; a run whose
    lease was taken back finds nothing to do ("not-mine"). The batch shares its queries: one load,
    one pause check, one transaction moving the posts to sending with their attempt rows, the
    sends themselves at once on a pool of threads (publishers that touch no database), and one
    transaction recording every answer with its audit events."""
    wanted = {int(post_id): uuid.UUID(str(token)) for post_id, token in claims}
    outcomes = dict.fromkeys(wanted, "not-mine")
    now = timezone.now()
    loaded = Post.objects.select_related("account__platform", "account__brand", "account__dealer",
                                         "approved_revision").filter(pk__in=wanted)
    ready = []
    for post in loaded:
        token = wanted[post.pk]
        if post.lease_token != token or post.status != PostStatus.PUBLISHING or post.sending_started_at is not None:
            continue
        revision = post.approved_revision
        if revision is None or post.revision_id != revision.pk:
            # Edited after approval: what would go out is not what was approved.
            _finish(post.pk, token, status=PostStatus.IN_REVIEW if post.revision_id else PostStatus.DRAFT,
                    last_error="changed after approval")
            outcomes[post.pk] = "changed"
            continue
        account = post.account
        if account.status != AccountStatus.ACTIVE:
            with transaction.atomic():
                if _finish(post.pk, token, status=PostStatus.FAILED, sending_started_at=None,
                           last_error=f"account {account.status}: nothing may publish on it"):
                    audit_record(actor=None, action="content.post.fail", obj=post,
                                 after={"reason": f"account {account.status}"})
            outcomes[post.pk] = "account"
            continue
        ready.append(post)
    # A pause created since the claim still stops the post: one query for the batch's accounts.
    if ready:
        paused = set(SocialAccount.objects.filter(pk__in={post.account_id for post in ready})
                     .filter(accounts_paused_q(now)).values_list("pk", flat=True))
        for post in [post for post in ready if post.account_id in paused]:
            pause = pause_covering(post.account, now)
            _release(post.pk, wanted[post.pk], reason=f"held by pause #{pause.pk}" if pause else "held by a pause")
            outcomes[post.pk] = "paused"
        ready = [post for post in ready if post.account_id not in paused]
    # A day its owner blocked (an executive's or employee's account): nothing goes out on it, and the
    # post is failed with that reason rather than sent the next day. One query for the batch.
    if ready:
        from .calendar import accounts_blocked_at

        blocked = accounts_blocked_at({post.account_id for post in ready}, now)
        for post in [post for post in ready if post.account_id in blocked]:
            day = blocked[post.account_id]
            reason = f"blocked day: {day.owner} asked that nothing go out on {day.date.isoformat()}"
            with transaction.atomic():
                if _finish(post.pk, wanted[post.pk], status=PostStatus.FAILED, sending_started_at=None,
                           last_error=reason):
                    audit_record(actor=None, action="content.post.failed", obj=post, after={"reason": reason})
                    _notify_outcome(post, PostStatus.FAILED, reason)
            outcomes[post.pk] = "blocked-day"
        ready = [post for post in ready if post.account_id not in blocked]
    sending = _start_sending(ready, wanted, now)
    if not sending:
        return outcomes
    results = _send_all(sending)
    outcomes.update(_record_many([(post, wanted[post.pk], attempt, result) for post, attempt, result in results]))
    return outcomes


@transaction.atomic
def _start_sending(posts, tokens, now):
    """The point of no return: claim the sends themselves, conditionally on each post's token, status
    and approved revision, under row locks; with an attempt row each. [(post, attempt)]."""
    if not posts:
        return []
    by_token = {}
    for post in posts:
        by_token.setdefault(tokens[post.pk], []).append(post.pk)
    locked = {}
    for token, ids in by_token.items():
        locked.update({
            pk: (revision_id, approved_id) for pk, revision_id, approved_id in
            Post.objects.select_for_update(of=("self",)).filter(
                pk__in=ids, lease_token=token, status=PostStatus.PUBLISHING, sending_started_at__isnull=True,
            ).values_list("pk", "revision_id", "approved_revision_id")
        })
    # Zero rows for a post: someone else is sending it, or it changed since it was loaded.
    posts = [post for post in posts
             if locked.get(post.pk) == (post.approved_revision_id, post.approved_revision_id)]
    if not posts:
        return []
    ids = [post.pk for post in posts]
    Post.objects.filter(pk__in=ids).update(sending_started_at=now, attempts=F("attempts") + 1,
                                           lease_expires_at=now + LEASE)
    # Numbered over the post's whole life (a retry by hand starts a new series of `attempts`).
    numbers = dict(PublishAttempt.objects.filter(post_id__in=ids).values("post_id")
                   .annotate(n=Count("id")).values_list("post_id", "n"))
    attempts = []
    for post in posts:
        post.attempts += 1
        post.sending_started_at, post.lease_expires_at = now, now + LEASE
        attempts.append(PublishAttempt(
            post=post, number=numbers.get(post.pk, 0) + 1, revision=post.approved_revision,
            publisher=publishers.get_publisher(post.account).name or post.account.publisher,
            idempotency_key=publishers.idempotency_key(post, post.approved_revision), started_at=now,
        ))
    PublishAttempt.objects.bulk_create(attempts)
    return list(zip(posts, attempts, strict=True))


_senders = {"pid": None, "pool": None}
_senders_lock = threading.Lock()


def _send_pool():
    # One pool per process, made after a prefork child is forked; its threads keep their HTTP
    # connections (the webhook publisher's pools are per thread).
    with _senders_lock:
        if _senders["pid"] != os.getpid():
            _senders["pool"] = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="publish-send")
            _senders["pid"] = os.getpid()
        return _senders["pool"]


def _send_one(publisher, post, attempt, media_urls):
    # A send that waited for a free thread must still be answered before its lease ends, or the
    # sweeper could re-drive the post while this send is under way (and send it twice).
    if timezone.now() > post.lease_expires_at - SEND_DEADLINE_MARGIN:
        return publishers.PublishResult(publishers.Outcome.RETRY, idempotent=publisher.idempotent,
                                        reason="not sent: its lease would have ended before the platform answered")
    try:
        return publisher.send(post=post, revision=post.approved_revision, account=post.account,
                              idempotency_key=attempt.idempotency_key, media_urls=media_urls)
    except Exception as exc:  # a publisher's bug must not lose the batch: the post may be live
        logger.exception("publisher %s raised for post %s", publisher.name, post.pk)
        return publishers.PublishResult(publishers.Outcome.AMBIGUOUS, idempotent=publisher.idempotent,
                                        reason=f"publisher error: {type(exc).__name__}")


def _send_all(sending):
    """Send every post of the batch: at once on the send pool for publishers that only talk to the
    network, one by one here for those that use the database. [(post, attempt, result)]."""
    futures, results = {}, {}
    for post, attempt in sending:
        publisher = publishers.get_publisher(post.account)
        media = publishers.media_urls(post.approved_revision)
        if publisher.concurrent and len(sending) > 1:
            futures[post.pk] = _send_pool().submit(_send_one, publisher, post, attempt, media)
        else:
            results[post.pk] = _send_one(publisher, post, attempt, media)
    for post_id, future in futures.items():
        results[post_id] = future.result()
    finished = timezone.now()
    out = []
    for post, attempt in sending:
        result = results[post.pk]
        attempt.finished_at, attempt.outcome = finished, result.outcome
        attempt.http_status, attempt.reason = result.http_status, result.reason
        out.append((post, attempt, result))
    return out


@transaction.atomic
def _record_many(items):
    """Apply the platforms' answers [(post, token, attempt, result)]: the posts' new states, their
    attempts and their audit events commit together. {post_id: outcome}."""
    outcome = publishers.Outcome
    now = timezone.now()
    attempts = [attempt for _post, _token, attempt, _result in items]
    if connection.vendor == "postgresql":
        _update_from_values(PublishAttempt, [((a.pk,), {"finished_at": a.finished_at, "outcome": a.outcome,
                                                         "http_status": a.http_status, "reason": a.reason})
                                             for a in attempts], match=("id",))
    else:
        PublishAttempt.objects.bulk_update(attempts, ["finished_at", "outcome", "http_status", "reason"])
    outcomes, by_id = {}, {}
    published, handed_over, released, final = [], [], [], []
    for post, token, _attempt, result in items:
        by_id[post.pk] = (post, result)
        attempts = post.attempts
        retryable = result.outcome == outcome.RETRY or (result.outcome == outcome.AMBIGUOUS and result.idempotent)
        if result.outcome == outcome.PUBLISHED:
            published.append((post.pk, token, {"external_id": result.external_id[:200], "url": result.url[:500]}))
            outcomes[post.pk] = "published"
        elif result.outcome == outcome.PENDING_CONFIRMATION:
            # A person posts it by hand; the post stays `publishing` (no lease: the sweeper leaves it).
            handed_over.append((post.pk, token, {}))
            outcomes[post.pk] = "handed-over"
        elif retryable and attempts < MAX_ATTEMPTS:
            released.append((post.pk, token, {"last_error": result.reason,
                                               "next_attempt_at": now + _backoff(attempts, result.retry_after)}))
            outcomes[post.pk] = "retry"
        else:
            if result.outcome == outcome.AMBIGUOUS and not result.idempotent:
                status, reason = PostStatus.NEEDS_REVIEW, f"may or may not be live: {result.reason}"
            elif retryable:
                status, reason = PostStatus.FAILED, f"attempts spent: {result.reason}"
            else:
                status, reason = PostStatus.FAILED, result.reason
            final.append((post.pk, token, {"status": status, "last_error": reason}))
            outcomes[post.pk] = status
    applied = _finish_many(published, status=PostStatus.PUBLISHED, published_at=now, last_error="")
    events = [{"action": "content.post.publish", "obj": by_id[pk][0],
               "after": {"external_id": by_id[pk][1].external_id, "url": by_id[pk][1].url,
                         "attempts": by_id[pk][0].attempts}}
              for pk, _token, _row in published if pk in applied]
    _finish_many(handed_over, status=PostStatus.PUBLISHING, handed_over_at=now, last_error="")
    _finish_many(released, status=PostStatus.SCHEDULED, sending_started_at=None)
    applied = _finish_many(final)
    for pk, _token, row in final:
        if pk in applied:
            events.append({"action": f"content.post.{row['status']}", "obj": by_id[pk][0],
                           "after": {"reason": row["last_error"]}})
    if events:
        audit_record_many(actor=None, events=events)
    for pk, _token, row in final:
        if pk in applied:
            _notify_outcome(by_id[pk][0], row["status"], row["last_error"])
    return outcomes


def _finish_many(entries, **changes):
    """`_finish` for many posts at once: entries [(post_id, token, {field: value})], each row's own
    fields (the same names in every row) beside `changes` common to all. Applied only to the posts
    whose lease is still the token given; the set of their ids. One statement on PostgreSQL."""
    if not entries:
        return set()
    changes.setdefault("lease_token", None)
    changes.setdefault("lease_expires_at", None)
    changes["updated_at"] = timezone.now()
    if connection.vendor != "postgresql" or len(entries) == 1:
        return {pk for pk, token, row in entries if _finish(pk, token, **{**changes, **row})}
    return _update_from_values(Post, [((pk, token), row) for pk, token, row in entries], match=("id", "lease_token"),
                               constants=changes, condition={"status": PostStatus.PUBLISHING})


def _update_from_values(model, entries, *, match, constants=None, condition=None):
    """One `UPDATE … FROM (VALUES …)` on PostgreSQL for rows that each set their own values:
    entries [(values of the `match` fields, {field: value})], the same field names in every row;
    `constants` set on every row; `condition` {field: value} must hold too. The ids updated.

    Django's `bulk_update` builds a CASE of one WHEN per row and field, which cost more Python
    than everything else the publishing of a batch does."""
    field = model._meta.get_field
    quote = connection.ops.quote_name
    match_fields = [field(name) for name in match]
    row_fields = [field(name) for name in entries[0][1]]
    keys = [f"k{index}" for index in range(len(match_fields))]
    columns = keys + [quote(f.column) for f in row_fields]
    casts = [f.db_type(connection) for f in match_fields + row_fields]
    row_sql = "(" + ", ".join(f"CAST(%s AS {cast})" for cast in casts) + ")"
    params = []
    for key_values, row in entries:
        params += [f.get_db_prep_save(value, connection) for f, value in zip(match_fields, key_values, strict=True)]
        params += [f.get_db_prep_save(row[f.name], connection) for f in row_fields]
    assignments = [f"{quote(f.column)} = v.{quote(f.column)}" for f in row_fields]
    for name, value in (constants or {}).items():
        assignments.append(f"{quote(field(name).column)} = %s")
        params.append(field(name).get_db_prep_save(value, connection))
    where = [f"t.{quote(f.column)} = v.{key}" for f, key in zip(match_fields, keys, strict=True)]
    for name, value in (condition or {}).items():
        where.append(f"t.{quote(field(name).column)} = %s")
        params.append(field(name).get_db_prep_save(value, connection))
    pk = quote(model._meta.pk.column)
    sql = (f"WITH v ({', '.join(columns)}) AS (VALUES {', '.join([row_sql] * len(entries))}) "
           f"UPDATE {quote(model._meta.db_table)} AS t SET {', '.join(assignments)} FROM v "
           f"WHERE {' AND '.join(where)} RETURNING t.{pk}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


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
