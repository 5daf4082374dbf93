"""An employee brings their personal account into the matrix, then takes it out again."""

import re

from playwright.sync_api import expect

from approvals.models import AuditEvent
from matrix.models import AccountStatus
from matrix.services import account_consent, account_create, account_withdraw_consent
from tests.e2e.helpers import login


def test_an_employee_consents_on_my_accounts_and_withdraws_on_the_account_page(
    page, live_server, admin_user, employee, brand, platforms
):
    account = account_create(
        actor=admin_user, brand=brand, platform=platforms["xiaohongshu"], handle="emma_drives",
        display_name="Emma Drives", tier="employee", owner=employee,
    )
    account_create(
        actor=admin_user, brand=brand, platform=platforms["douyin"], handle="emma_clips", tier="employee", owner=employee,
    )
    login(page, live_server, employee.username)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My accounts").click()
    row = page.get_by_test_id("my-accounts").locator("tbody tr").filter(has_text="Xiaohongshu @emma_drives")
    expect(row.locator(".pill")).to_have_text("Pending consent")
    row.get_by_role("button", name="Consent").click()

    expect(page).to_have_url(re.compile(r"/me/accounts/$"))
    expect(page.locator(".message.success")).to_have_text("Thank you: Xiaohongshu @emma_drives has joined the matrix.")
    expect(row.locator(".pill")).to_have_text("Active")
    expect(row.get_by_role("button", name="Consent")).to_have_count(0)
    other = page.get_by_test_id("my-accounts").locator("tbody tr").filter(has_text="Douyin @emma_clips")
    expect(other.locator(".pill")).to_have_text("Pending consent")

    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert account.consented_at is not None
    consent = AuditEvent.objects.get(action="matrix.account.consent", object_id=str(account.pk))
    assert consent.actor == employee
    assert (consent.before, consent.after["status"]) == ({"status": "pending"}, "active")

    row.get_by_role("link", name="Xiaohongshu @emma_drives").click()
    expect(page.get_by_test_id("account-status")).to_have_text("Active")
    page.get_by_role("button", name="Withdraw my consent").click()

    expect(page.locator(".message.success")).to_have_text(
        "Consent withdrawn: nothing will be published on Xiaohongshu @emma_drives."
    )
    expect(page.get_by_test_id("account-status")).to_have_text("Paused")
    expect(page.get_by_role("button", name="I consent: add my account to the matrix")).to_be_visible()

    account.refresh_from_db()
    assert account.status == AccountStatus.PAUSED
    assert account.consent_withdrawn_at is not None
    withdrawal = AuditEvent.objects.get(action="matrix.account.withdraw_consent", object_id=str(account.pk))
    assert withdrawal.actor == employee


def test_an_employee_who_withdrew_consents_again_on_my_accounts(page, live_server, admin_user, employee, brand, platforms):
    account = account_create(
        actor=admin_user, brand=brand, platform=platforms["xiaohongshu"], handle="emma_drives", tier="employee",
        owner=employee,
    )
    account_consent(actor=employee, account=account)
    account_withdraw_consent(actor=employee, account=account)
    login(page, live_server, employee.username)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My accounts").click()
    row = page.get_by_test_id("my-accounts").locator("tbody tr").filter(has_text="Xiaohongshu @emma_drives")
    expect(row.locator(".pill")).to_have_text("Paused")
    row.get_by_role("button", name="Consent again").click()

    expect(page).to_have_url(re.compile(r"/me/accounts/$"))
    expect(page.locator(".message.success")).to_have_text("Thank you: Xiaohongshu @emma_drives has joined the matrix.")
    expect(row.locator(".pill")).to_have_text("Active")
    expect(row.get_by_role("button")).to_have_count(0)
    account.refresh_from_db()
    assert (account.status, account.consent_withdrawn_at) == (AccountStatus.ACTIVE, None)
    assert AuditEvent.objects.filter(action="matrix.account.consent", object_id=str(account.pk)).count() == 2
