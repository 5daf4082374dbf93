"""Rate limits: at most N posts an hour on one account, and at most M an hour on one platform.

An account's own `posts_per_hour` wins over its platform's `account_posts_per_hour`; a platform's
`posts_per_hour` bounds all its accounts together (an API quota). Limits are checked twice:

- when a post is scheduled (submitted, or its time moved): refused with a clear message when some
  one-hour window around its time would hold more than the limit;
- at dispatch: a due post whose account or platform already sent its limit in the past hour waits
  (`next_attempt_at`) until the oldest of those leaves the window. It is held, not failed.
"""

from collections import Counter
from datetime import timedelta

from django.db.models import Count, Min
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from config.errors import DomainError

from .models import Post, PostStatus

HOUR = timedelta(hours=1)
# Posts that take a slot: going out, gone out, or on their way.
PLANNED = [PostStatus.IN_REVIEW, PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.PUBLISHED]
SENT = [PostStatus.PUBLISHING, PostStatus.PUBLISHED]


def account_limit(account):
    if account.posts_per_hour:
        return account.posts_per_hour
    return account.platform.account_posts_per_hour or None


def _busiest_window(times, moment):
    """The most posts (`moment` included) in any one-hour window that contains `moment`."""
    points = sorted([*times, moment])
    best = 0
    for start in points:
        if start > moment or start <= moment - HOUR:
            continue
        best = max(best, sum(1 for t in points if start <= t < start + HOUR))
    # Windows starting before every other point but still containing `moment`.
    return max(best, sum(1 for t in points if moment - HOUR < t <= moment))


def check_schedule(post, scheduled_at):
    """Refuse a time at which the post would exceed its account's or platform's hourly limit."""
    if scheduled_at is None:
        return
    account = post.account
    near = Post.objects.filter(status__in=PLANNED, scheduled_at__gt=scheduled_at - HOUR,
                               scheduled_at__lt=scheduled_at + HOUR).exclude(pk=post.pk)
    limit = account_limit(account)
    if limit:
        times = list(near.filter(account_id=account.pk).values_list("scheduled_at", flat=True))
        if _busiest_window(times, scheduled_at) > limit:
            raise DomainError(
                _("%(account)s takes at most %(limit)d posts an hour; choose a time further from its other posts.")
                % {"account": account, "limit": limit},
                field="scheduled_at",
            )
    platform_limit = account.platform.posts_per_hour
    if platform_limit:
        times = list(near.filter(account__platform_id=account.platform_id).values_list("scheduled_at", flat=True))
        if _busiest_window(times, scheduled_at) > platform_limit:
            raise DomainError(
                _("%(platform)s takes at most %(limit)d posts an hour from us; choose another time.")
                % {"platform": account.platform, "limit": platform_limit},
                field="scheduled_at",
            )


def deferrals(rows, *, now):
    """For a batch of due posts [(post_id, account_id, platform_id, account_limit, platform_limit)],
    the ones that must wait: {post_id: when they may go}. Two grouped queries per batch, and only
    when some account or platform in it has a limit."""
    limited_accounts = {row[1]: row[3] for row in rows if row[3]}
    limited_platforms = {row[2]: row[4] for row in rows if row[4]}
    if not limited_accounts and not limited_platforms:
        return {}
    since = now - HOUR
    # When each went out: its send's start, or its claim for one claimed but not yet sending.
    went = Coalesce("sending_started_at", "updated_at")
    sent = Post.objects.filter(status__in=SENT).annotate(went=went).filter(went__gt=since)
    account_sent, platform_sent = {}, {}
    if limited_accounts:
        account_sent = {
            row["account_id"]: (row["n"], row["oldest"])
            for row in sent.filter(account_id__in=limited_accounts).values("account_id")
            .annotate(n=Count("id"), oldest=Min("went"))
        }
    if limited_platforms:
        platform_sent = {
            row["account__platform_id"]: (row["n"], row["oldest"])
            for row in sent.filter(account__platform_id__in=limited_platforms).values("account__platform_id")
            .annotate(n=Count("id"), oldest=Min("went"))
        }
    waiting = {}
    taken_accounts, taken_platforms = Counter(), Counter()
    for post_id, account_id, platform_id, _account_limit, _platform_limit in rows:
        wait_until = None
        if account_id in limited_accounts:
            count, oldest = account_sent.get(account_id, (0, None))
            if count + taken_accounts[account_id] >= limited_accounts[account_id]:
                wait_until = (oldest or now) + HOUR
        if platform_id in limited_platforms:
            count, oldest = platform_sent.get(platform_id, (0, None))
            if count + taken_platforms[platform_id] >= limited_platforms[platform_id]:
                candidate = (oldest or now) + HOUR
                wait_until = max(wait_until, candidate) if wait_until else candidate
        if wait_until is not None:
            waiting[post_id] = max(wait_until, now + timedelta(seconds=1))
        else:
            taken_accounts[account_id] += 1
            taken_platforms[platform_id] += 1
    return waiting
