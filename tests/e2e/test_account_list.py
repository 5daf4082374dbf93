"""The account list: filters by tier, platform, status and search; 50 accounts a page."""

import re

import pytest
from playwright.sync_api import expect

from matrix.models import SocialAccount
from tests.e2e.helpers import login, table_rows
from tests.factories import SocialAccountFactory, UserFactory


def _handles(page):
    return table_rows(page, "account-table").locator("td:first-child a")


def _shown(page):
    """The handles listed, in any order (the list sorts by tier in matrix order, then platform, then handle)."""
    return sorted(_handles(page).all_inner_texts())


def _filter(page, **fields):
    form = page.get_by_role("search")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if name == "q":
            field.fill(value)
        else:
            field.select_option(value)
    with page.expect_navigation():
        form.get_by_role("button", name="Filter").click()


@pytest.fixture
def accounts(brand, platforms, dealer_east, dealer_south):
    emma = UserFactory(username="emma.liu", first_name="Emma", last_name="Liu", role="employee", brand=brand)
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated", handle="aurora_service")
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="self_operated", handle="aurora_ev")
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_east, handle="pudong_dy")
    SocialAccountFactory(
        brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_south, handle="tianhe_dy", status="paused"
    )
    SocialAccountFactory(
        brand=brand, platform=platforms["xiaohongshu"], tier="employee", owner=emma, handle="road_notes", status="pending"
    )


def test_an_admin_narrows_the_account_list_with_each_filter(page, live_server, admin_user, accounts):
    login(page, live_server, admin_user.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts (5)")
    expect(_handles(page)).to_have_count(5)

    _filter(page, tier="dealer")
    expect(page).to_have_url(re.compile(r"tier=dealer"))
    expect(_handles(page)).to_have_text(["@pudong_dy", "@tianhe_dy"])

    _filter(page, tier="", platform="douyin")
    assert _shown(page) == ["@aurora_ev", "@pudong_dy", "@tianhe_dy"]

    _filter(page, status="paused")
    expect(_handles(page)).to_have_text(["@tianhe_dy"])
    expect(table_rows(page, "account-table").locator(".pill")).to_have_text("Paused")

    page.get_by_role("search").get_by_role("link", name="Clear").click()
    expect(_handles(page)).to_have_count(5)

    # Search finds an account by its owner's name as well as by its handle.
    _filter(page, q="emma")
    expect(_handles(page)).to_have_text(["@road_notes"])
    expect(table_rows(page, "account-table")).to_contain_text("Emma Liu")
    _filter(page, q="SERVICE")
    expect(_handles(page)).to_have_text(["@aurora_service"])

    _filter(page, q="", tier="brand")
    expect(_handles(page)).to_have_count(0)
    expect(page.get_by_test_id("account-table")).to_contain_text("No account matches these filters.")


def test_sixty_accounts_are_shown_fifty_a_page_and_the_filters_survive_paging(
    page, live_server, admin_user, brand, platforms
):
    SocialAccount.objects.bulk_create([
        SocialAccount(brand=brand, platform=platforms["weibo"], tier="self_operated", ownership="company",
                      status="active", handle=f"line_{n:02d}", display_name=f"Product line {n}")
        for n in range(60)
    ])
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="brand", handle="aurora_douyin")
    login(page, live_server, admin_user.username)

    page.goto(f"{live_server.url}/matrix/accounts/")
    pagination = page.get_by_role("navigation", name="Pages")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts (61)")
    expect(pagination).to_contain_text("Page 1 of 2")
    expect(_handles(page)).to_have_count(50)

    _filter(page, tier="self_operated")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts (60)")
    expect(pagination).to_contain_text("Page 1 of 2")
    expect(_handles(page).first).to_have_text("@line_00")
    pagination.get_by_role("link", name="Next").click()

    expect(page).to_have_url(re.compile(r"tier=self_operated.*page=2"))
    expect(pagination).to_contain_text("Page 2 of 2")
    expect(_handles(page)).to_have_count(10)
    expect(_handles(page).first).to_have_text("@line_50")
    expect(page.locator("select[name=tier]")).to_have_value("self_operated")
    pagination.get_by_role("link", name="Previous").click()
    expect(pagination).to_contain_text("Page 1 of 2")
