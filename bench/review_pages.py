"""Review queue, post list and post detail with 10,000 accounts and 1,000,000 posts on PostgreSQL.

Prints p50/p95/max latency and SQL queries per page, beside a baseline measured in the same run:
the post list as a first version would page it (Django's Paginator: COUNT(*) over every visible post
plus OFFSET to the page).

    .venv/bin/python bench/review_pages.py [--posts 1000000] [--accounts 10000] [--repeat 40] [--keep]

Uses a throwaway database (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/sm_bench_review),
dropped and re-created at each run unless --keep finds it already seeded. Seeding a million posts
takes a few minutes: the mass is written with INSERT … SELECT generate_series; a few hundred posts go
through the real services so that reviews, steps, hits and audit events look like production.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchdb import production_django  # noqa: E402 (after the repository root is on the path)

BENCH_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sm_bench_review")

RISKY = ["全网最低价，错过再等一年", "本产品保本保息", "我们是行业第一", "加微信 abc123 了解详情"]


def seed(args):
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from content import services
    from content.models import Post
    from matrix.models import Brand, Dealer, Department, Platform, SocialAccount

    started = time.perf_counter()
    brand = Brand.objects.create(name="Bench Motors", slug="bench")
    platforms = [p for p in Platform.objects.all() if not (p.media_rules or {}).get("requires_media")]
    dealers = Dealer.objects.bulk_create(
        [Dealer(brand=brand, code=f"D{i:04d}", name=f"Dealer {i}", region=["East", "South", "North", "West"][i % 4],
                city="City") for i in range(800)])
    departments = Department.objects.bulk_create([Department(brand=brand, name=f"Dept {i}") for i in range(20)])
    people = User.objects.bulk_create([User(username=f"u{i}", role="employee", brand=brand, password="!")
                                       for i in range(3000)])
    marketers = [User.objects.create_user(f"marketer{i}", f"m{i}@example.com", "x", role="marketer", brand=brand)
                 for i in range(3)]
    User.objects.create_user("reviewer0", "r0@example.com", "x", role="reviewer", brand=brand)
    User.objects.create_superuser("bench-admin", "b@example.com", "x")
    tiers = ["self_operated", "dealer", "dealer", "dealer", "employee", "employee", "executive"]
    accounts = []
    for i in range(args.accounts):
        tier = tiers[i % len(tiers)]
        accounts.append(SocialAccount(
            brand=brand, platform=platforms[i % len(platforms)], handle=f"h{i}", display_name=f"Account {i}", tier=tier,
            ownership="personal" if tier in ("employee", "executive") else "company",
            owner=people[i % len(people)] if tier in ("employee", "executive") else None,
            dealer=dealers[i % len(dealers)] if tier == "dealer" else None,
            department=departments[i % len(departments)], status="active"))
    SocialAccount.objects.bulk_create(accounts, batch_size=2000)
    print(f"  matrix: {args.accounts:,} accounts in {time.perf_counter() - started:.1f} s", flush=True)

    # A few hundred posts through the services: real revisions, screenings, reviews and audit.
    started = time.perf_counter()
    later = timezone.now() + timezone.timedelta(days=3)
    author = marketers[1]
    company = SocialAccount.objects.filter(tier__in=["self_operated", "dealer"]).order_by("pk")[:300]
    for i, account in enumerate(company):
        body = f"周末试驾活动第{i}场，欢迎到店。" + (RISKY[i % len(RISKY)] if i % 3 == 0 else "")
        post = services.post_create(actor=author, account=account, body=body, scheduled_at=later)
        services.post_submit(actor=author, post=post)
    print(f"  {len(company)} posts through the services in {time.perf_counter() - started:.1f} s", flush=True)

    # The mass: a million posts in every status, with one revision each once submitted, and a review
    # step waiting for the marketers on the posts in review.
    started = time.perf_counter()
    ids = list(SocialAccount.objects.order_by("pk").values_list("pk", flat=True))
    statuses = ["published"] * 12 + ["scheduled"] * 3 + ["draft", "cancelled", "failed", "changes_requested",
                                                         "in_review"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_accounts (n int primary key, id bigint)")
        cursor.execute("INSERT INTO bench_accounts SELECT ordinality - 1, id FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(id)",
                       [ids])
        cursor.execute("CREATE TEMP TABLE bench_statuses (n int primary key, status text)")
        cursor.execute("INSERT INTO bench_statuses SELECT ordinality - 1, s FROM unnest(%s::text[]) WITH ORDINALITY AS t(s)",
                       [statuses])
        cursor.execute(
            """
            INSERT INTO content_post (account_id, author_id, body, template_body, scheduled_at, status, created_at,
                                      updated_at, submitted_at, external_id, url, attempts, last_error)
            SELECT a.id, %s, '新品发布会第' || g || '期：欢迎关注我们的直播，了解更多车型信息。', '',
                   now() - (g || ' minutes')::interval + interval '7 days', s.status,
                   now() - (g || ' seconds')::interval, now(), now() - (g || ' seconds')::interval, '', '', 0, ''
            FROM generate_series(1, %s) AS g
            JOIN bench_accounts a ON a.n = g %% %s
            JOIN bench_statuses s ON s.n = (g / 7) %% %s
            """,
            [author.pk, args.posts, len(ids), len(statuses)],
        )
        cursor.execute(
            """
            INSERT INTO content_revision (post_id, number, body, media, sha256, screening, created_by_id, created_at)
            SELECT id, 1, body, '[]', md5(body) || md5(body || 'x'),
                   '{"decision": "pass", "hits": [], "policy_version": 0}', author_id, submitted_at
            FROM content_post WHERE status <> 'draft' AND revision_id IS NULL
            """
        )
        cursor.execute(
            """
            UPDATE content_post p SET revision_id = r.id,
                   approved_revision_id = CASE WHEN p.status IN ('scheduled', 'published', 'failed') THEN r.id END
            FROM content_revision r WHERE r.post_id = p.id AND p.revision_id IS NULL
            """
        )
        cursor.execute(
            """
            INSERT INTO approvals_review (post_id, revision_id, workflow_id, status, started_at)
            SELECT p.id, p.revision_id, NULL, 'in_progress', p.submitted_at
            FROM content_post p WHERE p.status = 'in_review'
              AND NOT EXISTS (SELECT 1 FROM approvals_review r WHERE r.post_id = p.id)
            """
        )
        cursor.execute(
            """
            INSERT INTO approvals_reviewstep (review_id, position, name, kind, role, status, post_id, brand_id,
                                              started_at, due_at, revision_sha256, comment)
            SELECT r.id, 0, 'Marketing approval', 'role', 'marketer', 'in_progress', r.post_id, %s,
                   r.started_at, r.started_at + interval '4 hours', '', ''
            FROM approvals_review r
            WHERE NOT EXISTS (SELECT 1 FROM approvals_reviewstep s WHERE s.review_id = r.id)
            """,
            [brand.pk],
        )
        cursor.execute("ANALYZE")
    print(f"  {Post.objects.count():,} posts in {time.perf_counter() - started:.1f} s", flush=True)


def measure(client, url, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = None
    for i in range(repeat + 2):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        if i >= 2:  # two warm-up requests
            timings.append(elapsed * 1000)
            queries = len(captured.captured_queries)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
    return statistics.median(timings), p95, timings[-1], queries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database when it is already seeded")
    args = parser.parse_args()

    production_django(BENCH_URL, keep=args.keep)
    from django.test import Client

    from accounts.models import User
    from content.models import Post

    if not Post.objects.exists():
        print(f"Seeding {args.accounts:,} accounts and {args.posts:,} posts…", flush=True)
        seed(args)
    marketer = User.objects.get(username="marketer0")
    admin = User.objects.get(username="bench-admin")
    deep = Post.objects.order_by("-created_at", "-id").values_list("pk", flat=True)[args.posts // 2]
    in_review = Post.objects.filter(status="in_review").order_by("-id").values_list("pk", flat=True).first()

    rows = []
    for user, label in [(marketer, "marketer"), (admin, "admin")]:
        client = Client()
        client.force_login(user)
        rows.append((f"review queue ({label})", *measure(client, "/review/", args.repeat)))
        rows.append((f"review queue, category=ad_law ({label})", *measure(client, "/review/?category=ad_law",
                                                                          args.repeat)))
        rows.append((f"post list, page 1 ({label})", *measure(client, "/posts/", args.repeat)))
        rows.append((f"post list, status=scheduled ({label})", *measure(client, "/posts/?status=scheduled", args.repeat)))
        rows.append((f"post detail ({label})", *measure(client, f"/posts/{deep}/", args.repeat)))
        rows.append((f"post detail in review ({label})", *measure(client, f"/posts/{in_review}/", args.repeat)))

    # Baseline: Django's Paginator over the visible posts, to the middle page.
    from django.core.paginator import Paginator

    from content.policies import posts_visible_to

    timings = []
    for _ in range(5):
        started = time.perf_counter()
        queryset = posts_visible_to(marketer).select_related("account__platform", "author").order_by("-created_at", "-id")
        paginator = Paginator(queryset, 25)
        page = paginator.page(paginator.num_pages // 2)
        list(page.object_list)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()

    print(f"\n{'page':44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for name, p50, p95, worst, queries in rows:
        print(f"{name:44} {p50:8.1f} {p95:8.1f} {worst:8.1f} {queries:8d}")
    print(f"{'baseline: Paginator COUNT(*) + OFFSET, mid page':44} {statistics.median(timings):8.1f} "
          f"{timings[-1]:8.1f} {timings[-1]:8.1f} {'2':>8}")


if __name__ == "__main__":
    main()
