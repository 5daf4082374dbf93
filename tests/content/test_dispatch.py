"""The dispatcher, the publish step and the sweeper, in process against a real local endpoint:
what is claimed when, what reaches the platform, and what each answer does to the post."""

import json
import zoneinfo
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from approvals.models import AuditEvent
from content import dispatch, services
from content.models import Post, PostStatus, PublishAttempt
from tests.factories import SocialAccountFactory, UserFactory
from tests.stub_platform import Answer, StubPlatform

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-integration"
TEXT = "新车今日上市，欢迎到店试驾。"


@pytest.fixture
def stub():
    with StubPlatform() as stub:
        stub.answer(201, {"external_id": "wb-1", "url": "https://weibo.example/wb-1"})
        yield stub


@pytest.fixture
def account(brand, platforms, stub):
    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated",
                                handle="aurora_hook", publisher="webhook", webhook_url=stub.url, webhook_secret=SECRET)


def approved(account, marketer, *, at, body=TEXT):
    author = UserFactory(role="marketer", brand=account.brand)
    post = services.post_create(actor=author, account=account, body=body, scheduled_at=at)
    services.post_submit(actor=author, post=post)
    return services.post_approve(actor=marketer, post=post)


class Queue:
    """Stands in for Celery: keeps what the dispatcher enqueued after commit."""

    def __init__(self, capture):
        self.claims = []
        self.capture = capture

    def dispatch(self, enqueue=None):
        # The test runs in a transaction that never commits: run the after-commit callbacks here.
        with self.capture(execute=True):
            dispatch.dispatch_due(enqueue=enqueue or self)

    def __call__(self, claims):
        self.claims += claims

    def run(self):
        claims, self.claims = self.claims, []
        return [dispatch.publish(post_id, token) for post_id, token in claims]


@pytest.fixture
def queue(django_capture_on_commit_callbacks):
    return Queue(django_capture_on_commit_callbacks)


def run_due(queue):
    queue.dispatch()
    return queue.run()


def test_a_due_post_goes_out_once_with_exactly_the_approved_text(account, marketer, stub, queue):
    post = approved(account, marketer, at=timezone.now() + timedelta(minutes=5))
    assert run_due(queue) == []  # not due yet
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert run_due(queue) == ["published"]
        assert run_due(queue) == []  # nothing left to claim
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED and post.external_id == "wb-1"
    assert post.url == "https://weibo.example/wb-1" and post.attempts == 1
    assert len(stub.requests) == 1 and stub.requests[0].json()["body"] == TEXT
    assert stub.requests[0].headers["idempotency-key"] == f"post-{post.pk}-rev-{post.approved_revision.sha256[:16]}"
    assert AuditEvent.objects.filter(action="content.post.publish", object_id=str(post.pk)).count() == 1


def test_the_same_claim_run_twice_sends_once(account, marketer, stub, queue):
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        queue.dispatch()
        (post_id, token), = queue.claims
        assert dispatch.publish(post_id, token) == "published"
        assert dispatch.publish(post_id, token) == "not-mine"  # a redelivered task
    assert len(stub.requests) == 1
    assert PublishAttempt.objects.filter(post=post).count() == 1


def test_a_paused_account_is_held_and_released_when_the_pause_lifts(account, marketer, stub, queue, brand):
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    pause = services.pause_create(actor=marketer, brand=brand, scope="platform", value="weibo", reason="crisis")
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        assert run_due(queue) == []
        post.refresh_from_db()
        assert post.status == PostStatus.SCHEDULED
        services.pause_lift(actor=marketer, pause=pause)
        assert run_due(queue) == ["published"]
    assert len(stub.requests) == 1


def test_a_pause_created_after_the_claim_still_stops_the_send(account, marketer, stub, queue, brand):
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        queue.dispatch()
        services.pause_create(actor=marketer, brand=brand, scope="account", value=str(account.pk), reason="hold")
        assert queue.run() == ["paused"]
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.last_error.startswith("held by pause")
    assert stub.requests == []


def test_a_post_later_than_the_missed_window_fails_instead_of_going_out_late(account, marketer, stub, queue):
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    with time_machine.travel(timezone.now() + dispatch.MISSED_WINDOW + timedelta(minutes=1)):
        assert run_due(queue) == []
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and post.last_error.startswith("missed")
    assert stub.requests == []


