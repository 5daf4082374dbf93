"""Publishing under real failures: real PostgreSQL, Redis and Celery worker processes, and a local
stub platform that records every request (DESIGN.md, "Publishing"; issue 5, "Reliability tests").

The dispatcher and the sweeper run here, in the test, the way beat would run them; the publish
tasks run in a Celery worker subprocess listening on a queue of its own. The stub behaves as a
platform honouring the Idempotency-Key. After each case, `assert_invariants` checks that every post
reached the platform at most once per key (and always with the same key), only ever with its approved
revision, never before its time, and that each post ended published or visibly failed with a reason.
"""

import hashlib
import hmac
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from content import dispatch
from content.models import Pause, PauseScope, Post, PostStatus, Revision, content_sha256
from content.tasks import publish_batch
from tests.factories import SocialAccountFactory
from tests.stub_platform import Answer, StubPlatform
from tests.transactional import migrated_data, reseeded_after_session  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SECRET = "reliability-secret"
# The workers' and this process's lease: short, so the sweeper acts within a test, yet long enough
# for the longest send (twice the HTTP timeout) and the send margin twice (content/checks.py).
LEASE_SECONDS = 8
WORKER_ENV = {
    "PUBLISH_LEASE_SECONDS": str(LEASE_SECONDS),
    "PUBLISH_BACKOFF_BASE_SECONDS": "1",
    "PUBLISH_HTTP_TIMEOUT": "2",
    "PUBLISH_SEND_MARGIN_SECONDS": "1",
}

pytestmark = [
    pytest.mark.usefixtures("migrated_data"),
    pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis://"),
                       reason="needs Redis as the Celery broker (CELERY_BROKER_URL)"),
]


# --- the worker ------------------------------------------------------------------------------------

