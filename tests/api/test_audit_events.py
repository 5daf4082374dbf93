"""Reading the audit log through the API: who sees which events, the filters, the order."""

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.utils import timezone

from approvals.models import AuditEvent
from content import services
from matrix import services as matrix_services
from tests.factories import SocialAccountFactory, UserFactory

EVENT_FIELDS = {"id", "created_at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr",
                "before", "after", "hash", "prev_hash"}
DAY_ONE = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)
DAY_TWO = DAY_ONE + timedelta(days=1)


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


@pytest.fixture
def trail(brand, other_brand, author, marketer, admin_user, brand_account):
    """Day one: an account registered, a post drafted and submitted. Day two: the post approved, and a
    post of another brand drafted."""
    with time_machine.travel(DAY_ONE, tick=False):
        account = matrix_services.account_create(actor=admin_user, brand=brand, platform=brand_account.platform,
                                                 handle="aurora_jobs", tier="self_operated")
        post = services.post_create(actor=author, account=brand_account, body="周末试驾活动",
                                    scheduled_at=DAY_ONE + timedelta(days=7))
        services.post_submit(actor=author, post=post)
    with time_machine.travel(DAY_TWO, tick=False):
        services.post_approve(actor=marketer, post=post, comment="ok")
        elsewhere = SocialAccountFactory(brand=other_brand, handle="borealis_news")
        other = services.post_create(actor=UserFactory(role="admin", brand=other_brand, username="borealis.admin"),
                                     account=elsewhere, body="elsewhere")
    return {"account": account, "post": post, "other": other}


def actions(response):
    assert response.status_code == 200, response.content
    return [event["action"] for event in response.json()["results"]]


def test_an_admin_reads_every_event_newest_first(admin_api, trail):
    response = admin_api.get("/api/v1/audit-events/")
    data = response.json()
    assert list(data) == ["count", "next", "previous", "results"]
    assert actions(response) == ["content.post.create", "content.post.approve", "approvals.step.approve",
                                 "content.post.submit", "content.post.create", "matrix.account.create"]
    events = data["results"]
    assert all(set(event) == EVENT_FIELDS for event in events)
    assert [event["id"] for event in events] == sorted((event["id"] for event in events), reverse=True)
    # The chain reads backwards: each event's prev_hash is the hash of the one listed after it.
    assert all(newer["prev_hash"] == older["hash"] for newer, older in zip(events, events[1:], strict=False))


def test_an_event_carries_who_what_and_the_change(admin_api, trail, marketer):
    [event] = admin_api.get("/api/v1/audit-events/?action=content.post.approve").json()["results"]
    assert (event["actor"], event["actor_label"]) == (marketer.pk, marketer.username)
    assert (event["object_type"], event["object_id"]) == ("content.post", str(trail["post"].pk))
    assert event["before"] == {"status": "in_review"} and event["after"]["status"] == "scheduled"
    assert datetime.fromisoformat(event["created_at"]) == DAY_TWO
    assert len(event["hash"]) == 64
    assert admin_api.get(f"/api/v1/audit-events/{event['id']}/").json() == event


FILTERS = {
    "object as type:id": ("object=content.post:{post}", ["content.post.approve", "content.post.submit",
                                                          "content.post.create"]),
    "object id with object_type": ("object={post}&object_type=content.post",
                                   ["content.post.approve", "content.post.submit", "content.post.create"]),
    "object_type alone": ("object_type=matrix.socialaccount", ["matrix.account.create"]),
    "actor id": ("actor={marketer_id}", ["content.post.approve", "approvals.step.approve"]),
    "actor username": ("actor={author_name}", ["content.post.submit", "content.post.create"]),
    "an exact action": ("action=content.post.create", ["content.post.create", "content.post.create"]),
    "an action prefix": ("action=content.post.*", ["content.post.create", "content.post.approve",
                                                   "content.post.submit", "content.post.create"]),
    "an app prefix": ("action=approvals.*", ["approvals.step.approve"]),
    "since, with an offset": ("since={day_two}", ["content.post.create", "content.post.approve",
                                                  "approvals.step.approve"]),
    "since, in another zone": ("since={day_two_shanghai}", ["content.post.create", "content.post.approve",
                                                            "approvals.step.approve"]),
    "several at once": ("action=content.*&since={day_two}&actor={marketer_id}", ["content.post.approve"]),
}


