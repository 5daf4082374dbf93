"""A personal account joins the matrix only when its owner consents, and leaves when they withdraw."""

import pytest

from approvals.models import AuditEvent
from matrix.models import SocialAccount
from tests.factories import SocialAccountFactory


@pytest.fixture
def koc(brand, employee):
    return SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="pending", handle="koc")


def _events(account, action):
    return AuditEvent.objects.filter(object_type="matrix.socialaccount", object_id=str(account.pk), action=action)


def test_the_owner_consents_and_the_account_joins_the_matrix(client_for, employee, koc):
    response = client_for(employee).post(f"/api/v1/social-accounts/{koc.pk}/consent/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert response.json()["consented_at"] is not None
    koc.refresh_from_db()
    assert koc.status == "active" and koc.consented_at is not None
    event = _events(koc, "matrix.account.consent").get()
    assert event.actor == employee
    assert event.before == {"status": "pending"} and event.after["status"] == "active"


def test_the_owner_withdraws_consent_and_may_give_it_again(client_for, employee, koc):
    client = client_for(employee)
    client.post(f"/api/v1/social-accounts/{koc.pk}/consent/")
    response = client.post(f"/api/v1/social-accounts/{koc.pk}/withdraw-consent/")
    assert response.status_code == 200
    assert response.json()["status"] == "paused"
    assert _events(koc, "matrix.account.withdraw_consent").get().actor == employee
    assert client.post(f"/api/v1/social-accounts/{koc.pk}/consent/").json()["status"] == "active"
    assert _events(koc, "matrix.account.consent").count() == 2


def test_consenting_twice_is_refused_naming_the_status(client_for, employee, koc):
    client = client_for(employee)
    client.post(f"/api/v1/social-accounts/{koc.pk}/consent/")
    response = client.post(f"/api/v1/social-accounts/{koc.pk}/consent/")
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert _events(koc, "matrix.account.consent").count() == 1


def test_withdrawing_from_a_pending_account_is_refused(client_for, employee, koc):
    response = client_for(employee).post(f"/api/v1/social-accounts/{koc.pk}/withdraw-consent/")
    assert response.status_code == 400
    assert list(response.json()) == ["status"]
    assert not _events(koc, "matrix.account.withdraw_consent").exists()


def test_an_archived_account_cannot_be_brought_back_by_consent(client_for, employee, brand):
    account = SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="archived")
    response = client_for(employee).post(f"/api/v1/social-accounts/{account.pk}/consent/")
    assert response.status_code == 400
    account.refresh_from_db()
    assert account.status == "archived"


@pytest.mark.parametrize("role", ["admin_user", "marketer", "reviewer"])
def test_nobody_consents_for_the_owner(request, client_for, koc, role):
    response = client_for(request.getfixturevalue(role)).post(f"/api/v1/social-accounts/{koc.pk}/consent/")
    assert response.status_code == 403
    assert response.json()["detail"]
    assert SocialAccount.objects.get(pk=koc.pk).status == "pending"
    assert not AuditEvent.objects.filter(action="matrix.account.consent").exists()


def test_someone_who_cannot_see_the_account_is_told_it_does_not_exist(client_for, koc, outsider):
    response = client_for(outsider).post(f"/api/v1/social-accounts/{koc.pk}/consent/")
    assert response.status_code == 404
