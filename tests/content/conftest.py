"""Accounts of every tier, ready to post on, for the content tests."""

import pytest


@pytest.fixture
def brand_account(brand, platforms):
    from tests.factories import SocialAccountFactory

    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="brand", handle="aurora_official")


@pytest.fixture
def dealer_account(brand, platforms, dealer_east, dealer_operator):
    from tests.factories import SocialAccountFactory

    return SocialAccountFactory(brand=brand, platform=platforms["wechat_oa"], tier="dealer", dealer=dealer_east,
                                handle="aurora_e001", operators=[dealer_operator])


@pytest.fixture
def executive_account(brand, platforms, executive):
    from tests.factories import SocialAccountFactory

    return SocialAccountFactory(brand=brand, platform=platforms["linkedin"], tier="executive", owner=executive,
                                ownership="personal", status="active", handle="ceo_li")


@pytest.fixture
def employee_account(brand, platforms, employee):
    from tests.factories import SocialAccountFactory

    return SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="employee", owner=employee,
                                ownership="personal", status="active", handle="emp_wang")
