"""A leaver hands over their company accounts first; their personal accounts leave with them."""

import pytest
from rest_framework.authtoken.models import Token

from accounts.services import user_offboard
from approvals.models import AuditEvent
from config.errors import DomainError
from matrix.models import SocialAccount
from tests.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaver_accounts(brand, employee, marketer):
    return {
        "alone": SocialAccountFactory(brand=brand, handle="alone", operators=[employee]),
        "shared": SocialAccountFactory(brand=brand, handle="shared", operators=[employee, marketer]),
        "personal": SocialAccountFactory(brand=brand, handle="mine", tier="employee", owner=employee),
    }


def test_it_refuses_while_a_company_account_has_no_other_operator(admin_user, employee, leaver_accounts):
    with pytest.raises(DomainError, match="Hand these company accounts"):
        user_offboard(actor=admin_user, user=employee)
    employee.refresh_from_db()
    assert employee.is_active
    assert SocialAccount.objects.get(handle="mine").status == "active"


def test_it_hands_over_archives_personal_accounts_and_deactivates(admin_user, employee, marketer, leaver_accounts):
    Token.objects.create(user=employee)
    user_offboard(actor=admin_user, user=employee, handover={leaver_accounts["alone"].pk: marketer})
    employee.refresh_from_db()
    assert not employee.is_active and employee.offboarded_at
    assert list(SocialAccount.objects.get(handle="alone").operators.all()) == [marketer]
    assert list(SocialAccount.objects.get(handle="shared").operators.all()) == [marketer]
    personal = SocialAccount.objects.get(handle="mine")
    assert personal.status == "archived" and personal.owner == employee  # history kept
    assert not Token.objects.filter(user=employee).exists()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "accounts.user.offboard" in actions and "matrix.account.archive" in actions


def test_it_refuses_to_hand_an_account_to_the_leaver(admin_user, employee, leaver_accounts):
    with pytest.raises(DomainError, match="active colleague"):
        user_offboard(actor=admin_user, user=employee, handover={leaver_accounts["alone"].pk: employee})


def test_the_offboarding_page_asks_for_a_successor_per_account(client, admin_user, employee, marketer, leaver_accounts):
    client.force_login(admin_user)
    page = client.get(f"/accounts/people/{employee.pk}/offboard/")
    assert f'name="account_{leaver_accounts["alone"].pk}"' in page.content.decode()
    response = client.post(f"/accounts/people/{employee.pk}/offboard/", {})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    employee.refresh_from_db()
    assert employee.is_active
    response = client.post(f"/accounts/people/{employee.pk}/offboard/",
                           {f"account_{leaver_accounts['alone'].pk}": marketer.pk})
    assert response.status_code == 302
    employee.refresh_from_db()
    assert not employee.is_active


def test_an_offboarded_person_cannot_log_in(client, admin_user, employee, marketer, leaver_accounts):
    user_offboard(actor=admin_user, user=employee, handover={leaver_accounts["alone"].pk: marketer})
    assert not client.login(username=employee.username, password="pw-for-tests-1")


def test_only_admins_can_offboard(client, marketer, employee):
    client.force_login(marketer)
    assert client.get(f"/accounts/people/{employee.pk}/offboard/").status_code == 403