def test_429_is_retried_no_sooner_than_retry_after_with_the_same_key(account, marketer, stub, queue):
    stub.answer(429, headers={"Retry-After": "600"}, then=[Answer(201, b'{"external_id": "x"}')])
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    start = timezone.now() + timedelta(seconds=2)
    with time_machine.travel(start):
        assert run_due(queue) == ["retry"]
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.next_attempt_at >= start + timedelta(seconds=600)
    with time_machine.travel(start + timedelta(seconds=300)):
        assert run_due(queue) == []
    with time_machine.travel(post.next_attempt_at + timedelta(seconds=1)):
        assert run_due(queue) == ["published"]
    keys = {r.headers["idempotency-key"] for r in stub.requests}
    assert len(stub.requests) == 2 and len(keys) == 1


def test_a_permanent_400_fails_the_post_with_the_reason(account, marketer, stub, queue):
    stub.answer(400, {"error": "text too long for this channel"})
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        assert run_due(queue) == ["failed"]
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and "text too long" in post.last_error


def test_500s_are_retried_until_the_attempts_are_spent(account, marketer, stub, queue):
    stub.answer(500, b"oops")
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    moment = timezone.now() + timedelta(seconds=2)
    outcomes = []
    for _ in range(dispatch.MAX_ATTEMPTS):
        with time_machine.travel(moment):
            outcomes += run_due(queue)
        post.refresh_from_db()
        if post.next_attempt_at:
            moment = post.next_attempt_at + timedelta(seconds=1)
    post.refresh_from_db()
    assert outcomes == ["retry"] * (dispatch.MAX_ATTEMPTS - 1) + ["failed"]
    assert post.status == PostStatus.FAILED and post.last_error.startswith("attempts spent")


def test_an_expired_lease_that_never_sent_is_claimed_again(account, marketer, stub, queue):
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    start = timezone.now() + timedelta(seconds=2)
    with time_machine.travel(start):
        queue.dispatch(enqueue=lambda claims: None)  # the dispatcher died before enqueueing
    with time_machine.travel(start + dispatch.LEASE + timedelta(seconds=1)):
        assert dispatch.sweep() == ([post.pk], [])
        assert run_due(queue) == ["published"]
    assert len(stub.requests) == 1


def test_a_worker_lost_during_the_send_is_retried_with_the_same_key(account, marketer, stub, queue):
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    start = timezone.now() + timedelta(seconds=2)
    with time_machine.travel(start):
        queue.dispatch()
        (post_id, token), = queue.claims
        queue.claims = []
        # The worker moved it to sending, then died before recording the answer.
        Post.objects.filter(pk=post_id).update(sending_started_at=timezone.now())
    with time_machine.travel(start + dispatch.LEASE * 2 + timedelta(seconds=1)):
        assert dispatch.sweep() == ([post.pk], [])
        assert run_due(queue) == ["published"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED


def test_an_account_whose_owner_withdrew_consent_gets_nothing(brand, platforms, stub, queue, marketer, employee):
    from matrix import services as matrix_services

    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="employee", owner=employee,
                                   ownership="personal", status="active", publisher="webhook", webhook_url=stub.url,
                                   webhook_secret=SECRET)
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    matrix_services.account_withdraw_consent(actor=employee, account=account)
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        assert run_due(queue) == ["account"]
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and "paused" in post.last_error
    assert stub.requests == []


def test_a_marketer_retries_a_failed_post_and_it_goes_out(account, marketer, stub, queue, employee, client):
    stub.answer(400, {"error": "channel closed"}, then=[Answer(201, b'{"external_id": "again"}')])
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        assert run_due(queue) == ["failed"]
    client.force_login(employee)
    assert client.post(f"/posts/{post.pk}/retry/").status_code in (403, 404)
    client.force_login(marketer)
    page = client.get(f"/posts/{post.pk}/").content.decode()
    assert "channel closed" in page and 'data-testid="retry"' in page
    client.post(f"/posts/{post.pk}/retry/")
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    assert AuditEvent.objects.filter(action="content.post.retry", actor=marketer).exists()
    with time_machine.travel(timezone.now() + timedelta(seconds=1)):
        assert run_due(queue) == ["published"]
    post.refresh_from_db()
    assert post.external_id == "again" and len(stub.requests) == 2


