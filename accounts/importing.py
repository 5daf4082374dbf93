"""Bulk import of people and their social accounts from CSV or XLSX.

upload → `import_preview` (read, validate, store an ImportJob with its report: nothing else is
written) → `import_confirm` → `import_job_run` re-validates the stored file against the database as
it is now and applies it in one transaction: all or nothing, unless the admin chose to skip the bad
rows. Files above `settings.IMPORT_ASYNC_THRESHOLD` rows are applied by a Celery task
(`accounts.tasks.import_job_apply`).

One row is one person and/or one social account:
- rows with the same username (or, without a username, the same email) are one person with several
  accounts; the person's details come from their first row, and later rows may repeat them but must
  agree;
- a username that already exists adds accounts to that person (the import never changes people);
- a row without a person is a company account (brand, self-operated or dealer tier), optionally run
  by `operator`.

Validation makes a fixed number of queries, however long the file: everything it needs (brands,
dealers, departments, platforms, the people, emails and handles named in the file, existing brand
accounts) is loaded into dicts first. Applying uses bulk inserts instead of one `user_create` /
`account_create` per row (more than ten times slower at 10,000 rows: bench/import_people.py) but
writes the same rows and the same audit events those services write, plus one `accounts.import.apply`
event listing what was created.
"""

import csv
import io
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals.audit import audit_record_many
from config.errors import DomainError
from matrix.models import (
    PERSONAL_TIERS,
    AccountStatus,
    Brand,
    Dealer,
    Department,
    Ownership,
    Platform,
    SocialAccount,
    Tier,
)
from matrix.services import AUDITED_FIELDS
from matrix.timezones import all_timezones

from .models import ImportJob, Role, User
from .services import invitation_send, user_snapshot

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Rows written per bulk insert; also how often the progress bar moves.
CHUNK_ROWS = 1000
# Any constant: with the job id, the advisory lock that lets only one worker apply a job at a time.
_JOB_LOCK_KEY = 7_301_956
REPORT_VERSION = 1


# --- columns -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label: str
    aliases: tuple
    help: str
    examples: tuple = ("", "")


COLUMNS = [
    Column("username", gettext_lazy("Username"), ("用户名", "用户", "登录名", "账户名", "user", "login"),
           gettext_lazy("The person's login name. Rows with the same username are one person with several "
                        "accounts. An existing username adds accounts to that person. Leave blank for a "
                        "company account that belongs to no person."),
           ("zhang.wei", "")),
    Column("email", gettext_lazy("Email"), ("邮箱", "电子邮箱", "邮件", "电子邮件", "邮箱地址", "e_mail", "mail"),
           gettext_lazy("Required for a new person: the invitation to choose a password is sent there."),
           ("zhang.wei@example.com", "")),
    Column("first_name", gettext_lazy("Given name"), ("名", "名字", "given_name", "first"),
           gettext_lazy("The person's given name."), ("伟", "")),
    Column("last_name", gettext_lazy("Family name"), ("姓", "姓氏", "family_name", "surname", "last"),
           gettext_lazy("The person's family name."), ("张", "")),
    Column("role", gettext_lazy("Role"), ("角色",),
           gettext_lazy("admin, marketer, reviewer, executive, employee or dealer_operator (or 管理员, 市场, 审核, "
                        "高管, 员工, 经销商运营). Default: employee."),
           ("employee", "")),
    Column("department", gettext_lazy("Department"), ("部门",),
           gettext_lazy("Name of an existing department of the brand: the person's, or on a row with no person "
                        "the account's."),
           ("", "")),
    Column("title", gettext_lazy("Title"), ("职位", "职务", "岗位", "job_title"),
           gettext_lazy("The person's job title."), ("Product manager", "")),
    Column("dealer_code", gettext_lazy("Dealer code"),
           ("经销商代码", "经销商编码", "经销商编号", "门店代码", "门店编码", "dealer"),
           gettext_lazy("Code of an existing dealer of the brand. Required for a dealer account and for a dealer "
                        "operator (who belongs to the dealer named on their first row that names one)."),
           ("", "E001")),
    Column("brand", gettext_lazy("Brand"), ("品牌",),
           gettext_lazy("Brand slug. Default: the person's brand, else your brand, else the only brand."),
           ("", "")),
    Column("timezone", gettext_lazy("Time zone"), ("时区", "time_zone"),
           gettext_lazy("The person's IANA time zone, for example Asia/Shanghai. Default: the brand's."),
           ("Asia/Shanghai", "")),
    Column("platform", gettext_lazy("Platform"), ("平台",),
           gettext_lazy("The account's platform: slug, English or Chinese name (weibo, 抖音, xiaohongshu…)."),
           ("xiaohongshu", "douyin")),
    Column("handle", gettext_lazy("Handle"), ("账号", "帐号", "账号名", "账号id", "account"),
           gettext_lazy("The account's handle on the platform (a leading @ is dropped). Unique per platform."),
           ("zhangwei_drives", "aurora_e001")),
    Column("display_name", gettext_lazy("Display name"), ("显示名称", "显示名", "昵称"),
           gettext_lazy("The account's display name."), ("张伟说车", "Aurora Shanghai East")),
    Column("tier", gettext_lazy("Tier"), ("层级", "账号层级", "账号类型"),
           gettext_lazy("brand, self_operated, dealer, executive or employee (or 品牌, 自营, 经销商, 高管, 员工). "
                        "Executive and employee accounts are personal: the row names their owner (username) and "
                        "they wait for the owner's consent. Only one brand account per brand and platform."),
           ("employee", "dealer")),
    Column("account_timezone", gettext_lazy("Account time zone"), ("账号时区",),
           gettext_lazy("The account's IANA time zone. Default: the person's, else the brand's."),
           ("", "")),
    Column("operator", gettext_lazy("Operator"), ("运营人", "运营者", "运营人员", "operators"),
           gettext_lazy("Usernames of who runs the account, separated by commas: existing people or people in "
                        "this file. The person on the row runs their company accounts anyway."),
           ("", "zhang.wei")),
]
COLUMN_KEYS = [column.key for column in COLUMNS]
PERSON_COLUMNS = ("email", "first_name", "last_name", "role", "title", "timezone")
ACCOUNT_COLUMNS = ("platform", "handle", "display_name", "tier", "account_timezone", "operator")
# Columns holding codes rather than prose: full-width characters typed with a Chinese input method
# (＠, ，, ａ) are folded to their ASCII forms.
CODE_COLUMNS = {"username", "email", "role", "dealer_code", "brand", "timezone", "platform", "tier",
                "account_timezone", "operator"}

