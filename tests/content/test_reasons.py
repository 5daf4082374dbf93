"""The machine-written publishing reasons (Post.last_error, PublishAttempt.reason) in the reader's
language: every reason the code can write is recognised and translated part by part, what it
carries (a pause number, a date, an HTTP status, the platform's own words) is kept, a text that is
not ours is shown as it is, and the stored text (what the API says) never changes."""

import ast
import copy
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django.utils.translation import override
from rest_framework.test import APIClient

from content import dispatch, services
from content.models import Post, PostStatus, PublishAttempt
from content.publishers import get_publisher, get_publisher_by_name, idempotency_key
from content.publishers.assisted import OVERDUE_REASON
from content.reasons import describe
from matrix.models import AccountStatus
from tests.factories import SocialAccountFactory, UserFactory
from tests.stub_platform import StubPlatform, closed_port_url

SECRET = "s3cret-of-the-integration"
ROOT = Path(settings.BASE_DIR)
# The files that write a post's last_error or an attempt's reason.
WRITERS = ["content/dispatch.py", "content/publishers/__init__.py", "content/publishers/webhook.py",
           "content/publishers/assisted.py", "content/services.py", "content/ratelimits.py"]

# Each f-string reason in the code (its holes as {}) with what fills them in a real reason. The
# platform's or the network's own words are English on purpose: they must come out unchanged.
TEMPLATES = {  # template: (what fills it, which of those parts the Chinese reason shows verbatim)
    "account {}: nothing may publish on it": (("paused",), ()),
    "held by pause #{}": (("12",), ("#12",)),
    "blocked day: {} asked that nothing go out on {}": (("Li Wei", "2026-12-14"), ("Li Wei", "2026-12-14")),
    "publisher error: {}": (("ValueError",), ("ValueError",)),
    "may or may not be live: {}": (("timed out waiting for the answer",), ()),  # ours: translated too
    "attempts spent: {}": (("HTTP 503: upstream busy",), ("upstream busy",)),
    "unknown publisher {}": (("'carrier_pigeon'",), ("'carrier_pigeon'",)),
    "webhook URL unusable: {}": (("No host specified.",), ("No host specified.",)),
    "could not connect: {}": (("[Errno 111] Connection refused",), ("[Errno 111] Connection refused",)),
    "TLS error: {}": (("[SSL: WRONG_VERSION_NUMBER] wrong version",), ("[SSL: WRONG_VERSION_NUMBER] wrong version",)),
    "connection lost: {}": (("Connection aborted.",), ("Connection aborted.",)),
    "network error: {}": (("Connection pool is closed.",), ("Connection pool is closed.",)),
    "HTTP {}; answer unreadable: {}": (("200", "Connection broken: IncompleteRead"),
                                       ("200", "Connection broken: IncompleteRead")),
    "HTTP {}; answer is not JSON, ignored": (("201",), ("201",)),
    "HTTP {}; answer is not a JSON object, ignored": (("201",), ("201",)),
    "HTTP {}: redirects are not followed ({})": (("301", "https://elsewhere.example/hook"),
                                                 ("301", "https://elsewhere.example/hook")),
    "HTTP {}: {}": (("400", "text contains a banned word"), ("400", "text contains a banned word")),
    "HTTP {}": (("502",), ("502",)),
}
# Parts of a reason that are not a reason by themselves: `_published` joins "HTTP 201; " with the
# answer's problems (those are made for real in test_the_webhook_publishers_reasons_are_recognised).
FRAGMENTS = {"HTTP {}; ", ""}
# The English left in a Chinese reason: names, protocols, and the words the platform or network wrote.
ENGLISH_KEPT = {"HTTP", "http", "https", "TLS", "Webhook", "JSON", "external_id", "url", "s"}


