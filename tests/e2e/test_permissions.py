"""What each role may see, checked where a person would notice: in the browser."""

from playwright.sync_api import expect

from tests.e2e.helpers import login, table_rows
from tests.factories import SocialAccountFactory


def test_a_dealer_operator_sees_only_their_dealers_accounts(
    page, live_server, dealer_operator, brand, platforms, dealer_east, dealer_south
):
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_east, handle="pudong_dy")
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="dealer", dealer=dealer_east, handle="pudong_wb")
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_south, handle="tianhe_dy")
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], tier="brand", handle="aurora_weibo")
    login(page, live_server, dealer_operator.username)

    expect(page.get_by_test_id("matrix-total")).to_have_text("2")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts", exact=True).click()
    rows = table_rows(page, "account-table")
    expect(rows).to_have_count(2)
    assert sorted(rows.locator("td:first-child a").all_inner_texts()) == ["@pudong_dy", "@pudong_wb"]
    expect(page.get_by_test_id("account-table")).not_to_contain_text("tianhe")
    # Admin-only entries are not offered.
    expect(page.get_by_role("link", name="Register employee")).to_have_count(0)
    expect(page.get_by_role("link", name="Register an account")).to_have_count(0)


def test_an_employee_gets_404_for_someone_elses_account(page, live_server, employee, brand, platforms):
    mine = SocialAccountFactory(brand=brand, platform=platforms["xiaohongshu"], tier="employee", owner=employee,
                                handle="my_notes", status="pending")
    theirs = SocialAccountFactory(brand=brand, platform=platforms["xiaohongshu"], tier="employee", handle="their_notes")
    login(page, live_server, employee.username)

    response = page.goto(f"{live_server.url}/matrix/accounts/{mine.pk}/")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("@my_notes")

    response = page.goto(f"{live_server.url}/matrix/accounts/{theirs.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("their_notes")


def test_only_an_admin_may_open_the_register_page(page, live_server, marketer, admin_user):
    login(page, live_server, marketer.username)
    expect(page.get_by_role("link", name="Register employee")).to_have_count(0)
    response = page.goto(f"{live_server.url}/accounts/people/register/")
    assert response.status == 403
    response = page.goto(f"{live_server.url}/matrix/accounts/new/")
    assert response.status == 403

    page.context.clear_cookies()
    login(page, live_server, admin_user.username)
    response = page.goto(f"{live_server.url}/accounts/people/register/")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Register employee")