ROLE_ALIASES = {
    Role.ADMIN: ("管理员", "administrator", "系统管理员"),
    Role.MARKETER: ("市场", "市场部", "营销", "市场营销"),
    Role.REVIEWER: ("审核", "审核员", "审核人"),
    Role.EXECUTIVE: ("高管",),
    Role.EMPLOYEE: ("员工", "普通员工"),
    Role.DEALER_OPERATOR: ("经销商运营", "门店运营"),
}
TIER_ALIASES = {
    Tier.BRAND: ("品牌", "品牌号", "品牌账号", "官方账号"),
    Tier.SELF_OPERATED: ("自营", "自营号", "自营账号"),
    Tier.DEALER: ("经销商", "门店", "经销商账号", "门店账号", "store"),
    Tier.EXECUTIVE: ("高管", "高管账号"),
    Tier.EMPLOYEE: ("员工", "员工账号", "koc"),
}
PLATFORM_ALIASES = {"公众号": "wechat_oa", "视频号": "wechat_channels", "红书": "xiaohongshu", "b站": "bilibili",
                    "twitter": "x", "推特": "x"}
_OPERATOR_SEPARATORS = re.compile(r"[\s,;，；、|]+")
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _fold(text):
    """Compare codes the way people type them: width, case, spaces, _ - / and a trailing * ignored."""
    text = unicodedata.normalize("NFKC", str(text)).strip(_INVISIBLE + " \t\r\n*").casefold()
    return re.sub(r"[\s_\-/]+", "", text)


def _same(given, stored):
    """Whether a cell says the same as a stored value: width, case and outer spaces aside."""
    return unicodedata.normalize("NFKC", given).strip().casefold() == \
        unicodedata.normalize("NFKC", stored).strip().casefold()


def _header_key(text):
    # Headers may carry hints: "用户名（必填）", "Email (required)".
    text = re.sub(r"\(.*?\)", "", unicodedata.normalize("NFKC", str(text)))
    return _fold(text)


def _alias_map(pairs):
    mapping = {}
    for value, names in pairs:
        for name in names:
            mapping.setdefault(_fold(name), value)
    return mapping


def _labels_in_both_languages(label):
    names = [str(label)]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            names.append(str(label))
    return names


def _header_aliases():
    return _alias_map(
        (column.key, (column.key, *column.aliases, *_labels_in_both_languages(column.label))) for column in COLUMNS
    )


def _choice_aliases(choices, extra):
    return _alias_map(
        (value, (value, *_labels_in_both_languages(label), *extra.get(value, ()))) for value, label in choices
    )


# --- reading files ---------------------------------------------------------------------------

class ImportFileError(DomainError):
    """The file as a whole cannot be imported (type, size, encoding, header, row count)."""

    def __init__(self, message):
        super().__init__(message, field="file")


@dataclass
class Table:
    headers: list
    # (row number as the spreadsheet shows it, header being row 1; cells)
    rows: list


def _too_big_message():
    return _("The file is larger than %(size)s MB. Split it into smaller files.") % {
        "size": MAX_UPLOAD_BYTES // (1024 * 1024)}


def read_table(data, filename):
    """Bytes of a CSV (UTF-8 with or without BOM, GB18030, UTF-16) or XLSX file → Table."""
    name = filename.lower()
    if not data:
        raise ImportFileError(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("Old Excel files (.xls) are not supported: in Excel choose “Save as” → “Excel Workbook (.xlsx)” "
              "or “CSV UTF-8”."))
    elif name.endswith(".xlsx") or name.endswith(".xlsm"):
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx): it is damaged or not "
                                "really an Excel file."))
    elif name.endswith((".csv", ".txt", ".tsv")):
        rows = _csv_rows(data)
    else:
        raise ImportFileError(_("Unsupported file type: upload a CSV (.csv) or Excel (.xlsx) file."))
    return _table_from_rows(rows)


def _decode(data):
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # What Excel writes as "CSV (comma delimited)" on a Chinese Windows (code page 936, GBK);
        # GB18030 is its superset.
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file's text encoding was not recognised: save it as “CSV UTF-8” in Excel.")) from None


