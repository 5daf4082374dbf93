"""The assisted publisher: the owner is handed the approved text and media, posts it themselves and
confirms the live URL on a page or through the API; reminders follow until then, and a post nobody
confirms within the window fails as overdue."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail

from approvals.models import AuditEvent
from config.errors import DomainError
from content import services
from content.models import Media, Notification, Post, PostStatus
from content.publishers import Outcome, get_publisher, idempotency_key, media_urls
from content.publishers.assisted import OVERDUE_REASON, assisted_remind_due
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

CLEAN = "新车今日上市，欢迎到店试驾。"
DUE = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # the approved time the post was to go out
LIVE = "https://www.linkedin.com/posts/ceo_li-42"


@pytest.fixture
def emails_sent_at_once(monkeypatch):
    """Notification emails go out in this process, as the worker would send them after commit."""
    from content import tasks

    real = tasks.notifications_email
    monkeypatch.setattr(tasks, "notifications_email", SimpleNamespace(delay=lambda ids: real(ids)))


@pytest.fixture
def photo(brand, marketer):
    return Media.objects.create(brand=brand, file="media/2026/03/launch.png", kind="image", content_type="image/png",
                                size=1000, width=1200, height=800, sha256="a" * 64, original_name="launch.png",
                                uploaded_by=marketer)


def waiting_post(account, author, *, media=(), body=CLEAN):
    """A post approved for DUE that the dispatcher moved to `publishing` for its hand-over: the
    state the dispatcher leaves an assisted post in (set here directly; the dispatcher comes later)."""
    post = services.post_create(actor=author, account=account, body=body, media=media)
    post = services.post_submit(actor=author, post=post)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHING, approved_revision=post.revision,
                                           approved_at=DUE, scheduled_at=DUE)
    return Post.objects.select_related("account__platform", "approved_revision").get(pk=post.pk)


def hand_over(post, captured):
    revision = post.approved_revision
    with captured(execute=True):
        return get_publisher(post.account).send(post=post, revision=revision, account=post.account,
                                                idempotency_key=idempotency_key(post, revision),
                                                media_urls=media_urls(revision))


@pytest.fixture
def captured(django_capture_on_commit_callbacks, emails_sent_at_once):
    return django_capture_on_commit_callbacks


def test_the_owner_is_handed_the_approved_text_and_media_in_the_app_and_by_email(
        executive_account, executive, marketer, photo, captured, settings):
    settings.SITE_URL = "https://matrix.example"
    post = waiting_post(executive_account, marketer, media=[photo])
    post.body = "An edit made after the approval."  # the working copy; never what is handed over

    result = hand_over(post, captured)

    assert result.outcome == Outcome.PENDING_CONFIRMATION
    [notification] = Notification.objects.filter(kind=Notification.Kind.PUBLISH_BY_HAND)
    assert notification.user == executive and notification.post == post
    assert CLEAN in notification.message and "An edit" not in notification.message
    assert "https://matrix.example/media/media/2026/03/launch.png" in notification.message
    assert f"https://matrix.example/posts/{post.pk}/confirm/" in notification.message
    [email] = mail.outbox
    assert email.to == [executive.email]
    assert "Post it yourself" in email.subject
    assert CLEAN in email.body and f"/posts/{post.pk}/confirm/" in email.body


def test_an_account_without_an_owner_is_handed_to_its_operators(dealer_account, dealer_operator, marketer, captured):
    post = waiting_post(dealer_account, marketer)
    assert hand_over(post, captured).outcome == Outcome.PENDING_CONFIRMATION
    assert [n.user for n in Notification.objects.filter(kind=Notification.Kind.PUBLISH_BY_HAND)] == [dealer_operator]


def test_an_account_nobody_posts_for_fails_the_hand_over(brand, platforms, marketer, captured):
    account = SocialAccountFactory(brand=brand, platform=platforms["wechat_oa"], handle="nobody_here")
    post = waiting_post(account, marketer)
    result = hand_over(post, captured)
    assert result.outcome == Outcome.FAILED and "no owner or operator" in result.reason
    assert not Notification.objects.filter(kind=Notification.Kind.PUBLISH_BY_HAND).exists()


# --- confirming ----------------------------------------------------------------------------


def test_the_owner_confirms_on_the_page_that_shows_the_approved_text(client, executive_account, executive, marketer):
    post = waiting_post(executive_account, marketer)
    Post.objects.filter(pk=post.pk).update(body="An edit made after the approval.")
    client.force_login(executive)

    page = client.get(f"/posts/{post.pk}/confirm/")
    assert page.status_code == 200
    html = page.content.decode()
    assert CLEAN in html and "An edit made" not in html
    assert 'data-testid="copy-text"' in html and 'data-testid="confirm-form"' in html

    response = client.post(f"/posts/{post.pk}/confirm/", {"url": LIVE})
    assert response.status_code == 302 and response["Location"] == f"/posts/{post.pk}/"
    post.refresh_from_db()
    assert (post.status, post.url, post.external_id) == (PostStatus.PUBLISHED, LIVE, "")
    event = AuditEvent.objects.get(action="content.post.confirm_published")
    assert event.actor_id == executive.pk and event.object_id == str(post.pk)
    assert event.before["status"] == PostStatus.PUBLISHING and event.after == {
        "status": PostStatus.PUBLISHED, "url": LIVE, "external_id": "", "revision": 1,
    }
    # The author hears that it is live.
    assert Notification.objects.filter(kind=Notification.Kind.PUBLISHED, user=marketer, post=post).exists()
    assert "already confirmed" in client.get(f"/posts/{post.pk}/confirm/").content.decode()


def test_the_post_page_leads_to_the_confirm_page_while_the_post_waits(client, executive_account, executive, marketer):
    post = waiting_post(executive_account, marketer)
    client.force_login(executive)
    assert f'href="/posts/{post.pk}/confirm/"' in client.get(f"/posts/{post.pk}/").content.decode()
    services.post_confirm_published(actor=executive, post=post, url=LIVE)
    assert 'data-testid="confirm-link"' not in client.get(f"/posts/{post.pk}/").content.decode()


def test_a_bad_url_on_the_page_is_shown_next_to_the_field(client, executive_account, executive, marketer):
    post = waiting_post(executive_account, marketer)
    client.force_login(executive)
    response = client.post(f"/posts/{post.pk}/confirm/", {"url": "ftp://files.example/post"})
    assert response.status_code == 400
    assert response.context["form"].errors["url"]
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHING and post.url == ""


def test_the_owner_confirms_through_the_api(executive_account, executive, marketer, client_for):
    post = waiting_post(executive_account, marketer)
    response = client_for(executive).post(f"/api/v1/posts/{post.pk}/confirm-published/", {"url": LIVE}, format="json")
    assert response.status_code == 200
    assert response.data["status"] == "published" and response.data["url"] == LIVE


@pytest.mark.parametrize("url", ["not a url", "ftp://files.example/post", "javascript:alert(1)", "",
                                 "https://example.com/" + "x" * 500])
def test_the_api_refuses_a_bad_url_naming_the_field(executive_account, executive, marketer, client_for, url):
    post = waiting_post(executive_account, marketer)
    response = client_for(executive).post(f"/api/v1/posts/{post.pk}/confirm-published/", {"url": url}, format="json")
    assert response.status_code == 400 and list(response.data) == ["url"]
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHING


def test_operators_and_the_brands_marketers_may_confirm_too(dealer_account, dealer_operator, marketer, admin_user):
    first = waiting_post(dealer_account, marketer)
    assert services.post_confirm_published(actor=dealer_operator, post=first, url=LIVE).status == PostStatus.PUBLISHED
    second = waiting_post(dealer_account, marketer)
    assert services.post_confirm_published(actor=marketer, post=second, url=LIVE).status == PostStatus.PUBLISHED
    third = waiting_post(dealer_account, marketer)
    assert services.post_confirm_published(actor=admin_user, post=third, url=LIVE).status == PostStatus.PUBLISHED


def test_an_outsider_does_not_find_the_post(client, executive_account, marketer, outsider, client_for):
    post = waiting_post(executive_account, marketer)
    client.force_login(outsider)
    assert client.get(f"/posts/{post.pk}/confirm/").status_code == 404
    assert client.post(f"/posts/{post.pk}/confirm/", {"url": LIVE}).status_code == 404
    response = client_for(outsider).post(f"/api/v1/posts/{post.pk}/confirm-published/", {"url": LIVE}, format="json")
    assert response.status_code == 404
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHING


def test_an_employee_who_sees_the_post_but_is_not_its_owner_may_not_confirm_it(
        client, brand, executive_account, reviewer, client_for):
    # A former operator who wrote the post still sees it (they are its author), but no longer
    # posts for the account.
    writer = UserFactory(username="former.operator", role="employee", brand=brand)
    executive_account.operators.add(writer)
    post = waiting_post(executive_account, writer)
    executive_account.operators.remove(writer)

    for person in (writer, reviewer):
        client.force_login(person)
        assert client.get(f"/posts/{post.pk}/").status_code == 200  # visible…
        assert client.get(f"/posts/{post.pk}/confirm/").status_code == 403  # …not theirs to confirm
        assert client.post(f"/posts/{post.pk}/confirm/", {"url": LIVE}).status_code == 403
        response = client_for(person).post(f"/api/v1/posts/{post.pk}/confirm-published/", {"url": LIVE},
                                           format="json")
        assert response.status_code == 403
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHING
    assert not AuditEvent.objects.filter(action="content.post.confirm_published").exists()


def test_only_a_post_waiting_for_its_confirmation_can_be_confirmed(executive_account, executive, marketer, client_for):
    draft = services.post_create(actor=marketer, account=executive_account, body=CLEAN)
    response = client_for(executive).post(f"/api/v1/posts/{draft.pk}/confirm-published/", {"url": LIVE},
                                          format="json")
    assert response.status_code == 400
    assert Post.objects.get(pk=draft.pk).status == PostStatus.DRAFT


def test_a_post_of_a_webhook_account_is_never_confirmed_by_hand(brand, platforms, marketer):
    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="aurora_hook",
                                   publisher="webhook", webhook_url="https://hooks.example/in", webhook_secret="s")
    post = waiting_post(account, marketer)
    with pytest.raises(DomainError):
        services.post_confirm_published(actor=marketer, post=post, url=LIVE)
    assert Post.objects.get(pk=post.pk).status == PostStatus.PUBLISHING


# --- reminders and overdue -----------------------------------------------------------------


def test_a_post_not_confirmed_two_hours_after_its_time_reminds_the_owner_once(
        executive_account, executive, marketer, captured):
    post = waiting_post(executive_account, marketer)
    reminders = Notification.objects.filter(kind=Notification.Kind.PUBLISH_REMINDER)

    with captured(execute=True):
        assert assisted_remind_due(now=DUE + timedelta(hours=1, minutes=59)).reminded == []
        assert assisted_remind_due(now=DUE + timedelta(hours=2)).reminded == [post.pk]
        assert assisted_remind_due(now=DUE + timedelta(hours=2, minutes=1)).reminded == []
    assert [(n.user, n.post) for n in reminders.all()] == [(executive, post)]
    assert [m.to for m in mail.outbox] == [[executive.email]]
    assert Post.objects.get(pk=post.pk).reminded_at == DUE + timedelta(hours=2)
    assert AuditEvent.objects.filter(action="content.post.remind_assisted", object_id=str(post.pk)).count() == 1

    # Still not confirmed two hours later: reminded again, and so on until confirmed.
    assert assisted_remind_due(now=DUE + timedelta(hours=4)).reminded == [post.pk]
    services.post_confirm_published(actor=executive, post=post, url=LIVE)
    assert assisted_remind_due(now=DUE + timedelta(hours=6)).reminded == []
    assert reminders.all().count() == 2


def test_a_post_nobody_confirms_within_a_day_fails_as_overdue(executive_account, executive, marketer, captured):
    post = waiting_post(executive_account, marketer)
    assert assisted_remind_due(now=DUE + timedelta(hours=23, minutes=59)).overdue == []

    with captured(execute=True):
        report = assisted_remind_due(now=DUE + timedelta(hours=24))
    assert report.overdue == [post.pk] and report.reminded == []
    post.refresh_from_db()
    assert post.status == PostStatus.FAILED and post.last_error == OVERDUE_REASON
    overdue = Notification.objects.filter(kind=Notification.Kind.PUBLISH_OVERDUE, post=post)
    assert sorted(n.user.username for n in overdue) == sorted([executive.username, marketer.username])
    event = AuditEvent.objects.get(action="content.post.overdue")
    assert event.actor_id is None and event.after["status"] == PostStatus.FAILED

    assert assisted_remind_due(now=DUE + timedelta(hours=30)).overdue == []  # once
    with pytest.raises(DomainError):
        services.post_confirm_published(actor=executive, post=post, url=LIVE)


def test_reminders_leave_webhook_posts_and_other_statuses_alone(brand, platforms, executive_account, marketer):
    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="aurora_hook",
                                   publisher="webhook", webhook_url="https://hooks.example/in", webhook_secret="s")
    waiting_post(account, marketer)
    scheduled = waiting_post(executive_account, marketer)
    Post.objects.filter(pk=scheduled.pk).update(status=PostStatus.SCHEDULED)
    report = assisted_remind_due(now=DUE + timedelta(days=2))
    assert report.reminded == [] and report.overdue == []
