"""How an approved revision reaches a platform: one interface, one module per publisher.

The dispatcher asks `get_publisher(account)` and calls `send()` with exactly the approved revision.
`send()` never raises for what the platform or the network did: it classifies it into a
`PublishResult` whose `outcome` tells the caller what to do next.

| outcome | meaning | the caller |
|---|---|---|
| `published` | the platform has it (`external_id`/`url` when it said them) | records them, done |
| `pending_confirmation` | a person posts it by hand and confirms the live URL | waits (assisted) |
| `retry` | known to have failed before the platform saw it (refused connection, DNS, 408, 429) | retries later, no sooner than `retry_after` |
| `ambiguous` | the platform may or may not have it (timeout, reset, 5xx) | retries only if `idempotent`, else `needs_review` |
| `failed` | refused for good (other 4xx, bad configuration) | fails the post with `reason` |
"""

import email.utils
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.conf import settings
from django.utils import timezone


class Outcome(StrEnum):
    PUBLISHED = "published"
    PENDING_CONFIRMATION = "pending_confirmation"
    RETRY = "retry"
    FAILED = "failed"
    AMBIGUOUS = "ambiguous"


# last_error is a TextField, but a reason is one line a person reads on the post page.
REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class PublishResult:
    outcome: Outcome
    external_id: str = ""
    url: str = ""
    reason: str = ""  # short, for Post.last_error; empty when there is nothing to say
    retry_after: int | None = None  # seconds the platform asked us to wait (Retry-After)
    idempotent: bool = False  # a repeat of this send with the same key cannot publish twice
    http_status: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "outcome", Outcome(self.outcome))
        object.__setattr__(self, "reason", (self.reason or "")[:REASON_MAX_LENGTH])


class Publisher:
    """The interface. `idempotent`: whether a repeated send with the same idempotency key is
    recognised by the platform (so an ambiguous failure may be retried safely). `concurrent`: see
    below."""

    name = ""
    idempotent = False
    # Whether `send` may run on another thread than the caller's: it touches no database (the
    # dispatcher sends such posts of a batch at once).
    concurrent = False

    def send(self, *, post, revision, account, idempotency_key, media_urls):
        raise NotImplementedError


class UnknownPublisher(Publisher):
    """What an account whose publisher this code does not know gets: every send fails, saying why,
    rather than raising inside the dispatcher."""

    def __init__(self, name):
        self.name = name

    def send(self, *, post, revision, account, idempotency_key, media_urls):
        return PublishResult(Outcome.FAILED, reason=f"unknown publisher {self.name!r}")


def _registry():
    from .assisted import AssistedPublisher
    from .webhook import WebhookPublisher

    return {WebhookPublisher.name: WebhookPublisher, AssistedPublisher.name: AssistedPublisher}


def get_publisher(account):
    """The publisher the account is configured with (`SocialAccount.publisher`)."""
    return get_publisher_by_name(account.publisher)


def get_publisher_by_name(name):
    publisher_class = _registry().get(name)
    return publisher_class() if publisher_class is not None else UnknownPublisher(name)


def idempotency_key(post, revision):
    """The key a platform de-duplicates on: the same for every retry of one post's revision, and a
    different one for other content (a new revision of the post has a new sha256)."""
    return f"post-{post.pk}-rev-{revision.sha256[:16]}"


def media_urls(revision):
    """Absolute URLs of the revision's media, in the revision's order. The revision names the
    media it was approved with; media rows are never deleted while a revision uses them."""
    from content.models import Media

    ids = [item["id"] for item in revision.media or []]
    by_id = Media.objects.in_bulk(ids)
    urls = []
    for media_id in ids:
        url = by_id[media_id].file.url
        if url.startswith("/"):
            url = settings.SITE_URL.rstrip("/") + url
        urls.append(url)
    return urls


def parse_retry_after(value, *, now=None):
    """Seconds to wait from a `Retry-After` header: delta-seconds ("120") or an HTTP-date ("Wed, 21
    Oct 2026 07:28:00 GMT"). None when absent or unreadable; a date in the past is 0."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # HTTP-dates are GMT by definition
    now = now or timezone.now()
    return max(0, math.ceil((moment - now).total_seconds()))


def utc_iso(moment: datetime | None):
    """`2026-03-06T09:00:00Z`, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
