"""The matrix overview: tier × platform counts that follow the data and drill down to the accounts."""

import re

from playwright.sync_api import expect

from matrix.services import account_create
from tests.e2e.helpers import login, table_rows
from tests.factories import SocialAccountFactory


def _cell(page, tier, platform):
    return page.get_by_test_id("matrix-grid").locator(f"tr[data-tier={tier}] td[data-platform={platform}]")


def test_the_grid_counts_accounts_by_tier_and_platform_and_drills_down(page, live_server, admin_user, brand, platforms):
    for handle in ("aurora_service", "aurora_ev"):
        SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="self_operated", handle=handle)
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="self_operated", handle="aurora_douyin_ev")
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="brand", handle="aurora_weibo")
    login(page, live_server, admin_user.username)

    expect(page).to_have_url(re.compile(r"/matrix/$"))
    expect(_cell(page, "self_operated", "weibo").locator(".cell-total")).to_have_text("2")
    expect(_cell(page, "self_operated", "douyin").locator(".cell-total")).to_have_text("1")
    expect(_cell(page, "brand", "weibo").locator(".cell-total")).to_have_text("1")
    expect(_cell(page, "employee", "weibo")).to_have_text("·")
    expect(page.get_by_test_id("matrix-total")).to_have_text("4")

    account_create(
        actor=admin_user, brand=brand, platform=platforms["weibo"], handle="aurora_recruiting",
        display_name="Aurora Recruiting", tier="self_operated",
    )
    page.reload()
    expect(_cell(page, "self_operated", "weibo").locator(".cell-total")).to_have_text("3")
    expect(page.get_by_test_id("matrix-total")).to_have_text("5")

    _cell(page, "self_operated", "weibo").locator(".cell-total").click()
    expect(page).to_have_url(re.compile(r"/matrix/accounts/\?tier=self_operated&platform=weibo"))
    expect(page.locator("select[name=tier]")).to_have_value("self_operated")
    expect(page.locator("select[name=platform]")).to_have_value("weibo")
    rows = table_rows(page, "account-table")
    expect(rows).to_have_count(3)
    expect(rows.locator("td:first-child a")).to_have_text(["@aurora_ev", "@aurora_recruiting", "@aurora_service"])
