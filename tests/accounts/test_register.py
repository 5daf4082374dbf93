"""An admin registers a person and their social accounts in one form; they are invited by email."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from accounts.models import User
from accounts.services import user_update
from approvals.models import AuditEvent
from matrix.models import SocialAccount

pytestmark = pytest.mark.django_db


def _form(brand, platforms, department=None, accounts=(), **person):
    data = {
        "person-username": "li.na", "person-email": "li.na@example.com", "person-first_name": "Na",
        "person-last_name": "Li", "person-role": "employee", "person-brand": brand.pk,
        "person-department": department.pk if department else "", "person-title": "Engineer",
        "person-dealer": "", "person-timezone": "Asia/Shanghai", "person-password": "",
        "accounts-TOTAL_FORMS": str(len(accounts)), "accounts-INITIAL_FORMS": "0",
        "accounts-MIN_NUM_FORMS": "0", "accounts-MAX_NUM_FORMS": "1000",
    }
    data.update({f"person-{k}": v for k, v in person.items()})
    for i, (platform, handle, tier) in enumerate(accounts):
        data.update({f"accounts-{i}-platform": platforms[platform].pk, f"accounts-{i}-handle": handle,
                     f"accounts-{i}-display_name": handle, f"accounts-{i}-tier": tier,
                     f"accounts-{i}-timezone": "Asia/Shanghai"})
    return data


def test_an_admin_registers_an_employee_with_two_accounts_and_an_invitation_goes_out(
        client, admin_user, brand, platforms, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/people/register/", _form(
            brand, platforms, accounts=[("xiaohongshu", "lina_xhs", "employee"), ("weibo", "lina_news", "self_operated")]))
    assert response.status_code == 302
    person = User.objects.get(username="li.na")
    assert not person.has_usable_password()
    assert list(person.groups.values_list("name", flat=True)) == ["employee"]
    personal = SocialAccount.objects.get(handle="lina_xhs")
    assert (personal.owner, personal.status, personal.ownership) == (person, "pending", "personal")
    company = SocialAccount.objects.get(handle="lina_news")
    assert (company.owner, company.status, list(company.operators.all())) == (None, "active", [person])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["li.na@example.com"]
    link = re.search(r"http://\S+/accounts/password/set/\S+/", mail.outbox[0].body).group(0)
    path = link.split("localhost:8000", 1)[-1] if "localhost" in link else link
    assert client.get(path, follow=True).status_code == 200
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"accounts.user.create", "matrix.account.create"}


def test_the_invitation_link_lets_the_person_choose_a_password(client, admin_user, brand, platforms,
                                                               django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/people/register/", _form(brand, platforms))
    client.logout()
    path = re.search(r"/accounts/password/set/\S+/", mail.outbox[0].body).group(0)
    page = client.get(path, follow=True)
    assert "Welcome: choose your password" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": "Gr8-matrix-pass", "new_password2": "Gr8-matrix-pass"})
    assert response.status_code == 302
    assert User.objects.get(username="li.na").check_password("Gr8-matrix-pass")


def test_nothing_is_written_when_one_account_is_bad(client, admin_user, brand, platforms, employee):
    from tests.factories import SocialAccountFactory

    SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="taken")
    client.force_login(admin_user)
    response = client.post("/accounts/people/register/", _form(
        brand, platforms, accounts=[("xiaohongshu", "fine", "employee"), ("weibo", "TAKEN", "employee")]))
    assert response.status_code == 200
    assert "already registered on this platform" in response.content.decode()
    assert not User.objects.filter(username="li.na").exists()
    assert not SocialAccount.objects.filter(handle="fine").exists()


def test_a_dealer_account_without_a_dealer_is_refused_and_nothing_is_written(client, admin_user, brand, platforms):
    client.force_login(admin_user)
    response = client.post("/accounts/people/register/", _form(brand, platforms, accounts=[("douyin", "store", "dealer")]))
    assert response.status_code == 200
    assert "must name its dealer" in response.content.decode()
    assert not User.objects.filter(username="li.na").exists()


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-email", "Enter a valid email address."),
    ("role", "boss", "Select a valid choice."),
    ("timezone", "Mars/Olympus", "Select a valid choice."),
    ("role", "dealer_operator", "must belong to a dealer"),
])
def test_bad_person_fields_are_named(client, admin_user, brand, platforms, field, value, message):
    client.force_login(admin_user)
    response = client.post("/accounts/people/register/", _form(brand, platforms, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="li.na").exists()


def test_a_duplicate_email_is_refused(client, admin_user, brand, platforms, employee):
    client.force_login(admin_user)
    response = client.post("/accounts/people/register/", _form(brand, platforms, email=employee.email.upper()))
    assert "already registered with this email" in response.content.decode()


def test_with_a_password_no_invitation_is_sent(client, admin_user, brand, platforms, django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/people/register/", _form(brand, platforms, password="Another-good-pass-42"))
    assert User.objects.get(username="li.na").check_password("Another-good-pass-42")
    assert mail.outbox == []


@pytest.mark.parametrize("role", ["marketer", "reviewer", "executive", "employee", "dealer_operator"])
def test_only_admins_can_register_people(client, role, request):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/accounts/people/register/").status_code == 403
    assert client.get("/accounts/people/").status_code == 403


def test_a_role_change_moves_the_group_and_is_audited(admin_user, employee):
    user_update(actor=admin_user, user=employee, role="reviewer")
    employee.refresh_from_db()
    assert list(employee.groups.values_list("name", flat=True)) == ["reviewer"]
    event = AuditEvent.objects.get(action="accounts.user.role_change")
    assert (event.before, event.after) == ({"role": "employee"}, {"role": "reviewer"})


def test_every_role_has_a_group_with_permissions(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert {"admin", "marketer", "reviewer", "executive", "employee", "dealer_operator"} <= names
    assert Group.objects.get(name="admin").permissions.filter(codename="change_socialaccount").exists()
    assert not Group.objects.get(name="employee").permissions.filter(codename="change_socialaccount").exists()
    assert Group.objects.get(name="employee").permissions.filter(codename="view_socialaccount").exists()


def test_createsuperuser_makes_an_admin(db, monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Very-secret-99")
    call_command("ensure_superuser")
    call_command("ensure_superuser")  # idempotent
    boss = User.objects.get(username="boss")
    assert boss.is_superuser and boss.is_staff and boss.role == "admin" and boss.is_admin
