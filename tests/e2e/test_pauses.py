"""Crisis mode in the browser: a marketer pauses a dealer region, every page shows the banner, and
lifting it with a reason takes the banner away."""

import re

from playwright.sync_api import expect

from content.models import Pause
from tests.e2e.helpers import login, switch_user, table_rows
from tests.factories import SocialAccountFactory


def test_a_marketer_pauses_a_region_and_lifts_it(page, live_server, marketer, dealer_operator, brand, dealer_east,
                                                 dealer_south, platforms):
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], tier="dealer", dealer=dealer_east,
                         handle="aurora_e001", operators=[dealer_operator])
    login(page, live_server, marketer.username)
    page.get_by_role("link", name="Pauses").first.click()
    expect(page).to_have_url(re.compile(r"/pauses/$"))
    expect(page.get_by_test_id("pause-banner")).to_have_count(0)

    form = page.get_by_test_id("pause-form")
    # A brand-wide pause names nothing else: no value to choose.
    expect(form.locator("[data-field=value]")).to_be_hidden()
    form.locator("select[name=scope]").select_option("region")
    expect(form.locator("[data-field=value]")).to_be_visible()
    expect(form.locator("[data-field=account]")).to_be_hidden()
    # Only the regions of the brand's dealers are offered, not the tiers or platforms.
    expect(form.locator("select[name=value] option:not([hidden]):not([value=''])")).to_have_text(["East", "South"])
    form.locator("select[name=value]").select_option("East")
    form.locator("textarea[name=reason]").fill("Flood in the east")
    form.get_by_role("button", name="Pause publishing").click()

    banner = page.get_by_test_id("pause-banner")
    expect(banner).to_contain_text("Publishing is paused for East (Aurora Motors)")
    expect(banner).to_contain_text("Flood in the east")
    expect(table_rows(page, "pause-table")).to_have_count(1)
    assert Pause.objects.get().value == "East"

    # The dealer's operator sees it on their pages too, and has no form.
    switch_user(page, live_server, dealer_operator.username)
    page.goto(f"{live_server.url}/posts/")
    expect(page.get_by_test_id("pause-banner")).to_contain_text("Flood in the east")
    page.get_by_test_id("pause-banner").get_by_role("link").click()
    expect(page.get_by_test_id("pause-form")).to_have_count(0)
    expect(page.get_by_test_id("lift-form")).to_have_count(0)

    switch_user(page, live_server, marketer.username)
    page.goto(f"{live_server.url}/pauses/")
    lift = page.get_by_test_id("lift-form")
    lift.locator("input[name=reason]").fill("Water is gone")
    lift.get_by_role("button", name="Lift").click()
    expect(page.get_by_test_id("pause-banner")).to_have_count(0)
    expect(table_rows(page, "pause-table").first).to_contain_text("Water is gone")
    page.goto(f"{live_server.url}/matrix/")
    expect(page.get_by_test_id("pause-banner")).to_have_count(0)