def _reason_expressions(tree):
    """The expressions the code stores as a reason: `reason=`/`last_error=` arguments, what is
    assigned to a name ending in "reason", and what `_status_reason` returns."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("reason", "last_error"):
            yield node.value
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.lower().endswith("reason"):
                    yield node.value
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for name, value in zip(target.elts, node.value.elts, strict=False):
                        if isinstance(name, ast.Name) and name.id == "reason":
                            yield value
        elif isinstance(node, ast.FunctionDef) and node.name == "_status_reason":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return):
                    yield inner.value


def _strings(expression):
    """The strings an expression can be: its literals and f-strings, not looking into calls."""
    if isinstance(expression, ast.JoinedStr):
        yield "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in expression.values)
    elif isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        yield expression.value
    elif not isinstance(expression, ast.Call):
        for child in ast.iter_child_nodes(expression):
            yield from _strings(child)


def reasons_in_the_code():
    """(plain reasons, f-string templates with {} for their holes) written by WRITERS."""
    plain, templates = set(), set()
    for path in WRITERS:
        for expression in _reason_expressions(ast.parse((ROOT / path).read_text())):
            for text in _strings(expression):
                (templates if isinstance(expression, ast.JoinedStr) or "{}" in text else plain).add(text)
    return plain - FRAGMENTS, templates - FRAGMENTS


def every_reason():
    """[(reason, the parts its Chinese shows verbatim)] for every reason the code can write."""
    plain, templates = reasons_in_the_code()
    reasons = {reason: () for reason in plain}
    for template in templates & set(TEMPLATES):
        values, kept = TEMPLATES[template]
        reasons[template.format(*values)] = kept
    for status in AccountStatus.values:
        if status != AccountStatus.ACTIVE:
            reasons[f"account {status}: nothing may publish on it"] = ()
    return sorted(reasons.items())


def assert_chinese(reason, kept=()):
    with override("zh-hans"):
        shown = describe(reason)
    assert shown != reason, reason
    rest = shown
    for part in kept:
        assert part in shown, (reason, shown, part)
        rest = rest.replace(part, "")
    english = set(re.findall(r"[A-Za-z_]+", rest)) - ENGLISH_KEPT
    assert not english, (reason, shown, english)
    return shown


# --- every reason the code writes ---------------------------------------------------------------


def test_the_code_writes_no_reason_this_test_does_not_know():
    plain, templates = reasons_in_the_code()
    assert templates <= set(TEMPLATES), f"new reasons to add to content/reasons.py: {templates - set(TEMPLATES)}"
    assert templates == set(TEMPLATES), f"reasons the code no longer writes: {set(TEMPLATES) - templates}"
    assert OVERDUE_REASON in plain
    assert "rate limit: waiting for a free slot" in plain  # the scan does find the dispatcher's


@pytest.mark.parametrize(("reason", "kept"), every_reason())
def test_every_reason_the_code_writes_is_shown_in_chinese(reason, kept):
    assert_chinese(reason, kept)


@pytest.mark.parametrize(("reason", "kept"), every_reason())
def test_an_english_reader_sees_the_stored_wording(reason, kept):
    with override("en"):
        assert describe(reason) == reason


# --- what a reason carries is kept ----------------------------------------------------------------


@pytest.mark.parametrize(("reason", "expected"), [
    ("held by pause #12", "因暂停发布 #12 而暂缓"),
    ("blocked day: Li Wei asked that nothing go out on 2026-12-14", "禁发日：Li Wei 要求 2026-12-14 不发布任何内容"),
    ("account paused: nothing may publish on it", "账号已暂停：不能在此账号上发布任何内容"),
    ("HTTP 400: text contains a banned word", "平台返回 HTTP 400：text contains a banned word"),
    ("HTTP 400: 文本含有违禁词", "平台返回 HTTP 400：文本含有违禁词"),
    ("HTTP 502", "平台返回 HTTP 502"),
    ("attempts spent: HTTP 503: upstream busy", "重试次数已用完：平台返回 HTTP 503：upstream busy"),
    ("may or may not be live: timed out waiting for the answer", "可能已发布，也可能未发布：等待平台答复超时"),
    ("may or may not be live: HTTP 500: held by pause #3", "可能已发布，也可能未发布：平台返回 HTTP 500：held by pause #3"),
    ("attempts spent: could not connect: [Errno 111] Connection refused",
     "重试次数已用完：无法连接：[Errno 111] Connection refused"),
    ("publisher error: ValueError", "发布程序出错：ValueError"),
    ("unknown publisher 'carrier_pigeon'", "未知的发布方式 'carrier_pigeon'"),
])
def test_the_parts_a_reason_carries_are_kept(reason, expected):
    with override("zh-hans"):
        assert describe(reason) == expected


def test_after_our_prefix_an_unknown_reason_is_kept_as_written():
    with override("zh-hans"):
        assert describe("attempts spent: quota exceeded") == "重试次数已用完：quota exceeded"


@pytest.mark.parametrize("text", ["", "quota exceeded", "Held by pause #12", "held by pause #twelve", "HTTP 4000",
                                  "missed: more than the missed window late!", "来自平台的说明"])
def test_a_text_that_is_not_ours_is_unchanged(text):
    with override("zh-hans"):
        assert describe(text) == text


# --- the real publishers' reasons -------------------------------------------------------------------


@pytest.fixture
def stub():
    with StubPlatform() as stub:
        yield stub


@pytest.fixture
def webhook_post(brand, platforms, stub, marketer):
    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated", handle="aurora_hook",
                                   publisher="webhook", webhook_url=stub.url, webhook_secret=SECRET)
    post = services.post_create(actor=marketer, account=account, body="新车今日上市。",
                                scheduled_at=timezone.now() + timedelta(days=1))
    return services.post_submit(actor=marketer, post=post)


def _send(post, account=None):
    account = account or post.account
    return get_publisher(account).send(post=post, revision=post.revision, account=account,
                                       idempotency_key=idempotency_key(post, post.revision), media_urls=[]).reason


@pytest.mark.django_db
def test_the_webhook_publishers_reasons_are_recognised(stub, webhook_post, settings):
    account = webhook_post.account
    made = {}
    for status, body, headers in [
        (400, {"message": "text contains a banned word"}, None),
        (422, "x" * 400, {"Content-Type": "text/plain"}),
        (503, b"", None),
        (429, {"error": {"code": 7}}, None),
        (301, b"", {"Location": "https://elsewhere.example/hook"}),
        (201, "not json", None),
        (201, [1, 2], None),
        (201, {"external_id": "x" * 201}, None),
        (201, {"url": "ftp://nope"}, None),
        (201, {"external_id": "x" * 201, "url": "ftp://nope"}, None),
    ]:
        stub.answer(status, body, headers=headers)
        made[status, str(body)[:20], str(headers)] = _send(webhook_post)
    made["refused"] = _send(webhook_post, _with(account, webhook_url=closed_port_url()))
    made["tls"] = _send(webhook_post, _with(account, webhook_url=stub.url.replace("http://", "https://")))
    made["ftp"] = _send(webhook_post, _with(account, webhook_url="ftp://127.0.0.1/hook"))
    made["secret"] = _send(webhook_post, _with(account, webhook_secret=""))
    settings.PUBLISH_HTTP_TIMEOUT = 0.2
    stub.answer(200, delay=1.0)
    made["timeout"] = _send(webhook_post)
    assert all(made.values()), made
    assert made["refused"].startswith("could not connect: ") and made["tls"].startswith("TLS error: ")
    assert made["timeout"] == "timed out waiting for the answer"
    for reason in made.values():
        kept = list(re.findall(r"\d{3}", reason[:8]))  # the HTTP status
        if re.match(r"(could not connect|TLS error|HTTP \d{3}): (?!redirects)", reason):
            kept.append(reason.split(": ", 1)[1])  # the network's or the platform's own words
        if "redirects are not followed" in reason:
            kept.append("https://elsewhere.example/hook")
        assert_chinese(reason, kept)
        for prefix in ("attempts spent: ", "may or may not be live: "):
            assert_chinese(prefix + reason, kept)


def _with(account, **fields):
    """A copy of the account (unsaved) with other settings."""
    account = copy.copy(account)
    for name, value in fields.items():
        setattr(account, name, value)
    return account


@pytest.mark.django_db
def test_the_other_publishers_reasons_are_recognised(brand, platforms):
    unknown = get_publisher_by_name("carrier_pigeon").send(post=None, revision=None, account=None,
                                                           idempotency_key="k", media_urls=[]).reason
    nobody = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated", handle="by_hand",
                                  publisher="assisted", owner=None)
    by_hand = get_publisher(nobody).send(post=None, revision=None, account=nobody, idempotency_key="k",
                                         media_urls=[]).reason
    assert assert_chinese(unknown, kept=["'carrier_pigeon'"]) == "未知的发布方式 'carrier_pigeon'"
    assert assert_chinese(by_hand).startswith("无人可以人工发布")
    assert assert_chinese(OVERDUE_REASON) == "已超时：无人确认已发布"


# --- on the pages -------------------------------------------------------------------------------------


@pytest.fixture
def failed_post(brand, platforms, stub, marketer, django_capture_on_commit_callbacks):
    """A post the dispatcher failed for real: the platform refused it with a 400."""
    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated", handle="aurora_hook",
                                   publisher="webhook", webhook_url=stub.url, webhook_secret=SECRET)
    author = UserFactory(role="marketer", brand=brand)
    post = services.post_create(actor=author, account=account, body="新车今日上市。",
                                scheduled_at=timezone.now() + timedelta(seconds=1))
    services.post_submit(actor=author, post=post)
    services.post_approve(actor=marketer, post=post)
    stub.answer(400, {"error": "<b>text too long</b> for this channel"})
    claims = []
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        with django_capture_on_commit_callbacks(execute=True):
            dispatch.dispatch_due(enqueue=claims.extend)
        assert [dispatch.publish(post_id, token) for post_id, token in claims] == ["failed"]
    post.refresh_from_db()
    return post


@pytest.mark.django_db
def test_a_chinese_reader_sees_why_a_post_failed_in_chinese(client, marketer, failed_post):
    stored = "HTTP 400: <b>text too long</b> for this channel"
    assert failed_post.status == PostStatus.FAILED and failed_post.last_error == stored  # stored as written
    assert PublishAttempt.objects.get(post=failed_post).reason == stored
    client.force_login(marketer)

    html = client.get(f"/posts/{failed_post.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    shown = "平台返回 HTTP 400：&lt;b&gt;text too long&lt;/b&gt; for this channel"
    assert f'<dd data-testid="last-error">{shown}</dd>' in html
    assert f"<td>{shown}</td>" in html  # the attempts table
    assert "HTTP 400: " not in html and "<b>text too long" not in html

    english = client.get(f"/posts/{failed_post.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<dd data-testid="last-error">HTTP 400: &lt;b&gt;text too long&lt;/b&gt; for this channel</dd>' in english


@pytest.mark.django_db
def test_the_api_keeps_the_stored_reason(marketer, failed_post):
    client = APIClient()
    client.force_authenticate(marketer)
    response = client.get(f"/api/v1/posts/{failed_post.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["last_error"] == "HTTP 400: <b>text too long</b> for this channel"


@pytest.mark.django_db
def test_the_calendar_panel_shows_the_reason_in_chinese(client, marketer, executive, executive_account):
    post = services.post_create(actor=marketer, account=executive_account, body="新车发布会。",
                                scheduled_at=timezone.now() + timedelta(days=3))
    Post.objects.filter(pk=post.pk).update(last_error="held by pause #12")
    client.force_login(executive)
    html = client.get(f"/calendar/posts/{post.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<dd data-testid="panel-last-error">因暂停发布 #12 而暂缓</dd>' in html
