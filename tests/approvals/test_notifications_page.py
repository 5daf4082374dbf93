"""The notifications page: one's own notifications, unread first, opening and marking them read,
and the unread count of the navigation."""

from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from content.models import Notification
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(brand, platforms, marketer):
    from content import services

    account = SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="brand", handle="aurora_official")
    return services.post_create(actor=marketer, account=account, body="新车今日上市", scheduled_at=timezone.now()
                                + timedelta(days=1))


def notification(user, message, *, post=None, kind=Notification.Kind.SUBMITTED, read=False, minutes_ago=0):
    item = Notification.objects.create(user=user, kind=kind, post=post, message=message,
                                       read_at=timezone.now() if read else None)
    Notification.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return item


def messages_on_page(client):
    response = client.get("/review/notifications/")
    assert response.status_code == 200
    return [row["notification"].message for row in response.context["rows"]]


def test_it_lists_ones_own_notifications_unread_first_then_newest(client, reviewer, marketer, post):
    notification(reviewer, "old unread", minutes_ago=30, post=post)
    notification(reviewer, "new read", minutes_ago=1, read=True)
    notification(reviewer, "new unread", minutes_ago=5)
    notification(marketer, "someone else's")
    client.force_login(reviewer)
    assert messages_on_page(client) == ["new unread", "old unread", "new read"]


def test_the_page_escapes_messages(client, reviewer):
    notification(reviewer, "<script>alert(1)</script>")
    client.force_login(reviewer)
    html = client.get("/review/notifications/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_opening_a_notification_marks_it_read_and_goes_to_the_posts_review(client, reviewer, post):
    item = notification(reviewer, "waits for you", post=post)
    client.force_login(reviewer)
    response = client.post(f"/review/notifications/{item.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/review/posts/{post.pk}/"
    item.refresh_from_db()
    assert item.read_at is not None


def test_a_notification_about_ones_own_post_opens_the_post(client, marketer, post):
    item = notification(marketer, "changes requested", post=post, kind=Notification.Kind.CHANGES_REQUESTED)
    client.force_login(marketer)
    assert client.post(f"/review/notifications/{item.pk}/open/")["Location"] == f"/posts/{post.pk}/"


def test_mark_one_read_and_all_read(client, reviewer):
    first, second, third = (notification(reviewer, f"n{i}") for i in range(3))
    client.force_login(reviewer)
    assert client.post(f"/review/notifications/{first.pk}/read/").status_code == 302
    assert list(Notification.objects.filter(read_at__isnull=True).order_by("pk")) == [second, third]
    client.post("/review/notifications/read-all/")
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_marking_read_with_htmx_returns_the_row_and_the_new_count(client, reviewer):
    first = notification(reviewer, "first")
    notification(reviewer, "second")
    client.force_login(reviewer)
    response = client.post(f"/review/notifications/{first.pk}/read/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert f'id="notification-{first.pk}"' in html and "unread" not in html.split(">", 1)[0]
    assert 'id="unread-count" hx-swap-oob="true">1<' in html


def test_nobody_reads_or_marks_another_persons_notifications(client, reviewer, marketer):
    theirs = notification(marketer, "private")
    client.force_login(reviewer)
    assert client.post(f"/review/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/review/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_a_post(client, reviewer):
    item = notification(reviewer, "n")
    client.force_login(reviewer)
    assert client.get(f"/review/notifications/{item.pk}/read/").status_code == 405
    assert client.get("/review/notifications/read-all/").status_code == 405


def test_the_unread_count_tag_counts_once_per_request(reviewer, marketer):
    notification(reviewer, "a")
    notification(reviewer, "b")
    notification(reviewer, "c", read=True)
    notification(marketer, "d")
    request = RequestFactory().get("/")
    request.user = reviewer
    template = Template("{% load review_nav %}{% unread_notification_count as n %}{{ n }}"
                        "{% unread_notification_count as again %}/{{ again }}")
    with CaptureQueriesContext(connection) as ctx:
        assert template.render(Context({"request": request, "user": reviewer})) == "2/2"
    assert len(ctx.captured_queries) == 1


def test_the_nav_tag_shows_the_unread_count_the_queue_and_the_audit_log_to_whom_they_concern(reviewer, employee):
    notification(reviewer, "a")
    template = Template("{% load review_nav %}{% review_nav %}")

    def nav(user):
        request = RequestFactory().get("/")
        request.user = user
        return template.render(Context({"request": request, "user": user}))

    html = nav(reviewer)
    assert 'href="/review/"' in html and "/review/audit/" in html
    assert 'class="unread-badge"' in html and ">1</span>" in html
    html = nav(employee)
    assert "/review/notifications/" in html
    assert 'href="/review/"' not in html and "/review/audit/" not in html and "unread-badge" not in html


def test_the_page_needs_the_same_number_of_queries_for_3_or_30_notifications(client, reviewer, post):
    client.force_login(reviewer)
    for i in range(3):
        notification(reviewer, f"n{i}", post=post)
    with CaptureQueriesContext(connection) as few:
        client.get("/review/notifications/")
    for i in range(27):
        notification(reviewer, f"m{i}", post=post, read=i % 2 == 0)
    with CaptureQueriesContext(connection) as many:
        client.get("/review/notifications/")
    assert len(many.captured_queries) == len(few.captured_queries)
    print(f"notifications page: {len(few.captured_queries)} queries")
