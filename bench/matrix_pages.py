"""Matrix pages with a 10,000-account matrix on PostgreSQL: latency and SQL queries per page.

Baseline, measured in the same run: the same account list rendered from a queryset without
select_related (what a first version would do), which costs one query per related row.

    .venv/bin/python bench/matrix_pages.py [--accounts 10000] [--repeat 30]

Uses a throwaway database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/sm_bench_pages),
dropped and re-created at each run.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchdb import recreate_database  # noqa: E402 (after the repository root is on the path)

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sm_bench_pages")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    recreate_database(BENCH_URL)
    os.environ.update(DATABASE_URL=BENCH_URL, DEBUG="1", DJANGO_SETTINGS_MODULE="config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    from accounts.models import User
    from matrix.models import Brand, Dealer, Department, Platform, SocialAccount

    started = time.perf_counter()
    brand = Brand.objects.create(name="Bench Motors", slug="bench")
    platforms = list(Platform.objects.all())
    dealers = Dealer.objects.bulk_create(
        [Dealer(brand=brand, code=f"D{i:04d}", name=f"Dealer {i}", region=["East", "South", "North", "West"][i % 4],
                city="City") for i in range(800)])
    departments = Department.objects.bulk_create([Department(brand=brand, name=f"Dept {i}") for i in range(20)])
    people = User.objects.bulk_create([User(username=f"u{i}", role="employee", brand=brand, password="!")
                                       for i in range(3000)])
    admin = User.objects.create_superuser("bench-admin", "b@example.com", "x")
    tiers = ["self_operated", "dealer", "dealer", "dealer", "employee", "employee", "executive"]
    accounts = []
    for i in range(args.accounts):
        tier = tiers[i % len(tiers)]
        accounts.append(SocialAccount(
            brand=brand, platform=platforms[i % len(platforms)], handle=f"h{i}", display_name=f"Account {i}", tier=tier,
            ownership="personal" if tier in ("employee", "executive") else "company",
            owner=people[i % len(people)] if tier in ("employee", "executive") else None,
            dealer=dealers[i % len(dealers)] if tier == "dealer" else None,
            department=departments[i % len(departments)], status=["active", "active", "pending", "paused"][i % 4]))
    SocialAccount.objects.bulk_create(accounts, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {args.accounts} accounts, 800 dealers, 3000 people in {time.perf_counter() - started:.1f} s\n")

    client = Client()
    client.force_login(admin)
    some = SocialAccount.objects.order_by("id")[args.accounts // 2]
    pages = {
        "matrix overview (grid)": "/matrix/",
        "account list, page 1": "/matrix/accounts/",
        "account list, page 150": "/matrix/accounts/?page=150",
        "account list, dealer+East+search": "/matrix/accounts/?tier=dealer&region=East&q=Account%201",
        "account detail": f"/matrix/accounts/{some.pk}/",
        "people list": "/accounts/people/",
    }

    def measure(url):
        client.get(url)  # warm
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        times.sort()
        return statistics.median(times), times[int(len(times) * 0.95) - 1], len(ctx.captured_queries)

    print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, url in pages.items():
        p50, p95, queries = measure(url)
        print(f"{name:38} {p50:8.1f} {p95:8.1f} {queries:8d}")

    # Baseline: the first page of the list without select_related, rendered the same way.
    from django.template.loader import render_to_string

    def naive_page():
        page = list(SocialAccount.objects.order_by("tier", "handle")[:50])
        return render_to_string("matrix/account_list.html", {"page": page, "total": 50, "form": None,
                                                              "query": "", "user": admin})

    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        naive_page()
        times.append((time.perf_counter() - t) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        naive_page()
    times.sort()
    print(f"{'baseline: list page, no select_related':38} {statistics.median(times):8.1f} "
          f"{times[int(len(times) * 0.95) - 1]:8.1f} {len(ctx.captured_queries):8d}")


if __name__ == "__main__":
    main()