def _csv_rows(data):
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Each record is one spreadsheet row, even when a quoted cell spans lines.
        yield from reader
    except csv.Error as exc:
        raise ImportFileError(
            _("The CSV file could not be read near line %(line)s: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from exc


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a dealer code typed as 1001 comes back as 1001.0
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is broken
        raise ImportFileError(
            _("The file could not be read as an Excel workbook (.xlsx): it is damaged or not really an Excel "
              "file.")) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The workbook has no sheet."))
        sheet = workbook.worksheets[0]
        try:
            for values in sheet.iter_rows(values_only=True):
                yield [_cell_text(value) for value in values]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise ImportFileError(_("The Excel workbook is damaged: %(error)s") % {"error": exc}) from exc
    finally:
        workbook.close()


def _clean_cell(text):
    return str(text).strip(_INVISIBLE + " \t\r\n\u00a0\u3000")


def _table_from_rows(rows):
    headers = None
    table_rows = []
    for number, cells in enumerate(rows, start=1):
        cells = [_clean_cell(cell) for cell in cells]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
            continue
        table_rows.append((number, cells))
        if len(table_rows) > MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(max)s rows. Split it into smaller files.") % {"max": f"{MAX_ROWS:,}"})
    if headers is None:
        raise ImportFileError(_("The file is empty: the first row must name the columns."))
    return Table(headers=headers, rows=table_rows)


# --- validating -------------------------------------------------------------------------------

@dataclass(eq=False)  # compared by identity: one plan per person
class PersonPlan:
    key: str  # the username, case-folded
    username: str
    first_row: int
    brand: Brand | None = None
    existing: User | None = None
    fields: dict = field(default_factory=dict)  # user_create's fields, for a new person
    raw: dict = field(default_factory=dict)  # the first row's person cells, to compare later rows with
    valid: bool = True
    user: User | None = None  # once created

    @property
    def is_new(self):
        return self.existing is None


@dataclass
class AccountPlan:
    fields: dict
    operator_names: list
    operators: list = field(default_factory=list)  # User or PersonPlan


@dataclass
class RowPlan:
    number: int
    values: dict
    errors: list = field(default_factory=list)
    person: PersonPlan | None = None
    account: AccountPlan | None = None
    status: str = ""

    @property
    def valid(self):
        return not self.errors

    def error(self, column, message, value=None):
        self.errors.append({
            "column": column,
            "value": self.values.get(column, "") if value is None else value,
            "message": str(message),
        })


@dataclass
class ImportPlan:
    columns: list
    headers: dict
    ignored_columns: list
    rows: list
    people: dict

    @property
    def valid_rows(self):
        return [row for row in self.rows if row.valid]

    @property
    def invalid_count(self):
        return sum(1 for row in self.rows if not row.valid)

    def people_to_create(self, rows=None):
        rows = self.valid_rows if rows is None else rows
        seen = {}
        for row in rows:
            if row.person is not None and row.person.is_new and row.person.valid:
                seen.setdefault(row.person.key, row.person)
        return list(seen.values())

    def summary(self):
        valid = self.valid_rows
        return {
            "rows": len(self.rows),
            "valid": len(valid),
            "invalid": len(self.rows) - len(valid),
            "new_people": len(self.people_to_create(valid)),
            "new_accounts": sum(1 for row in valid if row.account is not None),
        }

    def report(self):
        return {
            "version": REPORT_VERSION,
            "language": translation.get_language(),
            "columns": self.columns,
            "headers": self.headers,
            "ignored_columns": self.ignored_columns,
            "summary": self.summary(),
            "rows": [_row_report(row) for row in self.rows],
        }


def _row_report(row):
    account = row.account.fields if row.account is not None else None
    return {
        "row": row.number,
        "valid": row.valid,
        "status": row.status or ("valid" if row.valid else "invalid"),
        "values": row.values,
        "errors": row.errors,
        "person": ("" if row.person is None else "new" if row.person.is_new else "existing"),
        "account": account["tier"] if account else "",
    }


class _Lookups:
    """Everything validation needs, loaded with a fixed number of queries."""

    def __init__(self, *, actor, rows):
        self.brands = {brand.slug.casefold(): brand for brand in Brand.objects.all()}
        self.brands_by_id = {brand.pk: brand for brand in self.brands.values()}
        if actor is not None and actor.brand_id in self.brands_by_id:
            self.default_brand = self.brands_by_id[actor.brand_id]
        elif len(self.brands) == 1:
            self.default_brand = next(iter(self.brands.values()))
        else:
            self.default_brand = None
        self.dealers = {}
        for dealer in Dealer.objects.all():
            self.dealers[(dealer.brand_id, dealer.code)] = dealer
            self.dealers.setdefault((dealer.brand_id, _fold(dealer.code)), dealer)
        self.departments = {}
        for department in Department.objects.all():
            self.departments[(department.brand_id, department.name.casefold())] = department
            self.departments.setdefault((department.brand_id, _fold(department.name)), department)
        self.platforms = {}
        platforms = list(Platform.objects.all())
        by_slug = {platform.slug: platform for platform in platforms}
        for platform in platforms:
            for name in (platform.slug, platform.name, platform.name_zh):
                if name:
                    self.platforms.setdefault(_fold(name), platform)
        for alias, slug in PLATFORM_ALIASES.items():
            if slug in by_slug:
                self.platforms.setdefault(_fold(alias), by_slug[slug])
        self.platform_slugs = [platform.slug for platform in platforms]
        self.timezones = {name.casefold(): name for name in all_timezones()}

        usernames, emails, handles = set(), set(), set()
        for row in rows:
            values = row.values
            # lower(), as the database's LOWER() (casefold would turn ß into ss).
            if values.get("username"):
                usernames.add(values["username"].lower())
            for name in _OPERATOR_SEPARATORS.split(values.get("operator", "")):
                if name:
                    usernames.add(name.lower())
            if values.get("email"):
                emails.add(values["email"].lower())
            if values.get("handle"):
                handles.add(_handle(values["handle"]).lower())
        users = User.objects.select_related("brand", "department", "dealer")
        self.users = {
            user.username.casefold(): user
            for user in users.annotate(folded=Lower("username")).filter(folded__in=usernames)
        } if usernames else {}
        self.users_by_email = {
            user.email.casefold(): user
            for user in users.annotate(folded=Lower("email")).filter(folded__in=emails)
        } if emails else {}
        # The unique index is on (lower(handle), platform): this is an index lookup.
        self.handles = set(
            SocialAccount.objects.annotate(folded=Lower("handle")).filter(folded__in=handles)
            .values_list("platform_id", "folded")
        ) if handles else set()
        self.brand_accounts = set(
            SocialAccount.objects.filter(tier=Tier.BRAND).exclude(status=AccountStatus.ARCHIVED)
            .values_list("brand_id", "platform_id")
        )

    def dealer(self, brand, code):
        return self.dealers.get((brand.pk, code)) or self.dealers.get((brand.pk, _fold(code)))

    def department(self, brand, name):
        return self.departments.get((brand.pk, name.casefold())) or self.departments.get((brand.pk, _fold(name)))


def _handle(text):
    return text.strip().lstrip("@＠").strip()


def _max_length(model, name):
    return model._meta.get_field(name).max_length


class _Validator:
    def __init__(self, *, table, actor):
        self.actor = actor
        self.header_aliases = _header_aliases()
        self.roles = _choice_aliases(Role.choices, ROLE_ALIASES)
        self.tiers = _choice_aliases(Tier.choices, TIER_ALIASES)
        self.username_validator = UnicodeUsernameValidator()
        self.header_count = len(table.headers)
        self.columns, self.headers, self.ignored, self.positions = self._map_headers(table.headers)
        self.rows = [self._row(number, cells) for number, cells in table.rows]
        self.people = {}  # username (case-folded) → PersonPlan
        self.file_emails = {}  # email (case-folded) → PersonPlan of the file using it
        self.file_handles = {}  # (platform id, handle lower-cased) → row number
        self.file_brand_accounts = {}  # (brand id, platform id) → row number

    def _map_headers(self, headers):
        columns, names, ignored, positions = [], {}, [], {}
        for index, header in enumerate(headers):
            key = self.header_aliases.get(_header_key(header))
            if key is None:
                if header:
                    ignored.append(header)
                continue
            if key in positions:
                raise ImportFileError(
                    _("The columns “%(first)s” and “%(second)s” both mean %(column)s: keep one.")
                    % {"first": names[key], "second": header, "column": key})
            positions[key] = index
            names[key] = header
            columns.append(key)
        if "username" not in positions and "handle" not in positions:
            raise ImportFileError(
                _("The first row must name the columns, with at least username (用户名) or handle (账号). "
                  "Download the template to see them."))
        return columns, names, ignored, positions

    def _row(self, number, cells):
        values = {}
        for key, index in self.positions.items():
            value = cells[index] if index < len(cells) else ""
            if key in CODE_COLUMNS:
                value = unicodedata.normalize("NFKC", value).strip()
            values[key] = value
        row = RowPlan(number=number, values=values)
        extra = [cell for cell in cells[self.header_count:] if cell]
        if extra:
            row.error("", _("This row has more cells than the first row has column names."), value=extra[-1])
        return row

    def run(self):
        self.lookups = _Lookups(actor=self.actor, rows=self.rows)
        for row in self.rows:
            self._check_row(row)
        self._check_people()
        self._resolve_operators()
        return ImportPlan(columns=self.columns, headers=self.headers, ignored_columns=self.ignored,
                          rows=self.rows, people=self.people)

    # ---- one row ----

    def _check_row(self, row):
        values = row.values
        person = row.person = self._person(row)
        brand = self._brand(row, person)
        if person is not None and person.is_new and person.first_row == row.number:
            self._new_person_fields(row, person, brand)
        has_account = any(values.get(name) for name in ACCOUNT_COLUMNS)
        if has_account:
            self._account(row, person, brand)
        elif person is None:
            if any(values.get(name) for name in ("dealer_code", "department", "brand")):
                row.error("handle", _("Give a username for a person, or a platform and handle for an account."))
        elif not person.is_new:
            row.error("username", _("%(username)s already exists and this row names no account to add.")
                      % {"username": person.username})
        code = values.get("dealer_code")
        tier = self.tiers.get(_fold(values.get("tier", "")))
        dealer_operator = person is not None and person.is_new and person.fields.get("role") == Role.DEALER_OPERATOR
        if dealer_operator and code and person.fields.get("dealer") is None and brand is not None:
            # A dealer operator belongs to the dealer named on their first row that names one.
            dealer = self.lookups.dealer(brand, code)
            if dealer is not None:
                person.fields["dealer"] = dealer
            elif not any(error["column"] == "dealer_code" for error in row.errors):
                row.error("dealer_code", _("Unknown dealer code of %(brand)s.") % {"brand": brand})
        if code and not dealer_operator and not (has_account and tier == Tier.DEALER):
            if not any(error["column"] == "dealer_code" for error in row.errors):
                row.error("dealer_code", _("A dealer code belongs to a dealer account or a dealer operator."))

    def _person(self, row):
        values = row.values
        username, email = values.get("username", ""), values.get("email", "")
        if username:
            key = username.casefold()
            existing = self.lookups.users.get(key)
        elif email:
            # No username: the person whose email this is, in the file or already registered.
            owner = self.file_emails.get(email.casefold())
            existing = self.lookups.users_by_email.get(email.casefold())
            if owner is not None:
                key = owner.key
            elif existing is not None:
                key = existing.username.casefold()
            else:
                row.error("username", _("A new person needs a username."))
                return None
        else:
            if any(values.get(name) for name in PERSON_COLUMNS):
                row.error("username", _("Give the username of the person these details belong to."))
            return None

        person = self.people.get(key)
        if person is None:
            person = PersonPlan(key=key, username=existing.username if existing else username, first_row=row.number,
                                existing=existing)
            self.people[key] = person
            if existing is not None:
                self._existing_person(row, person)
            return person
        # A later row of someone already in the file: its person cells must agree with the first.
        if person.is_new:
            for name in PERSON_COLUMNS + ("department",):
                given, first = values.get(name, ""), person.raw.get(name, "")
                if name == "role":
                    same = self.roles.get(_fold(given)) == person.fields.get("role")
                else:
                    same = _same(given, first)
                if given and not same:
                    row.error(name, _("Differs from the person's first row (row %(row)s: “%(value)s”); the rows of "
                                      "one person must agree.") % {"row": person.first_row, "value": first})
        else:
            self._compare_with_existing(row, person)
        return person

    def _existing_person(self, row, person):
        user = person.existing
        person.brand = user.brand
        if not user.is_active:
            row.error("username", _("%(username)s has been offboarded.") % {"username": user.username})
            person.valid = False
        self._compare_with_existing(row, person)

    def _compare_with_existing(self, row, person):
        user = person.existing
        stored = {
            "email": user.email, "first_name": user.first_name, "last_name": user.last_name, "role": user.role,
            "title": user.title, "timezone": user.timezone,
            "department": user.department.name if user.department_id else "",
        }
        for name, value in stored.items():
            given = row.values.get(name, "")
            if not given:
                continue
            if name == "role":
                same = self.roles.get(_fold(given)) == value
            else:
                same = _same(given, value)
            if not same:
                row.error(name, _("%(username)s is already registered with “%(stored)s”; the import does not change "
                                  "people, only adds their accounts.") % {"username": user.username, "stored": value})
        if not user.is_active and row.number != person.first_row:
            row.error("username", _("%(username)s has been offboarded.") % {"username": user.username})

    def _brand(self, row, person):
        given = row.values.get("brand", "")
        if given:
            brand = self.lookups.brands.get(given.casefold()) or self.lookups.brands.get(_fold(given))
            if brand is None:
                row.error("brand", _("Unknown brand. Use one of: %(choices)s.")
                          % {"choices": ", ".join(sorted(self.lookups.brands)) or "—"})
                return None
            if person is not None and person.is_new and person.brand is not None and person.brand != brand:
                row.error("brand", _("Differs from the person's first row (row %(row)s: “%(value)s”); the rows of "
                                     "one person must agree.") % {"row": person.first_row, "value": person.brand.slug})
            return brand
        if person is not None and person.brand is not None:
            return person.brand
        if self.lookups.default_brand is None:
            row.error("brand", _("Several brands exist: name the brand (its slug) on every row."))
        return self.lookups.default_brand

    def _new_person_fields(self, row, person, brand):
        """Check the first row of a new person; errors here make the person (and all their rows) invalid."""
        values = row.values
        errors_before = len(row.errors)
        person.brand = brand
        person.raw = {name: values.get(name, "") for name in PERSON_COLUMNS + ("department",)}
        username = values.get("username", "")
        try:
            self.username_validator(username)
        except ValidationError as exc:
            row.error("username", exc.messages[0])
        self._length(row, User, "username")
        email = User.objects.normalize_email(values.get("email", ""))
        if not email:
            row.error("email", _("A new person needs an email address: the invitation is sent there."))
        else:
            try:
                validate_email(email)
            except ValidationError:
                row.error("email", _("Not a valid email address."))
            else:
                folded = email.casefold()
                if folded in self.lookups.users_by_email:
                    row.error("email", _("%(username)s is already registered with this email address.")
                              % {"username": self.lookups.users_by_email[folded].username})
                elif folded in self.file_emails:
                    other = self.file_emails[folded]
                    row.error("email", _("Row %(row)s gives this email address to %(username)s.")
                              % {"row": other.first_row, "username": other.username})
                else:
                    self.file_emails[folded] = person
        role = Role.EMPLOYEE
        if values.get("role"):
            role = self.roles.get(_fold(values["role"]))
            if role is None:
                row.error("role", _("Unknown role. Use one of: %(choices)s.") % {"choices": ", ".join(Role.values)})
        for name in ("first_name", "last_name", "title"):
            self._length(row, User, name)
        department = None
        if values.get("department") and brand is not None:
            department = self.lookups.department(brand, values["department"])
            if department is None:
                row.error("department", _("Unknown department of %(brand)s.") % {"brand": brand})
        time_zone = brand.timezone if brand else "Asia/Shanghai"
        if values.get("timezone"):
            time_zone = self.lookups.timezones.get(values["timezone"].casefold())
            if time_zone is None:
                row.error("timezone", _("“%(value)s” is not an IANA time zone (for example Asia/Shanghai).")
                          % {"value": values["timezone"]})
        person.fields = {
            "username": username, "email": email, "first_name": values.get("first_name", ""),
            "last_name": values.get("last_name", ""), "role": role, "brand": brand, "department": department,
            "dealer": None, "title": values.get("title", ""), "timezone": time_zone,
        }
        if len(row.errors) > errors_before or brand is None:
            person.valid = False

    def _length(self, row, model, name, column=None):
        column = column or name
        limit = _max_length(model, name)
        if len(row.values.get(column, "")) > limit:
            row.error(column, _("Too long: at most %(max)s characters.") % {"max": limit})

    def _account(self, row, person, brand):
        values = row.values
        platform = None
        if not values.get("platform"):
            row.error("platform", _("An account needs its platform."))
        else:
            platform = self.lookups.platforms.get(_fold(values["platform"]))
            if platform is None:
                row.error("platform", _("Unknown platform. Use one of: %(choices)s.")
                          % {"choices": ", ".join(self.lookups.platform_slugs)})
        handle = _handle(values.get("handle", ""))
        if not handle:
            row.error("handle", _("An account needs its handle."))
        elif len(handle) > _max_length(SocialAccount, "handle"):
            row.error("handle", _("Too long: at most %(max)s characters.") % {"max": _max_length(SocialAccount, "handle")})
        self._length(row, SocialAccount, "display_name")
        tier = None
        if not values.get("tier"):
            row.error("tier", _("An account needs its tier: %(choices)s.") % {"choices": ", ".join(Tier.values)})
        else:
            tier = self.tiers.get(_fold(values["tier"]))
            if tier is None:
                row.error("tier", _("Unknown tier. Use one of: %(choices)s.") % {"choices": ", ".join(Tier.values)})
        if tier in PERSONAL_TIERS and person is None and not any(e["column"] == "username" for e in row.errors):
            row.error("username", _("Executive and employee accounts are personal: give the owner's username."))
        if tier in PERSONAL_TIERS and person is not None and not person.is_new and brand is not None \
                and person.existing.brand_id not in (None, brand.pk):
            # As account_create: a personal account belongs to its owner's brand.
            row.error("brand", _("The owner works for another brand."))
        dealer = None
        if tier == Tier.DEALER:
            if not values.get("dealer_code"):
                row.error("dealer_code", _("A dealer account must name its dealer."))
            elif brand is not None:
                dealer = self.lookups.dealer(brand, values["dealer_code"])
                if dealer is None:
                    row.error("dealer_code", _("Unknown dealer code of %(brand)s.") % {"brand": brand})
        if platform is not None and handle:
            key = (platform.pk, handle.lower())  # as the unique index: (lower(handle), platform)
            if key in self.lookups.handles:
                row.error("handle", _("This handle is already registered on this platform."))
            elif key in self.file_handles:
                row.error("handle", _("Row %(row)s has the same handle on this platform.")
                          % {"row": self.file_handles[key]})
            else:
                self.file_handles[key] = row.number
        if tier == Tier.BRAND and platform is not None and brand is not None:
            key = (brand.pk, platform.pk)
            if key in self.lookups.brand_accounts:
                row.error("tier", _("This brand already has a brand account on this platform."))
            elif key in self.file_brand_accounts:
                row.error("tier", _("Row %(row)s already adds a brand account for this brand and platform.")
                          % {"row": self.file_brand_accounts[key]})
            else:
                self.file_brand_accounts[key] = row.number
        department = None
        if person is None and values.get("department") and brand is not None:
            department = self.lookups.department(brand, values["department"])
            if department is None:
                row.error("department", _("Unknown department of %(brand)s.") % {"brand": brand})
        account_timezone = values.get("account_timezone")
        if account_timezone:
            account_timezone = self.lookups.timezones.get(account_timezone.casefold())
            if account_timezone is None:
                row.error("account_timezone", _("“%(value)s” is not an IANA time zone (for example Asia/Shanghai).")
                          % {"value": values["account_timezone"]})
        elif person is not None and person.is_new:
            account_timezone = person.fields.get("timezone")
        elif person is not None:
            account_timezone = person.existing.timezone
        account_timezone = account_timezone or (brand.timezone if brand else "Asia/Shanghai")
        if platform is None or not handle or tier is None or brand is None:
            return
        personal = tier in PERSONAL_TIERS
        row.account = AccountPlan(
            fields={
                "brand": brand, "platform": platform, "handle": handle, "display_name": values.get("display_name", ""),
                "tier": tier, "ownership": Ownership.PERSONAL if personal else Ownership.COMPANY,
                # Same rule as account_create: a personal account waits for its owner's consent.
                "status": AccountStatus.PENDING if personal else AccountStatus.ACTIVE,
                "dealer": dealer, "department": department, "timezone": account_timezone,
            },
            operator_names=[name for name in _OPERATOR_SEPARATORS.split(values.get("operator", "")) if name],
        )

    # ---- across rows ----

    def _check_people(self):
        for person in self.people.values():
            if person.is_new and person.valid and person.fields.get("role") == Role.DEALER_OPERATOR \
                    and person.fields.get("dealer") is None:
                first = next(row for row in self.rows if row.number == person.first_row)
                first.error("dealer_code", _("A dealer operator must belong to a dealer."))
                person.valid = False
        for row in self.rows:
            person = row.person
            if person is not None and person.is_new and not person.valid and row.valid:
                # Only rows after the first get here (the first row carries the person's errors).
                row.error("username", _("The person's details on row %(row)s have errors.") % {"row": person.first_row})

    def _resolve_operators(self):
        colleagues = {}  # existing people named only as operators
        for row in self.rows:
            account = row.account
            if account is None:
                continue
            person = row.person
            if person is not None and account.fields["tier"] in PERSONAL_TIERS:
                account.fields["owner"] = person
            elif person is not None:
                account.operators.append(person)  # the person on the row runs their company account
            for name in account.operator_names:
                operator = self.people.get(name.casefold())
                if operator is None:
                    user = self.lookups.users.get(name.casefold())
                    if user is None:
                        row.error("operator", _("Unknown operator “%(username)s”: nobody has this username, here or "
                                                "in the file.") % {"username": name}, value=name)
                        continue
                    operator = colleagues.setdefault(
                        user.pk, PersonPlan(key=name.casefold(), username=user.username, first_row=0, existing=user))
                if operator.existing is not None and not operator.existing.is_active:
                    row.error("operator", _("%(username)s has been offboarded.") % {"username": operator.username},
                              value=name)
                elif operator not in account.operators:
                    account.operators.append(operator)
        # A row run by someone who is only on rows with errors cannot be imported either; skipping
        # it may in turn leave other people out, so repeat until nothing changes.
        changed = True
        while changed:
            changed = False
            created = {person.key for person in _people_created(self.rows)}
            for row in self.rows:
                if not row.valid or row.account is None:
                    continue
                for operator in row.account.operators:
                    if operator.is_new and operator.key not in created and operator is not row.person:
                        row.error("operator", _("%(username)s is only on rows with errors.")
                                  % {"username": operator.username}, value=operator.username)
                        changed = True
                        break


def _people_created(rows):
    return [row.person for row in rows if row.valid and row.person is not None and row.person.is_new
            and row.person.valid]


def import_validate(*, table, actor):
    """Check every row of `table` against the rules and the database; returns an ImportPlan.

    Writes nothing. The number of queries does not depend on the number of rows."""
    return _Validator(table=table, actor=actor).run()


# --- applying ---------------------------------------------------------------------------------

def import_refusal(plan, skip_invalid):
    """Why the plan may not be applied as it stands, or None."""
    valid = len(plan.valid_rows)
    if valid == 0:
        return _("No row can be imported: every row has errors.")
    if plan.invalid_count and not skip_invalid:
        return _("%(count)s of %(total)s rows have errors, so nothing was imported. Fix them and upload the file "
                 "again, or choose to skip the rows with errors.") % {"count": plan.invalid_count,
                                                                      "total": len(plan.rows)}
    return None


def _read_bytes(uploaded):
    size = getattr(uploaded, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ImportFileError(_too_big_message())
    data = uploaded.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_too_big_message())
    return data


def import_check(*, actor, uploaded_file):
    """Read and validate an upload without storing anything: (file bytes, ImportPlan).

    Raises ImportFileError (field `file`) when the file as a whole cannot be read."""
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    data = _read_bytes(uploaded_file)
    table = read_table(data, getattr(uploaded_file, "name", "") or "")
    return data, import_validate(table=table, actor=actor)


def import_job_create(*, actor, filename, data, plan, skip_invalid=False):
    """Store a previewed upload: the file (for the re-check at confirm time) and its report."""
    job = ImportJob(
        created_by=actor, filename=filename[:255], skip_invalid=skip_invalid, total_rows=len(plan.rows),
        valid_rows=len(plan.valid_rows), report=plan.report(),
    )
    job.file.save(filename or "import.csv", ContentFile(data), save=False)
    job.save()
    return job


def import_preview(*, actor, uploaded_file, skip_invalid=False):
    """Upload step: read and check the file, store it with its report (status `previewed`).

    Nothing but the ImportJob is written. Raises ImportFileError for a file that cannot be read."""
    data, plan = import_check(actor=actor, uploaded_file=uploaded_file)
    filename = getattr(uploaded_file, "name", "") or "import.csv"
    return import_job_create(actor=actor, filename=filename, data=data, plan=plan, skip_invalid=skip_invalid)


def import_confirm(*, actor, job, skip_invalid):
    """Confirm step: apply a previewed import now, or queue it for a worker when it is large.

    Raises DomainError when the import was already confirmed, or when the preview found rows with
    errors and the admin did not choose to skip them."""
    from .tasks import import_job_apply

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.PREVIEWED:
            raise DomainError(_("This import has already been confirmed."))
        summary = job.report.get("summary", {})
        if not summary.get("valid"):
            raise DomainError(_("No row can be imported: every row has errors."), field="file")
        if summary.get("invalid") and not skip_invalid:
            raise DomainError(
                _("%(count)s of %(total)s rows have errors, so nothing was imported. Fix them and upload the file "
                  "again, or choose to skip the rows with errors.")
                % {"count": summary["invalid"], "total": summary.get("rows", job.total_rows)},
                field="skip_invalid",
            )
        job.skip_invalid = skip_invalid
        job.status = ImportJob.Status.QUEUED
        job.error = ""
        job.processed_rows = 0
        job.save(update_fields=["skip_invalid", "status", "error", "processed_rows"])
        if job.total_rows > settings.IMPORT_ASYNC_THRESHOLD:
            transaction.on_commit(partial(_enqueue, import_job_apply, job))
            return job
    return import_job_run(job_id=job.pk)


def _enqueue(task, job):
    try:
        task.delay(job.pk)
    except Exception:
        # The broker is unreachable: say so and let the admin confirm again, rather than leave the
        # job queued for a worker that will never hear of it.
        logger.exception("could not queue import job %s", job.pk)
        message = _("The background worker could not be reached, so nothing was imported. Try confirming again "
                    "in a moment.")
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
            status=ImportJob.Status.PREVIEWED, error=message)
        job.status, job.error = ImportJob.Status.PREVIEWED, message


class JobProgress:
    """Moves ImportJob.processed_rows where the page polling it can see it.

    The import's own transaction hides every write until it commits, so progress goes through a
    second connection in autocommit mode that touches nothing but the job row. (SQLite allows one
    writer at a time, so there the bar just jumps to the end.)"""

    def __init__(self, job_id):
        self.job_id = job_id
        self.connection = None

    def __enter__(self):
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        return self

    def __exit__(self, *exc_info):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def __call__(self, processed, status=None):
        if self.connection is None:
            return
        table = connection.ops.quote_name(ImportJob._meta.db_table)
        with self.connection.cursor() as cursor:
            if status:
                cursor.execute(f"UPDATE {table} SET processed_rows = %s, status = %s WHERE id = %s",
                               [processed, status, self.job_id])
            else:
                cursor.execute(f"UPDATE {table} SET processed_rows = %s WHERE id = %s", [processed, self.job_id])


class _Refused(Exception):
    def __init__(self, plan, message):
        super().__init__(message)
        self.plan = plan
        self.message = message


def _lock_job(job_id):
    """One worker at a time per job. A second delivery of the task (Redis redelivers after the
    visibility timeout, acks_late re-runs after a crash) finds the lock taken and stops, or finds
    the job done once it gets it. The lock ends with the transaction, also when the worker dies."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_JOB_LOCK_KEY, job_id])
        return cursor.fetchone()[0]


def import_job_run(*, job_id, progress=None):
    """Re-check the stored file against the database as it is now and apply it in one transaction.

    All or nothing, unless the job says to skip rows with errors. When rows have errors (the
    database changed since the preview) nothing is written and the job goes back to `previewed`
    with the new report and `error` saying why. Safe to run twice: a job that is done, or being
    applied by someone else, is left alone. `progress(processed_rows)` is called as rows are written.
    Returns the job."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    progress = progress or (lambda processed, status=None: None)
    language = job.report.get("language") or settings.LANGUAGE_CODE
    plan = None
    with translation.override(language):
        try:
            progress(0, status=ImportJob.Status.RUNNING)
            with transaction.atomic():
                if not _lock_job(job.pk):
                    return job
                job.refresh_from_db()
                if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
                    return job
                with job.file.open("rb") as handle:
                    data = handle.read()
                plan = import_validate(table=read_table(data, job.filename), actor=job.created_by)
                refusal = import_refusal(plan, job.skip_invalid)
                if refusal:
                    raise _Refused(plan, refusal)
                result = _apply(plan=plan, actor=job.created_by, job=job, progress=progress)
                job.status = ImportJob.Status.DONE
                job.error = ""
                job.total_rows = len(plan.rows)
                job.valid_rows = len(plan.valid_rows)
                job.processed_rows = len(plan.rows)
                job.report = {**plan.report(), "result": result}
                job.finished_at = timezone.now()
                job.save()
        except _Refused as exc:
            _back_to_preview(job, exc.plan, exc.message)
        except IntegrityError:
            # Validation passed but a concurrent change won a database constraint (say the same
            # handle registered a moment ago): nothing was written.
            logger.warning("import job %s collided with a concurrent change", job.pk, exc_info=True)
            _back_to_preview(job, plan, _("Someone changed the matrix while this file was being imported, so nothing "
                                          "was imported. Check the file again and confirm."))
        except ImportFileError as exc:
            _finish_failed(job, exc.message)
        except Exception:
            logger.exception("import job %s failed", job.pk)
            _finish_failed(job, _("The import failed unexpectedly; nothing was imported. The error has been logged."))
    return job


def _back_to_preview(job, plan, message):
    job.status = ImportJob.Status.PREVIEWED
    job.error = message
    job.processed_rows = 0
    if plan is not None:
        job.report = plan.report()
        job.total_rows = len(plan.rows)
        job.valid_rows = len(plan.valid_rows)
    job.save()


def _finish_failed(job, message):
    job.status = ImportJob.Status.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])


