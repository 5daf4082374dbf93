"""Bulk import of people and accounts: the import service vs one service call per row.

Run from the repository root (needs the local PostgreSQL)::

    .venv/bin/python bench/import_people.py                    # 10,000 rows; naive path on 1,000
    .venv/bin/python bench/import_people.py --naive-rows 10000 # naive path on every row (minutes)

It (re)creates a throwaway database, `social_matrix_bench` (or BENCH_DATABASE_URL), migrates it, and
seeds one brand with 200 dealers and 12 departments. The file is generated from a seeded RNG: about
3,000 people with 1-4 accounts each (personal employee or executive accounts, or self-operated and
dealer accounts they run), then company accounts with no person (dealer and self-operated, run by
one or two of those people) and one brand account per platform, up to 10,000 rows, written as a UTF-8
CSV with BOM the way Excel saves it.

Measured in one run, on the same file and database:
- this change: `import_check` (read + validate, what the preview does), then `import_confirm`,
  which re-validates against the database, writes everything in one transaction with bulk inserts
  and the chained audit events, commits, and sends the invitations (locmem mail backend);
- the naive path: the same validated rows written with `user_create` and `account_create` one row
  at a time (each one validating, saving and appending its own audit event), invitations sent the
  same way, inside a transaction that is rolled back. On the first 1,000 rows by default: the time
  per user_create, per account_create and per invitation is then multiplied by the whole file's
  counts, and the output says so.
Goal: the whole import of 10,000 rows (preview + confirm) under 30 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.benchdb import recreate_database  # noqa: E402 (after the repository root is on the path)

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/social_matrix_bench")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["DEBUG"] = "1"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
os.environ["IMPORT_ASYNC_THRESHOLD"] = "1000000"  # apply in this process, not in a worker
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-import-"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

PEOPLE = 3000
DEALERS = 200
DEPARTMENTS = ["Sales", "Service", "Marketing", "HR", "Finance", "Legal", "Product", "R&D", "PR", "IT",
               "Logistics", "Training"]
HEADER = ["username", "email", "first_name", "last_name", "role", "department", "title", "dealer_code", "brand",
          "timezone", "platform", "handle", "display_name", "tier", "account_timezone", "operator"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


def seed():
    from accounts.models import Role, User
    from matrix.models import Brand, Dealer, Department

    brand = Brand.objects.create(name="Aurora Motors", slug="aurora", timezone="Asia/Shanghai")
    Dealer.objects.bulk_create([
        Dealer(brand=brand, code=f"D{i:04d}", name=f"Aurora store {i}", region=["East", "South", "North", "West"][i % 4])
        for i in range(DEALERS)
    ])
    Department.objects.bulk_create([Department(brand=brand, name=name) for name in DEPARTMENTS])
    admin = User.objects.create_user("bench.admin", "bench.admin@example.com", "x", role=Role.ADMIN, brand=brand,
                                     is_staff=True)
    return admin


def generate_rows(total, rng):
    from matrix.models import Platform  # the registry is seeded by the migrations

    platforms = list(Platform.objects.values_list("slug", flat=True))
    rows, handles = [], set()

    def handle(prefix):
        while True:
            value = f"{prefix}_{rng.randrange(10**7):07d}"
            if value not in handles:
                handles.add(value)
                return value

    usernames = []
    for i in range(PEOPLE):
        username = f"person{i:05d}"
        usernames.append(username)
        role = rng.choices(["employee", "executive", "marketer", "dealer_operator"], [70, 5, 15, 10])[0]
        dealer = f"D{rng.randrange(DEALERS):04d}" if role == "dealer_operator" else ""
        person = {
            "username": username, "email": f"{username}@example.com", "last_name": rng.choice(SURNAMES),
            "first_name": rng.choice(GIVEN) + rng.choice(GIVEN), "role": role,
            "department": rng.choice(DEPARTMENTS) if role != "dealer_operator" else "", "title": "专员",
            "dealer_code": dealer, "timezone": "Asia/Shanghai",
        }
        for index in range(rng.randint(1, 4)):
            cells = dict(person) if index == 0 else {"username": username}
            if role == "dealer_operator":
                tier = rng.choice(["dealer", "employee"])
            elif role == "executive":
                tier = rng.choice(["executive", "self_operated"])
            elif role == "marketer":
                tier = rng.choice(["self_operated", "employee"])
            else:
                tier = "employee"
            cells.update(platform=rng.choice(platforms), handle=handle(username), display_name=f"{username} 的账号",
                         tier=tier)
            if tier == "dealer":
                cells["dealer_code"] = dealer
            rows.append(cells)
    for slug in platforms:
        rows.append({"platform": slug, "handle": handle("aurora"), "display_name": "极光汽车", "tier": "brand"})
    while len(rows) < total:
        tier = rng.choice(["dealer", "dealer", "self_operated"])
        cells = {"platform": rng.choice(platforms), "handle": handle("store" if tier == "dealer" else "line"),
                 "display_name": "极光汽车门店", "tier": tier,
                 "operator": ",".join(rng.sample(usernames, rng.randint(1, 2)))}
        if tier == "dealer":
            cells["dealer_code"] = f"D{rng.randrange(DEALERS):04d}"
        rows.append(cells)
    return rows[:total]


def csv_bytes(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for cells in rows:
        writer.writerow([cells.get(column, "") for column in HEADER])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class Upload(io.BytesIO):
    def __init__(self, data, name):
        super().__init__(data)
        self.name = name
        self.size = len(data)


def naive(admin, rows):
    """One service call per row, as a caller without the bulk path would write it; rolled back.

    Returns the seconds spent in user_create, in account_create and in sending invitations, with
    how many of each, so that a partial run can be extrapolated per operation."""
    from django.db import transaction

    from accounts.services import invitation_send, user_create
    from matrix.services import account_create

    users = {}
    spent = {"users": 0.0, "accounts": 0.0, "invitations": 0.0}
    accounts = 0

    def user_of(person):
        if person.existing is not None:
            return person.existing
        if person.key not in users:
            began = time.perf_counter()
            users[person.key] = user_create(actor=admin, send_invitation=False, **person.fields)
            spent["users"] += time.perf_counter() - began
        return users[person.key]

    with transaction.atomic():
        for row in rows:
            if row.person is not None and row.person.is_new:
                user_of(row.person)
            if row.account is None:
                continue
            fields = dict(row.account.fields)
            owner = fields.pop("owner", None)
            fields.pop("ownership"), fields.pop("status")  # account_create decides these itself
            if owner is not None:
                fields["owner"] = user_of(owner)
            operators = [user_of(operator) for operator in row.account.operators]
            began = time.perf_counter()
            account_create(actor=admin, operators=operators, **fields)
            spent["accounts"] += time.perf_counter() - began
            accounts += 1
        began = time.perf_counter()
        for user in users.values():
            invitation_send(user=user)
        spent["invitations"] = time.perf_counter() - began
        transaction.set_rollback(True)
    return spent, len(users), accounts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--naive-rows", type=int, default=1_000,
                        help="rows written by the naive path (extrapolated to --rows when fewer)")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()

    recreate_database(DATABASE_URL)
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection, reset_queries

    from accounts import importing
    from accounts.models import User
    from approvals.models import AuditEvent
    from matrix.models import SocialAccount

    call_command("migrate", verbosity=0)
    admin = seed()
    rows = generate_rows(args.rows, random.Random(args.seed))
    data = csv_bytes(rows)
    print(f"Import benchmark: {len(rows):,} rows, {len(data) / 1024:,.0f} KiB CSV (UTF-8 with BOM), "
          f"PostgreSQL {connection.pg_version // 10000} database {connection.settings_dict['NAME']}")

    # Naive path first, rolled back, so both write into the same empty matrix.
    _data, plan = importing.import_check(actor=admin, uploaded_file=Upload(data, "people.csv"))
    assert plan.invalid_count == 0, [r.errors for r in plan.rows if r.errors][:5]
    naive_rows = plan.rows[:args.naive_rows]
    naive_spent, naive_users, naive_accounts = naive(admin, naive_rows)

    # This change: preview, then confirm (re-validate, write, audit, commit, invitations).
    mail.outbox = []
    reset_queries()
    start = time.perf_counter()
    raw, plan = importing.import_check(actor=admin, uploaded_file=Upload(data, "people.csv"))
    validate_seconds = time.perf_counter() - start
    validate_queries = len(connection.queries)
    job = importing.import_job_create(actor=admin, filename="people.csv", data=raw, plan=plan)

    invitation_time = []
    send = importing._send_invitations

    def timed_send(user_ids, language):
        began = time.perf_counter()
        send(user_ids, language)
        invitation_time.append(time.perf_counter() - began)

    importing._send_invitations = timed_send
    reset_queries()
    start = time.perf_counter()
    job = importing.import_confirm(actor=admin, job=job, skip_invalid=False)
    confirm_seconds = time.perf_counter() - start
    confirm_queries = len(connection.queries)
    assert job.status == "done", (job.status, job.error)
    invitations_seconds = invitation_time[0] if invitation_time else 0.0
    result = job.report["result"]
    total = validate_seconds + confirm_seconds

    people, accounts = result["users"], result["accounts"]
    assert User.objects.count() == people + 1 and SocialAccount.objects.count() == accounts
    assert len(mail.outbox) == people
    events = AuditEvent.objects.count()

    # Per operation: the first rows hold relatively more people than the whole file.
    naive_write = (naive_spent["users"] / naive_users * people + naive_spent["accounts"] / naive_accounts * accounts)
    naive_invite = naive_spent["invitations"] / naive_users * people
    naive_total = validate_seconds + naive_write + naive_invite
    write_seconds = confirm_seconds - invitations_seconds
    naive_label = (
        "measured on every row" if len(naive_rows) == len(plan.rows) else
        f"measured on the first {len(naive_rows):,} rows ({naive_users:,} user_create, {naive_accounts:,} "
        f"account_create, {naive_users:,} invitations: {sum(naive_spent.values()):.1f} s) and extrapolated per "
        f"operation to {people:,} people and {accounts:,} accounts")
    lines = [
        ("preview: read + validate every row", validate_seconds, None, f"{validate_queries} queries"),
        ("confirm: re-validate, write, audit, commit", write_seconds, naive_write, f"{confirm_queries} queries"),
        (f"confirm: invitations ({people:,} emails, locmem)", invitations_seconds, naive_invite, ""),
        ("whole import", total, naive_total, ""),
    ]
    print(f"\n{'':46} {'this change':>12} {'naive, per row':>15}")
    for label, ours, theirs, note in lines:
        theirs = "(same)" if theirs is None else f"{theirs:.1f} s"
        print(f"{label:46} {ours:>10.2f} s {theirs:>15}   {note}")
    print(f"\nWritten: {people:,} people and {accounts:,} accounts with {events:,} audit events. The naive path "
          f"(user_create + account_create per row, rolled back) was {naive_label}.")
    print(f"Goal: {len(rows):,} rows in under 30 s: {total:.1f} s, {'met' if total < 30 else 'NOT met'} "
          f"({naive_total / total:.0f}x faster than the naive path).")

if __name__ == "__main__":
    main()
