"""`GET /api/v1/calendar/`: the events a person may see in a range, in the zone they ask for, filtered,
paged by cursor, with a constant number of queries; and the parameters it refuses."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from content.models import Campaign, Post, PostStatus
from tests.factories import DealerFactory, SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
MARCH = "start=2026-03-01&end=2026-04-01"
EVENT_FIELDS = {"id", "title", "start", "status", "account", "account_label", "tier", "platform", "platform_name",
                "brand", "region", "owner", "campaign", "campaign_name", "account_timezone", "start_account_local",
                "zone_differs", "editable", "url"}


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def admin_api(client_for, admin_user):
    return client_for(admin_user)


def post_at(account, at, *, status=PostStatus.SCHEDULED, body="Spring launch: come and see the new models.",
            author=None, campaign=None):
    author = author or account.owner or UserFactory(username=f"author{account.pk}", role="marketer",
                                                    brand=account.brand)
    return Post.objects.create(account=account, author=author, body=body, scheduled_at=at, status=status,
                               campaign=campaign)


def calendar(client, query):
    response = client.get(f"/api/v1/calendar/?{query}")
    assert response.status_code == 200, response.json()
    return response.json()


def ids(client, query):
    return [event["id"] for event in calendar(client, query)["results"]]


# --- what an event says ------------------------------------------------------------------------


def test_an_event_carries_the_post_in_the_requested_zone_and_in_the_accounts(client_for, marketer, brand, platforms):
    account = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us",
                                   timezone="America/New_York")
    post = post_at(account, datetime(2026, 3, 10, 14, 30, tzinfo=UTC))
    body = calendar(client_for(marketer), f"{MARCH}&timezone=Asia/Shanghai")
    assert (body["count"], body["next"], body["previous"], body["timezone"]) == (1, None, None, "Asia/Shanghai")
    [event] = body["results"]
    assert set(event) == EVENT_FIELDS
    assert event["start"] == "2026-03-10T22:30:00+08:00"
    assert event["start_account_local"] == "2026-03-10T10:30:00-04:00"  # New York is already on summer time
    assert event["zone_differs"] is True and event["account_timezone"] == "America/New_York"
    assert event["title"].startswith("@aurora_us Spring launch") and len(event["title"]) <= 80
    assert (event["id"], event["account"], event["account_label"], event["tier"]) == (
        post.pk, account.pk, "@aurora_us", "self_operated")
    assert (event["platform"], event["platform_name"], event["brand"]) == ("linkedin", "LinkedIn", brand.pk)
    assert (event["region"], event["owner"], event["campaign"], event["campaign_name"]) == ("", None, None, "")
    assert event["status"] == "scheduled" and event["editable"] is True
    assert event["url"] == f"/posts/{post.pk}/"


def test_a_long_text_makes_a_title_of_at_most_80_characters(client_for, marketer, brand_account):
    post_at(brand_account, datetime(2026, 3, 2, tzinfo=UTC), body="新车\n上市 " * 100)
    [event] = calendar(client_for(marketer), MARCH)["results"]
    assert len(event["title"]) == 80 and event["title"].endswith("…") and "\n" not in event["title"]


def test_the_same_zone_on_both_sides_does_not_differ(client_for, marketer, brand_account):
    post_at(brand_account, datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    [event] = calendar(client_for(marketer), f"{MARCH}&timezone=Asia/Hong_Kong")["results"]
    assert event["start"] == event["start_account_local"] == "2026-03-02T09:00:00+08:00"
    assert event["zone_differs"] is False


def test_platform_names_in_chinese_for_a_chinese_reader(client_for, marketer, brand_account):
    post_at(brand_account, datetime(2026, 3, 2, tzinfo=UTC))
    response = client_for(marketer).get(f"/api/v1/calendar/?{MARCH}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["results"][0]["platform_name"] == "微博"


def test_campaign_owner_and_region_are_named(client_for, marketer, brand, dealer_account, executive_account):
    campaign = Campaign.objects.create(brand=brand, name="Spring drive", created_by=marketer)
    dealer_post = post_at(dealer_account, datetime(2026, 3, 3, tzinfo=UTC), campaign=campaign)
    executive_post = post_at(executive_account, datetime(2026, 3, 4, tzinfo=UTC))
    events = {e["id"]: e for e in calendar(client_for(marketer), MARCH)["results"]}
    assert (events[dealer_post.pk]["campaign"], events[dealer_post.pk]["campaign_name"]) == (campaign.pk, "Spring drive")
    assert events[dealer_post.pk]["region"] == "East" and events[dealer_post.pk]["tier"] == "dealer"
    assert events[executive_post.pk]["owner"] == executive_account.owner_id


# --- which posts, in which range -------------------------------------------------------------------


def test_posts_come_in_time_order_and_only_inside_the_range_with_a_time(client_for, marketer, brand_account):
    later = post_at(brand_account, datetime(2026, 3, 20, tzinfo=UTC))
    earlier = post_at(brand_account, datetime(2026, 3, 5, tzinfo=UTC))
    tie = post_at(brand_account, datetime(2026, 3, 5, tzinfo=UTC))
    post_at(brand_account, None)
    post_at(brand_account, datetime(2026, 4, 1, tzinfo=UTC))  # the end is excluded
    post_at(brand_account, datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    assert ids(client_for(marketer), f"{MARCH}&timezone=UTC") == [earlier.pk, tie.pk, later.pk]


def test_a_date_is_midnight_in_the_requested_zone(client_for, marketer, brand_account):
    # 1 March 00:30 in Shanghai is still 28 February in UTC.
    post = post_at(brand_account, datetime(2026, 2, 28, 16, 30, tzinfo=UTC))
    api = client_for(marketer)
    assert ids(api, "start=2026-03-01&end=2026-03-02&timezone=Asia/Shanghai") == [post.pk]
    assert ids(api, "start=2026-03-01&end=2026-03-02&timezone=UTC") == []


def test_times_with_an_offset_and_wall_clock_times(client_for, marketer, brand_account):
    post = post_at(brand_account, datetime(2026, 3, 1, 4, 30, tzinfo=UTC))  # 23:30 on 28 Feb in New York
    api = client_for(marketer)
    assert ids(api, "start=2026-03-01T00:00:00-05:00&end=2026-03-02T00:00:00-05:00") == []
    assert ids(api, "start=2026-02-28T23:00:00-05:00&end=2026-03-01T00:00:00-05:00") == [post.pk]
    # `+` in a query string is a space unless escaped; an unescaped offset still reads.
    assert ids(api, "start=2026-03-01T12:00:00+08:00&end=2026-03-01T13:00:00+08:00") == [post.pk]
    # A time without an offset is a wall-clock time in `timezone`.
    assert ids(api, "start=2026-02-28T23:00&end=2026-03-01T00:00&timezone=America/New_York") == [post.pk]


def test_the_default_zone_is_the_readers(client_for, brand, brand_account):
    reader = UserFactory(username="berlin.marketer", role="marketer", brand=brand, timezone="Europe/Berlin")
    post_at(brand_account, datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    body = calendar(client_for(reader), MARCH)
    assert body["timezone"] == "Europe/Berlin"
    assert body["results"][0]["start"] == "2026-03-02T09:00:00+01:00"


def test_a_dealer_operator_never_sees_another_dealers_posts(client_for, brand, dealer_operator, dealer_account,
                                                           dealer_south, platforms, brand_account):
    other_dealer = SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_south)
    ours = post_at(dealer_account, datetime(2026, 3, 2, tzinfo=UTC))
    post_at(other_dealer, datetime(2026, 3, 2, tzinfo=UTC))
    post_at(brand_account, datetime(2026, 3, 2, tzinfo=UTC))
    api = client_for(dealer_operator)
    assert ids(api, MARCH) == [ours.pk]
    assert ids(api, f"{MARCH}&account={other_dealer.pk}") == []
    assert ids(api, f"{MARCH}&region=South") == []


def test_another_brand_sees_nothing(client_for, outsider, brand_account):
    post_at(brand_account, datetime(2026, 3, 2, tzinfo=UTC))
    assert calendar(client_for(outsider), MARCH)["count"] == 0


def test_owner_me_is_the_readers_own_accounts(client_for, executive, marketer, executive_account, employee_account,
                                             brand_account):
    mine = post_at(executive_account, datetime(2026, 3, 2, tzinfo=UTC))
    post_at(employee_account, datetime(2026, 3, 2, tzinfo=UTC))
    post_at(brand_account, datetime(2026, 3, 2, tzinfo=UTC), author=executive)
    assert ids(client_for(executive), f"{MARCH}&owner=me") == [mine.pk]
    assert ids(client_for(marketer), f"{MARCH}&owner={executive.pk}") == [mine.pk]
    assert ids(client_for(marketer), f"{MARCH}&owner=me") == []


def test_filters(client_for, marketer, brand, other_brand, admin_user, platforms, brand_account, dealer_account,
                 employee_account):
    campaign = Campaign.objects.create(brand=brand, name="Spring", created_by=marketer)
    at = datetime(2026, 3, 2, tzinfo=UTC)
    brand_post = post_at(brand_account, at, campaign=campaign)
    dealer_post = post_at(dealer_account, at, status=PostStatus.IN_REVIEW)
    employee_post = post_at(employee_account, at, status=PostStatus.DRAFT)
    elsewhere = SocialAccountFactory(brand=other_brand, platform=platforms["weibo"], handle="borealis")
    other_post = post_at(elsewhere, at)
    api = client_for(admin_user)
    assert set(ids(api, f"{MARCH}&tier=dealer")) == {dealer_post.pk}
    assert set(ids(api, f"{MARCH}&platform=weibo")) == {brand_post.pk, employee_post.pk, other_post.pk}
    assert set(ids(api, f"{MARCH}&brand=borealis")) == {other_post.pk}
    assert set(ids(api, f"{MARCH}&brand={brand.pk}")) == {brand_post.pk, dealer_post.pk, employee_post.pk}
    assert set(ids(api, f"{MARCH}&region=East")) == {dealer_post.pk}
    assert set(ids(api, f"{MARCH}&campaign={campaign.pk}")) == {brand_post.pk}
    assert set(ids(api, f"{MARCH}&status=in_review,draft")) == {dealer_post.pk, employee_post.pk}
    assert set(ids(api, f"{MARCH}&account={brand_account.pk},{elsewhere.pk}")) == {brand_post.pk, other_post.pk}
    assert set(ids(api, f"{MARCH}&tier=employee&platform=weibo")) == {employee_post.pk}


def test_editable_says_who_may_move_what(client_for, marketer, reviewer, brand_account, employee, employee_account):
    at = datetime(2026, 3, 2, tzinfo=UTC)
    scheduled = post_at(brand_account, at)
    published = post_at(brand_account, at, status=PostStatus.PUBLISHED)
    personal = post_at(employee_account, at)

    def editable(user):
        return {e["id"]: e["editable"] for e in calendar(client_for(user), MARCH)["results"]}

    assert editable(marketer) == {scheduled.pk: True, published.pk: False, personal.pk: True}
    assert editable(reviewer) == {scheduled.pk: False, published.pk: False, personal.pk: False}
    assert editable(employee) == {personal.pk: True}


# --- paging and cost -------------------------------------------------------------------------------


def test_a_cursor_walks_the_range_and_the_count_is_the_whole_range(client_for, marketer, brand_account):
    at = datetime(2026, 3, 2, tzinfo=UTC)
    posts = [post_at(brand_account, at + timedelta(hours=i // 2)) for i in range(5)]  # pairs share a time
    api = client_for(marketer)
    seen, url, queries = [], f"/api/v1/calendar/?{MARCH}&page_size=2", []
    while url:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(url)
        queries.append(len(captured.captured_queries))
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 5 and body["previous"] is None
        assert len(body["results"]) <= 2
        seen += [e["id"] for e in body["results"]]
        url = body["next"]
    assert seen == [p.pk for p in posts]
    assert queries == [2, 1, 1]  # the first page counts the range; the cursor carries the count on


def test_the_number_of_queries_does_not_grow_with_the_events(client_for, marketer, brand, platforms, dealer_east):
    accounts = [SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier=tier,
                                     dealer=dealer_east if tier == "dealer" else None)
                for tier in ("self_operated", "dealer", "employee")]
    api = client_for(marketer)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            body = calendar(api, f"{MARCH}&page_size=20")
        return len(captured.captured_queries), len(body["results"]), body["next"] is not None

    for i in range(3):
        post_at(accounts[i % 3], datetime(2026, 3, 2 + i, tzinfo=UTC))
    few = queries()
    for i in range(27):
        post_at(accounts[i % 3], datetime(2026, 3, 5, i % 24, tzinfo=UTC))
    many = queries()
    assert few[1:] == (3, False) and many[1:] == (20, True)
    # Rows, and the count only when the range does not fit on the page.
    assert few[0] == 1 and many[0] == 2


@pytest.mark.parametrize(("query", "field"), [
    ("end=2026-04-01", "start"),
    ("start=2026-03-01", "end"),
    ("start=yesterday&end=2026-04-01", "start"),
    ("start=2026-03-10&end=2026-03-01", "end"),
    ("start=2026-03-01&end=2026-03-01", "end"),
    ("start=2026-03-01&end=2026-05-03", "end"),  # 63 days
    (f"{MARCH}&timezone=Mars/Olympus", "timezone"),
    (f"{MARCH}&status=live", "status"),
    (f"{MARCH}&account=1,x", "account"),
    (f"{MARCH}&owner=someone", "owner"),
    (f"{MARCH}&tier=vip", "tier"),
    (f"{MARCH}&page_size=5001", "page_size"),
    (f"{MARCH}&cursor=bm90IGEgY3Vyc29y", "cursor"),
    # 2:30 on 8 March does not exist in New York.
    ("start=2026-03-08T02:30&end=2026-03-09&timezone=America/New_York", "start"),
])
def test_parameters_it_cannot_read_answer_400_naming_them(client_for, marketer, query, field):
    response = client_for(marketer).get(f"/api/v1/calendar/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()


def test_62_days_is_allowed(client_for, marketer):
    assert client_for(marketer).get("/api/v1/calendar/?start=2026-03-01&end=2026-05-02").status_code == 200


def test_anonymous_callers_are_refused(api_client):
    assert api_client.get(f"/api/v1/calendar/?{MARCH}").status_code in (401, 403)


def test_the_schema_documents_the_calendar_routes(admin_api):
    paths = set(admin_api.get("/api/schema/?format=json").json()["paths"])
    assert {"/api/v1/calendar/", "/api/v1/calendar/feed/", "/api/v1/blocked-days/", "/api/v1/blocked-days/{id}/",
            "/api/v1/posts/{id}/reschedule/"} <= paths


def test_a_dealer_of_another_region_is_named_by_its_region(client_for, admin_user, brand, platforms):
    north = DealerFactory(brand=brand, code="N001", region="North")
    account = SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=north)
    post_at(account, datetime(2026, 3, 2, tzinfo=UTC))
    assert [e["region"] for e in calendar(client_for(admin_user), f"{MARCH}&region=North")["results"]] == ["North"]
