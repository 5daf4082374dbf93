"""The matrix pages: who sees what, filters, and query counts that do not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matrix.models import SocialAccount
from tests.factories import DepartmentFactory, SocialAccountFactory

pytestmark = pytest.mark.django_db


def _matrix(brand, dealer_east, dealer_south, count, platforms):
    """`count` accounts spread over every tier, two regions and several platforms."""
    slugs = ["weibo", "douyin", "xiaohongshu", "linkedin"]
    department = DepartmentFactory(brand=brand, name=f"EV {count}")
    for i in range(count):
        tier = ["self_operated", "dealer", "dealer", "employee", "executive"][i % 5]
        SocialAccountFactory(
            brand=brand, tier=tier, platform=platforms[slugs[i % 4]], handle=f"acc_{count}_{i}",
            dealer=(dealer_east if i % 2 else dealer_south) if tier == "dealer" else None,
            department=department if i % 3 == 0 else None,
        )


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/matrix/", "/matrix/accounts/", "/matrix/accounts/?tier=dealer&region=East&q=acc",
                                 "/me/accounts/"])
def test_the_number_of_queries_does_not_grow_with_the_matrix(client, admin_user, brand, dealer_east, dealer_south,
                                                             platforms, url):
    client.force_login(admin_user)
    _matrix(brand, dealer_east, dealer_south, 10, platforms)
    small = _queries(client, url)
    _matrix(brand, dealer_east, dealer_south, 120, platforms)
    assert _queries(client, url) == small


def test_the_account_detail_page_uses_a_constant_number_of_queries(client, admin_user, brand, marketer, employee):
    client.force_login(admin_user)
    few = SocialAccountFactory(brand=brand, operators=[marketer])
    many = SocialAccountFactory(brand=brand, operators=[marketer, employee, admin_user])
    assert _queries(client, f"/matrix/accounts/{few.pk}/") == _queries(client, f"/matrix/accounts/{many.pk}/")


def test_the_grid_counts_accounts_by_tier_platform_and_status(client, admin_user, brand, platforms):
    SocialAccountFactory(brand=brand, tier="brand", platform=platforms["weibo"])
    SocialAccountFactory(brand=brand, tier="self_operated", platform=platforms["weibo"])
    SocialAccountFactory(brand=brand, tier="self_operated", platform=platforms["weibo"], status="paused")
    client.force_login(admin_user)
    grid = client.get("/matrix/").context["grid"]
    rows = {row["tier"].value: row for row in grid["rows"]}
    weibo = next(c for c in rows["self_operated"]["cells"] if c["platform"].slug == "weibo")
    assert weibo["total"] == 2
    assert {status.value: n for status, n in weibo["by_status"]} == {"active": 1, "paused": 1}
    assert rows["brand"]["total"] == 1
    assert grid["total"] == 3


def test_the_account_list_filters_by_tier_platform_region_status_and_search(client, admin_user, brand, dealer_east,
                                                                            dealer_south, platforms):
    east = SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_east, platform=platforms["douyin"], handle="east_store")
    SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_south, platform=platforms["douyin"], handle="south_store")
    SocialAccountFactory(brand=brand, tier="self_operated", platform=platforms["weibo"], handle="east_service")
    client.force_login(admin_user)

    def handles(query):
        return [a.handle for a in client.get("/matrix/accounts/?" + query).context["page"]]

    assert handles("region=East") == ["east_store"]
    assert handles("tier=dealer&platform=douyin") == ["east_store", "south_store"]
    assert sorted(handles("q=east")) == ["east_service", "east_store"]
    assert handles("status=paused") == []
    assert handles(f"owner={east.pk + 1000}") == []


def test_the_account_list_is_paginated(client, admin_user, brand):
    SocialAccountFactory.create_batch(60, brand=brand)
    client.force_login(admin_user)
    response = client.get("/matrix/accounts/")
    assert len(response.context["page"]) == 50
    assert "Page 1 of 2" in response.content.decode()
    assert len(client.get("/matrix/accounts/?page=2").context["page"]) == 10


def test_a_dealer_operator_sees_only_their_dealers_accounts(client, dealer_operator, brand, dealer_east, dealer_south):
    mine = SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_east)
    theirs = SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_south)
    client.force_login(dealer_operator)
    assert [a.pk for a in client.get("/matrix/accounts/").context["page"]] == [mine.pk]
    assert client.get(f"/matrix/accounts/{theirs.pk}/").status_code == 404
    assert client.get("/matrix/").context["grid"]["total"] == 1


def test_an_employee_sees_only_their_own_accounts(client, employee, brand):
    own = SocialAccountFactory(brand=brand, tier="employee", owner=employee)
    operated = SocialAccountFactory(brand=brand, operators=[employee])
    other = SocialAccountFactory(brand=brand, tier="employee")
    client.force_login(employee)
    assert {a.pk for a in client.get("/matrix/accounts/").context["page"]} == {own.pk, operated.pk}
    assert client.get(f"/matrix/accounts/{other.pk}/").status_code == 404


def test_a_marketer_sees_their_brand_and_not_another(client, marketer, outsider, brand):
    ours = SocialAccountFactory(brand=brand)
    client.force_login(outsider)
    assert client.get(f"/matrix/accounts/{ours.pk}/").status_code == 404
    client.force_login(marketer)
    assert client.get(f"/matrix/accounts/{ours.pk}/").status_code == 200


def test_the_webhook_secret_is_never_rendered(client, admin_user, brand):
    account = SocialAccountFactory(brand=brand, publisher="webhook", webhook_url="https://hooks.example.com/x",
                                   webhook_secret="s3cret-value-xyz")
    client.force_login(admin_user)
    for url in [f"/matrix/accounts/{account.pk}/", f"/matrix/accounts/{account.pk}/edit/", "/matrix/accounts/"]:
        assert "s3cret-value-xyz" not in client.get(url).content.decode()


def test_only_admins_register_and_edit_accounts(client, marketer, brand):
    account = SocialAccountFactory(brand=brand)
    client.force_login(marketer)
    assert client.get("/matrix/accounts/new/").status_code == 403
    assert client.get(f"/matrix/accounts/{account.pk}/edit/").status_code == 403


def test_an_admin_registers_an_account_in_the_form_and_sees_errors_for_bad_input(client, admin_user, brand, platforms):
    client.force_login(admin_user)
    data = {"brand": brand.pk, "platform": platforms["weibo"].pk, "handle": "aurora_news", "display_name": "News",
            "tier": "dealer", "timezone": "Asia/Shanghai", "publisher": "assisted"}
    response = client.post("/matrix/accounts/new/", data)
    assert response.status_code == 200
    assert "must name its dealer" in response.content.decode()
    assert not SocialAccount.objects.exists()
    response = client.post("/matrix/accounts/new/", dict(data, tier="self_operated"))
    assert response.status_code == 302
    assert SocialAccount.objects.get().handle == "aurora_news"


def test_editing_keeps_the_secret_when_the_field_is_left_blank(client, admin_user, brand, platforms):
    account = SocialAccountFactory(brand=brand, publisher="webhook", webhook_url="https://hooks.example.com/x",
                                   webhook_secret="keep-me")
    client.force_login(admin_user)
    data = {"brand": brand.pk, "platform": account.platform_id, "handle": account.handle, "display_name": "Renamed",
            "tier": account.tier, "timezone": "Europe/Berlin", "publisher": "webhook",
            "webhook_url": "https://hooks.example.com/x", "webhook_secret": ""}
    assert client.post(f"/matrix/accounts/{account.pk}/edit/", data).status_code == 302
    account.refresh_from_db()
    assert (account.display_name, account.timezone, account.webhook_secret) == ("Renamed", "Europe/Berlin", "keep-me")


@pytest.mark.parametrize("role", ["admin_user", "marketer", "reviewer", "executive", "employee", "dealer_operator"])
def test_every_role_can_open_the_pages_it_uses(client, role, request):
    client.force_login(request.getfixturevalue(role))
    for url in ["/", "/matrix/", "/matrix/accounts/", "/me/accounts/"]:
        assert client.get(url, follow=True).status_code == 200, url


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/matrix/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_login_page_renders_in_simplified_chinese(client, db):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_sql_stays_bounded_for_a_10k_like_page_of_accounts(client, admin_user, brand):
    SocialAccountFactory.create_batch(30, brand=brand)
    client.force_login(admin_user)
    assert SocialAccount.objects.count() == 30
    assert _queries(client, "/matrix/accounts/?page=1") <= 12


MATRIX_ORDER = ["brand", "self_operated", "dealer", "executive", "employee"]


def _one_account_per_tier(brand, dealer_east, platforms, person):
    # Created in alphabetical order of the slugs, the order the list must not follow.
    for tier in sorted(MATRIX_ORDER):
        SocialAccountFactory(
            brand=brand, tier=tier, platform=platforms["weibo"], handle=f"a_{tier}",
            dealer=dealer_east if tier == "dealer" else None,
            owner=person if tier in ("executive", "employee") else None,
            operators=[] if tier in ("executive", "employee") else [person],
        )


def test_the_account_list_shows_the_tiers_in_matrix_order(client, admin_user, brand, dealer_east, platforms):
    _one_account_per_tier(brand, dealer_east, platforms, admin_user)
    client.force_login(admin_user)
    assert [a.tier for a in client.get("/matrix/accounts/").context["page"]] == MATRIX_ORDER


def test_matrix_order_holds_across_pages(client, admin_user, brand):
    for tier in ("employee", "dealer", "brand"):
        SocialAccountFactory(brand=brand, tier=tier)
    SocialAccountFactory.create_batch(49, brand=brand, tier="self_operated")
    client.force_login(admin_user)
    first = [a.tier for a in client.get("/matrix/accounts/").context["page"]]
    second = [a.tier for a in client.get("/matrix/accounts/?page=2").context["page"]]
    assert first == ["brand"] + ["self_operated"] * 49
    assert second == ["dealer", "employee"]


def test_my_accounts_shows_the_tiers_in_matrix_order(client, executive, brand, dealer_east, platforms):
    _one_account_per_tier(brand, dealer_east, platforms, executive)
    client.force_login(executive)
    accounts = list(client.get("/me/accounts/").context["accounts"])
    assert [a.tier for a in accounts] == MATRIX_ORDER