def _database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` in a subprocess on its own queue, against the test database."""

    def __init__(self, queue, log_path, *, pool="prefork", concurrency=1):
        self.queue = queue
        self.log_path = log_path
        self.env = env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1",
                   DATABASE_URL=_database_url(), CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
                   CELERY_TASK_DEFAULT_QUEUE=queue,
                   EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", **WORKER_ENV)
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-Q", queue, "--pool", pool,
             "--concurrency", str(concurrency), "--without-heartbeat", "--without-mingle", "--without-gossip",
             "--loglevel", "WARNING", "-n", f"{queue}@%h"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def children(self):
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def kill_children(self):
        """SIGKILL the pool processes (the one running the task among them): the task is lost mid-way."""
        killed = self.children()
        assert killed, "the worker has no pool process"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        return killed

    def output(self):
        return Path(self.log_path).read_text(errors="replace")[-4000:]

    def alive(self):
        assert self.process.poll() is None, f"the worker exited:\n{self.output()}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.children():  # orphans of a killed main process, if any
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """One prefork worker (two pool processes) for the module, on a queue nobody else listens to."""
    with django_db_blocker.unblock():
        queue = f"reliability-{uuid.uuid4().hex[:10]}"
        worker = Worker(queue, tmp_path_factory.mktemp("worker") / "worker.log", concurrency=2)
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(autouse=True)
def short_lease(monkeypatch):
    monkeypatch.setattr(dispatch, "LEASE", timedelta(seconds=LEASE_SECONDS))


@pytest.fixture
def stub():
    with StubPlatform(idempotent=True) as stub:
        stub.answer(201, {"external_id": "x", "url": "https://platform.example/x"})
        yield stub


@pytest.fixture
def account(brand, platforms, stub):
    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated", handle="aurora_rel",
                                publisher="webhook", webhook_url=stub.url, webhook_secret=SECRET)


# --- posts, driving, invariants ------------------------------------------------------------------------

def approved_posts(account, author, count, *, at=None, text="Approved text"):
    """`count` posts approved and scheduled for `at` (default: now), each with its revision 1."""
    at = at or timezone.now()
    posts = Post.objects.bulk_create([
        Post(account=account, author=author, body=f"{text} #{i}", status=PostStatus.DRAFT) for i in range(count)
    ])
    revisions = Revision.objects.bulk_create([
        Revision(post=post, number=1, body=post.body, media=[], sha256=content_sha256(post.body, []),
                 screening={"decision": "pass", "hits": []}, created_by=author) for post in posts
    ])
    for post, revision in zip(posts, revisions, strict=True):
        post.revision = post.approved_revision = revision
        post.status, post.scheduled_at, post.approved_at = PostStatus.SCHEDULED, at, timezone.now()
    Post.objects.bulk_update(posts, ["revision", "approved_revision", "status", "scheduled_at", "approved_at"])
    return posts


def to_queue(queue):
    """What the dispatcher does after its claims commit (batched `publish_batch` tasks), on the
    test's own queue."""
    def enqueue(claims):
        dispatch._enqueue(claims, queue=queue)
    return enqueue


def wait_for(condition, *, timeout=45, interval=0.1, message="", worker=None, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick is not None:
            tick()
        if condition():
            return
        if worker is not None:
            worker.alive()
        time.sleep(interval)
    raise AssertionError(f"timed out: {message}\n" + (worker.output() if worker else ""))


def beat(queue):
    """One tick of what beat runs: sweep expired leases, then dispatch what is due."""
    def tick():
        dispatch.sweep()
        dispatch.dispatch_due(enqueue=to_queue(queue))
    return tick


def statuses(posts):
    return dict(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("pk", "status"))


def settled(posts):
    def condition():
        return all(s in (PostStatus.PUBLISHED, PostStatus.FAILED, PostStatus.NEEDS_REVIEW)
                   for s in statuses(posts).values())
    return condition


def assert_invariants(stub, posts):
    """What every case must leave behind, whatever happened on the way."""
    fresh = {p.pk: p for p in Post.objects.filter(pk__in=[p.pk for p in posts]).select_related("approved_revision")}
    keys = {}
    for request in stub.snapshot():
        data = request.json()
        post = fresh[data["post_id"]]
        revision = post.approved_revision
        # Only the approved revision, signed, with its key.
        assert revision is not None, f"post {post.pk} reached the platform without an approved revision"
        assert (data["body"], data["revision"]["sha256"]) == (revision.body, revision.sha256)
        assert content_sha256(data["body"], []) == revision.sha256
        expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(request.headers["x-matrix-signature"], expected)
        # Never before its time.
        assert request.arrived_at >= post.scheduled_at.timestamp(), (post.pk, request.arrived_at)
        keys.setdefault(post.pk, set()).add(request.key)
    for post_id, post_keys in keys.items():
        assert len(post_keys) == 1, f"post {post_id} was sent under several keys: {post_keys}"
    # At most one publication per key: a repeat of a published key published nothing new.
    published_keys = {}
    for key, request in stub.published.items():
        published_keys.setdefault(request.json()["post_id"], []).append(key)
    assert all(len(k) == 1 for k in published_keys.values()), published_keys
    for post in fresh.values():
        if post.status == PostStatus.PUBLISHED:
            assert post.pk in published_keys, f"post {post.pk} is published but the platform never took it"
            assert post.lease_token is None
        elif post.status in (PostStatus.FAILED, PostStatus.NEEDS_REVIEW):
            assert post.last_error, f"post {post.pk} is {post.status} without a reason"
            assert post.pk not in published_keys or post.status == PostStatus.NEEDS_REVIEW
    return fresh


def requests_of(stub, post):
    return [r for r in stub.snapshot() if r.json()["post_id"] == post.pk]


# --- (a) a worker killed during a publish -----------------------------------------------------------------

def test_a_worker_killed_while_waiting_for_the_answer_is_resent_with_the_same_key_and_published_once(
        worker, stub, account, marketer):
    # The platform takes the post, then is slow to answer: the worker dies meanwhile.
    stub.script = lambda request, n: Answer(201, b'{"external_id": "x1"}', {"Content-Type": "application/json"},
                                            delay=60 if n == 0 else 0)
    [post] = approved_posts(account, marketer, 1)
    dispatch.dispatch_due(enqueue=to_queue(worker.queue))
    wait_for(lambda: len(stub.snapshot()) == 1, message="the first send", worker=worker)

    worker.kill_children()
    # The redelivered task finds the send already claimed and does nothing; the lease expires and
    # the sweeper re-drives the post, which goes out again under the same key.
    wait_for(settled([post]), tick=beat(worker.queue), interval=0.3, message="published", worker=worker)

    post = assert_invariants(stub, [post])[post.pk]
    sent = requests_of(stub, post)
    assert post.status == PostStatus.PUBLISHED and post.external_id == "x1"
    assert len(sent) == 2 and sent[0].key == sent[1].key and [r.repeat for r in sent] == [False, True]
    assert post.attempts == 2
    # The attempt the killed worker was making does not show as running forever.
    attempts = list(post.publish_attempts.order_by("number").values_list("outcome", "reason"))
    assert attempts == [("ambiguous", "worker lost during the send"), ("published", "")]


def _waiting_on_a_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND (query LIKE 'UPDATE \"content_post\"%%' "
                       "OR query LIKE '%%FROM \"content_post\"%%FOR UPDATE%%')")
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_before_it_sent_anything_leaves_the_post_to_be_published_once(
        worker, stub, account, marketer):
    [post] = approved_posts(account, marketer, 1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        # Another transaction holds the post's row: the worker's move to "sending" waits on it.
        try:
            with transaction.atomic():
                Post.objects.select_for_update().get(pk=post.pk)
                locked.set()
                release.wait(60)
        finally:
            connections.close_all()

    held = []
    dispatch.dispatch_due(enqueue=held.extend)  # claimed: a row lock would make the claim skip it
    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        to_queue(worker.queue)(held)
        wait_for(_waiting_on_a_lock, message="the worker waiting for the row", worker=worker)
        worker.kill_children()
        assert stub.snapshot() == []
    finally:
        release.set()
        holder.join(30)

    wait_for(settled([post]), tick=beat(worker.queue), interval=0.3, message="published", worker=worker)
    post = assert_invariants(stub, [post])[post.pk]
    assert post.status == PostStatus.PUBLISHED
    assert len(requests_of(stub, post)) == 1


# --- (b) a dispatcher killed between the claim and the enqueue ------------------------------------------

def test_a_dispatcher_lost_between_claim_and_enqueue_is_redriven_after_the_lease(worker, stub, account, marketer):
    posts = approved_posts(account, marketer, 20)

    def crash(claims):
        raise RuntimeError("the dispatcher died before enqueueing")

    with pytest.raises(RuntimeError):
        dispatch.dispatch_due(enqueue=crash)
    claimed = Post.objects.filter(pk__in=[p.pk for p in posts])
    assert set(claimed.values_list("status", flat=True)) == {PostStatus.PUBLISHING}
    # Nothing re-claims them while the lease holds.
    assert dispatch.dispatch_due(enqueue=to_queue(worker.queue)).claimed == []
    assert dispatch.sweep() == ([], [])

    wait_for(settled(posts), tick=beat(worker.queue), interval=0.3, message="all published", worker=worker)
    fresh = assert_invariants(stub, posts)
    assert {p.status for p in fresh.values()} == {PostStatus.PUBLISHED}
    assert len(stub.snapshot()) == 20


# --- (c) two dispatchers at once --------------------------------------------------------------------------

def test_two_dispatchers_at_once_claim_each_post_once(worker, stub, account, marketer):
    posts = approved_posts(account, marketer, 200)
    claims = [[], []]
    start = threading.Barrier(2)

    def run(index):
        try:
            start.wait(10)
            for _ in range(5):
                claims[index] += dispatch.dispatch_due(batch_size=25, enqueue=to_queue(worker.queue)).claimed
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not set(claims[0]) & set(claims[1])
    assert sorted(claims[0] + claims[1]) == sorted(p.pk for p in posts)
    wait_for(settled(posts), tick=beat(worker.queue), interval=0.3, timeout=60, message="all published",
             worker=worker)
    fresh = assert_invariants(stub, posts)
    assert {p.status for p in fresh.values()} == {PostStatus.PUBLISHED}
    # Each post went out once; a second request is only ever the retry of a send that timed out
    # (the machine is busy), under the same key, which the platform recognised.
    assert len(stub.published) == 200
    for post in fresh.values():
        sent = requests_of(stub, post)
        assert len(sent) == post.attempts, (post.pk, list(post.publish_attempts.values_list("outcome", "reason")))
        assert [r.repeat for r in sent] == [False] + [True] * (len(sent) - 1)


# --- (d) an edit racing the send ------------------------------------------------------------------------------

def test_an_edit_once_claimed_is_refused_and_only_the_approved_text_goes_out(worker, stub, account, marketer):
    from config.errors import DomainError
    from content import services

    [post] = approved_posts(account, marketer, 1, text="Approved launch text")
    held = []
    dispatch.dispatch_due(enqueue=held.extend)  # claimed, its task about to run

    with pytest.raises(DomainError):
        services.post_update(actor=marketer, post=post, body="UNAPPROVED: a last-minute change")
    to_queue(worker.queue)(held)
    wait_for(settled([post]), tick=beat(worker.queue), interval=0.3, message="published", worker=worker)
    post = assert_invariants(stub, [post])[post.pk]
    assert post.status == PostStatus.PUBLISHED and post.body == "Approved launch text #0"
    assert [r.json()["body"] for r in stub.snapshot()] == ["Approved launch text #0"]


def test_an_edit_before_the_claim_sends_it_back_to_review_and_nothing_goes_out(worker, stub, account, marketer):
    from content import services

    at = timezone.now() + timedelta(seconds=2)
    [post] = approved_posts(account, marketer, 1, text="Approved launch text", at=at)
    post = services.post_update(actor=marketer, post=post, body="A new text, not yet approved")
    assert post.status != PostStatus.SCHEDULED and post.approved_revision is None
    tick = beat(worker.queue)
    while timezone.now() < at + timedelta(seconds=1.5):
        tick()
        time.sleep(0.2)
    assert stub.snapshot() == []
    assert Post.objects.get(pk=post.pk).status == post.status


def test_an_edit_after_the_claim_and_before_the_send_stops_the_send(worker, stub, account, marketer):
    """The content changed under a claim (a path around the services): the task sends nothing."""
    [post] = approved_posts(account, marketer, 1, text="Approved launch text")
    held = []
    dispatch.dispatch_due(enqueue=held.extend)
    edited = Revision.objects.create(post=post, number=2, body="UNAPPROVED", media=[],
                                     sha256=content_sha256("UNAPPROVED", []), created_by=marketer)
    Post.objects.filter(pk=post.pk).update(body="UNAPPROVED", revision=edited)
    to_queue(worker.queue)(held)

    wait_for(lambda: Post.objects.get(pk=post.pk).status != PostStatus.PUBLISHING, message="stopped",
             worker=worker)
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW and post.last_error == "changed after approval"
    assert stub.snapshot() == []


# --- (e) a pause created while a post is being claimed -----------------------------------------------------

def test_a_pause_created_after_the_claim_holds_the_post_and_lifting_it_sends_it(worker, stub, account, marketer):
    [post] = approved_posts(account, marketer, 1)
    held = []
    dispatch.dispatch_due(enqueue=held.extend)  # claimed; its task not yet enqueued
    pause = Pause.objects.create(brand=account.brand, scope=PauseScope.ACCOUNT, value=str(account.pk),
                                 reason="crisis", created_by=marketer)
    to_queue(worker.queue)(held)

    wait_for(lambda: Post.objects.get(pk=post.pk).status == PostStatus.SCHEDULED, message="held",
             worker=worker)
    # Held, not failed; the dispatcher leaves it alone while the pause lasts.
    tick = beat(worker.queue)
    for _ in range(5):
        tick()
        time.sleep(0.2)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED and f"pause #{pause.pk}" in post.last_error
    assert stub.snapshot() == []

    Pause.objects.filter(pk=pause.pk).update(lifted_at=timezone.now(), lifted_by=marketer)
    wait_for(settled([post]), tick=tick, interval=0.3, message="published after the lift", worker=worker)
    post = assert_invariants(stub, [post])[post.pk]
    assert post.status == PostStatus.PUBLISHED
    assert len(stub.snapshot()) == 1 and stub.snapshot()[0].arrived_at >= Pause.objects.get().lifted_at.timestamp()


# --- (f, g, h) what the platform answers ------------------------------------------------------------------

def test_429_with_retry_after_is_retried_no_sooner(worker, stub, account, marketer):
    stub.answer(429, {"error": "slow down"}, headers={"Retry-After": "3"},
                then=[Answer(201, b'{"external_id": "ok"}', {"Content-Type": "application/json"})])
    [post] = approved_posts(account, marketer, 1)
    wait_for(settled([post]), tick=beat(worker.queue), interval=0.2, message="published", worker=worker)

    post = assert_invariants(stub, [post])[post.pk]
    first, second = requests_of(stub, post)
    assert post.status == PostStatus.PUBLISHED and post.attempts == 2
    assert second.arrived_at - first.arrived_at >= 3
    assert first.key == second.key


def test_a_timeout_and_a_500_are_retried_with_the_same_key_then_published(worker, stub, account, marketer):
    json_type = {"Content-Type": "application/json"}
    stub.answer(503, b"", delay=3, then=[Answer(500, b'{"error": "boom"}', json_type),
                                           Answer(201, b'{"external_id": "ok"}', json_type)])
    [post] = approved_posts(account, marketer, 1)
    wait_for(settled([post]), tick=beat(worker.queue), interval=0.2, message="published", worker=worker)

    post = assert_invariants(stub, [post])[post.pk]
    sent = requests_of(stub, post)
    assert post.status == PostStatus.PUBLISHED and post.external_id == "ok" and post.attempts == 3
    assert len(sent) == 3 and len({r.key for r in sent}) == 1
    reasons = list(post.publish_attempts.order_by("number").values_list("outcome", "reason"))
    assert reasons[0] == ("ambiguous", "timed out waiting for the answer")
    assert reasons[1] == ("ambiguous", "HTTP 500: boom")


def test_a_permanent_400_fails_the_post_with_the_reason(worker, stub, account, marketer):
    stub.answer(400, {"error": "text too long for this platform"})
    [post] = approved_posts(account, marketer, 1)
    wait_for(settled([post]), tick=beat(worker.queue), interval=0.2, message="failed", worker=worker)

    post = assert_invariants(stub, [post])[post.pk]
    assert post.status == PostStatus.FAILED
    assert post.last_error == "HTTP 400: text too long for this platform"
    assert len(stub.snapshot()) == 1


def test_nothing_goes_out_before_its_time(worker, stub, account, marketer):
    soon = timezone.now() + timedelta(seconds=2)
    posts = approved_posts(account, marketer, 5, at=soon)
    wait_for(settled(posts), tick=beat(worker.queue), interval=0.1, message="published", worker=worker)
    assert_invariants(stub, posts)
    assert min(r.arrived_at for r in stub.snapshot()) >= soon.timestamp()


# --- (i) Redis restarted in the middle of a burst --------------------------------------------------------

def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Redis:
    """A redis-server of this test's own (other test runs share the machine's), without persistence:
    a restart loses every queued message."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, timeout=15, message="redis-server up")

    def ping(self):
        import redis

        try:
            return redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            return False

    def kill(self):
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def own_redis():
    redis_server = Redis()
    try:
        yield redis_server
    finally:
        redis_server.kill()


def test_redis_restarted_mid_burst_loses_queued_tasks_and_the_sweeper_recovers_every_post(
        own_redis, stub, account, marketer, tmp_path, monkeypatch):
    from config.celery import app

    monkeypatch.setattr(settings, "CELERY_BROKER_URL", own_redis.url)
    stub.script = lambda request, n: Answer(201, b"{}", {"Content-Type": "application/json"}, delay=0.1)
    queue = f"reliability-redis-{uuid.uuid4().hex[:8]}"
    worker = Worker(queue, tmp_path / "worker.log", concurrency=2)
    failures = []

    def tick():
        try:
            with app.connection_for_write(own_redis.url) as conn:
                def enqueue(claims):
                    for start in range(0, len(claims), 5):
                        chunk = [[post_id, str(token)] for post_id, token in claims[start:start + 5]]
                        publish_batch.apply_async((chunk,), queue=queue, connection=conn, retry=False)
                dispatch.sweep()
                dispatch.dispatch_due(enqueue=enqueue)
        except Exception as exc:  # Redis is down: the claims stay, the sweeper re-drives them
            failures.append(exc)

    try:
        posts = approved_posts(account, marketer, 60)
        tick()
        wait_for(lambda: len(stub.snapshot()) >= 10, message="the burst under way", worker=worker)
        own_redis.kill()
        tick()  # a dispatcher run while Redis is down
        own_redis.start()
        wait_for(settled(posts), tick=tick, interval=0.3, timeout=60, message="all published", worker=worker)
    finally:
        worker.stop()

    fresh = assert_invariants(stub, posts)
    assert {p.status for p in fresh.values()} == {PostStatus.PUBLISHED}
    assert len(stub.published) == 60


def test_a_burst_is_claimed_in_every_batch_before_anything_is_enqueued(account, marketer):
    """Enqueueing costs far more than claiming: the last batch of a burst does not wait for it."""
    approved_posts(account, marketer, 7)
    calls = []

    def enqueue(claims):
        calls.append((len(claims), Post.objects.filter(status=PostStatus.PUBLISHING).count()))

    report = dispatch.dispatch_due(batch_size=2, enqueue=enqueue)
    assert len(report.claimed) == 7
    assert calls == [(7, 7)]


# --- (c') two beats at once, the whole pipeline in real processes --------------------------------------------

def test_two_beats_at_once_drive_real_dispatch_tasks_and_each_post_goes_out_once(stub, account, marketer, tmp_path):
    """Two `celery beat` processes (a deployment mistake) send every periodic task twice; the
    worker runs `dispatch_due` and `sweep_leases` as tasks and the publish tasks they enqueue."""
    at = timezone.now() + timedelta(seconds=3)
    posts = approved_posts(account, marketer, 100, at=at)
    queue = f"reliability-beats-{uuid.uuid4().hex[:8]}"
    worker = Worker(queue, tmp_path / "worker.log", concurrency=2)
    env = dict(worker.env, RUN_DIR=str(tmp_path))
    beats = []
    try:
        for index in range(2):
            log = open(tmp_path / f"beat-{index}.log", "wb")
            beats.append((log, subprocess.Popen(
                [str(Path(sys.executable).parent / "celery"), "-A", "config", "beat", "--loglevel", "WARNING",
                 "-s", str(tmp_path / f"beat-{index}-schedule")],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)))
        wait_for(settled(posts), interval=0.3, timeout=60, message="all published", worker=worker)
    finally:
        for log, beat_process in beats:
            beat_process.terminate()
            try:
                beat_process.wait(20)
            except subprocess.TimeoutExpired:
                beat_process.kill()
                beat_process.wait()
            log.close()
        worker.stop()

    fresh = assert_invariants(stub, posts)
    assert {p.status for p in fresh.values()} == {PostStatus.PUBLISHED}
    assert len(stub.published) == 100
    for post in fresh.values():
        assert len(requests_of(stub, post)) == post.attempts
