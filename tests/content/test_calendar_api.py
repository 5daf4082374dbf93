"""`GET /api/v1/calendar/`: the events a person may see in a range, in the zone they ask for, filtered,
paged by cursor, with a constant number of queries; and the parameters it refuses."""

import json
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import override

from content import calendar as calendars
from content.models import Campaign, Post, PostStatus
from matrix.models import SocialAccount
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
    (f"{MARCH}&page_size=60001", "page_size"),
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


# --- the events PostgreSQL writes are the ones Python writes ------------------------------------------


@pytest.fixture
def varied(brand, platforms, dealer_east, marketer, employee, employee_account, executive_account):
    """Posts on both sides of New York's (8 March) and Berlin's (29 March) change to summer time, on
    accounts in five zones (one unknown, read in the site's), with titles that need collapsing,
    escaping and cutting, with and without a campaign, in statuses that can and cannot move."""
    new_york = SocialAccountFactory(brand=brand, platform=platforms["linkedin"], handle="aurora_us",
                                    timezone="America/New_York")
    berlin = SocialAccountFactory(brand=brand, platform=platforms["x"], tier="dealer", dealer=dealer_east,
                                  handle="", display_name='Autohaus "Nord"\\Süd', timezone="Europe/Berlin")
    shanghai = SocialAccountFactory(brand=brand, platform=platforms["douyin"], handle="aurora_cn")
    kolkata = SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="aurora_in",
                                   timezone="Asia/Kolkata")
    unknown = SocialAccountFactory(brand=brand, platform=platforms["wechat_oa"], handle="old_one")
    SocialAccount.objects.filter(pk=unknown.pk).update(timezone="Mars/Olympus")
    platforms["douyin"].name_zh = ""  # no Chinese name: the English one, in Chinese too
    platforms["douyin"].save(update_fields=["name_zh"])
    campaign = Campaign.objects.create(brand=brand, name='Spring "drive" \\ 春季', created_by=marketer)
    bodies = [
        "Spring launch: come and see the new models.",
        "  新车\n上市\t\t详情\u3000\u3000见官网\r\n\u00a0\u2028end  ",
        "引号 \"quoted\" back\\slash \u0001 control \u001f and </script>",
        "😀" * 100,
        "x" * (80 - len("@aurora_us ")),  # exactly 80 with its label: not cut
        "",
    ]
    statuses = [PostStatus.SCHEDULED, PostStatus.PUBLISHED, PostStatus.DRAFT, PostStatus.IN_REVIEW,
                PostStatus.CANCELLED]
    accounts = [new_york, berlin, shanghai, kolkata, unknown, employee_account, executive_account]
    instants = [
        datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),  # 01:59:59 in New York, still winter
        datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # 03:00, summer
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # 01:59:59.999999 in Berlin, winter
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00, summer
        datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 3, 20, 12, 30, tzinfo=UTC),
    ]
    posts = []
    for i, at in enumerate(instants * 4):
        account = accounts[i % len(accounts)]
        posts.append(post_at(account, at, body=bodies[i % len(bodies)], status=statuses[i % len(statuses)],
                             campaign=campaign if i % 3 == 0 else None,
                             author=employee if account == employee_account else None))
    return posts


def both_pages(user, zone, language, page_size, after=None):
    start, end = datetime(2026, 2, 27, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    queryset = calendars.calendar_posts(user=user, start=start, end=end)
    tz = zoneinfo.ZoneInfo(zone)
    with override(language):
        python = calendars.calendar_page(user=user, queryset=queryset, tz=tz, after=after, page_size=page_size)
        database = calendars.calendar_page_json(user=user, queryset=queryset, tz=tz, after=after,
                                                page_size=page_size)
    return python, database


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Asia/Shanghai", "UTC"])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_postgresql_writes_the_same_events_as_python(varied, marketer, reviewer, employee, zone, language):
    for user in (marketer, reviewer, employee):
        python, database = both_pages(user, zone, language, page_size=1000)
        events = json.loads(database.events)
        assert len(events) == len(python.events) and events, user
        for ours, theirs in zip(events, python.events, strict=True):
            assert list(ours) == list(theirs)  # the same keys, in the same order
            for field, value in theirs.items():
                assert ours[field] == value, (user.username, theirs["id"], field)
        assert (database.count, database.next_cursor) == (python.count, python.next_cursor)
    # The cases the dataset is for are there.
    python, _ = both_pages(marketer, zone, language, page_size=1000)
    events = python.events
    assert {e["editable"] for e in events} == {True, False}
    assert {e["zone_differs"] for e in events} == ({True} if zone == "UTC" else {True, False})
    assert any(e["title"].endswith("…") for e in events) and any(len(e["title"]) == 80 for e in events)
    assert any("." in e["start"] for e in events)  # microseconds
    assert len({e["start_account_local"][-6:] for e in events}) >= 5


def test_postgresql_pages_and_cursors_like_python(varied, marketer):
    after, seen = None, []
    while True:
        python, database = both_pages(marketer, "Europe/Berlin", "en", page_size=5, after=after)
        assert json.loads(database.events) == python.events
        assert (database.count, database.next_cursor) == (python.count, python.next_cursor)
        seen += [e["id"] for e in python.events]
        if not python.next_cursor:
            break
        after = calendars.decode_cursor(python.next_cursor)
    assert seen == sorted(seen, key=lambda pk: (Post.objects.get(pk=pk).scheduled_at, pk)) and len(seen) == 24


def test_the_spaces_python_collapses_are_the_ones_postgresql_does():
    every = "".join(chr(c) for c in range(0x110000) if calendars._SPACES.fullmatch(chr(c)))
    assert all(ord(c) < 0x10000 for c in every)
    with connection.cursor() as cursor:
        cursor.execute("SELECT regexp_replace(%s, %s, '-', 'g')", [f"a{every}b c\u200bd", calendars._pg_spaces()])
        assert cursor.fetchone()[0] == "a-b-c\u200bd"  # a zero-width space is not a space


def test_the_answer_is_the_same_through_the_api(client_for, marketer, varied):
    response = client_for(marketer).get(f"/api/v1/calendar/?{MARCH}&timezone=America/New_York&page_size=7",
                                        HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert list(body) == ["count", "next", "previous", "timezone", "results"]
    start, end = datetime(2026, 3, 1, 5, tzinfo=UTC), datetime(2026, 4, 1, 4, tzinfo=UTC)
    with override("zh-hans"):
        python = calendars.calendar_page(user=marketer, queryset=calendars.calendar_posts(user=marketer, start=start,
                                                                                         end=end),
                                         tz=zoneinfo.ZoneInfo("America/New_York"), page_size=7)
    assert body["results"] == python.events and body["count"] == python.count
    assert f"cursor={python.next_cursor}&" in body["next"]
    # An indented answer (as asked in Accept) is the same answer.
    url = f"/api/v1/calendar/?{MARCH}&page_size=7"
    plain = client_for(marketer).get(url).content
    indented = client_for(marketer).get(url, HTTP_ACCEPT="application/json; indent=2").content
    assert b"\n" in indented and json.loads(indented) == json.loads(plain)


def test_a_month_fits_in_one_answer(client_for, marketer, brand_account):
    post_at(brand_account, datetime(2026, 3, 2, tzinfo=UTC))
    body = calendar(client_for(marketer), f"{MARCH}&page_size={calendars.PAGE_SIZE_MAX}")
    assert body["count"] == 1 and body["next"] is None
