"""The `webhook` publisher: POST the post as JSON to the company's integration endpoint.

The request is signed with `X-Matrix-Signature: sha256=<hex HMAC-SHA256 of the raw body with the
account's webhook secret>` and carries an `Idempotency-Key` that is the same for every retry of one
post's revision, so the endpoint can drop a repeat. That is what makes an ambiguous failure (a
timeout or a reset after the request went out, a 5xx) safe to retry.

Which failures happened before the endpoint saw anything matters: a refused connection, a DNS
failure or a connect timeout never delivered a byte, so they are retried whatever the endpoint
supports; once the request may have been sent, only the idempotency key makes a retry safe.
Redirects are not followed: re-POSTing elsewhere is a second delivery nobody asked for.
"""

import hashlib
import hmac
import json
import os
import threading
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    LocationValueError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from . import Outcome, Publisher, PublishResult, parse_retry_after, utc_iso

USER_AGENT = "SocialMatrix-Publisher/1"
# An answer is a status and perhaps a small JSON object; never read a large one into memory.
ANSWER_MAX_BYTES = 64 * 1024
REASON_BODY_CHARS = 300
EXTERNAL_ID_MAX_LENGTH = 200  # Post.external_id
URL_MAX_LENGTH = 500  # Post.url

_pools = threading.local()


def _pool_manager():
    # One pool per process (and thread): a Celery prefork child must not share the sockets of the
    # parent it was forked from.
    pid = os.getpid()
    if getattr(_pools, "pid", None) != pid:
        _pools.manager = urllib3.PoolManager(num_pools=32, maxsize=4, retries=False)
        _pools.pid = pid
    return _pools.manager


def _timeout():
    seconds = float(settings.PUBLISH_HTTP_TIMEOUT)
    return urllib3.Timeout(connect=seconds, read=seconds)


def signature(secret, raw_body):
    """The value of `X-Matrix-Signature` for `raw_body` (bytes)."""
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(*, post, revision, account, media_urls):
    """What the endpoint receives. `body` is the approved revision's text, never the post's working
    copy, which may have been edited since."""
    return {
        "post_id": post.pk,
        "account": {"id": account.pk, "handle": account.handle},
        "platform": account.platform.slug,
        "body": revision.body,
        "media": list(media_urls),
        "scheduled_at": utc_iso(post.scheduled_at),
        "revision": {"number": revision.number, "sha256": revision.sha256},
    }


def encode(data):
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookPublisher(Publisher):
    name = "webhook"
    idempotent = True
    concurrent = True  # network only: the dispatcher sends a batch's webhooks at once

    def send(self, *, post, revision, account, idempotency_key, media_urls):
        url = account.webhook_url or ""
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            return self._result(Outcome.FAILED, reason="webhook URL must be an http or https address")
        if not account.webhook_secret:
            return self._result(Outcome.FAILED, reason="no webhook secret on the account: nothing was sent unsigned")
        raw_body = encode(payload(post=post, revision=revision, account=account, media_urls=media_urls))
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Matrix-Signature": signature(account.webhook_secret, raw_body),
            "Idempotency-Key": idempotency_key,
        }
        try:
            response = _pool_manager().request(
                "POST", url, body=raw_body, headers=headers, timeout=_timeout(), redirect=False,
                preload_content=False,
            )
        except LocationValueError as exc:
            return self._result(Outcome.FAILED, reason=f"webhook URL unusable: {exc}")
        except (NewConnectionError, ConnectTimeoutError) as exc:
            # DNS failure, connection refused or no TCP connection in time: nothing was sent.
            return self._result(Outcome.RETRY, reason=f"could not connect: {_short(exc)}")
        except SSLError as exc:
            # The TLS handshake comes before the request: the endpoint never saw the post.
            return self._result(Outcome.RETRY, reason=f"TLS error: {_short(exc)}")
        except ReadTimeoutError:
            return self._result(Outcome.AMBIGUOUS, reason="timed out waiting for the answer")
        except ProtocolError as exc:
            # Reset or closed after (or while) the request was written: it may have arrived.
            return self._result(Outcome.AMBIGUOUS, reason=f"connection lost: {_short(exc)}")
        except (HTTPError, OSError) as exc:
            return self._result(Outcome.AMBIGUOUS, reason=f"network error: {_short(exc)}")
        return self._classify(response)

    def _result(self, outcome, **fields):
        return PublishResult(outcome, idempotent=self.idempotent, **fields)

    def _classify(self, response):
        status = response.status
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            answer = response.read(ANSWER_MAX_BYTES)
            unreadable = None
        except (HTTPError, OSError) as exc:
            answer, unreadable = b"", exc
        if unreadable is None and response.length_remaining == 0:
            response.release_conn()
        else:
            # A half-read answer (or one of unknown length) must not leave its bytes on a
            # connection the next post would reuse.
            response.close()
        if 200 <= status < 300:
            if unreadable is not None:
                return self._result(Outcome.PUBLISHED, http_status=status,
                                    reason=f"HTTP {status}; answer unreadable: {_short(unreadable)}")
            return self._published(status, answer)
        if status in (408, 429):
            return self._result(Outcome.RETRY, http_status=status, retry_after=retry_after,
                                reason=_status_reason(status, answer))
        if status >= 500:
            return self._result(Outcome.AMBIGUOUS, http_status=status, retry_after=retry_after,
                                reason=_status_reason(status, answer))
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            return self._result(Outcome.FAILED, http_status=status,
                                reason=f"HTTP {status}: redirects are not followed ({location[:200]})")
        return self._result(Outcome.FAILED, http_status=status, reason=_status_reason(status, answer))

    def _published(self, status, answer):
        text = answer.decode("utf-8", "replace").strip()
        if not text:
            return self._result(Outcome.PUBLISHED, http_status=status)
        try:
            data = json.loads(text)
        except ValueError:
            return self._result(Outcome.PUBLISHED, http_status=status,
                                reason=f"HTTP {status}; answer is not JSON, ignored")
        if not isinstance(data, dict):
            return self._result(Outcome.PUBLISHED, http_status=status,
                                reason=f"HTTP {status}; answer is not a JSON object, ignored")
        external_id = data.get("external_id")
        external_id = "" if external_id is None else str(external_id)
        url = data.get("url") or ""
        problems = []
        if len(external_id) > EXTERNAL_ID_MAX_LENGTH:
            problems.append("external_id too long, ignored")
            external_id = ""
        if url and not (isinstance(url, str) and _is_web_url(url) and len(url) <= URL_MAX_LENGTH):
            problems.append("url is not an http(s) URL of at most 500 characters, ignored")
            url = ""
        reason = f"HTTP {status}; " + "; ".join(problems) if problems else ""
        return self._result(Outcome.PUBLISHED, http_status=status, external_id=external_id, url=url,
                            reason=reason)


def _is_web_url(url):
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _status_reason(status, answer):
    """`HTTP 400: <the answer's "error" or "message", else the start of its body>`."""
    text = answer.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "message"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or json.dumps(value, ensure_ascii=False)
            if value:
                text = str(value)
                break
    text = " ".join(text.split())[:REASON_BODY_CHARS]
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


def _short(exc):
    # urllib3 wraps the socket error; its last argument says what happened ("Connection refused").
    reason = getattr(exc, "reason", None) or exc
    return " ".join(str(reason).split())[:200]
