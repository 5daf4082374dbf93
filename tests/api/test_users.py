"""Registering and changing people through the API (admins), and one's own profile."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.validators import UniqueValidator

from accounts.models import User
from approvals.models import AuditEvent
from tests.factories import UserFactory


@pytest.fixture
def person(brand):
    return {"username": "li.na", "email": "li.na@example.com", "first_name": "Na", "last_name": "Li",
            "role": "employee", "brand": brand.pk, "title": "Sales consultant", "timezone": "Asia/Shanghai"}


def test_an_admin_registers_a_person_with_a_password(admin_api, person, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/users/", {**person, "password": "a-long-Passphrase-9"}, format="json")
    assert response.status_code == 201, response.content
    assert "password" not in response.json()
    user = User.objects.get(username="li.na")
    assert user.check_password("a-long-Passphrase-9")
    assert user.groups.filter(name="employee").exists()
    assert mailoutbox == []
    assert AuditEvent.objects.filter(action="accounts.user.create", object_id=str(user.pk)).exists()


def test_a_person_registered_without_a_password_is_invited(admin_api, person, mailoutbox,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/users/", person, format="json")
    assert response.status_code == 201, response.content
    assert not User.objects.get(username="li.na").has_usable_password()
    assert [message.to for message in mailoutbox] == [["li.na@example.com"]]
    assert "/accounts/password/set/" in mailoutbox[0].body


def test_a_dealer_operator_takes_the_brand_of_their_dealer(admin_api, person, dealer_east):
    body = {**person, "role": "dealer_operator", "dealer": dealer_east.pk, "brand": None}
    response = admin_api.post("/api/v1/users/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["brand"] == dealer_east.brand_id


BAD_INPUT = {
    "an email already registered, in any case": ({"email": "EMPLOYEE.USER@example.com"}, "email"),
    "a username already taken, in any case": ({"username": "Employee.User"}, "username"),
    "a dealer operator without a dealer": ({"role": "dealer_operator"}, "dealer"),
    "a dealer operator without a dealer, with a password": (
        {"role": "dealer_operator", "password": "a-long-Passphrase-9"}, "dealer"),
    "an unknown time zone": ({"timezone": "Atlantis/Capital"}, "timezone"),
    "an unknown role": ({"role": "overlord"}, "role"),
    "a weak password": ({"password": "123"}, "password"),
    "a malformed email": ({"email": "not-an-email"}, "email"),
    "neither an email nor a password": ({"email": ""}, "email"),
    "an unknown dealer": ({"dealer": 999999}, "dealer"),
    "a malformed username": ({"username": "has spaces!"}, "username"),
}


@pytest.mark.parametrize(("change", "field"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_answers_400_naming_the_field_and_writes_nothing(admin_api, employee, person, mailoutbox,
                                                                     django_capture_on_commit_callbacks, change, field):
    users, events = User.objects.count(), AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/users/", {**person, **change}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert (User.objects.count(), AuditEvent.objects.count()) == (users, events)
    assert mailoutbox == []


def test_a_concurrent_registration_of_the_same_username_answers_400_not_500(admin_api, employee, person,
                                                                            monkeypatch):
    # The race: both requests validated before either saved.
    monkeypatch.setattr(UniqueValidator, "__call__", lambda self, value, field: None)
    monkeypatch.setattr(User, "validate_unique", lambda self, exclude=None: None)
    response = admin_api.post("/api/v1/users/", {**person, "username": "employee.user", "password": "a-long-Passphrase-9"},
                              format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["username"]
    assert User.objects.filter(username="employee.user").count() == 1


def test_an_admin_changes_a_persons_role_and_it_is_audited(admin_api, employee):
    response = admin_api.patch(f"/api/v1/users/{employee.pk}/", {"role": "marketer", "title": "Campaigns"},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "marketer"
    employee.refresh_from_db()
    assert set(employee.groups.values_list("name", flat=True)) == {"marketer"}
    event = AuditEvent.objects.get(action="accounts.user.role_change")
    assert (event.before, event.after) == ({"role": "employee"}, {"role": "marketer"})


def test_a_change_that_breaks_a_rule_answers_400_and_changes_nothing(admin_api, employee):
    response = admin_api.patch(f"/api/v1/users/{employee.pk}/", {"role": "dealer_operator", "title": "Store"},
                               format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["dealer"]
    employee.refresh_from_db()
    assert (employee.role, employee.title) == ("employee", "")
    assert Group.objects.get(name="employee").user_set.filter(pk=employee.pk).exists()


def test_a_password_cannot_be_set_by_patch(admin_api, employee):
    response = admin_api.patch(f"/api/v1/users/{employee.pk}/", {"password": "another-Passphrase-9"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["password"]
    employee.refresh_from_db()
    assert employee.check_password("pw-for-tests-1")


def test_the_list_filters_by_role(admin_api, employee, marketer, reviewer):
    response = admin_api.get("/api/v1/users/?role=marketer")
    assert [user["username"] for user in response.json()["results"]] == ["marketer.user"]


def test_the_list_is_paginated_and_never_shows_passwords(admin_api, brand):
    UserFactory.create_batch(3, brand=brand)
    response = admin_api.get("/api/v1/users/")
    assert list(response.json()) == ["count", "next", "previous", "results"]
    assert response.json()["count"] == 4
    assert all("password" not in user for user in response.json()["results"])


def test_anyone_reads_their_own_profile(client_for, dealer_operator, dealer_east):
    response = client_for(dealer_operator).get("/api/v1/users/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "dealer_operator.user"
    assert response.json()["dealer"] == dealer_east.pk
    assert response.json()["role"] == "dealer_operator"
