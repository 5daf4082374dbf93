"""Registering, reading and changing social accounts through the API."""

import json
from datetime import datetime

import pytest

from approvals.models import AuditEvent
from matrix.models import SocialAccount
from tests.factories import DealerFactory, DepartmentFactory, SocialAccountFactory, UserFactory

SECRET = "s3cr3t-hook-key-never-shown"


@pytest.fixture
def webhook_account(brand, platforms):
    return SocialAccountFactory(
        brand=brand, handle="aurora_hooked", publisher="webhook", webhook_url="https://hooks.example.com/in",
        webhook_secret=SECRET,
    )


def _assert_no_secret(response):
    body = response.content.decode()
    assert SECRET not in body
    assert "webhook_secret" not in body


# Registering


def test_an_admin_registers_a_company_account(admin_api, brand, employee):
    response = admin_api.post("/api/v1/social-accounts/", {
        "brand": brand.pk, "platform": "weibo", "handle": "aurora_service", "display_name": "Aurora Service",
        "tier": "self_operated", "operators": [employee.pk], "timezone": "Europe/Berlin",
    }, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    account = SocialAccount.objects.get(handle="aurora_service")
    assert data["id"] == account.pk
    assert data["platform"] == "weibo" and data["platform_name"] == "Weibo"
    assert data["ownership"] == "company" and data["status"] == "active"
    assert data["operators"] == [employee.pk]
    assert data["timezone"] == "Europe/Berlin"
    assert AuditEvent.objects.filter(action="matrix.account.create", object_id=str(account.pk)).exists()


def test_a_personal_account_starts_pending_until_its_owner_consents(admin_api, brand, employee):
    response = admin_api.post("/api/v1/social-accounts/", {
        "brand": brand.pk, "platform": "xiaohongshu", "handle": "employee_koc", "tier": "employee",
        "owner": employee.pk,
    }, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["ownership"] == "personal"
    assert response.json()["consented_at"] is None


def test_a_new_personal_account_cannot_skip_consent(admin_api, brand, employee):
    response = admin_api.post("/api/v1/social-accounts/", {
        "brand": brand.pk, "platform": "xiaohongshu", "handle": "employee_koc", "tier": "employee",
        "owner": employee.pk, "status": "active",
    }, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert not SocialAccount.objects.exists()


def test_times_are_iso_8601_with_an_offset(admin_api, webhook_account):
    data = admin_api.get(f"/api/v1/social-accounts/{webhook_account.pk}/").json()
    for name in ("created_at", "updated_at"):
        parsed = datetime.fromisoformat(data[name])
        assert parsed.tzinfo is not None
        assert parsed == getattr(webhook_account, name)


# The webhook secret


def test_the_webhook_secret_is_stored_but_not_returned_on_create(admin_api, brand):
    response = admin_api.post("/api/v1/social-accounts/", {
        "brand": brand.pk, "platform": "weibo", "handle": "hooked", "tier": "self_operated",
        "publisher": "webhook", "webhook_url": "https://hooks.example.com/in", "webhook_secret": SECRET,
    }, format="json")
    assert response.status_code == 201, response.content
    _assert_no_secret(response)
    assert SocialAccount.objects.get(handle="hooked").webhook_secret == SECRET


def test_the_webhook_secret_is_not_in_the_list_or_the_detail(admin_api, webhook_account):
    _assert_no_secret(admin_api.get("/api/v1/social-accounts/"))
    _assert_no_secret(admin_api.get(f"/api/v1/social-accounts/{webhook_account.pk}/"))


def test_the_webhook_secret_is_not_returned_when_changed(admin_api, webhook_account):
    response = admin_api.patch(f"/api/v1/social-accounts/{webhook_account.pk}/",
                               {"webhook_secret": SECRET + "-rotated"}, format="json")
    assert response.status_code == 200
    assert SECRET not in response.content.decode() and "webhook_secret" not in response.json()
    webhook_account.refresh_from_db()
    assert webhook_account.webhook_secret == SECRET + "-rotated"


def test_leaving_the_webhook_secret_out_keeps_it(admin_api, webhook_account):
    response = admin_api.patch(f"/api/v1/social-accounts/{webhook_account.pk}/", {"display_name": "Hooked"},
                               format="json")
    assert response.status_code == 200
    _assert_no_secret(response)
    webhook_account.refresh_from_db()
    assert webhook_account.webhook_secret == SECRET


def test_the_webhook_secret_is_not_in_the_audit_trail(admin_api, webhook_account):
    admin_api.patch(f"/api/v1/social-accounts/{webhook_account.pk}/", {"webhook_secret": "another-secret"},
                    format="json")
    trail = json.dumps(list(AuditEvent.objects.values("before", "after")))
    assert "another-secret" not in trail and SECRET not in trail


# Bad input: 400 naming the field, nothing written


@pytest.fixture
def valid_account(brand):
    return {"brand": brand.pk, "platform": "weibo", "handle": "fresh_handle", "tier": "self_operated"}


@pytest.fixture
def existing(brand, platforms):
    return SocialAccountFactory(brand=brand, handle="Aurora_Official", tier="brand", platform=platforms["weibo"])


BAD_INPUT = {
    "a handle taken on the platform, in any case": ({"handle": "aurora_official"}, "handle"),
    "a dealer account without its dealer": ({"tier": "dealer"}, "dealer"),
    "a dealer of another brand": ({"tier": "dealer", "dealer": "other_brand_dealer"}, "dealer"),
    "a second brand account on the platform": ({"tier": "brand"}, "platform"),
    "a personal account without its owner": ({"tier": "employee"}, "owner"),
    "a webhook publisher without a URL": ({"publisher": "webhook"}, "webhook_url"),
    "a malformed webhook URL": ({"webhook_url": "not a url"}, "webhook_url"),
    "an unknown time zone": ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    "an unknown platform": ({"platform": "myspace"}, "platform"),
    "an unknown tier": ({"tier": "galaxy"}, "tier"),
    "an unknown brand": ({"brand": 999999}, "brand"),
    "an unknown owner": ({"owner": 999999}, "owner"),
    "no handle": ({"handle": ""}, "handle"),
    "no brand": ({"brand": None}, "brand"),
}


@pytest.mark.parametrize(("change", "field"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_answers_400_naming_the_field_and_writes_nothing(admin_api, existing, valid_account, other_brand,
                                                                     change, field):
    body = {**valid_account, **change}
    if body.get("dealer") == "other_brand_dealer":
        body["dealer"] = DealerFactory(brand=other_brand).pk
    accounts, events = SocialAccount.objects.count(), AuditEvent.objects.count()
    response = admin_api.post("/api/v1/social-accounts/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert response.json()[field][0]
    assert (SocialAccount.objects.count(), AuditEvent.objects.count()) == (accounts, events)


def test_a_change_that_breaks_a_rule_answers_400_and_changes_nothing(admin_api, brand, existing):
    account = SocialAccountFactory(brand=brand, handle="service_desk", display_name="Service")
    response = admin_api.patch(f"/api/v1/social-accounts/{account.pk}/",
                               {"handle": "AURORA_OFFICIAL", "display_name": "Renamed"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["handle"]
    account.refresh_from_db()
    assert (account.handle, account.display_name) == ("service_desk", "Service")


def test_a_concurrent_duplicate_answers_400_not_500(admin_api, existing, valid_account, monkeypatch):
    # The race: validation saw no conflict, then another request inserted the same handle first.
    monkeypatch.setattr(SocialAccount, "validate_constraints", lambda self, exclude=None: None)
    response = admin_api.post("/api/v1/social-accounts/", {**valid_account, "handle": "AURORA_OFFICIAL"},
                              format="json")
    assert response.status_code == 400
    assert response.json() == {"handle": ["This handle is already registered on this platform."]}
    assert SocialAccount.objects.count() == 1


# Changing and archiving


def test_an_admin_changes_an_account_and_its_operators(admin_api, brand, employee, marketer):
    account = SocialAccountFactory(brand=brand, operators=[employee])
    response = admin_api.patch(f"/api/v1/social-accounts/{account.pk}/",
                               {"display_name": "Recruiting", "operators": [marketer.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["display_name"] == "Recruiting"
    assert response.json()["operators"] == [marketer.pk]
    assert list(account.operators.all()) == [marketer]
    event = AuditEvent.objects.get(action="matrix.account.update")
    assert event.before["operator_ids"] == [employee.pk] and event.after["operator_ids"] == [marketer.pk]


def test_an_admin_archives_an_account_by_setting_its_status(admin_api, brand):
    account = SocialAccountFactory(brand=brand)
    response = admin_api.patch(f"/api/v1/social-accounts/{account.pk}/", {"status": "archived"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "archived"
    assert response.json()["archived_at"] is not None
    assert AuditEvent.objects.filter(action="matrix.account.archive", object_id=str(account.pk)).exists()


@pytest.mark.parametrize(("status", "target"), [("active", "paused"), ("pending", "active"), ("archived", "active"),
                                                ("paused", "pending")])
def test_other_status_changes_are_refused_with_a_clear_message(admin_api, brand, status, target):
    account = SocialAccountFactory(brand=brand, tier="employee", status=status)
    response = admin_api.patch(f"/api/v1/social-accounts/{account.pk}/", {"status": target}, format="json")
    assert response.status_code == 400
    assert "consent" in response.json()["status"][0]
    account.refresh_from_db()
    assert account.status == status


def test_a_refused_status_change_writes_nothing_else(admin_api, brand):
    account = SocialAccountFactory(brand=brand, display_name="Before")
    response = admin_api.patch(f"/api/v1/social-accounts/{account.pk}/",
                               {"status": "paused", "display_name": "After"}, format="json")
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.display_name == "Before"
    assert not AuditEvent.objects.exists()


def test_setting_the_status_it_already_has_is_not_a_change(admin_api, brand):
    account = SocialAccountFactory(brand=brand)
    response = admin_api.patch(f"/api/v1/social-accounts/{account.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 200
    assert not AuditEvent.objects.exists()


def test_put_is_not_offered(admin_api, brand):
    account = SocialAccountFactory(brand=brand)
    assert admin_api.put(f"/api/v1/social-accounts/{account.pk}/", {}, format="json").status_code == 405


# Lists: pagination, filters, query counts


def test_the_list_is_paginated(admin_api, brand):
    SocialAccountFactory.create_batch(51, brand=brand)
    first = admin_api.get("/api/v1/social-accounts/").json()
    assert list(first) == ["count", "next", "previous", "results"]
    assert first["count"] == 51 and len(first["results"]) == 50
    assert first["previous"] is None and "page=2" in first["next"]
    second = admin_api.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None and second["previous"]
    assert {a["id"] for a in first["results"]}.isdisjoint({a["id"] for a in second["results"]})


@pytest.fixture
def matrix(brand, other_brand, dealer_east, dealer_south, platforms, employee):
    department = DepartmentFactory(brand=brand, name="Recruiting")
    return {
        "department": department,
        "official": SocialAccountFactory(brand=brand, tier="brand", handle="aurora", display_name="Aurora Official"),
        "jobs": SocialAccountFactory(brand=brand, handle="aurora_jobs", display_name="Careers at Aurora",
                                     department=department, platform=platforms["linkedin"]),
        "east": SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_east, handle="east_store",
                                     platform=platforms["douyin"]),
        "south": SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_south, handle="south_store",
                                      platform=platforms["douyin"], status="paused"),
        "koc": SocialAccountFactory(brand=brand, tier="employee", owner=employee, handle="koc", status="pending",
                                    platform=platforms["xiaohongshu"]),
        "elsewhere": SocialAccountFactory(brand=other_brand, handle="borealis"),
    }


FILTERS = {
    "tier": ("tier=dealer", {"east", "south"}),
    "platform slug": ("platform=douyin", {"east", "south"}),
    "status": ("status=paused", {"south"}),
    "brand slug": ("brand=borealis", {"elsewhere"}),
    "region": ("region=East", {"east"}),
    "owner": ("owner={employee}", {"koc"}),
    "dealer": ("dealer={dealer_south}", {"south"}),
    "department": ("department={department}", {"jobs"}),
    "search in handles": ("search=STORE", {"east", "south"}),
    "search in display names": ("search=careers", {"jobs"}),
    "two filters at once": ("tier=dealer&status=active", {"east"}),
}


@pytest.mark.parametrize(("query", "expected"), FILTERS.values(), ids=FILTERS.keys())
def test_the_list_filters_by(admin_api, matrix, employee, dealer_south, query, expected):
    query = query.format(employee=employee.pk, dealer_south=dealer_south.pk, department=matrix["department"].pk)
    response = admin_api.get(f"/api/v1/social-accounts/?{query}")
    assert response.status_code == 200
    names = {name for name, account in matrix.items() if name != "department"}
    handles = {matrix[name].handle: name for name in names}
    assert {handles[a["handle"]] for a in response.json()["results"]} == expected


def test_the_brand_filter_takes_an_id_too(admin_api, matrix, brand):
    response = admin_api.get(f"/api/v1/social-accounts/?brand={brand.pk}")
    assert response.json()["count"] == 5


def test_owner_me_lists_ones_own_accounts(client_for, matrix, employee):
    response = client_for(employee).get("/api/v1/social-accounts/?owner=me")
    assert [a["handle"] for a in response.json()["results"]] == ["koc"]


def test_filters_never_widen_the_scope(client_for, matrix, dealer_operator):
    response = client_for(dealer_operator).get("/api/v1/social-accounts/?region=South")
    assert response.json()["count"] == 0


@pytest.mark.parametrize(("query", "field"), [("tier=galaxy", "tier"), ("status=sleeping", "status"),
                                              ("platform=myspace", "platform"), ("owner=someone", "owner"),
                                              ("dealer=east", "dealer")])
def test_a_bad_filter_answers_400_naming_it(admin_api, matrix, query, field):
    response = admin_api.get(f"/api/v1/social-accounts/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def _make_accounts(brand, count):
    operators = UserFactory.create_batch(2, brand=brand)
    for index in range(count):
        SocialAccountFactory(brand=brand, tier="dealer" if index % 2 else "self_operated", operators=operators)


@pytest.mark.parametrize("role", ["admin_user", "marketer"])
def test_the_list_takes_the_same_number_of_queries_for_5_or_50_accounts(request, client_for, brand, role,
                                                                        django_assert_num_queries):
    client = client_for(request.getfixturevalue(role))
    _make_accounts(brand, 5)
    # a count, a page of accounts with their platforms, and the operators of the page
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/social-accounts/").json()["results"]) == 5
    _make_accounts(brand, 45)
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/social-accounts/").json()["results"]) == 50


def test_filtering_adds_no_query_per_account(admin_api, brand, dealer_east, django_assert_max_num_queries):
    _make_accounts(brand, 20)
    with django_assert_max_num_queries(4):
        admin_api.get("/api/v1/social-accounts/?platform=weibo&brand=aurora&region=East&search=handle&owner=me")
