"""An admin registers an employee with two social accounts; the employee accepts the invitation."""

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from accounts.models import User
from matrix.models import AccountStatus, SocialAccount
from tests.e2e.helpers import login
from tests.factories import DepartmentFactory

NEW_PASSWORD = "Lantern-over-the-Bund-2026"


def test_an_admin_registers_an_employee_who_then_sets_a_password_from_the_invitation(
    page, live_server, admin_user, brand, mailoutbox
):
    DepartmentFactory(brand=brand, name="Product Line EV")
    login(page, live_server, admin_user.username)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Register employee").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register employee")
    page.locator("#id_person-username").fill("li.na")
    page.locator("#id_person-email").fill("li.na@example.com")
    page.locator("#id_person-first_name").fill("Na")
    page.locator("#id_person-last_name").fill("Li")
    page.locator("#id_person-role").select_option("employee")
    page.locator("#id_person-brand").select_option(label="Aurora Motors")
    page.locator("#id_person-department").select_option(label="Product Line EV")
    page.locator("#id_person-title").fill("EV product specialist")

    page.locator("#id_accounts-0-platform").select_option(label="Xiaohongshu")
    page.locator("#id_accounts-0-handle").fill("lina_drives_ev")
    page.locator("#id_accounts-0-display_name").fill("Li Na drives EV")
    page.locator("#id_accounts-0-tier").select_option("employee")
    page.get_by_role("button", name="Add another account").click()
    expect(page.get_by_test_id("account-form")).to_have_count(2)
    page.locator("#id_accounts-1-platform").select_option(label="Douyin")
    page.locator("#id_accounts-1-handle").fill("lina_ev_clips")
    page.locator("#id_accounts-1-tier").select_option("employee")
    page.get_by_role("button", name="Register", exact=True).click()

    expect(page.locator(".message.success")).to_have_text(
        "Na Li is registered with 2 account(s); an invitation was sent to li.na@example.com."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Na Li")
    personal = page.get_by_role("heading", name="Personal accounts").locator("xpath=following-sibling::ul[1]")
    expect(personal.get_by_role("listitem")).to_have_count(2)
    for name in ("Xiaohongshu @lina_drives_ev", "Douyin @lina_ev_clips"):
        item = personal.get_by_role("listitem").filter(has_text=name)
        expect(item.locator(".pill")).to_have_text("Pending consent")

    person = User.objects.get(username="li.na")
    assert (person.role, person.brand, person.department.name) == ("employee", brand, "Product Line EV")
    assert not person.has_usable_password()
    accounts = SocialAccount.objects.filter(owner=person).select_related("platform").order_by("platform__slug")
    assert [(a.platform.slug, a.handle, a.tier, a.ownership, a.status) for a in accounts] == [
        ("douyin", "lina_ev_clips", "employee", "personal", AccountStatus.PENDING),
        ("xiaohongshu", "lina_drives_ev", "employee", "personal", AccountStatus.PENDING),
    ]

    assert len(mailoutbox) == 1
    invitation = mailoutbox[0]
    assert invitation.to == ["li.na@example.com"]
    link = re.search(r"https?://\S+/accounts/password/set/\S+/", invitation.body)
    assert link, invitation.body
    # The link carries SITE_URL; the path is what matters here.
    invitation_path = urlsplit(link.group(0)).path

    page.context.clear_cookies()  # the employee uses their own browser
    page.goto(live_server.url + invitation_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome: choose your password")
    expect(page.locator("main")).to_contain_text("Your username is li.na.")
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password saved")

    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)

    # The token was spent with the password change.
    page.goto(live_server.url + invitation_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation is no longer valid")

    login(page, live_server, "li.na", NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/me/accounts/$"))
    expect(page.locator(".whoami")).to_contain_text("Na Li")
    expect(page.get_by_test_id("my-accounts").locator("tbody tr")).to_have_count(2)
