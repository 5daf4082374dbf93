"""The webhook publisher against a real local HTTP endpoint: what it sends (signed JSON of exactly
the approved revision, with an idempotency key that survives retries) and how it reads each answer.
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from content import services
from content.publishers import (
    Outcome,
    PublishResult,
    get_publisher,
    idempotency_key,
    parse_retry_after,
)
from content.publishers.assisted import AssistedPublisher
from content.publishers.webhook import WebhookPublisher
from tests.factories import SocialAccountFactory
from tests.stub_platform import Answer, StubPlatform, closed_port_url

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-integration"
CLEAN = "新车今日上市，欢迎到店试驾。"
NOON_UTC = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def stub():
    with StubPlatform() as stub:
        yield stub


@pytest.fixture
def webhook_account(brand, platforms, stub):
    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated",
                                handle="aurora_hook", publisher="webhook", webhook_url=stub.url,
                                webhook_secret=SECRET)


@pytest.fixture
def post(webhook_account, marketer):
    post = services.post_create(actor=marketer, account=webhook_account, body=CLEAN,
                                scheduled_at=timezone.now() + timedelta(days=1))
    return services.post_submit(actor=marketer, post=post)


def send(post, revision=None, *, account=None, media_urls=()):
    revision = revision or post.revision
    account = account or post.account
    return get_publisher(account).send(post=post, revision=revision, account=account,
                                       idempotency_key=idempotency_key(post, revision), media_urls=list(media_urls))


def verifies(request, secret=SECRET):
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["x-matrix-signature"], expected)


def test_an_account_gets_the_publisher_it_is_configured_with(webhook_account, executive_account):
    assert isinstance(get_publisher(webhook_account), WebhookPublisher)
    assert get_publisher(webhook_account).idempotent
    assert isinstance(get_publisher(executive_account), AssistedPublisher)
    executive_account.publisher = "carrier_pigeon"
    result = get_publisher(executive_account).send(post=None, revision=None, account=executive_account,
                                                   idempotency_key="k", media_urls=[])
    assert result.outcome == Outcome.FAILED and "carrier_pigeon" in result.reason


def test_the_post_goes_out_as_signed_json_of_the_approved_revision(stub, post):
    stub.answer(201, {"external_id": "4711", "url": "https://weibo.example/aurora_hook/4711"})
    revision = post.revision
    # The working copy was edited after the revision was approved: the revision is what goes out.
    post.body = "An edit nobody approved."
    result = send(post, revision, media_urls=["https://cdn.example/a.jpg", "https://cdn.example/b.mp4"])

    assert result == PublishResult(Outcome.PUBLISHED, external_id="4711", url="https://weibo.example/aurora_hook/4711",
                                   idempotent=True, http_status=201)
    [request] = stub.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("SocialMatrix-Publisher/")
    assert verifies(request)
    assert not verifies(request, secret="another secret")
    assert request.headers["idempotency-key"] == f"post-{post.pk}-rev-{revision.sha256[:16]}"
    assert request.json() == {
        "post_id": post.pk,
        "account": {"id": post.account.pk, "handle": "aurora_hook"},
        "platform": "weibo",
        "body": CLEAN,
        "media": ["https://cdn.example/a.jpg", "https://cdn.example/b.mp4"],
        "scheduled_at": post.scheduled_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revision": {"number": revision.number, "sha256": revision.sha256},
    }
    # Exactly the approved text, byte for byte, in UTF-8 rather than \u escapes.
    assert CLEAN.encode() in request.body


def test_the_idempotency_key_is_the_same_for_each_retry_and_new_for_new_content(stub, post, marketer):
    stub.answer(503, then=[Answer(201)])
    first = post.revision
    assert send(post, first).outcome == Outcome.AMBIGUOUS
    assert send(post, first).outcome == Outcome.PUBLISHED
    post = services.post_update(actor=marketer, post=post, body=CLEAN + "限时优惠。")
    assert post.revision.number == 2 and post.revision.sha256 != first.sha256
    send(post, post.revision)

    keys = [request.headers["idempotency-key"] for request in stub.requests]
    assert keys[0] == keys[1]
    assert keys[2] != keys[0]
    assert [request.json()["body"] for request in stub.requests] == [CLEAN, CLEAN, CLEAN + "限时优惠。"]


def test_a_2xx_without_an_answer_body_is_published(stub, post):
    stub.answer(204)
    assert send(post) == PublishResult(Outcome.PUBLISHED, idempotent=True, http_status=204)


def test_a_2xx_whose_answer_is_not_json_is_published_and_says_so(stub, post):
    stub.answer(200, "<html>ok</html>", headers={"Content-Type": "text/html"})
    result = send(post)
    assert result.outcome == Outcome.PUBLISHED and result.external_id == "" and result.url == ""
    assert result.reason == "HTTP 200; answer is not JSON, ignored"


def test_a_url_in_the_answer_that_is_not_a_web_address_is_ignored(stub, post):
    stub.answer(200, {"external_id": 99, "url": "javascript:alert(1)"})
    result = send(post)
    assert result.outcome == Outcome.PUBLISHED and result.external_id == "99" and result.url == ""
    assert "url" in result.reason


def test_429_asks_for_a_retry_after_the_seconds_the_endpoint_names(stub, post):
    stub.answer(429, {"error": "slow down"}, headers={"Retry-After": "120"})
    result = send(post)
    assert result.outcome == Outcome.RETRY and result.retry_after == 120
    assert result.reason == "HTTP 429: slow down"


def test_429_with_an_http_date_waits_until_that_date(stub, post):
    stub.answer(429, headers={"Retry-After": "Fri, 06 Mar 2026 12:02:30 GMT"})
    with time_machine.travel(NOON_UTC, tick=False):
        result = send(post)
    assert result.outcome == Outcome.RETRY and result.retry_after == 150


def test_408_is_retried_too(stub, post):
    stub.answer(408)
    result = send(post)
    assert result.outcome == Outcome.RETRY and result.retry_after is None and result.reason == "HTTP 408"


def test_a_500_is_ambiguous_and_safe_to_retry_with_the_same_key(stub, post):
    stub.answer(500, "Internal Server Error")
    result = send(post)
    assert result.outcome == Outcome.AMBIGUOUS and result.idempotent
    assert result.reason == "HTTP 500: Internal Server Error"


def test_a_read_timeout_is_ambiguous_the_endpoint_got_the_request(stub, post, settings):
    settings.PUBLISH_HTTP_TIMEOUT = 0.3
    stub.answer(200, delay=1.5)
    result = send(post)
    assert result.outcome == Outcome.AMBIGUOUS and result.idempotent
    assert "timed out" in result.reason
    assert len(stub.requests) == 1  # it did arrive: that is why the key matters


def test_a_refused_connection_is_retried_nothing_was_sent(post, webhook_account):
    webhook_account.webhook_url = closed_port_url()
    result = send(post, account=webhook_account)
    assert result.outcome == Outcome.RETRY
    assert result.reason.startswith("could not connect")


def test_a_400_fails_the_post_with_the_endpoints_reason(stub, post):
    stub.answer(400, {"message": "text contains a banned word"})
    result = send(post)
    assert result.outcome == Outcome.FAILED and result.http_status == 400
    assert result.reason == "HTTP 400: text contains a banned word"


def test_a_4xx_reason_is_the_start_of_a_plain_body(stub, post):
    stub.answer(422, "x" * 1000, headers={"Content-Type": "text/plain"})
    result = send(post)
    assert result.outcome == Outcome.FAILED
    assert result.reason == "HTTP 422: " + "x" * 300


def test_a_redirect_is_not_followed(stub, post):
    stub.answer(301, headers={"Location": "https://elsewhere.example/hook"})
    result = send(post)
    assert result.outcome == Outcome.FAILED and "not followed" in result.reason
    assert len(stub.requests) == 1


def test_nothing_is_sent_without_a_secret(stub, post, webhook_account):
    webhook_account.webhook_secret = ""
    result = send(post, account=webhook_account)
    assert result.outcome == Outcome.FAILED and "secret" in result.reason
    assert stub.requests == []


def test_nothing_is_sent_to_an_address_that_is_not_http(stub, post, webhook_account):
    webhook_account.webhook_url = "ftp://127.0.0.1/hook"
    result = send(post, account=webhook_account)
    assert result.outcome == Outcome.FAILED and "http" in result.reason
    assert stub.requests == []


@pytest.mark.parametrize(("header", "seconds"), [
    (None, None), ("", None), ("0", 0), ("30", 30), (" 30 ", 30), ("-5", None), ("soon", None),
    ("Fri, 06 Mar 2026 12:01:00 GMT", 60), ("Fri, 06 Mar 2026 11:00:00 GMT", 0),
])
def test_retry_after_reads_seconds_and_http_dates(header, seconds):
    assert parse_retry_after(header, now=NOON_UTC) == seconds


def test_the_payload_is_compact_utf8_json():
    from content.publishers.webhook import encode

    assert encode({"body": "试驾"}) == json.dumps({"body": "试驾"}, ensure_ascii=False, separators=(",", ":")).encode()
