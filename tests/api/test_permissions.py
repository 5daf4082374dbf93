"""Who may do what on each route: admins everything; marketers and reviewers read their brand;
dealer operators their dealer; executives and employees their own. Outside one's scope: 404."""

import pytest

from tests.factories import SocialAccountFactory

# The named users of the root conftest; each route lists the status each one gets, in this order.
ROLES = ["admin_user", "marketer", "reviewer", "executive", "employee", "dealer_operator", "outsider"]


@pytest.fixture
def scene(brand, other_brand, dealer_east, dealer_south, employee, platforms):
    return {
        "brand": brand,
        "dealer_east": dealer_east,
        "dealer_south": dealer_south,
        "employee": employee,
        "east_store": SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_east, handle="east_store"),
        "south_store": SocialAccountFactory(brand=brand, tier="dealer", dealer=dealer_south, handle="south_store"),
        "pending_koc": SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="pending",
                                            handle="koc_pending"),
        "active_koc": SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="active",
                                           handle="koc_active", platform=platforms["douyin"]),
        "elsewhere": SocialAccountFactory(brand=other_brand, handle="borealis_service"),
    }


ROUTES = {
    # name: (method, path, body, {role: status})
    "list accounts": ("get", "/api/v1/social-accounts/", None, [200, 200, 200, 200, 200, 200, 200]),
    "register an account": (
        "post", "/api/v1/social-accounts/",
        lambda s: {"brand": s["brand"].pk, "platform": "douyin", "handle": "new_service", "tier": "self_operated"},
        [201, 403, 403, 403, 403, 403, 403],
    ),
    "read a dealer's account": (
        "get", lambda s: f"/api/v1/social-accounts/{s['east_store'].pk}/", None, [200, 200, 200, 404, 404, 200, 404],
    ),
    "read another dealer's account": (
        "get", lambda s: f"/api/v1/social-accounts/{s['south_store'].pk}/", None, [200, 200, 200, 404, 404, 404, 404],
    ),
    "read an employee's account": (
        "get", lambda s: f"/api/v1/social-accounts/{s['pending_koc'].pk}/", None, [200, 200, 200, 404, 200, 404, 404],
    ),
    "change an account": (
        "patch", lambda s: f"/api/v1/social-accounts/{s['east_store'].pk}/", {"display_name": "East store"},
        [200, 403, 403, 404, 404, 403, 404],
    ),
    "archive an account": (
        "patch", lambda s: f"/api/v1/social-accounts/{s['east_store'].pk}/", {"status": "archived"},
        [200, 403, 403, 404, 404, 403, 404],
    ),
    "consent for an account": (
        "post", lambda s: f"/api/v1/social-accounts/{s['pending_koc'].pk}/consent/", None,
        [403, 403, 403, 404, 200, 404, 404],
    ),
    "withdraw consent": (
        "post", lambda s: f"/api/v1/social-accounts/{s['active_koc'].pk}/withdraw-consent/", None,
        [403, 403, 403, 404, 200, 404, 404],
    ),
    "consent for a company account": (
        "post", lambda s: f"/api/v1/social-accounts/{s['east_store'].pk}/consent/", None,
        [403, 403, 403, 404, 404, 403, 404],
    ),
    "list brands": ("get", "/api/v1/brands/", None, [200, 200, 200, 200, 200, 200, 200]),
    "read a brand": ("get", lambda s: f"/api/v1/brands/{s['brand'].pk}/", None, [200, 200, 200, 200, 200, 200, 404]),
    "create a brand": (
        "post", "/api/v1/brands/", {"name": "Cirrus Air", "slug": "cirrus", "timezone": "Europe/Berlin"},
        [201, 403, 403, 403, 403, 403, 403],
    ),
    "list dealers": ("get", "/api/v1/dealers/", None, [200, 200, 200, 200, 200, 200, 200]),
    "read a dealer": (
        "get", lambda s: f"/api/v1/dealers/{s['dealer_east'].pk}/", None, [200, 200, 200, 404, 404, 200, 404],
    ),
    "read another dealer": (
        "get", lambda s: f"/api/v1/dealers/{s['dealer_south'].pk}/", None, [200, 200, 200, 404, 404, 404, 404],
    ),
    "create a dealer": (
        "post", "/api/v1/dealers/", lambda s: {"brand": s["brand"].pk, "name": "North", "code": "N001", "region": "North"},
        [201, 403, 403, 403, 403, 403, 403],
    ),
    "list people": ("get", "/api/v1/users/", None, [200, 403, 403, 403, 403, 403, 403]),
    "register a person": (
        "post", "/api/v1/users/", lambda s: {"username": "new.person", "email": "new.person@example.com",
                                             "role": "employee", "brand": s["brand"].pk, "password": "a-long-Passphrase-9"},
        [201, 403, 403, 403, 403, 403, 403],
    ),
    "read a person": (
        "get", lambda s: f"/api/v1/users/{s['employee'].pk}/", None, [200, 200, 200, 404, 200, 404, 404],
    ),
    "change a person": (
        "patch", lambda s: f"/api/v1/users/{s['employee'].pk}/", {"title": "Sales"}, [200, 403, 403, 404, 403, 404, 404],
    ),
    "read one's own profile": ("get", "/api/v1/users/me/", None, [200, 200, 200, 200, 200, 200, 200]),
    "read the summary": ("get", "/api/v1/matrix/summary/", None, [200, 200, 200, 200, 200, 200, 200]),
    "read a brand's summary": (
        "get", "/api/v1/matrix/summary/?brand=aurora", None, [200, 200, 200, 200, 200, 200, 404],
    ),
    "list platforms": ("get", "/api/v1/platforms/", None, [200, 200, 200, 200, 200, 200, 200]),
}

