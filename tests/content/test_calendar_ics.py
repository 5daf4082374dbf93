"""The private ICS feed: `GET, POST, DELETE /api/v1/calendar/feed/` and `GET /calendar/<token>.ics`.

The feed parses with the icalendar library, holds the posts of the person's own accounts (owned or
operated) in UTC with each account's zone named, never anyone else's, and a rotated or revoked token
answers 404."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
from django.conf import settings
from rest_framework.test import APIClient

from accounts.services import user_offboard
from approvals.models import AuditEvent
from content.models import CalendarFeed, Post, PostStatus
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def post_at(account, at, status=PostStatus.SCHEDULED, body="Spring launch at the showroom", author=None):
    author = author or account.owner or account.operators.first()
    return Post.objects.create(account=account, author=author, body=body, scheduled_at=at, status=status)


def feed_path(client):
    response = client.get("/api/v1/calendar/feed/")
    assert response.status_code == 200, response.json()
    url = response.json()["url"]
    assert url.startswith(settings.SITE_URL + "/calendar/") and url.endswith(".ics")
    return url[len(settings.SITE_URL):]


def events_of(response):
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    return calendar, {int(str(e["uid"]).split("@")[0].removeprefix("post-")): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def own_accounts(brand, platforms, employee, employee_account):
    """The employee owns a personal account in Shanghai and operates a recruiting account in Berlin."""
    recruiting = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_jobs",
                                      timezone="Europe/Berlin", operators=[employee])
    return employee_account, recruiting


def test_the_feed_holds_the_posts_of_ones_own_accounts_in_utc_with_their_zone(client, client_for, employee,
                                                                              own_accounts, executive_account,
                                                                              brand_account):
    personal, recruiting = own_accounts
    mine = post_at(personal, datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    operated = post_at(recruiting, datetime(2026, 3, 3, 8, 0, tzinfo=UTC), status=PostStatus.IN_REVIEW)
    published = post_at(personal, NOW - timedelta(days=10), status=PostStatus.PUBLISHED)
    post_at(personal, datetime(2026, 3, 4, tzinfo=UTC), status=PostStatus.DRAFT)
    post_at(personal, datetime(2026, 3, 4, tzinfo=UTC), status=PostStatus.CANCELLED)
    post_at(personal, NOW - timedelta(days=31))
    post_at(personal, NOW + timedelta(days=366))
    post_at(personal, None)
    # Other people's accounts, even in the same brand, and posts the employee wrote for them.
    post_at(executive_account, datetime(2026, 3, 2, tzinfo=UTC))
    Post.objects.create(account=brand_account, author=employee, body="x", status=PostStatus.SCHEDULED,
                        scheduled_at=datetime(2026, 3, 2, tzinfo=UTC))

    response = client.get(feed_path(client_for(employee)))  # no session: the token is the secret
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "private, max-age=300"
    assert response["Content-Disposition"].startswith("inline; filename=") and ".ics" in response["Content-Disposition"]
    calendar, events = events_of(response)
    assert str(calendar["VERSION"]) == "2.0" and "Social Matrix" in str(calendar["PRODID"])
    assert str(calendar["X-WR-TIMEZONE"]) == "Asia/Shanghai" and str(employee) in str(calendar["X-WR-CALNAME"])
    assert set(events) == {mine.pk, operated.pk, published.pk}

    event = events[mine.pk]
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 3, 2, 1, 30, tzinfo=UTC) and start.utcoffset() == timedelta(0)
    assert b"DTSTART:20260302T013000Z" in response.content
    assert event.decoded("DTEND") - start == timedelta(minutes=15)
    assert str(event["UID"]) == f"post-{mine.pk}@localhost"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["X-SOCIAL-MATRIX-TIMEZONE"]) == "Asia/Shanghai"
    assert "@emp_wang" in str(event["SUMMARY"]) and "Spring launch" in str(event["SUMMARY"])
    assert str(event["URL"]) == f"{settings.SITE_URL}/posts/{mine.pk}/"
    description = str(event["DESCRIPTION"])
    assert "Spring launch at the showroom" in description and "2026-03-02 09:30 (Asia/Shanghai)" in description
    assert "Scheduled" in description and f"/posts/{mine.pk}/" in description

    berlin = events[operated.pk]
    assert berlin.decoded("DTSTART") == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert str(berlin["X-SOCIAL-MATRIX-TIMEZONE"]) == "Europe/Berlin" and str(berlin["STATUS"]) == "TENTATIVE"
    assert "2026-03-03 09:00 (Europe/Berlin)" in str(berlin["DESCRIPTION"])
    assert str(events[published.pk]["STATUS"]) == "CONFIRMED"


def test_the_feed_is_written_in_its_owners_language_not_the_calendar_programs(client, client_for, employee,
                                                                             own_accounts):
    """A calendar program's request says nothing about the person: the feed speaks the language they
    read the link in (My calendar, in Chinese here), and follows them when they switch."""
    personal, _recruiting = own_accounts
    post = post_at(personal, datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    api = client_for(employee)
    api.cookies["django_language"] = "zh-hans"
    path = feed_path(api)
    assert CalendarFeed.objects.get().language == "zh-hans"

    calendar, events = events_of(client.get(path, headers={"accept-language": "en"}))
    description = str(events[post.pk]["DESCRIPTION"])
    assert "状态：已排期" in description and "账号时间：2026-03-02 09:30（Asia/Shanghai）" in description
    assert "Status:" not in description and "Account time:" not in description
    assert str(calendar["X-WR-CALNAME"]).startswith("社媒矩阵：")

    api.cookies["django_language"] = "en"
    assert feed_path(api) == path  # the same link, now in English
    _calendar, events = events_of(client.get(path, headers={"accept-language": "zh-hans"}))
    description = str(events[post.pk]["DESCRIPTION"])
    assert "Status: Scheduled" in description and "Account time: 2026-03-02 09:30 (Asia/Shanghai)" in description


def test_a_marketer_who_sees_the_whole_brand_gets_only_their_own_accounts(client, client_for, marketer,
                                                                          brand_account, executive_account):
    post_at(brand_account, datetime(2026, 3, 2, tzinfo=UTC), author=marketer)
    post_at(executive_account, datetime(2026, 3, 2, tzinfo=UTC))
    _calendar, events = events_of(client.get(feed_path(client_for(marketer))))
    assert events == {}


def test_the_feed_url_is_made_once_and_audited(client_for, employee):
    api = client_for(employee)
    first = api.get("/api/v1/calendar/feed/").json()
    second = api.get("/api/v1/calendar/feed/").json()
    assert first == second and set(first) == {"url", "created_at"}
    feed = CalendarFeed.objects.get()
    assert len(feed.token) >= 40 and feed.token in first["url"]
    event = AuditEvent.objects.get(action="calendar.feed.create")
    assert event.after == {"feed_id": feed.pk} and feed.token not in str(event.after)


def test_rotating_the_url_makes_the_old_one_404(client, client_for, employee, own_accounts):
    api = client_for(employee)
    old = feed_path(api)
    response = api.post("/api/v1/calendar/feed/")
    assert response.status_code == 200
    new = response.json()["url"][len(settings.SITE_URL):]
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert feed_path(api) == new
    assert AuditEvent.objects.filter(action="calendar.feed.rotate", actor_id=employee.pk).count() == 1
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1


def test_revoking_the_url_makes_it_404_until_a_new_one_is_asked_for(client, client_for, employee):
    api = client_for(employee)
    old = feed_path(api)
    assert api.delete("/api/v1/calendar/feed/").status_code == 204
    assert client.get(old).status_code == 404
    assert AuditEvent.objects.filter(action="calendar.feed.revoke").count() == 1
    assert api.delete("/api/v1/calendar/feed/").status_code == 204  # nothing left to revoke: not audited
    assert AuditEvent.objects.filter(action="calendar.feed.revoke").count() == 1
    fresh = feed_path(api)
    assert fresh != old and client.get(fresh).status_code == 200


def test_an_unknown_token_or_a_person_who_left_answers_404(client, client_for, admin_user, employee):
    assert client.get("/calendar/not-a-token.ics").status_code == 404
    path = feed_path(client_for(employee))
    user_offboard(actor=admin_user, user=employee)
    assert client.get(path).status_code == 404


def test_only_signed_in_people_manage_a_feed(client):
    assert APIClient().get("/api/v1/calendar/feed/").status_code in (401, 403)
