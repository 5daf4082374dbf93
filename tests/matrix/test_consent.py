"""A personal account joins the matrix only when its owner consents, and leaves when they withdraw."""

import pytest

from approvals.models import AuditEvent
from config.errors import DomainError, PermissionDeniedError
from matrix.models import SocialAccount
from matrix.services import account_consent, account_create, account_withdraw_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(admin_user, employee, brand, platforms):
    return account_create(actor=admin_user, brand=brand, platform=platforms["xiaohongshu"], handle="emma",
                          tier="employee", owner=employee)


def test_a_personal_account_starts_pending_even_when_an_admin_registers_it(pending):
    assert pending.status == "pending"
    assert pending.ownership == "personal"


def test_the_owner_consents_and_the_account_becomes_active(pending, employee):
    account_consent(actor=employee, account=pending)
    pending.refresh_from_db()
    assert pending.status == "active"
    assert pending.consented_at is not None
    event = AuditEvent.objects.get(action="matrix.account.consent")
    assert event.actor == employee
    assert event.before == {"status": "pending"}


@pytest.mark.parametrize("who", ["admin_user", "marketer", "executive"])
def test_nobody_but_the_owner_can_consent(pending, who, request):
    with pytest.raises(PermissionDeniedError):
        account_consent(actor=request.getfixturevalue(who), account=pending)
    assert SocialAccount.objects.get(pk=pending.pk).status == "pending"


def test_withdrawing_consent_pauses_the_account_and_consenting_again_reactivates_it(pending, employee):
    account_consent(actor=employee, account=pending)
    account_withdraw_consent(actor=employee, account=pending)
    pending.refresh_from_db()
    assert pending.status == "paused"
    assert pending.consent_withdrawn_at is not None
    account_consent(actor=employee, account=pending)
    pending.refresh_from_db()
    assert pending.status == "active"
    assert pending.consent_withdrawn_at is None
    assert list(AuditEvent.objects.filter(object_id=str(pending.pk)).values_list("action", flat=True)) == [
        "matrix.account.create", "matrix.account.consent", "matrix.account.withdraw_consent", "matrix.account.consent",
    ]


def test_a_company_account_has_no_consent_step(admin_user, marketer, brand, platforms):
    account = account_create(actor=admin_user, brand=brand, platform=platforms["weibo"], handle="svc",
                             tier="self_operated", operators=[marketer])
    assert account.status == "active"
    with pytest.raises(PermissionDeniedError):
        account_consent(actor=marketer, account=account)


def test_withdrawing_from_a_pending_account_is_refused_with_a_reason(pending, employee):
    with pytest.raises(DomainError, match="not possible"):
        account_withdraw_consent(actor=employee, account=pending)


def test_the_owner_consents_in_the_browser(client, pending, employee):
    client.force_login(employee)
    response = client.post(f"/matrix/accounts/{pending.pk}/consent/", {"action": "consent"}, follow=True)
    assert response.status_code == 200
    assert "has joined the matrix" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "active"


def test_registering_a_dealer_account_with_another_brands_dealer_is_refused(admin_user, brand, other_brand, platforms):
    from tests.factories import DealerFactory

    foreign = DealerFactory(brand=other_brand)
    with pytest.raises(DomainError) as error:
        account_create(actor=admin_user, brand=brand, platform=platforms["douyin"], handle="store",
                       tier="dealer", dealer=foreign)
    assert error.value.field == "dealer"
    assert not SocialAccount.objects.exists()


def test_after_consenting_the_owner_is_sent_back_to_the_page_they_came_from(client, pending, employee):
    client.force_login(employee)
    response = client.post(f"/matrix/accounts/{pending.pk}/consent/", {"action": "consent", "next": "/me/accounts/"})
    assert response.status_code == 302
    assert response["Location"] == "/me/accounts/"


@pytest.mark.parametrize("target", [
    "https://evil.example.com/me/accounts/", "//evil.example.com/", "http://testserver.evil.example.com/",
    "javascript:alert(1)", "/\\evil.example.com",
])
def test_a_next_address_on_another_site_is_ignored(client, pending, employee, target):
    client.force_login(employee)
    response = client.post(f"/matrix/accounts/{pending.pk}/consent/", {"action": "consent", "next": target})
    assert response.status_code == 302
    assert response["Location"] == f"/matrix/accounts/{pending.pk}/"
    pending.refresh_from_db()
    assert pending.status == "active"


def test_a_plain_http_next_is_ignored_on_a_secure_request(client, pending, employee):
    client.force_login(employee)
    response = client.post(f"/matrix/accounts/{pending.pk}/consent/",
                           {"action": "consent", "next": "http://testserver/me/accounts/"}, secure=True)
    assert response["Location"] == f"/matrix/accounts/{pending.pk}/"


def test_a_pause_the_owner_did_not_make_is_not_lifted_by_their_consent(admin_user, employee, brand):
    from tests.factories import SocialAccountFactory

    paused = SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="paused")
    with pytest.raises(DomainError, match="not possible"):
        account_consent(actor=employee, account=paused)
    assert SocialAccount.objects.get(pk=paused.pk).status == "paused"
    assert not AuditEvent.objects.filter(action="matrix.account.consent").exists()


def _my_accounts_row(client, account):
    html = client.get("/me/accounts/").content.decode()
    start = html.index(f"/matrix/accounts/{account.pk}/\"")
    return html[start:html.index("</tr>", start)]


def test_my_accounts_offers_to_consent_again_after_a_withdrawal(client, pending, employee):
    account_consent(actor=employee, account=pending)
    account_withdraw_consent(actor=employee, account=pending)
    client.force_login(employee)
    assert "Consent again" in _my_accounts_row(client, pending)

    response = client.post(f"/matrix/accounts/{pending.pk}/consent/", {"action": "consent", "next": "/me/accounts/"})

    assert response["Location"] == "/me/accounts/"
    pending.refresh_from_db()
    assert (pending.status, pending.consent_withdrawn_at) == ("active", None)
    event = AuditEvent.objects.filter(action="matrix.account.consent").latest("id")
    assert (event.actor, event.before, event.after["status"]) == (employee, {"status": "paused"}, "active")
    row = _my_accounts_row(client, pending)
    assert "Consent again" not in row and 'value="consent"' not in row


def test_my_accounts_offers_no_consent_button_for_an_account_paused_by_someone_else(client, employee, marketer, brand):
    from tests.factories import SocialAccountFactory

    paused = SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="paused")
    operated = SocialAccountFactory(brand=brand, tier="executive", status="pending", operators=[marketer])
    client.force_login(employee)
    assert 'value="consent"' not in _my_accounts_row(client, paused)
    client.force_login(marketer)
    assert 'value="consent"' not in _my_accounts_row(client, operated)