@pytest.mark.parametrize(("query", "expected"), FILTERS.values(), ids=FILTERS.keys())
def test_the_events_filter_by(admin_api, trail, marketer, author, query, expected):
    query = query.format(post=trail["post"].pk, marketer_id=marketer.pk, author_name=author.username,
                         day_two=quote(DAY_TWO.isoformat()),
                         day_two_shanghai=quote(timezone.localtime(DAY_TWO, timezone.get_fixed_timezone(480))
                                                .isoformat()))
    assert actions(admin_api.get(f"/api/v1/audit-events/?{query}")) == expected


def test_the_object_filter_does_not_mix_types_up(admin_api, trail):
    # An account and a post may share an id; "content.post:<id>" names only the post.
    account_id = trail["account"].pk
    response = admin_api.get(f"/api/v1/audit-events/?object=content.post:{account_id}")
    assert all(event["object_type"] == "content.post" for event in response.json()["results"])


@pytest.mark.parametrize(("query", "field"), [("since=2031-03-04T00:00:00", "since"), ("since=yesterday", "since"),
                                              ("action=*.approve", "action"), ("object=content.post:", "object")])
def test_a_bad_filter_answers_400_naming_it(admin_api, query, field):
    response = admin_api.get(f"/api/v1/audit-events/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_a_reviewer_reads_the_trail_of_their_brands_posts_only(client_for, reviewer, trail):
    response = client_for(reviewer).get("/api/v1/audit-events/")
    assert actions(response) == ["content.post.approve", "approvals.step.approve", "content.post.submit",
                                 "content.post.create"]
    assert {event["object_id"] for event in response.json()["results"] if event["object_type"] == "content.post"} == {
        str(trail["post"].pk)}
    hidden = AuditEvent.objects.get(action="matrix.account.create")
    assert client_for(reviewer).get(f"/api/v1/audit-events/{hidden.pk}/").status_code == 404


def test_a_reviewer_of_another_brand_reads_none_of_ours(client_for, other_brand, trail):
    reviewer = UserFactory(username="borealis.reviewer", role="reviewer", brand=other_brand)
    response = client_for(reviewer).get("/api/v1/audit-events/")
    assert actions(response) == ["content.post.create"]
    assert response.json()["results"][0]["object_id"] == str(trail["other"].pk)


@pytest.mark.parametrize("role", ["marketer", "executive", "employee", "dealer_operator", "outsider"])
def test_other_roles_may_not_read_the_log(request, client_for, trail, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get("/api/v1/audit-events/").status_code == 403
    assert client.get(f"/api/v1/audit-events/{AuditEvent.objects.first().pk}/").status_code == 403


def test_signing_in_is_required(api_client, db):
    assert api_client.get("/api/v1/audit-events/").status_code == 401


def test_the_log_cannot_be_written_through_the_api(admin_api, trail):
    event = AuditEvent.objects.first()
    assert admin_api.post("/api/v1/audit-events/", {"action": "x"}, format="json").status_code == 405
    assert admin_api.patch(f"/api/v1/audit-events/{event.pk}/", {"action": "x"}, format="json").status_code == 405
    assert admin_api.delete(f"/api/v1/audit-events/{event.pk}/").status_code == 405


@pytest.mark.parametrize("role", ["admin_user", "reviewer"])
def test_the_list_takes_the_same_number_of_queries_for_few_or_many_events(request, client_for, author, marketer,
                                                                          brand_account, role,
                                                                          django_assert_num_queries):
    client = client_for(request.getfixturevalue(role))

    def make(count):
        for index in range(count):
            post = services.post_create(actor=author, account=brand_account, body=f"post {index}")
            services.post_submit(actor=author, post=post)

    make(2)
    # a count and a page
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/audit-events/").json()["results"]) == 4
    make(30)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/audit-events/?action=content.*").json()["results"]) == 50
