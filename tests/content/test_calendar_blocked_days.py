"""Blocked days: `GET, POST /api/v1/blocked-days/`, `DELETE /api/v1/blocked-days/{id}/`, who may block
and unblock whose days, the conflicts a new block reports, and the helpers the dispatcher will ask."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import AuditEvent
from content.calendar import accounts_blocked_at, blocked_day_for, posts_on_blocked_days_q
from content.models import BlockedDay, Post, PostStatus
from tests.factories import SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
FIELDS = {"id", "owner", "owner_name", "date", "note", "timezone"}


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


def block(owner, day, note="", by=None):
    return BlockedDay.objects.create(owner=owner, date=day, note=note, created_by=by or owner)


def post_at(account, at, status=PostStatus.SCHEDULED):
    return Post.objects.create(account=account, author=account.owner, body="Hello", scheduled_at=at, status=status)


# --- blocking -------------------------------------------------------------------------------------


def test_an_executive_blocks_a_day_and_hears_of_the_posts_already_there(client_for, executive, executive_account,
                                                                       employee_account):
    # 10 March in Shanghai runs from 16:00 UTC on the 9th to 16:00 UTC on the 10th.
    first = post_at(executive_account, datetime(2026, 3, 9, 16, 30, tzinfo=UTC))
    second = post_at(executive_account, datetime(2026, 3, 10, 15, 59, tzinfo=UTC))
    post_at(executive_account, datetime(2026, 3, 10, 16, 0, tzinfo=UTC))  # the 11th
    post_at(executive_account, datetime(2026, 3, 10, 2, 0, tzinfo=UTC), status=PostStatus.CANCELLED)
    post_at(employee_account, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))  # someone else's
    response = client_for(executive).post("/api/v1/blocked-days/", {"date": "2026-03-10", "note": "Board meeting"},
                                          format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS | {"conflicts"}
    assert (body["owner"], body["date"], body["note"], body["timezone"]) == (
        executive.pk, "2026-03-10", "Board meeting", "Asia/Shanghai")
    assert body["owner_name"] == str(executive)
    assert body["conflicts"] == [first.pk, second.pk]
    day = BlockedDay.objects.get()
    assert (day.owner, day.created_by, day.date) == (executive, executive, date(2026, 3, 10))
    event = AuditEvent.objects.get(action="calendar.blocked_day.create")
    assert event.actor_id == executive.pk and event.after == {"owner_id": executive.pk, "date": "2026-03-10",
                                                              "note": "Board meeting"}


def test_only_admins_block_someone_elses_day(client_for, marketer, admin_user, executive):
    payload = {"date": "2026-03-10", "owner": executive.pk}
    assert client_for(marketer).post("/api/v1/blocked-days/", payload, format="json").status_code == 403
    response = client_for(admin_user).post("/api/v1/blocked-days/", payload, format="json")
    assert response.status_code == 201 and response.json()["owner"] == executive.pk
    assert BlockedDay.objects.get().created_by == admin_user


@pytest.mark.parametrize(("payload", "field"), [
    ({"date": "2026-02-19"}, "date"),  # yesterday
    ({"date": "10 March"}, "date"),
    ({}, "date"),
    ({"date": "2026-03-10", "note": "x" * 201}, "note"),
    ({"date": "2026-03-10", "owner": 999999}, "owner"),
])
def test_what_it_refuses_names_the_field(client_for, executive, payload, field):
    response = client_for(executive).post("/api/v1/blocked-days/", payload, format="json")
    assert response.status_code == 400 and list(response.json()) == [field], response.json()
    assert not BlockedDay.objects.exists()


def test_past_and_today_are_read_in_the_owners_zone(client_for, brand):
    kiwi = UserFactory(username="kiwi", role="employee", brand=brand, timezone="Pacific/Auckland")
    londoner = UserFactory(username="londoner", role="employee", brand=brand, timezone="Europe/London")
    with time_machine.travel(datetime(2026, 2, 20, 12, 0, tzinfo=UTC), tick=False):
        # Noon in London on the 20th is already 01:00 on the 21st in Auckland.
        refused = client_for(kiwi).post("/api/v1/blocked-days/", {"date": "2026-02-20"}, format="json")
        assert refused.status_code == 400 and "already passed" in refused.json()["date"][0]
        assert client_for(kiwi).post("/api/v1/blocked-days/", {"date": "2026-02-21"}, format="json").status_code == 201
        assert client_for(londoner).post("/api/v1/blocked-days/", {"date": "2026-02-20"},
                                         format="json").status_code == 201


def test_a_day_is_blocked_once(client_for, executive):
    api = client_for(executive)
    assert api.post("/api/v1/blocked-days/", {"date": "2026-03-10"}, format="json").status_code == 201
    again = api.post("/api/v1/blocked-days/", {"date": "2026-03-10"}, format="json")
    assert again.status_code == 400 and list(again.json()) == ["date"]
    assert BlockedDay.objects.count() == 1


# --- unblocking ------------------------------------------------------------------------------------


def test_the_owner_unblocks_their_day(client_for, executive):
    day = block(executive, date(2026, 3, 10), "Board meeting")
    assert client_for(executive).delete(f"/api/v1/blocked-days/{day.pk}/").status_code == 204
    assert not BlockedDay.objects.exists()
    event = AuditEvent.objects.get(action="calendar.blocked_day.delete")
    assert event.actor_id == executive.pk and event.before["date"] == "2026-03-10"


def test_a_marketer_sees_an_executives_day_but_cannot_unblock_it(client_for, marketer, outsider, admin_user,
                                                                 executive, executive_account):
    day = block(executive, date(2026, 3, 10))
    assert client_for(marketer).delete(f"/api/v1/blocked-days/{day.pk}/").status_code == 403
    assert client_for(outsider).delete(f"/api/v1/blocked-days/{day.pk}/").status_code == 404
    assert BlockedDay.objects.exists()
    assert client_for(admin_user).delete(f"/api/v1/blocked-days/{day.pk}/").status_code == 204


# --- reading ---------------------------------------------------------------------------------------


def test_who_sees_which_days(client_for, marketer, reviewer, outsider, employee, executive, executive_account,
                             employee_account, brand, platforms):
    comms = UserFactory(username="comms", role="employee", brand=brand)
    executive_account.operators.set([comms])
    loner = UserFactory(username="loner", role="employee", brand=brand)  # owns no account
    executive_day = block(executive, date(2026, 3, 10))
    employee_day = block(employee, date(2026, 3, 11))
    loner_day = block(loner, date(2026, 3, 12))

    def seen(user, query=""):
        response = client_for(user).get(f"/api/v1/blocked-days/?{query}")
        assert response.status_code == 200, response.json()
        return [d["id"] for d in response.json()["results"]]

    assert seen(marketer) == [executive_day.pk, employee_day.pk]
    assert seen(reviewer) == [executive_day.pk, employee_day.pk]
    assert seen(employee) == [employee_day.pk]
    assert seen(comms) == [executive_day.pk]  # the executive's communications team
    assert seen(loner) == [loner_day.pk]
    assert seen(outsider) == []
    assert seen(marketer, "start=2026-03-11&end=2026-03-12") == [employee_day.pk]
    assert seen(marketer, f"owner={executive.pk}") == [executive_day.pk]
    assert seen(employee, "owner=me") == [employee_day.pk]
    body = client_for(marketer).get("/api/v1/blocked-days/").json()
    assert body["count"] == 2 and set(body["results"][0]) == FIELDS


def test_a_bad_filter_answers_400(client_for, marketer):
    assert client_for(marketer).get("/api/v1/blocked-days/?start=soon").status_code == 400
    assert client_for(marketer).get("/api/v1/blocked-days/?owner=someone").status_code == 400


# --- the helpers -----------------------------------------------------------------------------------


@pytest.fixture
def new_yorker(brand, platforms):
    owner = UserFactory(username="exec.ny", role="executive", brand=brand, timezone="America/New_York")
    account = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="executive", owner=owner,
                                   ownership="personal", handle="ceo_ny")
    return owner, account


def test_blocked_day_for_reads_the_date_in_the_owners_zone(new_yorker, brand_account):
    owner, account = new_yorker
    day = block(owner, date(2026, 3, 10))
    assert blocked_day_for(account, datetime(2026, 3, 10, 3, 59, tzinfo=UTC)) is None  # 23:59 on the 9th
    assert blocked_day_for(account, datetime(2026, 3, 10, 4, 0, tzinfo=UTC)) == day  # after New York's jump: EDT
    assert blocked_day_for(account, datetime(2026, 3, 11, 3, 59, tzinfo=UTC)) == day
    assert blocked_day_for(account, datetime(2026, 3, 11, 4, 0, tzinfo=UTC)) is None
    assert blocked_day_for(brand_account, datetime(2026, 3, 10, 12, 0, tzinfo=UTC)) is None


def test_accounts_blocked_at_answers_a_batch_in_one_query(new_yorker, executive, executive_account, employee_account,
                                                          brand_account):
    owner, new_york_account = new_yorker
    ny_day = block(owner, date(2026, 3, 10))
    shanghai_day = block(executive, date(2026, 3, 10))
    ids = [new_york_account.pk, executive_account.pk, employee_account.pk, brand_account.pk]
    with CaptureQueriesContext(connection) as captured:
        # 20:00 UTC on the 10th: the 10th in New York, already the 11th in Shanghai.
        late = accounts_blocked_at(ids, datetime(2026, 3, 10, 20, 0, tzinfo=UTC))
    assert len(captured.captured_queries) == 1
    assert late == {new_york_account.pk: ny_day}
    assert accounts_blocked_at(ids, datetime(2026, 3, 10, 2, 0, tzinfo=UTC)) == {executive_account.pk: shanghai_day}
    assert accounts_blocked_at([], datetime(2026, 3, 10, 2, 0, tzinfo=UTC)) == {}


def test_posts_on_blocked_days_in_sql(new_yorker, executive, executive_account, brand_account):
    owner, new_york_account = new_yorker
    block(owner, date(2026, 3, 10))
    block(executive, date(2026, 3, 10))
    held = [post_at(new_york_account, datetime(2026, 3, 10, 20, 0, tzinfo=UTC)),
            post_at(executive_account, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))]
    post_at(new_york_account, datetime(2026, 3, 10, 2, 0, tzinfo=UTC))  # still the 9th in New York
    post_at(executive_account, datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # the 11th in Shanghai
    Post.objects.create(account=brand_account, author=executive, body="x", status=PostStatus.SCHEDULED,
                        scheduled_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC))
    found = Post.objects.filter(posts_on_blocked_days_q()).order_by("id").values_list("pk", flat=True)
    assert list(found) == [p.pk for p in held]
