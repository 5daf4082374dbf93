"""The matrix summary: counts by tier × platform × status, and dormant accounts."""

import pytest

from tests.factories import SocialAccountFactory


@pytest.fixture
def matrix(brand, other_brand, platforms, employee, dealer_east):
    SocialAccountFactory(brand=brand, tier="brand", platform=platforms["weibo"])
    SocialAccountFactory(brand=brand, tier="brand", platform=platforms["douyin"])
    SocialAccountFactory.create_batch(2, brand=brand, tier="dealer", dealer=dealer_east, platform=platforms["douyin"])
    SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_east, platform=platforms["douyin"], status="paused")
    SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="pending",
                         platform=platforms["xiaohongshu"])
    SocialAccountFactory(brand=brand, tier="self_operated", status="archived")
    SocialAccountFactory.create_batch(3, brand=other_brand, tier="self_operated")


def test_it_counts_a_brands_accounts_by_tier_platform_and_status(admin_api, matrix):
    response = admin_api.get("/api/v1/matrix/summary/?brand=aurora")
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 7
    assert data["by_tier"] == {"brand": 2, "self_operated": 1, "dealer": 3, "executive": 0, "employee": 1}
    assert sorted(data["counts"], key=lambda row: (row["tier"], row["platform"], row["status"])) == [
        {"tier": "brand", "platform": "douyin", "status": "active", "count": 1},
        {"tier": "brand", "platform": "weibo", "status": "active", "count": 1},
        {"tier": "dealer", "platform": "douyin", "status": "active", "count": 2},
        {"tier": "dealer", "platform": "douyin", "status": "paused", "count": 1},
        {"tier": "employee", "platform": "xiaohongshu", "status": "pending", "count": 1},
        {"tier": "self_operated", "platform": "weibo", "status": "archived", "count": 1},
    ]
    # No account has published yet: every active one is dormant.
    assert data["dormant"] == {"days": 30, "count": 4}


def test_the_brand_may_be_named_by_id(admin_api, matrix, other_brand):
    data = admin_api.get(f"/api/v1/matrix/summary/?brand={other_brand.pk}").json()
    assert data["total"] == 3 and data["by_tier"]["self_operated"] == 3


def test_without_a_brand_it_counts_everything_the_user_sees(admin_api, client_for, matrix, dealer_operator, employee):
    assert admin_api.get("/api/v1/matrix/summary/").json()["total"] == 10
    assert client_for(dealer_operator).get("/api/v1/matrix/summary/").json()["by_tier"]["dealer"] == 3
    assert client_for(employee).get("/api/v1/matrix/summary/").json()["total"] == 1


def test_the_dormancy_window_can_be_chosen(admin_api, matrix):
    assert admin_api.get("/api/v1/matrix/summary/?dormant_days=7").json()["dormant"]["days"] == 7
    response = admin_api.get("/api/v1/matrix/summary/?dormant_days=0")
    assert response.status_code == 400 and list(response.json()) == ["dormant_days"]


def test_a_brand_outside_ones_scope_is_not_found(client_for, matrix, outsider):
    assert client_for(outsider).get("/api/v1/matrix/summary/?brand=aurora").status_code == 404
    assert client_for(outsider).get("/api/v1/matrix/summary/?brand=nonexistent").status_code == 404
