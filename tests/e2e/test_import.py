"""Bulk import: upload, see the bad row and why, confirm without it, and the matrix grows."""

from playwright.sync_api import expect

from accounts.models import ImportJob, User
from matrix.models import AccountStatus, SocialAccount
from tests.e2e.helpers import login

CSV = """username,email,first_name,last_name,role,platform,handle,tier,dealer_code
zhang.wei,zhang.wei@example.com,Wei,Zhang,employee,xiaohongshu,zhangwei_drives,employee,
,,,,,douyin,aurora_e001_dy,dealer,E001
,,,,,douyin,aurora_x999_dy,dealer,X999
"""


def _cell(page, tier, platform):
    return page.get_by_test_id("matrix-grid").locator(f"tr[data-tier={tier}] td[data-platform={platform}]")


def test_an_admin_imports_a_csv_skipping_the_row_with_an_unknown_dealer(
    page, live_server, admin_user, brand, dealer_east, mailoutbox
):
    login(page, live_server, admin_user.username)
    expect(_cell(page, "dealer", "douyin")).to_have_text("·")
    expect(_cell(page, "employee", "xiaohongshu")).to_have_text("·")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import people and accounts")
    page.get_by_test_id("import-form").locator("input[type=file]").set_input_files(
        {"name": "aurora-people.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    )
    page.get_by_test_id("import-upload").click()

    # The preview: every row checked, the bad one named with its reason, nothing written yet.
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text("3 rows")
    expect(page.get_by_test_id("import-valid-count")).to_have_text("2 valid")
    expect(page.get_by_test_id("import-invalid-count")).to_have_text("1 with errors")
    bad_rows = page.get_by_test_id("import-grid").locator("tr.row-bad")
    expect(bad_rows).to_have_count(1)
    expect(bad_rows.locator("td.cell-bad[data-column=dealer_code]")).to_have_text("X999")
    errors = page.get_by_test_id("import-errors").locator("li[data-column=dealer_code]")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text("X999")
    assert not User.objects.filter(username="zhang.wei").exists()
    assert not SocialAccount.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.PREVIEWED

    page.get_by_test_id("import-skip-invalid").check()
    page.get_by_test_id("import-confirm").click()

    expect(page.locator(".message.success")).to_contain_text("Imported 2 rows")
    expect(page.get_by_test_id("import-status")).to_have_attribute("data-status", "done")
    rows = page.get_by_test_id("import-grid").get_by_test_id("import-row")
    expect(rows.and_(page.locator("[data-status=imported]"))).to_have_count(2)
    expect(rows.and_(page.locator("[data-status=skipped]"))).to_have_count(1)

    person = User.objects.get(username="zhang.wei")
    assert (person.role, person.brand, person.has_usable_password()) == ("employee", brand, False)
    accounts = {a.handle: a for a in SocialAccount.objects.all()}
    assert sorted(accounts) == ["aurora_e001_dy", "zhangwei_drives"]
    assert (accounts["zhangwei_drives"].owner, accounts["zhangwei_drives"].status) == (person, AccountStatus.PENDING)
    assert (accounts["aurora_e001_dy"].dealer, accounts["aurora_e001_dy"].status) == (dealer_east, AccountStatus.ACTIVE)
    assert [message.to for message in mailoutbox] == [["zhang.wei@example.com"]]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Matrix").click()
    expect(_cell(page, "dealer", "douyin").locator(".cell-total")).to_have_text("1")
    expect(_cell(page, "employee", "xiaohongshu").locator(".cell-total")).to_have_text("1")
    expect(page.get_by_test_id("matrix-total")).to_have_text("2")