def _account_snapshot(account, operator_ids):
    # Same content as matrix.services.account_snapshot, without a query per account.
    data = {name: getattr(account, name) for name in AUDITED_FIELDS}
    data["operator_ids"] = sorted(operator_ids)
    return data


def _user_of(person):
    if person is None:
        return None
    return person.existing if person.existing is not None else person.user


def _apply(*, plan, actor, job, progress):
    rows = plan.valid_rows
    people = plan.people_to_create(rows)
    users = []
    for person in people:
        fields = person.fields
        user = User(
            username=fields["username"], email=fields["email"], first_name=fields["first_name"],
            last_name=fields["last_name"], role=fields["role"], brand=fields["brand"],
            department=fields["department"], dealer=fields["dealer"], title=fields["title"],
            timezone=fields["timezone"], is_staff=fields["role"] == Role.ADMIN,
        )
        # No password: like user_create, an invitation to choose one is sent after commit.
        user.set_unusable_password()
        person.user = user
        users.append(user)
    User.objects.bulk_create(users, batch_size=CHUNK_ROWS)
    # The role is mirrored into a group of the same name, as _sync_role_group does.
    groups = {role: Group.objects.get_or_create(name=role)[0].pk for role in {user.role for user in users}}
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=user.pk, group_id=groups[user.role]) for user in users], batch_size=CHUNK_ROWS
    )
    events = [{"action": "accounts.user.create", "obj": user, "after": user_snapshot(user)} for user in users]

    accounts = []
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start:start + CHUNK_ROWS]
        created = []
        for row in chunk:
            if row.account is None:
                continue
            fields = dict(row.account.fields)
            fields["owner"] = _user_of(fields.pop("owner", None))
            account = SocialAccount(**fields)
            operator_ids = list(dict.fromkeys(_user_of(operator).pk for operator in row.account.operators))
            created.append((account, operator_ids))
        SocialAccount.objects.bulk_create([account for account, _ids in created])
        SocialAccount.operators.through.objects.bulk_create([
            SocialAccount.operators.through(socialaccount_id=account.pk, user_id=user_id)
            for account, operator_ids in created for user_id in operator_ids
        ])
        for account, operator_ids in created:
            events.append({
                "action": "matrix.account.create", "obj": account, "after": _account_snapshot(account, operator_ids),
            })
            accounts.append(account)
        progress(start + len(chunk))

    skipped = [row.number for row in plan.rows if not row.valid]
    for row in plan.rows:
        row.status = "imported" if row.valid else "skipped"
    result = {
        "imported_rows": len(rows), "skipped_rows": len(skipped), "users": len(users), "accounts": len(accounts),
        "invitations": sum(1 for user in users if user.email),
    }
    events.append({"action": "accounts.import.apply", "obj": job, "after": {
        "filename": job.filename, "rows": len(plan.rows), "imported_rows": len(rows), "skipped_rows": skipped,
        "user_ids": [user.pk for user in users], "account_ids": [account.pk for account in accounts],
    }})
    audit_record_many(actor=actor, events=events, batch_size=CHUNK_ROWS)
    language = translation.get_language()
    invited = [user.pk for user in users if user.email]
    transaction.on_commit(partial(_send_invitations, invited, language))
    return result