def test_an_account_limit_refuses_a_crowded_time_and_holds_a_burst_at_dispatch(account, marketer, stub, queue,
                                                                               monkeypatch):
    # A post held for a free slot still fails past the missed window: give this one room.
    monkeypatch.setattr(dispatch, "MISSED_WINDOW", timedelta(hours=3))
    base = timezone.now() + timedelta(hours=2)
    first = approved(account, marketer, at=base)
    second = approved(account, marketer, at=base + timedelta(minutes=10))
    account.posts_per_hour = 2
    account.save(update_fields=["posts_per_hour"])
    author = UserFactory(role="marketer", brand=account.brand)
    third = services.post_create(actor=author, account=account, body="第三条", scheduled_at=base + timedelta(minutes=30))
    with pytest.raises(services.DomainError) as refused:
        services.post_submit(actor=author, post=third)
    assert refused.value.field == "scheduled_at" and "2" in refused.value.message
    # Ninety minutes later the hour is free again.
    services.post_update(actor=author, post=third, scheduled_at=base + timedelta(minutes=90))
    assert services.post_submit(actor=author, post=third).status == PostStatus.IN_REVIEW
    # At dispatch, a limit lowered after scheduling holds the second post of the hour back.
    account.posts_per_hour = 1
    account.save(update_fields=["posts_per_hour"])
    with time_machine.travel(base + timedelta(minutes=11)):
        assert run_due(queue) == ["published"]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == PostStatus.PUBLISHED
    assert second.status == PostStatus.SCHEDULED and second.next_attempt_at > base + timedelta(minutes=59)
    assert second.last_error.startswith("rate limit")
    with time_machine.travel(second.next_attempt_at + timedelta(seconds=1)):
        assert run_due(queue) == ["published"]


def test_a_retry_that_would_go_out_past_the_missed_window_fails_as_missed(account, marketer, stub, queue):
    stub.answer(429, headers={"Retry-After": "7200"})
    post = approved(account, marketer, at=timezone.now() + timedelta(seconds=1))
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        assert run_due(queue) == ["retry"]
    post.refresh_from_db()
    with time_machine.travel(post.next_attempt_at + timedelta(seconds=1)):
        assert run_due(queue) == []
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and post.last_error.startswith("missed")
    assert len(stub.requests) == 1


def _answer_by_body(request, number):
    body = request.json()["body"]
    if "busy" in body:
        return Answer(429, b'{"error": "slow down"}', {"Retry-After": "120"})
    if "bad" in body:
        return Answer(400, b'{"error": "text too long"}')
    return Answer(201, json.dumps({"external_id": f"wb-{request.json()['post_id']}"}).encode())


def test_a_batch_records_each_answer_on_its_own_post(brand, platforms, marketer, queue):
    with StubPlatform(script=_answer_by_body) as stub:
        account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated",
                                       handle="batch_hook", publisher="webhook", webhook_url=stub.url,
                                       webhook_secret=SECRET)
        at = timezone.now() + timedelta(seconds=1)
        ok1, busy, bad, ok2 = (approved(account, marketer, at=at, body=f"{word} {TEXT}")
                               for word in ("ok one", "busy", "bad", "ok two"))
        with time_machine.travel(timezone.now() + timedelta(seconds=2)):
            queue.dispatch()
            claims = queue.claims
            assert len(claims) == 4
            outcomes = dispatch.publish_many(claims)
            assert outcomes == {ok1.pk: "published", busy.pk: "retry", bad.pk: "failed", ok2.pk: "published"}
            # A redelivered task sends nothing again.
            assert dispatch.publish_many(claims) == dict.fromkeys(outcomes, "not-mine")
            now = timezone.now()
        assert len(stub.requests) == 4
    for post in (ok1, busy, bad, ok2):
        post.refresh_from_db()
    assert (ok1.status, ok1.external_id, ok2.status, ok2.external_id) == (
        PostStatus.PUBLISHED, f"wb-{ok1.pk}", PostStatus.PUBLISHED, f"wb-{ok2.pk}")
    assert ok1.lease_token is None and ok1.published_at is not None
    assert busy.status == PostStatus.SCHEDULED and busy.next_attempt_at >= now + timedelta(seconds=119)
    assert busy.last_error.startswith("HTTP 429") and busy.lease_token is None and busy.sending_started_at is None
    assert bad.status == PostStatus.FAILED and bad.last_error == "HTTP 400: text too long"
    attempts = {a.post_id: a for a in PublishAttempt.objects.filter(post__in=[ok1, busy, bad, ok2])}
    assert {pk: (a.outcome, a.http_status) for pk, a in attempts.items()} == {
        ok1.pk: ("published", 201), busy.pk: ("retry", 429), bad.pk: ("failed", 400), ok2.pk: ("published", 201)}
    assert all(a.finished_at is not None for a in attempts.values())
    events = AuditEvent.objects.filter(object_type="content.post")
    assert sorted(events.filter(action="content.post.publish").values_list("object_id", flat=True)) == sorted(
        [str(ok1.pk), str(ok2.pk)])
    assert list(events.filter(action="content.post.failed").values_list("object_id", flat=True)) == [str(bad.pk)]
    assert not AuditEvent.objects.filter(action="content.post.publish", object_id=str(busy.pk)).exists()


