"""Bulk import of people and accounts: files, encodings, every kind of bad row, all-or-nothing,
skipping bad rows, the background path, audit events, pages, the API and permissions."""

import csv
import importlib
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import importing, tasks
from accounts.models import ImportJob, User
from approvals.audit import audit_record, audit_verify
from approvals.models import AuditEvent
from config.errors import DomainError
from matrix.models import Platform, SocialAccount
from tests.factories import DealerFactory, DepartmentFactory, SocialAccountFactory
from tests.transactional import migrated_data, reseeded_after_session  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["username", "email", "first_name", "last_name", "role", "department", "title", "dealer_code", "brand",
          "timezone", "platform", "handle", "display_name", "tier", "account_timezone", "operator"]


def row(**values):
    return [values.get(column, "") for column in HEADER]


def csv_bytes(rows, header=HEADER, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data, name="people.csv"):
    return SimpleUploadedFile(name, data)


def check(actor, data, name="people.csv"):
    return importing.import_check(actor=actor, uploaded_file=upload(data, name))[1]


def errors_of(plan):
    """{row number: [(column, value, message)]} for the rows with errors."""
    return {r.number: [(e["column"], e["value"], e["message"]) for e in r.errors] for r in plan.rows if r.errors}


def run_import(actor, data, name="people.csv", skip_invalid=False):
    job = importing.import_preview(actor=actor, uploaded_file=upload(data, name), skip_invalid=skip_invalid)
    return importing.import_confirm(actor=actor, job=job, skip_invalid=skip_invalid)


ALICE = dict(username="alice", email="alice@example.com", first_name="Alice", last_name="Wong", role="employee",
             department="Sales", title="Sales lead")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="module", autouse=True)
def restore_data_migrations_after_flush(django_db_setup, django_db_blocker):
    """The transactional tests below end with a flush that empties every table, the rows of data
    migrations (the platform registry) included; with --reuse-db the next run would start without
    them. Put back the snapshot Django took when it set the test database up."""
    yield
    with django_db_blocker.unblock():
        if hasattr(connection, "_test_serialized_contents") and not Platform.objects.exists():
            connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


@pytest.fixture
def sales(brand):
    return DepartmentFactory(brand=brand, name="Sales")


@pytest.fixture
def matrix(brand, sales, dealer_east, dealer_south, admin_user):
    """What every import here runs against: one brand with a department, two dealers, the platforms.

    The platform registry is seeded by a data migration; a transactional test elsewhere may have
    flushed it away before this run (--reuse-db), so seed it again (get_or_create: idempotent)."""
    importlib.import_module("matrix.migrations.0002_platform_registry").seed(django_apps, None)
    return brand


def good_rows():
    return [
        # a new person with a personal account…
        row(**ALICE, platform="xiaohongshu", handle="@alice_drives", display_name="Alice drives", tier="employee"),
        # …and a company account she runs (her details repeated, as an export would)
        row(username="alice", email="alice@example.com", first_name="Alice", platform="weibo", handle="aurora_sales",
            tier="self_operated"),
        # a person with no account
        row(username="bob", email="bob@example.com", role="marketer"),
        # a company account with no person, run by Alice and Bob
        row(dealer_code="E001", platform="douyin", handle="aurora_e001", display_name="Aurora East", tier="dealer",
            operator="alice, bob"),
        # the brand account, run by nobody yet
        row(platform="bilibili", handle="aurora", tier="brand"),
    ]


# --- good files --------------------------------------------------------------------------------

