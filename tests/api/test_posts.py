"""Composing, reading, listing and changing posts through the API."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from approvals.models import AuditEvent
from content import services
from content.models import Media, Post, PostStatus
from tests.factories import SocialAccountFactory, UserFactory

POST_FIELDS = {
    "id", "account", "body", "scheduled_at", "campaign", "media", "status", "revision", "screening", "steps",
    "external_id", "url", "attempts", "last_error", "author", "submitted_at", "approved_at", "created_at",
    "updated_at",
}


def later(hours=24):
    return timezone.now() + timedelta(hours=hours)


def make_media(brand, user, name="photo.png"):
    return Media.objects.create(brand=brand, file=f"media/{name}", kind="image", content_type="image/png", size=1000,
                                width=800, height=600, sha256=name.ljust(64, "0")[:64], original_name=name,
                                uploaded_by=user)


@pytest.fixture
def author(brand):
    return UserFactory(username="author.marketer", role="marketer", brand=brand)


# Creating


def test_a_marketer_creates_a_draft(client_for, marketer, brand_account):
    when = later()
    response = client_for(marketer).post("/api/v1/posts/", {
        "account": brand_account.pk, "body": "新车今日上市，欢迎到店试驾。", "scheduled_at": when.isoformat(),
    }, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == POST_FIELDS
    post = Post.objects.get()
    assert data["id"] == post.pk and data["account"] == brand_account.pk and data["author"] == marketer.pk
    assert data["status"] == "draft" and data["body"] == "新车今日上市，欢迎到店试驾。"
    assert datetime.fromisoformat(data["scheduled_at"]) == when
    assert data["revision"] is None and data["screening"] is None and data["steps"] == []
    assert data["media"] == [] and data["campaign"] is None
    assert (data["external_id"], data["url"], data["attempts"], data["last_error"]) == ("", "", 0, "")
    assert AuditEvent.objects.filter(action="content.post.create", object_id=str(post.pk), actor=marketer).exists()


def test_media_keep_the_order_they_were_given_in(client_for, marketer, brand, brand_account):
    first, second = make_media(brand, marketer, "a.png"), make_media(brand, marketer, "b.png")
    response = client_for(marketer).post("/api/v1/posts/", {
        "account": brand_account.pk, "body": "Two photos", "media": [second.pk, first.pk],
    }, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["media"] == [second.pk, first.pk]


def test_a_campaign_of_the_brand_can_be_named(client_for, marketer, brand, brand_account):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Spring", template_body="Spring!")
    response = client_for(marketer).post("/api/v1/posts/", {
        "account": brand_account.pk, "body": "Spring!", "campaign": campaign.pk,
    }, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["campaign"] == campaign.pk


def test_one_post_per_account_answers_a_list_in_the_order_asked(client_for, admin_user, brand_account, dealer_account):
    response = client_for(admin_user).post("/api/v1/posts/", {
        "accounts": [dealer_account.pk, brand_account.pk], "body": "周末试驾活动",
    }, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert isinstance(data, list)
    assert [post["account"] for post in data] == [dealer_account.pk, brand_account.pk]
    assert all(set(post) == POST_FIELDS and post["status"] == "draft" for post in data)
    assert Post.objects.count() == 2


def test_one_post_per_account_is_all_or_none(client_for, admin_user, brand, brand_account, platforms):
    x_account = SocialAccountFactory(brand=brand, platform=platforms["x"], handle="aurora_x")
    response = client_for(admin_user).post("/api/v1/posts/", {
        "accounts": [brand_account.pk, x_account.pk], "body": "a" * 500,  # fits Weibo, not X
    }, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    assert "aurora_x" in response.json()["body"][0]
    assert not Post.objects.exists()


def test_an_account_one_can_see_but_not_write_for_is_refused_with_403(client_for, reviewer, brand_account):
    response = client_for(reviewer).post("/api/v1/posts/", {"account": brand_account.pk, "body": "Hi"}, format="json")
    assert response.status_code == 403
    assert not Post.objects.exists() and not AuditEvent.objects.exists()


def test_an_account_one_cannot_see_reads_as_unknown(client_for, outsider, brand_account):
    response = client_for(outsider).post("/api/v1/posts/", {"account": brand_account.pk, "body": "Hi"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["account"]
    assert not Post.objects.exists()


def test_a_text_over_the_platforms_limit_answers_400_naming_body(client_for, marketer, brand_account):
    response = client_for(marketer).post("/api/v1/posts/", {"account": brand_account.pk, "body": "长" * 2001},
                                         format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    assert "2001" in response.json()["body"][0] and "2000" in response.json()["body"][0]
    assert not Post.objects.exists()


@pytest.fixture
def other_brand_media(other_brand, outsider):
    return make_media(other_brand, outsider, "borealis.png")


BAD_INPUT = {
    "no account": ({"account": None}, "account"),
    "account and accounts": ({"accounts": ["{account}"]}, "accounts"),
    "an empty list of accounts": ({"account": None, "accounts": []}, "accounts"),
    "the same account twice": ({"account": None, "accounts": ["{account}", "{account}"]}, "accounts"),
    "an unknown account": ({"account": 999999}, "account"),
    "a time without its offset": ({"scheduled_at": "2031-05-01T09:30:00"}, "scheduled_at"),
    "a time that has passed": ({"scheduled_at": "2020-05-01T09:30:00+08:00"}, "scheduled_at"),
    "not a time": ({"scheduled_at": "next Tuesday"}, "scheduled_at"),
    "an unknown media id": ({"media": [999999]}, "media"),
    "media of another brand": ({"media": ["{other_brand_media}"]}, "media"),
    "an unknown campaign": ({"campaign": 999999}, "campaign"),
}


@pytest.mark.parametrize(("change", "field"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_answers_400_naming_the_field_and_writes_nothing(admin_api, brand_account, other_brand_media,
                                                                     change, field):
    values = {"{account}": brand_account.pk, "{other_brand_media}": other_brand_media.pk}

    def fill(value):
        if isinstance(value, list):
            return [values.get(item, item) for item in value]
        return values.get(value, value)

    body = {"account": brand_account.pk, "body": "Hello", **{key: fill(value) for key, value in change.items()}}
    body = {key: value for key, value in body.items() if value is not None}
    response = admin_api.post("/api/v1/posts/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field], response.json()
    assert not Post.objects.exists() and not AuditEvent.objects.exists()


# Reading


def test_times_are_iso_8601_with_an_offset(client_for, marketer, brand_account):
    post = services.post_create(actor=marketer, account=brand_account, body="Hi", scheduled_at=later())
    data = client_for(marketer).get(f"/api/v1/posts/{post.pk}/").json()
    for name in ("scheduled_at", "created_at", "updated_at"):
        assert datetime.fromisoformat(data[name]).tzinfo is not None
        assert datetime.fromisoformat(data[name]) == getattr(post, name)


def test_a_post_never_carries_its_accounts_webhook_secret(admin_api, admin_user, brand):
    account = SocialAccountFactory(brand=brand, publisher="webhook", webhook_url="https://hooks.example.com/in",
                                   webhook_secret="never-shown-hook-key")
    post = services.post_create(actor=admin_user, account=account, body="Hi")
    services.post_submit(actor=admin_user, post=post)
    for response in (admin_api.get(f"/api/v1/posts/{post.pk}/"), admin_api.get("/api/v1/posts/")):
        assert "never-shown-hook-key" not in response.content.decode()
        assert "webhook" not in response.content.decode()


ROLES = ["admin_user", "marketer", "reviewer", "executive", "employee", "dealer_operator", "outsider"]


@pytest.fixture
def scene(brand, other_brand, author, brand_account, dealer_account, employee_account, executive_account):
    elsewhere = SocialAccountFactory(brand=other_brand, handle="borealis_news")
    return {
        "brand": services.post_create(actor=author, account=brand_account, body="brand"),
        "dealer": services.post_create(actor=author, account=dealer_account, body="dealer"),
        "employee": services.post_create(actor=author, account=employee_account, body="employee"),
        "executive": services.post_create(actor=author, account=executive_account, body="executive"),
        "elsewhere": services.post_create(actor=UserFactory(role="admin", brand=other_brand), account=elsewhere,
                                          body="elsewhere"),
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_exactly_the_posts_in_its_scope(request, scene, client_for, role):
    expected = {
        "admin_user": {"brand", "dealer", "employee", "executive", "elsewhere"},
        "marketer": {"brand", "dealer", "employee", "executive"},
        "reviewer": {"brand", "dealer", "employee", "executive"},
        "executive": {"executive"},
        "employee": {"employee"},
        "dealer_operator": {"dealer"},
        "outsider": {"elsewhere"},
    }[role]
    response = client_for(request.getfixturevalue(role)).get("/api/v1/posts/")
    assert response.status_code == 200
    assert {post["body"] for post in response.json()["results"]} == expected


@pytest.mark.parametrize(("role", "expected"), [("admin_user", 200), ("marketer", 200), ("reviewer", 200),
                                                ("dealer_operator", 200), ("employee", 404), ("outsider", 404)])
def test_reading_a_post_outside_ones_scope_is_404(request, scene, client_for, role, expected):
    client = client_for(request.getfixturevalue(role))
    assert client.get(f"/api/v1/posts/{scene['dealer'].pk}/").status_code == expected


def test_the_list_is_paginated_newest_first(admin_api, admin_user, brand_account):
    posts = [services.post_create(actor=admin_user, account=brand_account, body=f"post {n}") for n in range(52)]
    first = admin_api.get("/api/v1/posts/").json()
    assert list(first) == ["count", "next", "previous", "results"]
    assert first["count"] == 52 and len(first["results"]) == 50
    assert [post["id"] for post in first["results"]][:2] == [posts[-1].pk, posts[-2].pk]
    second = admin_api.get(first["next"]).json()
    assert [post["id"] for post in second["results"]] == [posts[1].pk, posts[0].pk]


@pytest.fixture
def library(brand, other_brand, author, marketer, brand_account, dealer_account, employee_account, platforms):
    campaign = services.campaign_create(actor=marketer, brand=brand, name="Spring", template_body="Spring!")
    douyin = SocialAccountFactory(brand=brand, platform=platforms["douyin"], handle="aurora_douyin")
    elsewhere = SocialAccountFactory(brand=other_brand, handle="borealis_news")
    posts = {
        "brand soon": services.post_create(actor=author, account=brand_account, body="brand soon",
                                           scheduled_at=later(2)),
        "brand later": services.post_create(actor=marketer, account=brand_account, body="brand later",
                                            scheduled_at=later(72), campaign=campaign),
        "dealer": services.post_create(actor=author, account=dealer_account, body="dealer", scheduled_at=later(30)),
        "employee": services.post_create(actor=marketer, account=employee_account, body="employee"),
        "douyin": services.post_create(actor=author, account=douyin, body="douyin"),
        "elsewhere": services.post_create(actor=UserFactory(role="admin", brand=other_brand), account=elsewhere,
                                          body="elsewhere"),
    }
    services.post_submit(actor=author, post=posts["dealer"])
    services.post_cancel(actor=marketer, post=posts["employee"])
    return {"campaign": campaign, "posts": posts}


FILTERS = {
    "status": ("status=in_review", {"dealer"}),
    "several statuses": ("status=in_review&status=cancelled", {"dealer", "employee"}),
    "tier": ("tier=dealer", {"dealer"}),
    "platform": ("platform=douyin", {"douyin"}),
    "brand slug": ("brand=borealis", {"elsewhere"}),
    "brand id": ("brand={brand}", {"brand soon", "brand later", "dealer", "employee", "douyin"}),
    "campaign": ("campaign={campaign}", {"brand later"}),
    "author": ("author={marketer}", {"brand later", "employee"}),
    "account": ("account={brand_account}", {"brand soon", "brand later"}),
    "scheduled after": ("scheduled_after={in_a_day}", {"brand later", "dealer"}),
    "scheduled before": ("scheduled_before={in_a_day}", {"brand soon"}),
    "a window": ("scheduled_after={in_a_day}&scheduled_before={in_two_days}", {"dealer"}),
    "two filters at once": ("tier=brand&brand=aurora", {"brand soon", "brand later"}),
}


@pytest.mark.parametrize(("query", "expected"), FILTERS.values(), ids=FILTERS.keys())
def test_the_list_filters_by(admin_api, library, brand, marketer, brand_account, query, expected):
    from urllib.parse import quote

    query = query.format(brand=brand.pk, campaign=library["campaign"].pk, marketer=marketer.pk,
                         brand_account=brand_account.pk, in_a_day=quote(later(24).isoformat()),
                         in_two_days=quote(later(48).isoformat()))
    response = admin_api.get(f"/api/v1/posts/?{query}")
    assert response.status_code == 200, response.content
    assert {post["body"] for post in response.json()["results"]} == expected


def test_author_me_lists_ones_own_posts(client_for, library, marketer):
    response = client_for(marketer).get("/api/v1/posts/?author=me")
    assert {post["body"] for post in response.json()["results"]} == {"brand later", "employee"}


def test_filters_never_widen_the_scope(client_for, library, dealer_operator):
    response = client_for(dealer_operator).get("/api/v1/posts/?brand=borealis")
    assert response.json()["count"] == 0
    response = client_for(dealer_operator).get("/api/v1/posts/?tier=self_operated")
    assert response.json()["count"] == 0


@pytest.mark.parametrize(("query", "field"), [
    ("status=sleeping", "status"), ("tier=galaxy", "tier"), ("platform=myspace", "platform"),
    ("author=someone", "author"), ("account=abc", "account"), ("campaign=1.5", "campaign"),
    ("scheduled_after=2031-05-01T09:30:00", "scheduled_after"), ("scheduled_before=soon", "scheduled_before"),
])
def test_a_bad_filter_answers_400_naming_it(admin_api, query, field):
    response = admin_api.get(f"/api/v1/posts/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def _make_posts(account, author, approver, count):
    """Posts in every shape the list shows: drafts, in review and scheduled, each with two images."""
    media = [make_media(account.brand, author, f"m{count}-{n}.png") for n in range(2)]
    for index in range(count):
        post = services.post_create(actor=author, account=account, body=f"post {index}", media=media,
                                    scheduled_at=later())
        if index % 3:
            services.post_submit(actor=author, post=post)
        if index % 3 == 2:
            services.post_approve(actor=approver, post=post)


@pytest.fixture
def approver(brand):
    return UserFactory(role="marketer", brand=brand, username="approver")


@pytest.fixture
def operated_account(brand, dealer_operator):
    return SocialAccountFactory(brand=brand, operators=[dealer_operator])


@pytest.mark.parametrize("role", ["admin_user", "marketer", "dealer_operator"])
def test_the_list_takes_the_same_number_of_queries_for_5_or_50_posts(request, client_for, operated_account, author,
                                                                     approver, role, django_assert_num_queries):
    client = client_for(request.getfixturevalue(role))
    _make_posts(operated_account, author, approver, 5)
    # a count, a page of posts with their revisions, then for the whole page the media ids, the
    # latest reviews and their steps
    with django_assert_num_queries(5):
        assert len(client.get("/api/v1/posts/").json()["results"]) == 5
    _make_posts(operated_account, author, approver, 45)
    with django_assert_num_queries(5):
        results = client.get("/api/v1/posts/").json()["results"]
    assert len(results) == 50
    assert {post["status"] for post in results} == {"draft", "in_review", "scheduled"}
    assert all(len(post["media"]) == 2 for post in results)
    assert all(post["steps"] for post in results if post["status"] != "draft")


def test_filtering_adds_no_query_per_post(admin_api, operated_account, author, approver,
                                         django_assert_max_num_queries):
    _make_posts(operated_account, author, approver, 12)
    with django_assert_max_num_queries(6):
        response = admin_api.get(f"/api/v1/posts/?brand=aurora&tier=self_operated&platform=weibo&author={author.pk}"
                                 "&status=in_review&status=scheduled")
    assert response.json()["count"] == 8


# Changing


def test_the_author_changes_a_draft(client_for, author, brand, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="Before")
    photo = make_media(brand, author)
    when = later(48)
    response = client_for(author).patch(f"/api/v1/posts/{post.pk}/", {
        "body": "After", "media": [photo.pk], "scheduled_at": when.isoformat(),
    }, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["body"], data["media"], data["status"]) == ("After", [photo.pk], "draft")
    assert datetime.fromisoformat(data["scheduled_at"]) == when
    post.refresh_from_db()
    assert post.body == "After"
    assert AuditEvent.objects.filter(action="content.post.update", object_id=str(post.pk)).exists()


def test_a_text_over_the_limit_is_refused_on_change_too(client_for, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="Before")
    response = client_for(author).patch(f"/api/v1/posts/{post.pk}/", {"body": "长" * 2001}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["body"]
    post.refresh_from_db()
    assert post.body == "Before"


def test_a_post_stays_on_its_account(client_for, author, brand_account, dealer_account):
    post = services.post_create(actor=author, account=brand_account, body="Before")
    response = client_for(author).patch(f"/api/v1/posts/{post.pk}/", {"account": dealer_account.pk, "body": "x"},
                                        format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["account"]
    post.refresh_from_db()
    assert (post.account_id, post.body) == (brand_account.pk, "Before")


@pytest.mark.parametrize(("role", "expected"), [("admin_user", 200), ("marketer", 200), ("reviewer", 403),
                                                ("dealer_operator", 404), ("employee", 404), ("outsider", 404)])
def test_who_may_change_a_post(request, client_for, author, brand_account, role, expected):
    post = services.post_create(actor=author, account=brand_account, body="Before")
    response = client_for(request.getfixturevalue(role)).patch(f"/api/v1/posts/{post.pk}/", {"body": "After"},
                                                               format="json")
    assert response.status_code == expected, response.content
    post.refresh_from_db()
    assert post.body == ("After" if expected == 200 else "Before")


def test_editing_an_approved_post_sends_it_back_to_review(client_for, author, marketer, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="周末试驾活动", scheduled_at=later())
    services.post_submit(actor=author, post=post)
    services.post_approve(actor=marketer, post=post)
    client = client_for(author)
    # A save that changes nothing, and a new time alone, keep the approval.
    response = client.patch(f"/api/v1/posts/{post.pk}/", {"body": "周末试驾活动", "scheduled_at": later(30).isoformat()},
                            format="json")
    assert response.json()["status"] == "scheduled" and response.json()["revision"]["number"] == 1
    response = client.patch(f"/api/v1/posts/{post.pk}/", {"body": "周末试驾活动，名额有限"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "in_review" and data["revision"]["number"] == 2 and data["approved_at"] is None
    assert [(step["name"], step["status"]) for step in data["steps"]] == [("Marketing approval", "in_progress")]


def test_a_cancelled_post_cannot_change(client_for, author, brand_account):
    post = services.post_create(actor=author, account=brand_account, body="Before")
    services.post_cancel(actor=author, post=post)
    response = client_for(author).patch(f"/api/v1/posts/{post.pk}/", {"body": "After"}, format="json")
    assert response.status_code == 400
    assert "cancelled" in response.json()["non_field_errors"][0].lower()


def test_put_and_delete_are_not_offered(admin_api, admin_user, brand_account):
    post = services.post_create(actor=admin_user, account=brand_account, body="Hi")
    assert admin_api.put(f"/api/v1/posts/{post.pk}/", {"body": "x"}, format="json").status_code == 405
    assert admin_api.delete(f"/api/v1/posts/{post.pk}/").status_code == 405
    assert Post.objects.get().status == PostStatus.DRAFT