CASES = [
    pytest.param(name, role, expected[index], id=f"{role} may {'not ' if expected[index] >= 400 else ''}{name}")
    for name, (_, _, _, expected) in ROUTES.items()
    for index, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("route", "role", "expected"), CASES)
def test_each_role_gets_what_its_scope_allows(request, scene, client_for, route, role, expected):
    method, path, body, _ = ROUTES[route]
    path = path(scene) if callable(path) else path
    body = body(scene) if callable(body) else body
    user = request.getfixturevalue(role)
    response = getattr(client_for(user), method)(path, body, format="json")
    assert response.status_code == expected, response.content


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_exactly_the_accounts_in_its_scope(request, scene, client_for, role):
    expected = {
        "admin_user": {"east_store", "south_store", "koc_pending", "koc_active", "borealis_service"},
        "marketer": {"east_store", "south_store", "koc_pending", "koc_active"},
        "reviewer": {"east_store", "south_store", "koc_pending", "koc_active"},
        "executive": set(),
        "employee": {"koc_pending", "koc_active"},
        "dealer_operator": {"east_store"},
        "outsider": {"borealis_service"},
    }[role]
    response = client_for(request.getfixturevalue(role)).get("/api/v1/social-accounts/")
    assert {account["handle"] for account in response.json()["results"]} == expected


def test_an_operator_sees_the_accounts_they_operate(scene, client_for, executive):
    scene["south_store"].operators.add(executive)
    response = client_for(executive).get("/api/v1/social-accounts/")
    assert [account["handle"] for account in response.json()["results"]] == ["south_store"]
    assert client_for(executive).get(f"/api/v1/social-accounts/{scene['south_store'].pk}/").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_only_the_brands_and_dealers_in_its_scope(request, scene, client_for, role):
    client = client_for(request.getfixturevalue(role))
    brands = {brand["slug"] for brand in client.get("/api/v1/brands/").json()["results"]}
    dealers = {dealer["code"] for dealer in client.get("/api/v1/dealers/").json()["results"]}
    assert brands == {
        "admin_user": {"aurora", "borealis"}, "outsider": {"borealis"},
    }.get(role, {"aurora"})
    assert dealers == {
        "admin_user": {"E001", "S001"}, "marketer": {"E001", "S001"}, "reviewer": {"E001", "S001"},
        "dealer_operator": {"E001"},
    }.get(role, set())