def test_it_imports_people_with_their_accounts_and_company_accounts(matrix, admin_user, dealer_east, sales,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = run_import(admin_user, csv_bytes(good_rows()))

    assert job.status == ImportJob.Status.DONE
    assert job.report["result"] == {"imported_rows": 5, "skipped_rows": 0, "users": 2, "accounts": 4,
                                    "invitations": 2}
    alice = User.objects.get(username="alice")
    assert (alice.email, alice.first_name, alice.last_name, alice.role, alice.department, alice.title,
            alice.brand, alice.timezone) == ("alice@example.com", "Alice", "Wong", "employee", sales, "Sales lead",
                                             matrix, "Asia/Shanghai")
    assert not alice.has_usable_password()
    assert list(alice.groups.values_list("name", flat=True)) == ["employee"]
    bob = User.objects.get(username="bob")
    assert bob.role == "marketer" and bob.groups.filter(name="marketer").exists()

    personal = SocialAccount.objects.get(handle="alice_drives")
    assert (personal.tier, personal.ownership, personal.status, personal.owner) == (
        "employee", "personal", "pending", alice)
    company = SocialAccount.objects.get(handle="aurora_sales")
    assert (company.ownership, company.status, company.owner) == ("company", "active", None)
    assert list(company.operators.all()) == [alice]
    dealer = SocialAccount.objects.get(handle="aurora_e001")
    assert dealer.dealer == dealer_east and set(dealer.operators.all()) == {alice, bob}
    assert SocialAccount.objects.get(handle="aurora").tier == "brand"

    assert sorted(message.to[0] for message in mail.outbox) == ["alice@example.com", "bob@example.com"]


def test_a_row_with_an_existing_username_adds_accounts_to_that_person(matrix, admin_user, employee):
    data = csv_bytes([
        row(username=employee.username, platform="weibo", handle="emp_weibo", tier="employee"),
        row(username=employee.username, email=employee.email, role="employee", platform="douyin", handle="emp_dy",
            tier="employee"),
    ])
    job = run_import(admin_user, data)

    assert job.status == ImportJob.Status.DONE
    assert job.report["result"]["users"] == 0
    assert set(SocialAccount.objects.filter(owner=employee).values_list("handle", flat=True)) == {"emp_weibo", "emp_dy"}


def test_time_zones_are_matched_without_regard_to_case_and_accounts_inherit_the_persons(matrix, admin_user):
    job = run_import(admin_user, csv_bytes([
        row(username="kim", email="kim@example.com", timezone="asia/tokyo", platform="x", handle="kim", tier="employee"),
        row(platform="weibo", handle="shop", tier="self_operated", account_timezone="EUROPE/BERLIN"),
        row(platform="douyin", handle="shop", tier="self_operated"),
    ]))

    assert job.status == "done", job.report
    assert User.objects.get(username="kim").timezone == "Asia/Tokyo"
    assert SocialAccount.objects.get(handle="kim").timezone == "Asia/Tokyo"
    assert SocialAccount.objects.get(platform__slug="weibo", handle="shop").timezone == "Europe/Berlin"
    assert SocialAccount.objects.get(platform__slug="douyin", handle="shop").timezone == matrix.timezone


def test_a_row_without_username_finds_the_person_by_email(matrix, admin_user, employee):
    job = run_import(admin_user, csv_bytes([
        row(email=employee.email.upper(), platform="weibo", handle="by_email", tier="executive"),
    ]))

    assert job.status == ImportJob.Status.DONE
    assert SocialAccount.objects.get(handle="by_email").owner == employee


def test_it_reads_chinese_headers_roles_tiers_and_platforms(matrix, admin_user, dealer_east):
    header = ["用户名", "邮箱", "姓", "名", "角色", "部门", "职位", "经销商代码", "平台", "账号", "显示名称", "层级", "运营人"]
    data = csv_bytes([
        ["zhang.wei", "zhang.wei@example.com", "张", "伟", "经销商运营", "", "店长", "E001", "抖音", "zw_store", "极光上海东店",
         "经销商", ""],
        ["li.na", "li.na@example.com", "李", "娜", "高管", "Sales", "副总裁", "", "微博", "lina", "李娜", "高管", "zhang.wei"],
        ["", "", "", "", "", "", "", "", "小红书", "aurora_xhs", "极光汽车", "品牌", "li.na"],
        ["", "", "", "", "", "", "", "", "公众号", "aurora_oa", "极光汽车", "自营", ""],
    ], header=header)
    job = run_import(admin_user, data)

    assert job.status == ImportJob.Status.DONE, job.report
    zhang = User.objects.get(username="zhang.wei")
    assert (zhang.role, zhang.dealer, zhang.last_name, zhang.first_name) == ("dealer_operator", dealer_east, "张", "伟")
    li = User.objects.get(username="li.na")
    assert li.role == "executive" and li.department.name == "Sales"
    assert SocialAccount.objects.get(handle="zw_store").tier == "dealer"
    lina = SocialAccount.objects.get(handle="lina")
    assert (lina.tier, lina.owner, list(lina.operators.all())) == ("executive", li, [zhang])
    assert SocialAccount.objects.get(handle="aurora_xhs").platform.slug == "xiaohongshu"
    assert SocialAccount.objects.get(handle="aurora_oa").platform.slug == "wechat_oa"


def test_headers_with_hints_labels_and_odd_spacing_are_understood(matrix, admin_user):
    header = ["Username (required)", "E-mail", " Given name ", "Family name", "Display name", "Platform", "Handle",
              "Tier", "Remarks"]
    plan = check(admin_user, csv_bytes([["amy", "amy@example.com", "Amy", "Lo", "Amy", "Weibo", "amy_w", "Employee",
                                         "hello"]], header=header))

    assert plan.columns == ["username", "email", "first_name", "last_name", "display_name", "platform", "handle", "tier"]
    assert plan.ignored_columns == ["Remarks"]
    assert errors_of(plan) == {}


# --- encodings and file types --------------------------------------------------------------------

CHINESE_ROWS = [row(username="wang.fang", email="wang.fang@example.com", last_name="王", first_name="芳", role="员工",
                    platform="小红书", handle="王芳的日常", display_name="王芳·日常", tier="员工")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_files_as_excel_writes_them_are_read(matrix, admin_user, encoding):
    job = run_import(admin_user, csv_bytes(CHINESE_ROWS, encoding=encoding))

    assert job.status == ImportJob.Status.DONE, job.report
    person = User.objects.get(username="wang.fang")
    assert (person.last_name, person.first_name) == ("王", "芳")
    assert SocialAccount.objects.get(owner=person).display_name == "王芳·日常"


def test_an_excel_unicode_text_file_is_read(matrix, admin_user):
    text = "\t".join(HEADER) + "\r\n" + "\t".join(CHINESE_ROWS[0]) + "\r\n"
    job = run_import(admin_user, b"\xff\xfe" + text.encode("utf-16-le"), name="people.txt")

    assert job.status == ImportJob.Status.DONE, job.report
    assert SocialAccount.objects.get(handle="王芳的日常").owner.username == "wang.fang"


def test_an_xlsx_workbook_is_read_with_row_numbers_as_excel_shows_them(matrix, admin_user, brand):
    DealerFactory(brand=brand, code="1001")
    rows = [CHINESE_ROWS[0], [], row(dealer_code=1001, platform="douyin", handle=12345, tier="dealer"),
            row(username="bad", email="not-an-email")]
    plan = check(admin_user, xlsx_bytes(rows), name="people.xlsx")

    # Row 3 is blank in the sheet; the numbers stay the ones Excel shows.
    assert [r.number for r in plan.rows] == [2, 4, 5]
    assert errors_of(plan) == {5: [("email", "not-an-email", "Not a valid email address.")]}
    dealer_row = plan.rows[1]
    assert dealer_row.account.fields["dealer"].code == "1001"
    assert dealer_row.account.fields["handle"] == "12345"


def test_an_xlsx_workbook_imports(matrix, admin_user):
    job = run_import(admin_user, xlsx_bytes(CHINESE_ROWS), name="people.xlsx")

    assert job.status == ImportJob.Status.DONE
    assert User.objects.filter(username="wang.fang").exists()


@pytest.mark.parametrize("data, name, message", [
    (b"%PDF-1.4 whatever", "people.pdf", "Unsupported file type"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "people.xls", "Old Excel files (.xls) are not supported"),
    (b"PK\x03\x04 this is no workbook", "people.xlsx", "could not be read as an Excel workbook"),
    (b"not a zip at all", "people.xlsx", "could not be read as an Excel workbook"),
    (b"", "people.csv", "The file is empty."),
    (b"\r\n\r\n", "people.csv", "the first row must name the columns"),
    (b"name,phone\r\nx,y\r\n", "people.csv", "at least username"),
    (b"username,\xe7\x94\xa8\xe6\x88\xb7\xe5\x90\x8d\r\nx,y\r\n", "people.csv", "both mean username"),
    (b"username\r\n\x80\x81\xff\r\n", "people.csv", "text encoding was not recognised"),
])
def test_files_that_cannot_be_read_are_refused_with_a_clear_message(matrix, admin_user, data, name, message):
    with pytest.raises(importing.ImportFileError) as raised:
        check(admin_user, data, name=name)

    assert message.lower() in raised.value.message.lower()
    assert raised.value.field == "file"


def test_a_file_too_large_is_refused(matrix, admin_user, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 100)

    with pytest.raises(importing.ImportFileError, match="larger than"):
        check(admin_user, csv_bytes([row(username=f"u{i}", email=f"u{i}@example.com") for i in range(10)]))


def test_a_file_with_too_many_rows_is_refused(matrix, admin_user, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)

    with pytest.raises(importing.ImportFileError, match="more than 3 rows"):
        check(admin_user, csv_bytes([row(username=f"u{i}", email=f"u{i}@example.com") for i in range(4)]))


# --- every kind of bad row -------------------------------------------------------------------

@pytest.mark.parametrize("cells, column, value, message", [
    (dict(ALICE, email="alice(at)example.com"), "email", "alice(at)example.com", "Not a valid email address."),
    (dict(ALICE, email="alice@example"), "email", "alice@example", "Not a valid email address."),
    (dict(ALICE, email=""), "email", "", "needs an email address"),
    (dict(ALICE, username="alice smith"), "username", "alice smith", "Enter a valid username"),
    (dict(ALICE, role="boss"), "role", "boss", "Unknown role"),
    (dict(ALICE, department="Legal"), "department", "Legal", "Unknown department"),
    (dict(ALICE, timezone="Beijing"), "timezone", "Beijing", "not an IANA time zone"),
    (dict(ALICE, brand="nope"), "brand", "nope", "Unknown brand"),
    (dict(ALICE, title="x" * 121), "title", "x" * 121, "at most 120 characters"),
    (dict(ALICE, role="dealer_operator"), "dealer_code", "", "must belong to a dealer"),
    (dict(ALICE, role="dealer_operator", dealer_code="X999"), "dealer_code", "X999", "Unknown dealer code"),
    (dict(ALICE, dealer_code="E001"), "dealer_code", "E001", "belongs to a dealer account or a dealer operator"),
    (dict(ALICE, platform="myspace", handle="a", tier="employee"), "platform", "myspace", "Unknown platform"),
    (dict(ALICE, handle="a", tier="employee"), "platform", "", "needs its platform"),
    (dict(ALICE, platform="weibo", tier="employee"), "handle", "", "needs its handle"),
    (dict(ALICE, platform="weibo", handle="a"), "tier", "", "needs its tier"),
    (dict(ALICE, platform="weibo", handle="a", tier="vip"), "tier", "vip", "Unknown tier"),
    (dict(ALICE, platform="weibo", handle="a", tier="employee", account_timezone="GMT+8"), "account_timezone", "GMT+8",
     "not an IANA time zone"),
    (dict(platform="weibo", handle="store", tier="dealer"), "dealer_code", "", "A dealer account must name its dealer"),
    (dict(platform="weibo", handle="store", tier="dealer", dealer_code="X999"), "dealer_code", "X999",
     "Unknown dealer code"),
    (dict(platform="weibo", handle="kol", tier="employee"), "username", "", "give the owner's username"),
    (dict(platform="weibo", handle="kol", tier="executive"), "username", "", "give the owner's username"),
    (dict(platform="weibo", handle="shop", tier="self_operated", operator="ghost"), "operator", "ghost",
     "Unknown operator"),
    (dict(first_name="Nobody"), "username", "", "Give the username"),
    (dict(email="new@example.com", platform="weibo", handle="x", tier="employee"), "username", "",
     "A new person needs a username"),
])
def test_each_kind_of_bad_row_is_reported_with_row_column_value_and_reason(matrix, admin_user, cells, column, value,
                                                                            message):
    plan = check(admin_user, csv_bytes([row(username="ok", email="ok@example.com"), row(**cells)]))

    assert list(errors_of(plan)) == [3]
    reported = errors_of(plan)[3]
    assert any(c == column and v == value and message.lower() in m.lower() for c, v, m in reported), reported
    assert plan.rows[0].valid


def test_a_handle_twice_in_the_file_or_already_registered_is_refused(matrix, admin_user, platforms, brand):
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="Taken")
    plan = check(admin_user, csv_bytes([
        row(platform="weibo", handle="shop", tier="self_operated"),
        row(platform="Weibo", handle="@SHOP", tier="self_operated"),
        row(platform="douyin", handle="shop", tier="self_operated"),  # another platform: fine
        row(platform="weibo", handle="taken", tier="self_operated"),
    ]))

    assert errors_of(plan) == {
        3: [("handle", "@SHOP", "Row 2 has the same handle on this platform.")],
        5: [("handle", "taken", "This handle is already registered on this platform.")],
    }


def test_only_one_brand_account_per_brand_and_platform_counting_the_file_and_the_database(matrix, admin_user,
                                                                                         platforms, brand):
    SocialAccountFactory(brand=brand, platform=platforms["weibo"], handle="aurora_weibo", tier="brand")
    SocialAccountFactory(brand=brand, platform=platforms["x"], handle="aurora_old", tier="brand", status="archived")
    plan = check(admin_user, csv_bytes([
        row(platform="weibo", handle="aurora2", tier="brand"),
        row(platform="douyin", handle="aurora", tier="brand"),
        row(platform="douyin", handle="aurora_again", tier="品牌"),
        row(platform="x", handle="aurora_new", tier="brand"),  # the archived one does not count
    ]))

    assert errors_of(plan) == {
        2: [("tier", "brand", "This brand already has a brand account on this platform.")],
        4: [("tier", "品牌", "Row 3 already adds a brand account for this brand and platform.")],
    }


def test_an_email_already_registered_or_given_to_two_people_is_refused(matrix, admin_user, employee):
    plan = check(admin_user, csv_bytes([
        row(username="new1", email=employee.email.upper()),
        row(username="new2", email="same@example.com"),
        row(username="new3", email="Same@example.com"),
    ]))

    assert errors_of(plan) == {
        2: [("email", employee.email.upper(), "employee.user is already registered with this email address.")],
        4: [("email", "Same@example.com", "Row 3 gives this email address to new2.")],
    }


def test_rows_of_one_person_must_agree_and_inherit_errors_of_the_first(matrix, admin_user):
    plan = check(admin_user, csv_bytes([
        row(**ALICE, platform="weibo", handle="a1", tier="employee"),
        row(username="ALICE", email="alice@example.com", role="员工", platform="douyin", handle="a2", tier="employee"),
        row(username="alice", role="marketer", platform="bilibili", handle="a3", tier="employee"),
        row(username="carol", email="bad-email"),
        row(username="carol", platform="weibo", handle="c1", tier="employee"),
    ]))

    assert errors_of(plan) == {
        4: [("role", "marketer", "Differs from the person's first row (row 2: “employee”); the rows of one person "
                                 "must agree.")],
        5: [("email", "bad-email", "Not a valid email address.")],
        6: [("username", "carol", "The person's details on row 5 have errors.")],
    }


def test_an_existing_person_is_never_changed_by_the_import(matrix, admin_user, employee):
    plan = check(admin_user, csv_bytes([
        row(username=employee.username, role="marketer", platform="weibo", handle="e1", tier="employee"),
        row(username=employee.username),
    ]))

    assert errors_of(plan) == {
        2: [("role", "marketer", "employee.user is already registered with “employee”; the import does not change "
                                 "people, only adds their accounts.")],
        3: [("username", "employee.user", "employee.user already exists and this row names no account to add.")],
    }


def test_an_offboarded_person_gets_no_accounts(matrix, admin_user, employee):
    User.objects.filter(pk=employee.pk).update(is_active=False)
    plan = check(admin_user, csv_bytes([
        row(username=employee.username, platform="weibo", handle="e1", tier="employee"),
        row(platform="weibo", handle="shop", tier="self_operated", operator=employee.username),
    ]))

    assert [e[2] for e in errors_of(plan)[2]] == ["employee.user has been offboarded."]
    assert [e[2] for e in errors_of(plan)[3]] == ["employee.user has been offboarded."]


def test_a_personal_account_stays_in_its_owners_brand(matrix, admin_user, employee, other_brand):
    plan = check(admin_user, csv_bytes([
        row(username=employee.username, brand="borealis", platform="weibo", handle="e1", tier="employee"),
        row(username=employee.username, brand="borealis", platform="weibo", handle="e2", tier="self_operated"),
    ]))

    assert errors_of(plan) == {2: [("brand", "borealis", "The owner works for another brand.")]}


def test_several_brands_need_the_brand_named(matrix, admin_user, other_brand):
    admin_user.brand = None
    admin_user.save()
    plan = check(admin_user, csv_bytes([
        row(username="x", email="x@example.com"),
        row(username="y", email="y@example.com", brand="borealis"),
    ]))

    assert errors_of(plan) == {2: [("brand", "", "Several brands exist: name the brand (its slug) on every row.")]}
    assert plan.rows[1].person.fields["brand"] == other_brand


def test_extra_cells_beyond_the_header_are_reported(matrix, admin_user):
    data = b"username,email\r\nann,ann@example.com,surprise\r\n"

    assert errors_of(check(admin_user, data)) == {
        2: [("", "surprise", "This row has more cells than the first row has column names.")]}


def test_validation_makes_the_same_number_of_queries_however_long_the_file(matrix, admin_user,
                                                                          django_assert_max_num_queries):
    def rows(count):
        return [row(username=f"p{i}", email=f"p{i}@example.com", department="Sales", platform="weibo",
                    handle=f"h{i}", tier="employee", operator="alice") for i in range(count)]

    with django_assert_max_num_queries(12) as small:
        check(admin_user, csv_bytes(rows(5)))
    with django_assert_max_num_queries(len(small.captured_queries)):
        check(admin_user, csv_bytes(rows(500)))


# --- all or nothing, skipping ------------------------------------------------------------------

BAD_ROW = row(username="dave", email="dave-at-example.com", platform="weibo", handle="dave", tier="employee")


def test_nothing_is_written_while_any_row_has_an_error(matrix, admin_user):
    counts = (User.objects.count(), SocialAccount.objects.count(), AuditEvent.objects.count())
    job = importing.import_preview(actor=admin_user, uploaded_file=upload(csv_bytes(good_rows() + [BAD_ROW])))

    assert (job.status, job.total_rows, job.valid_rows) == ("previewed", 6, 5)
    with pytest.raises(DomainError, match="1 of 6 rows have errors, so nothing was imported"):
        importing.import_confirm(actor=admin_user, job=job, skip_invalid=False)
    job.refresh_from_db()
    assert job.status == "previewed"
    assert (User.objects.count(), SocialAccount.objects.count(), AuditEvent.objects.count()) == counts


def test_skipping_bad_rows_imports_the_others(matrix, admin_user):
    job = run_import(admin_user, csv_bytes(good_rows() + [BAD_ROW]), skip_invalid=True)

    assert job.status == "done"
    assert job.report["result"]["skipped_rows"] == 1
    assert [r["status"] for r in job.report["rows"]] == ["imported"] * 5 + ["skipped"]
    assert not User.objects.filter(username="dave").exists()
    assert SocialAccount.objects.filter(handle__in=["alice_drives", "aurora_sales", "aurora_e001", "aurora"]).count() == 4


def test_rows_that_depend_on_a_skipped_person_are_skipped_too(matrix, admin_user):
    plan = check(admin_user, csv_bytes([
        row(username="erin", email="erin@", platform="weibo", handle="erin", tier="employee"),
        row(platform="douyin", handle="shop1", tier="self_operated", operator="erin"),
        row(username="frank", email="frank@example.com", platform="douyin", handle="shop2", tier="self_operated",
            operator="erin"),
        row(platform="bilibili", handle="shop3", tier="self_operated", operator="frank"),
        row(platform="x", handle="shop4", tier="self_operated", operator="frank"),
        row(username="frank", platform="zhihu", handle="frank_zh", tier="employee"),
    ]))

    assert sorted(errors_of(plan)) == [2, 3, 4]
    assert errors_of(plan)[3] == [("operator", "erin", "erin is only on rows with errors.")]
    # Frank's company account fails with Erin, but his own account keeps him, and so his other rows.
    assert [r.number for r in plan.valid_rows] == [5, 6, 7]


def test_a_person_whose_only_rows_are_skipped_is_not_created_and_blocks_what_they_run(matrix, admin_user):
    plan = check(admin_user, csv_bytes([
        row(username="gina", email="gina@example.com", platform="weibo", handle="dup", tier="employee"),
        row(username="hank", email="hank@example.com", platform="weibo", handle="dup", tier="employee"),
        row(platform="douyin", handle="run_by_hank", tier="self_operated", operator="hank"),
    ]))

    assert sorted(errors_of(plan)) == [3, 4]
    assert errors_of(plan)[4] == [("operator", "hank", "hank is only on rows with errors.")]


def test_confirm_checks_again_and_writes_nothing_when_the_database_changed(matrix, admin_user, platforms, brand):
    job = importing.import_preview(actor=admin_user, uploaded_file=upload(csv_bytes(good_rows())))
    SocialAccountFactory(brand=brand, platform=platforms["douyin"], handle="AURORA_E001")
    counts = (User.objects.count(), SocialAccount.objects.count(), AuditEvent.objects.count())

    job = importing.import_confirm(actor=admin_user, job=job, skip_invalid=False)

    assert job.status == "previewed"
    assert "1 of 5 rows have errors" in job.error
    assert job.report["summary"]["invalid"] == 1
    assert (User.objects.count(), SocialAccount.objects.count(), AuditEvent.objects.count()) == counts


def test_a_failure_while_writing_undoes_everything(matrix, admin_user, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "audit_record_many", explode)
    counts = (User.objects.count(), SocialAccount.objects.count(), AuditEvent.objects.count())

    job = run_import(admin_user, csv_bytes(good_rows()))

    assert job.status == "failed" and "nothing was imported" in job.error
    assert (User.objects.count(), SocialAccount.objects.count(), AuditEvent.objects.count()) == counts


def test_an_import_is_confirmed_only_once(matrix, admin_user):
    job = run_import(admin_user, csv_bytes(good_rows()))

    with pytest.raises(DomainError, match="already been confirmed"):
        importing.import_confirm(actor=admin_user, job=job, skip_invalid=False)


# --- audit -----------------------------------------------------------------------------------------

def test_the_import_writes_the_same_audit_events_as_the_services_and_keeps_the_chain_intact(matrix, admin_user):
    audit_record(actor=admin_user, action="test.before", object_type="x", object_id="1")
    job = run_import(admin_user, csv_bytes(good_rows()))
    audit_record(actor=admin_user, action="test.after", object_type="x", object_id="2")

    alice = User.objects.get(username="alice")
    dealer_account = SocialAccount.objects.get(handle="aurora_e001")
    created_users = AuditEvent.objects.filter(action="accounts.user.create")
    assert set(created_users.values_list("object_id", flat=True)) == {str(alice.pk),
                                                                      str(User.objects.get(username="bob").pk)}
    alice_event = created_users.get(object_id=str(alice.pk))
    assert alice_event.actor == admin_user
    assert alice_event.after["email"] == "alice@example.com" and alice_event.after["role"] == "employee"
    account_events = AuditEvent.objects.filter(action="matrix.account.create")
    assert account_events.count() == 4
    dealer_event = account_events.get(object_id=str(dealer_account.pk))
    assert dealer_event.after["tier"] == "dealer"
    assert dealer_event.after["operator_ids"] == sorted(dealer_account.operators.values_list("pk", flat=True))
    apply_event = AuditEvent.objects.get(action="accounts.import.apply")
    assert apply_event.object_id == str(job.pk)
    assert apply_event.after["account_ids"] == sorted(SocialAccount.objects.values_list("pk", flat=True))
    assert apply_event.after["skipped_rows"] == []
    assert audit_verify() == []


# --- the background path -----------------------------------------------------------------------------

def test_a_large_import_is_queued_and_the_task_applies_it(matrix, admin_user, settings, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_THRESHOLD = 2
    queued = []
    monkeypatch.setattr(tasks.import_job_apply, "delay", queued.append)
    job = importing.import_preview(actor=admin_user, uploaded_file=upload(csv_bytes(good_rows())))

    with django_capture_on_commit_callbacks(execute=True):
        job = importing.import_confirm(actor=admin_user, job=job, skip_invalid=False)

    assert job.status == "queued" and queued == [job.pk]
    assert not User.objects.filter(username="alice").exists()

    tasks.import_job_apply(job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows) == ("done", 5, 5)
    assert job.finished_at is not None
    assert User.objects.filter(username="alice").exists()
    # A second delivery of the task (Redis redelivery, a retry) changes nothing.
    tasks.import_job_apply(job.pk)
    assert SocialAccount.objects.filter(handle="alice_drives").count() == 1
    assert AuditEvent.objects.filter(action="accounts.import.apply").count() == 1


def test_when_the_broker_is_unreachable_the_import_can_be_confirmed_again(matrix, admin_user, settings, monkeypatch,
                                                                           django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_THRESHOLD = 2

    def broker_down(job_id):
        raise ConnectionError("Error 111 connecting to redis")

    monkeypatch.setattr(tasks.import_job_apply, "delay", broker_down)
    job = importing.import_preview(actor=admin_user, uploaded_file=upload(csv_bytes(good_rows())))

    with django_capture_on_commit_callbacks(execute=True):
        job = importing.import_confirm(actor=admin_user, job=job, skip_invalid=False)

    job.refresh_from_db()
    assert job.status == "previewed" and "worker could not be reached" in job.error
    monkeypatch.setattr(tasks.import_job_apply, "delay", lambda job_id: None)
    assert importing.import_confirm(actor=admin_user, job=job, skip_invalid=False).status == "queued"


@pytest.mark.usefixtures("migrated_data")
def test_progress_is_visible_to_others_while_the_import_runs(matrix, admin_user, settings, monkeypatch):
    monkeypatch.setattr(importing, "CHUNK_ROWS", 2)
    settings.IMPORT_ASYNC_THRESHOLD = 2
    monkeypatch.setattr(tasks.import_job_apply, "delay", lambda job_id: None)
    job = importing.import_preview(actor=admin_user, uploaded_file=upload(csv_bytes(good_rows())))
    job = importing.import_confirm(actor=admin_user, job=job, skip_invalid=False)
    seen = []
    observer = connections.create_connection("default")
    write = importing.JobProgress.__call__

    def write_and_look(self, processed, status=None):
        write(self, processed, status)
        with observer.cursor() as cursor:
            cursor.execute("SELECT status, processed_rows FROM accounts_importjob WHERE id = %s", [job.pk])
            status_seen, processed_seen = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM accounts_user WHERE username = 'alice'")
            seen.append((status_seen, processed_seen, cursor.fetchone()[0]))

    monkeypatch.setattr(importing.JobProgress, "__call__", write_and_look)
    try:
        tasks.import_job_apply(job.pk)
    finally:
        observer.close()

    # The bar moves while the rows themselves stay invisible until the one commit.
    assert seen == [("running", 0, 0), ("running", 2, 0), ("running", 4, 0), ("running", 5, 0)]
    job.refresh_from_db()
    assert job.status == "done" and User.objects.filter(username="alice").exists()


@pytest.mark.usefixtures("migrated_data")
def test_a_real_celery_worker_applies_a_large_import(matrix, admin_user, settings, monkeypatch, media):
    settings.IMPORT_ASYNC_THRESHOLD = 2
    queue = f"import-test-{uuid.uuid4().hex[:8]}"
    # Our own queue, so that no other worker on the shared broker takes the task.
    monkeypatch.setattr(tasks.import_job_apply, "delay",
                        lambda job_id: tasks.import_job_apply.apply_async((job_id,), queue=queue))
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", MEDIA_ROOT=str(media),
               DATABASE_URL=_database_url(), CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-Q", queue, "--pool", "solo",
         "--concurrency", "1", "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        job = importing.import_preview(actor=admin_user, uploaded_file=upload(csv_bytes(good_rows())))
        job = importing.import_confirm(actor=admin_user, job=job, skip_invalid=False)
        assert job.status == "queued"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in ("done", "failed"):
                break
            assert worker.poll() is None, worker.stdout.read().decode()
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            output = worker.communicate(timeout=20)[0].decode()
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0].decode()

    assert job.status == "done", (job.status, job.error, output)
    assert job.processed_rows == 5
    assert set(User.objects.filter(username__in=["alice", "bob"]).values_list("username", flat=True)) == {"alice", "bob"}
    assert AuditEvent.objects.filter(action="accounts.import.apply", object_id=str(job.pk)).exists()


def _database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- the template file -------------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_template_files_import_cleanly_as_they_are(matrix, admin_user, client, language):
    client.force_login(admin_user)
    client.cookies["django_language"] = language
    csv_file = client.get(reverse("accounts:import_template", args=["csv"]), HTTP_ACCEPT_LANGUAGE=language)
    xlsx_file = client.get(reverse("accounts:import_template", args=["xlsx"]), HTTP_ACCEPT_LANGUAGE=language)

    assert csv_file.status_code == 200 and csv_file.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv_file["Content-Disposition"]
    assert xlsx_file["Content-Type"].startswith("application/vnd.openxmlformats")
    for data, name in ((csv_file.content, "template.csv"), (xlsx_file.content, "template.xlsx")):
        plan = check(admin_user, data, name=name)
        assert len(plan.rows) == 2 and errors_of(plan) == {}, errors_of(plan)
        assert plan.columns == importing.COLUMN_KEYS
    if language == "zh-hans":
        assert csv_file.content.decode("utf-8-sig").startswith("用户名,邮箱,名,姓,角色")


def test_an_unknown_template_format_is_not_found(matrix, admin_user, client):
    client.force_login(admin_user)

    assert client.get(reverse("accounts:import_template", args=["pdf"])).status_code == 404


# --- pages -------------------------------------------------------------------------------------------------

def test_the_upload_page_has_the_form_the_columns_and_the_template_links(matrix, admin_user, client):
    client.force_login(admin_user)
    page = client.get(reverse("accounts:import")).content.decode()

    assert '<input type="file" name="file"' in page
    assert 'name="skip_invalid"' in page
    assert 'data-testid="import-upload"' in page
    assert reverse("accounts:import_template", args=["xlsx"]) in page
    assert "dealer_code" in page and "经销商代码" in page


def test_the_pages_preview_bad_rows_then_confirm_with_skipping(matrix, admin_user, client):
    client.force_login(admin_user)
    answer = client.post(reverse("accounts:import"), {"file": upload(csv_bytes(good_rows() + [BAD_ROW]))})
    job = ImportJob.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("accounts:import_detail", args=[job.pk])

    page = client.get(answer["Location"]).content.decode()
    assert 'data-testid="import-summary"' in page
    assert "6 rows" in page and "5 valid" in page and "1 with errors" in page
    assert 'data-testid="import-errors"' in page
    assert "Row 7, email “dave-at-example.com”: Not a valid email address." in page
    assert 'class="row-bad" data-testid="import-row" data-row="7" data-status="invalid"' in page
    assert '<td class="cell-bad" data-column="email">dave-at-example.com</td>' in page
    assert 'data-testid="import-confirm"' in page

    refused = client.post(reverse("accounts:import_confirm", args=[job.pk]), follow=True).content.decode()
    assert "so nothing was imported" in refused
    assert not User.objects.filter(username="alice").exists()

    done = client.post(reverse("accounts:import_confirm", args=[job.pk]), {"skip_invalid": "1"}, follow=True)
    page = done.content.decode()
    assert "Imported 5 rows: 2 people and 4 accounts." in page
    assert 'data-row="7" data-status="skipped"' in page
    assert 'class="row-ok" data-testid="import-row" data-row="2" data-status="imported"' in page
    assert 'data-testid="import-confirm"' not in page
    assert User.objects.filter(username="alice").exists()


def test_an_unreadable_upload_is_shown_on_the_form_not_as_an_error_page(matrix, admin_user, client):
    client.force_login(admin_user)
    answer = client.post(reverse("accounts:import"), {"file": upload(b"PK\x03\x04junk", "people.xlsx")})

    assert answer.status_code == 200
    assert "could not be read as an Excel workbook" in answer.content.decode()
    assert not ImportJob.objects.exists()


def test_a_queued_import_shows_a_progress_bar_that_polls_until_done(matrix, admin_user, client, settings,
                                                                      monkeypatch):
    settings.IMPORT_ASYNC_THRESHOLD = 2
    monkeypatch.setattr(tasks.import_job_apply, "delay", lambda job_id: None)
    client.force_login(admin_user)
    client.post(reverse("accounts:import"), {"file": upload(csv_bytes(good_rows()))})
    job = ImportJob.objects.get()
    client.post(reverse("accounts:import_confirm", args=[job.pk]))

    page = client.get(reverse("accounts:import_detail", args=[job.pk])).content.decode()
    progress_url = reverse("accounts:import_progress", args=[job.pk])
    assert f'hx-get="{progress_url}" hx-trigger="every 1s"' in page
    assert 'role="progressbar"' in page
    partial = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and 'data-testid="import-progress"' in partial.content.decode()

    tasks.import_job_apply(job.pk)

    finished = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert finished.headers["HX-Refresh"] == "true"


def test_people_who_are_not_admins_cannot_import(matrix, marketer, client):
    client.force_login(marketer)

    assert client.get(reverse("accounts:import")).status_code == 403
    assert client.post(reverse("accounts:import"), {"file": upload(csv_bytes(good_rows()))}).status_code == 403
    assert client.get(reverse("accounts:import_template", args=["csv"])).status_code == 403
    assert not ImportJob.objects.exists()


def test_the_import_pages_need_a_login(matrix, client):
    answer = client.get(reverse("accounts:import"))

    assert answer.status_code == 302 and reverse("login") in answer["Location"]


# --- the API -------------------------------------------------------------------------------------------------

@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


IMPORT_URL = "/api/v1/users/import/"


def test_the_api_dry_run_reports_every_row_and_writes_nothing(matrix, api):
    answer = api.post(IMPORT_URL, {"file": upload(csv_bytes(good_rows() + [BAD_ROW])), "dry_run": "true"},
                      format="multipart")

    assert answer.status_code == 200
    body = answer.json()
    assert body["dry_run"] is True
    assert body["summary"] == {"rows": 6, "valid": 5, "invalid": 1, "new_people": 2, "new_accounts": 4}
    assert body["rows"][5]["row"] == 7 and body["rows"][5]["valid"] is False
    assert body["rows"][5]["errors"] == [{"column": "email", "value": "dave-at-example.com",
                                          "message": "Not a valid email address."}]
    assert not User.objects.filter(username="alice").exists() and not ImportJob.objects.exists()


def test_the_api_refuses_a_file_with_bad_rows_unless_told_to_skip_them(matrix, api):
    refused = api.post(IMPORT_URL, {"file": upload(csv_bytes(good_rows() + [BAD_ROW]))}, format="multipart")

    assert refused.status_code == 400
    assert "1 of 6 rows have errors" in refused.json()["file"][0]
    assert not User.objects.filter(username="alice").exists()

    done = api.post(IMPORT_URL, {"file": upload(csv_bytes(good_rows() + [BAD_ROW])), "skip_invalid": "true"},
                    format="multipart")

    assert done.status_code == 201
    assert done.json()["result"] == {"imported_rows": 5, "skipped_rows": 1, "users": 2, "accounts": 4,
                                     "invitations": 2}
    assert done.json()["status"] == "done"
    assert User.objects.filter(username="alice").exists()


def test_the_api_imports_xlsx(matrix, api):
    answer = api.post(IMPORT_URL, {"file": upload(xlsx_bytes(good_rows()), "people.xlsx")}, format="multipart")

    assert answer.status_code == 201
    assert SocialAccount.objects.filter(handle="aurora_e001").exists()


def test_the_api_queues_a_large_file_and_reports_its_progress(matrix, api, settings, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    settings.IMPORT_ASYNC_THRESHOLD = 2
    monkeypatch.setattr(tasks.import_job_apply, "delay", lambda job_id: None)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(IMPORT_URL, {"file": upload(csv_bytes(good_rows()))}, format="multipart")

    assert answer.status_code == 202
    job_id = answer.json()["job"]
    assert answer.json()["status_url"].endswith(f"{IMPORT_URL}?job={job_id}")
    assert api.get(IMPORT_URL, {"job": job_id}).json()["status"] == "queued"

    tasks.import_job_apply(job_id)

    status = api.get(IMPORT_URL, {"job": job_id}).json()
    assert (status["status"], status["processed_rows"], status["result"]["accounts"]) == ("done", 5, 4)


@pytest.mark.parametrize("data, field", [
    ({}, "file"),
    ({"file": "not a file"}, "file"),
    ({"file": ("people.pdf", b"%PDF")}, "file"),
    ({"file": ("people.xlsx", b"PK\x03\x04junk")}, "file"),
    ({"file": ("people.csv", b"username\r\nx\r\n"), "dry_run": "perhaps"}, "dry_run"),
])
def test_the_api_answers_bad_input_with_400_naming_the_field(matrix, api, data, field):
    data = {key: upload(value[1], value[0]) if isinstance(value, tuple) else value for key, value in data.items()}

    answer = api.post(IMPORT_URL, data, format="multipart")

    assert answer.status_code == 400
    assert field in answer.json()


def test_the_api_answers_a_missing_job_clearly(matrix, api):
    assert api.get(IMPORT_URL).status_code == 400
    assert api.get(IMPORT_URL, {"job": 999999}).status_code == 404


def test_the_api_is_for_admins_only(matrix, marketer):
    client = APIClient()
    assert client.post(IMPORT_URL, {"file": upload(csv_bytes(good_rows()))}, format="multipart").status_code in (401,
                                                                                                                 403)
    client.force_authenticate(marketer)

    assert client.post(IMPORT_URL, {"file": upload(csv_bytes(good_rows()))}, format="multipart").status_code == 403
    assert client.get(IMPORT_URL, {"job": 1}).status_code == 403
    assert not User.objects.filter(username="alice").exists()