def _send_invitations(user_ids, language):
    # After commit: one unreachable address must not stop the others, nor undo the import.
    for user in User.objects.filter(pk__in=user_ids).order_by("pk"):
        try:
            invitation_send(user=user, language=language)
        except Exception:
            logger.exception("could not send the invitation to user %s", user.pk)


# --- the template file ------------------------------------------------------------------------

def template_rows(*, actor=None, language=None):
    """The header row and two example rows: a new employee with their personal account, and a
    dealer account they run. Headers are in Chinese on the Chinese page; both languages import."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    chinese = language.lower().startswith("zh")
    headers = [column.aliases[0] if chinese else column.key for column in COLUMNS]
    examples = [dict(zip(COLUMN_KEYS, [column.examples[index] for column in COLUMNS], strict=True))
                for index in (0, 1)]
    brand = actor.brand if actor is not None and actor.brand_id else None
    if brand is None and Brand.objects.count() == 1:
        brand = Brand.objects.get()
    if brand is not None:
        dealer = Dealer.objects.filter(brand=brand).order_by("code").first()
        if dealer is not None:
            examples[1]["dealer_code"] = dealer.code
    if chinese:
        examples[0].update(role="员工", tier="员工", title="产品经理", display_name="张伟说车")
        examples[1].update(tier="经销商", display_name="极光汽车上海东店")
    return headers, [[example[key] for key in COLUMN_KEYS] for example in examples]


def template_csv(*, actor=None, language=None):
    headers, rows = template_rows(actor=actor, language=language)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    # The BOM makes Excel open the file as UTF-8 rather than the system code page.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(*, actor=None, language=None):
    import openpyxl
    from openpyxl.styles import Font

    headers, rows = template_rows(actor=actor, language=language)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "import"
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(1, len(COLUMNS) + 1):
        letter = openpyxl.utils.get_column_letter(index)
        sheet.column_dimensions[letter].width = 18
        # Text cells: Excel would turn a dealer code like 001 into the number 1.
        for cell in sheet[letter]:
            cell.number_format = "@"
    help_sheet = workbook.create_sheet("help")
    help_sheet.append([_("Column"), _("Also accepted"), _("Meaning")])
    for column in COLUMNS:
        help_sheet.append([column.key, ", ".join((str(column.label),) + column.aliases), str(column.help)])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    help_sheet.column_dimensions["A"].width = 18
    help_sheet.column_dimensions["B"].width = 40
    help_sheet.column_dimensions["C"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
