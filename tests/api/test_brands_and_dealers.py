"""Brands and dealers: read within one's scope, registered by admins."""

import pytest
from rest_framework.validators import UniqueValidator

from matrix.models import Brand, Dealer
from matrix.serializers import DealerSerializer
from tests.factories import DealerFactory


def test_an_admin_registers_a_brand(admin_api, db):
    response = admin_api.post("/api/v1/brands/", {"name": "Cirrus Air", "slug": "cirrus", "timezone": "Europe/Berlin"},
                              format="json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "cirrus" and response.json()["timezone"] == "Europe/Berlin"
    assert Brand.objects.filter(slug="cirrus").exists()


def test_a_brand_is_read_by_id(admin_api, brand):
    response = admin_api.get(f"/api/v1/brands/{brand.pk}/")
    assert response.json() == {"id": brand.pk, "name": "Aurora Motors", "slug": "aurora", "timezone": "Asia/Shanghai",
                               "created_at": response.json()["created_at"]}


BAD_BRANDS = {
    "a slug already taken": ({"slug": "aurora"}, "slug"),
    "a malformed slug": ({"slug": "not a slug"}, "slug"),
    "an unknown time zone": ({"timezone": "Europe/Gotham"}, "timezone"),
    "no name": ({"name": ""}, "name"),
}


@pytest.mark.parametrize(("change", "field"), BAD_BRANDS.values(), ids=BAD_BRANDS.keys())
def test_a_bad_brand_answers_400_naming_the_field(admin_api, brand, change, field):
    body = {"name": "Cirrus Air", "slug": "cirrus", "timezone": "Europe/Berlin", **change}
    response = admin_api.post("/api/v1/brands/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert list(Brand.objects.values_list("slug", flat=True)) == ["aurora"]


def test_a_concurrent_duplicate_slug_answers_400_not_500(admin_api, brand, monkeypatch):
    monkeypatch.setattr(UniqueValidator, "__call__", lambda self, value, field: None)
    response = admin_api.post("/api/v1/brands/", {"name": "Aurora again", "slug": "aurora"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["slug"]
    assert Brand.objects.filter(slug="aurora").count() == 1


def test_an_admin_registers_a_dealer(admin_api, brand):
    response = admin_api.post("/api/v1/dealers/", {"brand": brand.pk, "name": "Aurora North", "code": "N001",
                                                   "region": "North", "city": "Beijing"}, format="json")
    assert response.status_code == 201, response.content
    assert Dealer.objects.get(code="N001").city == "Beijing"


BAD_DEALERS = {
    "a code the brand already uses": ({"code": "E001"}, "code"),
    "no region": ({"region": ""}, "region"),
    "an unknown brand": ({"brand": 999999}, "brand"),
}


@pytest.mark.parametrize(("change", "field"), BAD_DEALERS.values(), ids=BAD_DEALERS.keys())
def test_a_bad_dealer_answers_400_naming_the_field(admin_api, brand, dealer_east, change, field):
    body = {"brand": brand.pk, "name": "Aurora North", "code": "N001", "region": "North", **change}
    response = admin_api.post("/api/v1/dealers/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Dealer.objects.count() == 1


def test_a_concurrent_duplicate_dealer_code_answers_400_not_500(admin_api, brand, dealer_east, monkeypatch):
    monkeypatch.setattr(DealerSerializer, "validate", lambda self, attrs: attrs)
    response = admin_api.post("/api/v1/dealers/", {"brand": brand.pk, "name": "Aurora East 2", "code": "E001",
                                                   "region": "East"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["code"]
    assert Dealer.objects.count() == 1


def test_another_brand_may_use_the_same_dealer_code(admin_api, dealer_east, other_brand):
    response = admin_api.post("/api/v1/dealers/", {"brand": other_brand.pk, "name": "Borealis East", "code": "E001",
                                                   "region": "East"}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(("query", "expected"), [
    ("brand=aurora", {"E001", "S001"}),
    ("brand={other_brand}", {"X001"}),
    ("region=South", {"S001"}),
    ("brand=aurora&region=East", {"E001"}),
])
def test_dealers_filter_by_brand_and_region(admin_api, dealer_east, dealer_south, other_brand, query, expected):
    DealerFactory(brand=other_brand, code="X001", region="East")
    response = admin_api.get("/api/v1/dealers/?" + query.format(other_brand=other_brand.pk))
    assert {dealer["code"] for dealer in response.json()["results"]} == expected


def test_the_platform_registry_is_listed_by_slug(client_for, employee):
    response = client_for(employee).get("/api/v1/platforms/weibo/")
    assert response.status_code == 200
    assert response.json()["name"] == "Weibo" and response.json()["text_limit"] > 0
