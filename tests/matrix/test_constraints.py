"""The matrix rules hold in the database itself, not only in forms."""

import pytest
from django.db import IntegrityError, transaction

from matrix.models import SocialAccount
from tests.factories import SocialAccountFactory, UserFactory


def _insert(**fields):
    with transaction.atomic():
        SocialAccount.objects.bulk_create([SocialAccount(**fields)])


@pytest.fixture
def base(brand, platforms):
    return {"brand": brand, "platform": platforms["weibo"], "display_name": "x", "timezone": "Asia/Shanghai",
            "status": "active", "publisher": "assisted"}


def test_it_allows_one_brand_account_per_brand_and_platform(base):
    _insert(**base, handle="aurora", tier="brand", ownership="company")
    with pytest.raises(IntegrityError):
        _insert(**base, handle="aurora2", tier="brand", ownership="company")


def test_an_archived_brand_account_does_not_block_its_successor(base):
    _insert(**dict(base, status="archived"), handle="aurora_old", tier="brand", ownership="company")
    _insert(**base, handle="aurora_new", tier="brand", ownership="company")
    assert SocialAccount.objects.filter(tier="brand").count() == 2


def test_the_same_brand_may_have_brand_accounts_on_other_platforms(base, platforms):
    _insert(**base, handle="aurora", tier="brand", ownership="company")
    _insert(**dict(base, platform=platforms["douyin"]), handle="aurora", tier="brand", ownership="company")


def test_a_dealer_account_must_name_its_dealer(base):
    with pytest.raises(IntegrityError):
        _insert(**base, handle="store1", tier="dealer", ownership="company")


def test_a_personal_account_must_name_its_owner_and_be_personal(base, brand):
    with pytest.raises(IntegrityError):
        _insert(**base, handle="ceo", tier="executive", ownership="personal")
    owner = UserFactory(brand=brand, role="executive")
    with pytest.raises(IntegrityError):
        _insert(**base, handle="ceo", tier="executive", ownership="company", owner=owner)
    _insert(**base, handle="ceo", tier="executive", ownership="personal", owner=owner)


def test_a_company_tier_cannot_be_personal(base, brand):
    owner = UserFactory(brand=brand)
    with pytest.raises(IntegrityError):
        _insert(**base, handle="svc", tier="self_operated", ownership="personal", owner=owner)


def test_a_handle_is_unique_per_platform_ignoring_case(base, platforms):
    _insert(**base, handle="Aurora_EV", tier="self_operated", ownership="company")
    with pytest.raises(IntegrityError):
        _insert(**base, handle="aurora_ev", tier="self_operated", ownership="company")
    _insert(**dict(base, platform=platforms["douyin"]), handle="aurora_ev", tier="self_operated", ownership="company")


def test_a_webhook_publisher_needs_a_url(base):
    with pytest.raises(IntegrityError):
        _insert(**dict(base, publisher="webhook"), handle="hook", tier="self_operated", ownership="company")


def test_the_factory_builds_valid_accounts_of_every_tier(brand):
    for tier in ["brand", "self_operated", "dealer", "executive", "employee"]:
        account = SocialAccountFactory(brand=brand, tier=tier)
        account.full_clean()