def _claims_of(count, account, marketer, queue):
    at = timezone.now() + timedelta(minutes=5)
    for index in range(count):
        approved(account, marketer, at=at, body=f"{TEXT} {index}")
    with time_machine.travel(at + timedelta(seconds=1)):
        queue.dispatch()
    claims, queue.claims = queue.claims, []
    return claims


def test_a_batch_costs_the_same_queries_for_5_posts_as_for_20(account, marketer, stub, queue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (5, 20):
        claims = _claims_of(size, account, marketer, queue)
        with CaptureQueriesContext(connection) as queries:
            outcomes = dispatch.publish_many(claims)
        assert set(outcomes.values()) == {"published"}
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert Post.objects.filter(account=account, status=PostStatus.PUBLISHED).count() == 25


def test_nothing_goes_out_on_a_day_its_owner_blocked(brand, platforms, executive, marketer, reviewer, stub, queue):
    from content.models import BlockedDay, Notification

    account = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="executive", owner=executive,
                                   ownership="personal", status="active", handle="ceo_hook", publisher="webhook",
                                   webhook_url=stub.url, webhook_secret=SECRET)
    at = timezone.now() + timedelta(minutes=5)
    post = services.post_create(actor=marketer, account=account, body=TEXT, scheduled_at=at)
    services.post_submit(actor=marketer, post=post)
    post = services.post_approve(actor=executive, post=post)  # the owner's step
    post = services.post_approve(actor=reviewer, post=post)  # the executive workflow's risk review
    assert post.status == PostStatus.SCHEDULED
    with time_machine.travel(at + timedelta(seconds=1)):
        # Blocked after the post was approved: the send itself is refused.
        day = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(executive.timezone)).date()
        BlockedDay.objects.create(owner=executive, date=day, note="Board meeting", created_by=executive)
        assert run_due(queue) == ["blocked-day"]
    post.refresh_from_db()
    assert stub.requests == []
    assert post.status == PostStatus.FAILED and post.last_error.startswith("blocked day:")
    assert day.isoformat() in post.last_error
    assert AuditEvent.objects.filter(action="content.post.failed", object_id=str(post.pk)).exists()
    assert Notification.objects.filter(post=post, kind=Notification.Kind.PUBLISH_FAILED).exists()


def test_a_send_that_could_outlast_its_lease_is_not_started(account, marketer, stub, queue, monkeypatch):
    """A post waiting for a free send thread until too close to its lease's end is not sent: the
    sweeper could re-drive it while the send is under way. It is retried, nothing reached the platform."""
    post = approved(account, marketer, at=timezone.now() + timedelta(minutes=5))
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
        queue.dispatch()
        monkeypatch.setattr(dispatch, "LEASE", dispatch.SEND_DEADLINE_MARGIN - timedelta(seconds=1))
        assert queue.run() == ["retry"]
    assert stub.requests == []
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and post.next_attempt_at is not None
    assert post.last_error.startswith("not sent: its lease would have ended")
    attempt = PublishAttempt.objects.get(post=post)
    assert attempt.outcome == "retry" and attempt.finished_at is not None
