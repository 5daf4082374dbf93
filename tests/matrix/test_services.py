"""Account registration rules that live in the services: brand consistency, consent on change, audit."""

import pytest

from approvals.models import AuditEvent
from config.errors import DomainError
from matrix.services import account_consent, account_update, brand_create, dealer_create
from tests.factories import DepartmentFactory, SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_account_that_becomes_personal_waits_for_its_owners_consent(admin_user, brand, employee):
    account = SocialAccountFactory(brand=brand, tier="self_operated")
    account_update(actor=admin_user, account=account, tier="employee", owner=employee)
    account.refresh_from_db()
    assert (account.status, account.ownership, account.consented_at) == ("pending", "personal", None)


def test_a_personal_account_handed_to_another_owner_waits_for_the_new_owners_consent(admin_user, brand, employee):
    account = SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="pending")
    account_consent(actor=employee, account=account)
    newcomer = UserFactory(brand=brand)
    account_update(actor=admin_user, account=account, owner=newcomer)
    account.refresh_from_db()
    assert (account.status, account.consented_at) == ("pending", None)


def test_renaming_a_personal_account_keeps_its_consent(admin_user, brand, employee):
    account = SocialAccountFactory(brand=brand, tier="employee", owner=employee, status="pending")
    account_consent(actor=employee, account=account)
    account_update(actor=admin_user, account=account, display_name="New name")
    account.refresh_from_db()
    assert account.status == "active" and account.consented_at is not None


@pytest.mark.parametrize("field", ["dealer", "department", "owner"])
def test_related_objects_must_belong_to_the_accounts_brand(admin_user, brand, other_brand, field):
    from tests.factories import DealerFactory

    tier = {"dealer": "dealer", "department": "self_operated", "owner": "employee"}[field]
    account = SocialAccountFactory(brand=brand, tier=tier)
    foreign = {"dealer": lambda: DealerFactory(brand=other_brand),
               "department": lambda: DepartmentFactory(brand=other_brand),
               "owner": lambda: UserFactory(brand=other_brand)}[field]()
    with pytest.raises(DomainError) as error:
        account_update(actor=admin_user, account=account, **{field: foreign})
    assert error.value.field == field
    account.refresh_from_db()
    assert getattr(account, f"{field}_id") != foreign.pk


def test_constraint_violations_name_their_field(admin_user, brand, platforms):
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="taken")
    other = SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="free")
    with pytest.raises(DomainError) as error:
        account_update(actor=admin_user, account=other, handle="TAKEN")
    assert (error.value.field, error.value.message) == ("handle", "This handle is already registered on this platform.")


def test_brands_and_dealers_are_created_with_an_audit_event(admin_user):
    brand = brand_create(actor=admin_user, name="Cygnus Bank", slug="cygnus", timezone="Asia/Hong_Kong")
    dealer_create(actor=admin_user, brand=brand, code="HK01", name="Central Branch", region="South", city="Hong Kong")
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["matrix.brand.create", "matrix.dealer.create"]
    with pytest.raises(DomainError) as error:
        dealer_create(actor=admin_user, brand=brand, code="HK01", name="Again", region="South")
    assert error.value.field == "code"
    with pytest.raises(DomainError) as error:
        brand_create(actor=admin_user, name="X", slug="x", timezone="Nowhere/Land")
    assert error.value.field == "timezone"
