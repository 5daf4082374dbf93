"""`POST /api/v1/posts/{id}/reschedule/` (and `services.post_reschedule`): only the time moves, so an
approved post stays approved; each refusal has its code and a sentence saying what to do. DST gaps and
overlaps are checked in two zones while the process itself runs in a third."""

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils.dateparse import parse_datetime

from approvals.models import AuditEvent
from config.errors import DomainError
from content import services
from content.models import BlockedDay, Campaign, Post, PostStatus
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
CLEAN = "新车今日上市，欢迎到店试驾。"


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def process_in_shanghai():
    """The process's own zone is a third one (Django's is America/Sao_Paulo in the test settings):
    nothing may read a wall clock in the machine's zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


@pytest.fixture
def new_york_account(brand, platforms):
    return SocialAccountFactory(brand=brand, platform=platforms["x"], handle="aurora_ny", timezone="America/New_York")


@pytest.fixture
def berlin_account(brand, platforms):
    return SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_de",
                                timezone="Europe/Berlin")


def scheduled(account, author, approver, at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC), body=CLEAN, campaign=None):
    post = services.post_create(actor=author, account=account, body=body, scheduled_at=at, campaign=campaign)
    post = services.post_submit(actor=author, post=post)
    for person in approver if isinstance(approver, list | tuple) else [approver]:
        post = services.post_approve(actor=person, post=post)
    assert post.status == PostStatus.SCHEDULED
    return post


def reschedule(client, post, **payload):
    return client.post(f"/api/v1/posts/{post.pk}/reschedule/", payload, format="json")


def refused(response, code, status=400):
    assert response.status_code == status, response.json()
    body = response.json()
    assert set(body) == {"scheduled_at", "code"} and body["code"] == code, body
    return body["scheduled_at"][0]


# --- moving a post ---------------------------------------------------------------------------------


def test_moving_an_approved_post_keeps_its_approval_and_is_audited(client_for, author, marketer, brand_account):
    post = scheduled(brand_account, author, marketer)
    revision, approved, approved_at = post.revision_id, post.approved_revision_id, post.approved_at
    response = reschedule(client_for(author), post, local="2026-03-05T09:30", timezone="Asia/Shanghai")
    assert response.status_code == 200, response.json()
    assert parse_datetime(response.json()["scheduled_at"]) == datetime(2026, 3, 5, 1, 30, tzinfo=UTC)
    assert response.json()["status"] == "scheduled"
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 5, 1, 30, tzinfo=UTC)
    assert (post.status, post.revision_id, post.approved_revision_id, post.approved_at, post.body) == (
        PostStatus.SCHEDULED, revision, approved, approved_at, CLEAN)
    event = AuditEvent.objects.get(action="content.post.reschedule", object_id=str(post.pk))
    assert event.actor_id == author.pk
    assert event.before["scheduled_at"].startswith("2026-03-02T01:00:00")
    assert event.after["scheduled_at"].startswith("2026-03-05T01:30:00")
    assert event.after["status"] == "scheduled"


def test_an_instant_with_its_offset_works_too_and_a_pending_retry_is_cleared(client_for, author, marketer,
                                                                             brand_account):
    post = scheduled(brand_account, author, marketer)
    Post.objects.filter(pk=post.pk).update(next_attempt_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    response = reschedule(client_for(marketer), post, scheduled_at="2026-03-06T08:00:00-05:00")
    assert response.status_code == 200, response.json()
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 6, 13, 0, tzinfo=UTC) and post.next_attempt_at is None


def test_a_draft_moves_without_being_submitted(client_for, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body=CLEAN, scheduled_at=NOW + timedelta(days=1))
    response = reschedule(client_for(author), post, local="2026-03-01T10:00", timezone="Asia/Shanghai")
    assert response.status_code == 200 and response.json()["status"] == "draft"


def test_moving_to_the_same_time_changes_nothing(client_for, author, marketer, brand_account):
    post = scheduled(brand_account, author, marketer)
    response = reschedule(client_for(author), post, scheduled_at="2026-03-02T01:00:00Z")
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="content.post.reschedule").exists()


# --- daylight saving time ----------------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "local", "code"), [
    ("America/New_York", "2026-03-08T02:30", "nonexistent_time"),
    ("America/New_York", "2026-11-01T01:30", "ambiguous_time"),
    ("Europe/Berlin", "2026-03-29T02:30", "nonexistent_time"),
    ("Europe/Berlin", "2026-10-25T02:30", "ambiguous_time"),
])
def test_a_wall_clock_time_in_a_gap_or_an_overlap_is_refused(client_for, author, marketer, new_york_account, zone,
                                                            local, code):
    post = scheduled(new_york_account, author, marketer)
    message = refused(reschedule(client_for(author), post, local=local, timezone=zone), code)
    assert zone in message and local.replace("T", " ") in message
    assert ("does not exist" if code == "nonexistent_time" else "happens twice") in message
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("zone", "local", "expected"), [
    ("America/New_York", "2026-03-08T03:30", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),  # just after the gap: EDT
    ("America/New_York", "2026-03-08T01:30", datetime(2026, 3, 8, 6, 30, tzinfo=UTC)),  # just before: EST
    ("Europe/Berlin", "2026-03-29T03:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
    ("Europe/Berlin", "2026-10-25T03:30", datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
])
def test_the_hours_either_side_of_a_change_are_read_with_the_right_offset(client_for, author, marketer,
                                                                          brand_account, zone, local, expected):
    post = scheduled(brand_account, author, marketer)
    assert reschedule(client_for(author), post, local=local, timezone=zone).status_code == 200
    post.refresh_from_db()
    assert post.scheduled_at == expected


@pytest.mark.parametrize(("account_fixture", "instant", "shown"), [
    # 05:30 UTC is 01:30 EDT, the first of New York's two 01:30s; 06:30 UTC is the second.
    ("new_york_account", "2026-11-01T05:30:00Z", "2026-11-01 01:30"),
    ("new_york_account", "2026-11-01T06:30:00Z", "2026-11-01 01:30"),
    # 00:30 UTC is 02:30 CEST in Berlin, the first of its two 02:30s.
    ("berlin_account", "2026-10-25T00:30:00Z", "2026-10-25 02:30"),
])
def test_an_instant_in_the_hour_the_accounts_clock_repeats_is_refused(request, client_for, author, marketer,
                                                                     account_fixture, instant, shown):
    account = request.getfixturevalue(account_fixture)
    post = scheduled(account, author, marketer)
    # Dropped on a calendar in Shanghai, where the time is unambiguous.
    message = refused(reschedule(client_for(author), post, scheduled_at=instant), "ambiguous_time")
    assert shown in message and account.timezone in message and "twice" in message


def test_an_hour_repeated_elsewhere_does_not_matter_to_an_account_in_shanghai(client_for, author, marketer,
                                                                             brand_account):
    post = scheduled(brand_account, author, marketer)
    assert reschedule(client_for(author), post, scheduled_at="2026-11-01T05:30:00Z").status_code == 200


# --- what refuses a time ---------------------------------------------------------------------------


def test_a_time_in_the_past_is_refused(client_for, author, marketer, brand_account):
    post = scheduled(brand_account, author, marketer)
    message = refused(reschedule(client_for(author), post, scheduled_at="2026-02-20T08:59:00Z"), "past")
    assert "already passed" in message


def test_a_pause_without_an_end_refuses_any_time(client_for, author, marketer, brand, brand_account):
    post = scheduled(brand_account, author, marketer)
    services.pause_create(actor=marketer, brand=brand, scope="tier", value="brand", reason="Product recall")
    message = refused(reschedule(client_for(author), post, scheduled_at="2026-03-09T01:00:00Z"), "paused")
    assert "Product recall" in message and "lifted" in message


def test_a_pause_refuses_only_times_before_its_end(client_for, author, marketer, brand, brand_account):
    post = scheduled(brand_account, author, marketer)
    services.pause_create(actor=marketer, brand=brand, scope="account", value=str(brand_account.pk),
                          reason="Pricing error", until=datetime(2026, 3, 4, 0, 0, tzinfo=UTC))
    api = client_for(author)
    message = refused(reschedule(api, post, scheduled_at="2026-03-03T01:00:00Z"), "paused")
    assert "Pricing error" in message and "2026-03-04 08:00 (Asia/Shanghai)" in message
    assert reschedule(api, post, scheduled_at="2026-03-04T01:00:00Z").status_code == 200


def test_a_pause_of_another_scope_does_not_refuse(client_for, author, marketer, brand, brand_account):
    post = scheduled(brand_account, author, marketer)
    services.pause_create(actor=marketer, brand=brand, scope="tier", value="dealer", reason="Dealer issue")
    assert reschedule(client_for(author), post, scheduled_at="2026-03-03T01:00:00Z").status_code == 200


def test_a_time_outside_the_campaigns_window_is_refused(client_for, author, marketer, brand, brand_account):
    campaign = Campaign.objects.create(brand=brand, name="Spring drive", created_by=marketer,
                                       window_start=datetime(2026, 3, 1, tzinfo=UTC),
                                       window_end=datetime(2026, 3, 15, tzinfo=UTC))
    post = scheduled(brand_account, author, marketer, campaign=campaign)
    api = client_for(author)
    message = refused(reschedule(api, post, scheduled_at="2026-03-20T01:00:00Z"), "campaign_window")
    assert "Spring drive" in message and "2026-03-15 08:00" in message
    refused(reschedule(api, post, scheduled_at="2026-02-25T01:00:00Z"), "campaign_window")
    assert reschedule(api, post, scheduled_at="2026-03-14T01:00:00Z").status_code == 200


def test_a_day_the_owner_blocked_in_their_own_zone_is_refused(client_for, brand, platforms, marketer, reviewer):
    owner = UserFactory(username="exec.ny", role="executive", brand=brand, timezone="America/New_York")
    account = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="executive", owner=owner,
                                   ownership="personal", handle="ceo_ny", timezone="America/New_York")
    post = scheduled(account, marketer, [owner, reviewer], at=datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    BlockedDay.objects.create(owner=owner, date=datetime(2026, 3, 10).date(), note="Board meeting", created_by=owner)
    api = client_for(marketer)
    # 01:00 UTC on the 10th is still the 9th in New York: allowed.
    assert reschedule(api, post, scheduled_at="2026-03-10T03:00:00Z").status_code == 200
    message = refused(reschedule(api, post, scheduled_at="2026-03-10T05:00:00Z"), "blocked_day")
    assert "2026-03-10" in message and "Board meeting" in message
    # The last minute of the 10th in New York (03:59 UTC on the 11th) is blocked too.
    refused(reschedule(api, post, scheduled_at="2026-03-11T03:59:00Z"), "blocked_day")
    assert reschedule(api, post, scheduled_at="2026-03-11T04:00:00Z").status_code == 200


def test_a_crowded_hour_is_refused(client_for, author, marketer, brand_account):
    brand_account.posts_per_hour = 1
    brand_account.save()
    post = scheduled(brand_account, author, marketer)
    scheduled(brand_account, author, marketer, at=datetime(2026, 3, 3, 1, 0, tzinfo=UTC), body=CLEAN + "二")
    message = refused(reschedule(client_for(author), post, scheduled_at="2026-03-03T01:20:00Z"), "rate_limit")
    assert "an hour" in message


@pytest.mark.parametrize("status", [PostStatus.PUBLISHING, PostStatus.PUBLISHED, PostStatus.FAILED,
                                    PostStatus.NEEDS_REVIEW, PostStatus.CANCELLED])
def test_a_post_past_scheduling_answers_409(client_for, author, marketer, brand_account, status):
    post = scheduled(brand_account, author, marketer)
    Post.objects.filter(pk=post.pk).update(status=status)
    message = refused(reschedule(client_for(author), post, scheduled_at="2026-03-05T01:00:00Z"), "not_reschedulable",
                      status=409)
    assert "can no longer be moved" in message
    assert Post.objects.get(pk=post.pk).scheduled_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


# --- who may move it, and what they must send --------------------------------------------------------


def test_who_may_move_a_post(client_for, author, marketer, reviewer, outsider, dealer_operator, executive,
                             brand_account):
    post = scheduled(brand_account, author, marketer)
    payload = {"scheduled_at": "2026-03-05T01:00:00Z"}
    assert reschedule(client_for(reviewer), post, **payload).status_code == 403
    assert reschedule(client_for(outsider), post, **payload).status_code == 404
    assert reschedule(client_for(dealer_operator), post, **payload).status_code == 404
    assert reschedule(client_for(executive), post, **payload).status_code == 404
    assert reschedule(client_for(marketer), post, **payload).status_code == 200
    assert AuditEvent.objects.filter(action="content.post.reschedule").count() == 1


def test_an_executive_moves_posts_on_their_own_account(client_for, marketer, executive, reviewer, executive_account):
    post = scheduled(executive_account, marketer, [executive, reviewer])
    assert reschedule(client_for(executive), post, local="2026-03-05T09:00", timezone="Asia/Shanghai").status_code == 200


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "scheduled_at"),
    ({"local": "2026-03-05T09:00"}, "timezone"),
    ({"local": "2026-03-05T09:00", "timezone": "Mars/Olympus"}, "timezone"),
    ({"local": "2026-03-05T09:00+08:00", "timezone": "Asia/Shanghai"}, "local"),
    ({"local": "next tuesday", "timezone": "Asia/Shanghai"}, "local"),
    ({"scheduled_at": "2026-03-05T09:00"}, "scheduled_at"),  # no offset
])
def test_input_it_cannot_read_answers_400_naming_the_field(client_for, author, marketer, brand_account, payload, field):
    post = scheduled(brand_account, author, marketer)
    response = reschedule(client_for(author), post, **payload)
    assert response.status_code == 400 and field in response.json(), response.json()


# --- blocked days in the other ways of setting a time -----------------------------------------------


def test_composing_or_editing_a_post_on_a_blocked_day_is_refused(client_for, marketer, executive, executive_account):
    BlockedDay.objects.create(owner=executive, date=datetime(2026, 3, 10).date(), created_by=executive)
    blocked = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    with pytest.raises(DomainError) as error:
        services.post_create(actor=marketer, account=executive_account, body=CLEAN, scheduled_at=blocked)
    assert (error.value.code, error.value.field) == ("blocked_day", "scheduled_at")
    post = services.post_create(actor=marketer, account=executive_account, body=CLEAN,
                                scheduled_at=datetime(2026, 3, 11, 2, 0, tzinfo=UTC))
    with pytest.raises(DomainError) as error:
        services.post_update(actor=marketer, post=post, scheduled_at=blocked)
    assert error.value.code == "blocked_day"
    response = client_for(marketer).patch(f"/api/v1/posts/{post.pk}/", {"scheduled_at": "2026-03-10T10:00:00+08:00"},
                                          format="json")
    assert response.status_code == 400 and list(response.json()) == ["scheduled_at"]
    assert "blocked" in response.json()["scheduled_at"][0]


def test_submitting_a_post_that_sits_on_a_day_blocked_since_is_refused(marketer, executive, executive_account):
    post = services.post_create(actor=marketer, account=executive_account, body=CLEAN,
                                scheduled_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    BlockedDay.objects.create(owner=executive, date=datetime(2026, 3, 10).date(), created_by=executive)
    with pytest.raises(DomainError) as error:
        services.post_submit(actor=marketer, post=post)
    assert error.value.code == "blocked_day"
    assert Post.objects.get(pk=post.pk).status == PostStatus.DRAFT


def test_a_blocked_day_does_not_touch_company_accounts(marketer, executive, brand_account):
    BlockedDay.objects.create(owner=executive, date=datetime(2026, 3, 10).date(), created_by=executive)
    services.post_create(actor=marketer, account=brand_account, body=CLEAN,
                         scheduled_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
