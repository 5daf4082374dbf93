"""API tokens: obtained with a username and password, refused to leavers."""

import pytest
from rest_framework.authtoken.models import Token

from accounts.services import user_offboard
from tests.factories import UserFactory

PASSWORD = "pw-for-tests-1"  # the factories' password


def _token(api_client, username, password=PASSWORD):
    return api_client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def _me(api_client, key):
    return api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Token {key}")


def test_it_gives_a_token_for_a_username_and_password(api_client, employee):
    response = _token(api_client, "employee.user")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=employee).key}


def test_the_token_authenticates_api_requests(api_client, employee):
    key = _token(api_client, "employee.user").json()["token"]
    response = _me(api_client, key)
    assert response.status_code == 200
    assert response.json()["username"] == "employee.user"


def test_asking_twice_gives_the_same_token(api_client, employee):
    assert _token(api_client, "employee.user").json() == _token(api_client, "employee.user").json()


def test_it_refuses_a_wrong_password_naming_non_field_errors(api_client, employee):
    response = _token(api_client, "employee.user", "wrong-password")
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert not Token.objects.exists()


def test_it_names_missing_credentials(api_client):
    response = api_client.post("/api/v1/auth/token/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_it_refuses_an_inactive_user(api_client, brand):
    UserFactory(username="gone", brand=brand, is_active=False)
    response = _token(api_client, "gone")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.exists()


def test_an_offboarded_users_token_stops_working(api_client, admin_user, employee):
    key = _token(api_client, "employee.user").json()["token"]
    user_offboard(actor=admin_user, user=employee)
    assert _me(api_client, key).status_code == 401
    assert _token(api_client, "employee.user").status_code == 400


def test_a_surviving_token_of_a_deactivated_user_is_refused(api_client, employee):
    key = Token.objects.create(user=employee).key
    employee.is_active = False
    employee.save()
    assert _me(api_client, key).status_code == 401


def test_an_unknown_token_is_refused(api_client, db):
    assert _me(api_client, "0" * 40).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/users/me/", "/api/v1/social-accounts/", "/api/v1/brands/",
                                  "/api/v1/dealers/", "/api/v1/matrix/summary/", "/api/v1/platforms/"])
def test_the_api_needs_credentials(api_client, db, path):
    assert api_client.get(path).status_code == 401
