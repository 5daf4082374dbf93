"""Reads of the matrix, shaped for pages and the API. Query counts do not grow with the data."""

from collections import defaultdict

from django.core.paginator import Paginator
from django.db.models import Count, Q

from .models import TIER_RANK, AccountStatus, Platform, SocialAccount, Tier
from .policies import accounts_visible_to


def matrix_grid(*, user, brand=None):
    """Counts by tier × platform × status (one GROUP BY), shaped as rows of cells."""
    accounts = accounts_visible_to(user)
    if brand is not None:
        accounts = accounts.filter(brand=brand)
    counts = accounts.values("tier", "platform_id", "status").annotate(n=Count("id")).order_by()
    table = defaultdict(lambda: defaultdict(dict))
    for row in counts:
        table[row["tier"]][row["platform_id"]][row["status"]] = row["n"]
    platforms = list(Platform.objects.all())
    rows = []
    tier_totals = {}
    for tier in Tier:
        cells = []
        for platform in platforms:
            by_status = table[tier.value][platform.pk]
            cells.append({
                "platform": platform,
                "total": sum(by_status.values()),
                "by_status": [(status, by_status.get(status.value, 0)) for status in AccountStatus if by_status.get(status.value)],
            })
        tier_totals[tier.value] = sum(cell["total"] for cell in cells)
        rows.append({"tier": tier, "cells": cells, "total": tier_totals[tier.value]})
    status_totals = defaultdict(int)
    for row in counts:
        status_totals[row["status"]] += row["n"]
    return {
        "platforms": platforms,
        "rows": rows,
        "tier_totals": tier_totals,
        "status_totals": [(status, status_totals.get(status.value, 0)) for status in AccountStatus],
        "total": sum(status_totals.values()),
    }


def matrix_summary(*, user, brand=None, dormant_days=30):
    """The API's summary: counts by tier × platform × status, and dormant accounts.

    An account is dormant when it is active but nothing was published on it for `dormant_days`
    (until publishing exists, when it was never published: all active accounts without posts)."""
    accounts = accounts_visible_to(user)
    if brand is not None:
        accounts = accounts.filter(brand=brand)
    counts = list(
        accounts.values("tier", "platform__slug", "status").annotate(count=Count("id")).order_by("tier", "platform__slug", "status")
    )
    by_tier = defaultdict(int)
    for row in counts:
        by_tier[row["tier"]] += row["count"]
    dormant = accounts.filter(status=AccountStatus.ACTIVE).filter(_dormant_condition(dormant_days))
    return {
        "total": sum(by_tier.values()),
        "by_tier": {tier.value: by_tier.get(tier.value, 0) for tier in Tier},
        "counts": [
            {"tier": r["tier"], "platform": r["platform__slug"], "status": r["status"], "count": r["count"]} for r in counts
        ],
        "dormant": {"days": dormant_days, "count": dormant.count()},
    }


def _dormant_condition(days):
    # Publishing (a later issue) records posts; until then no active account has published.
    return Q()


ACCOUNT_FILTERS = ("tier", "platform", "region", "department", "owner", "status", "brand", "dealer", "q")


def account_list(*, user, filters):
    """Accounts the user may see, filtered and ordered (without related rows: see `with_relations`)."""
    qs = accounts_visible_to(user)
    if filters.get("tier"):
        tier = filters["tier"]
        # By rank rather than slug when it can: an equality on the first column of the list's index,
        # so a filtered page is still an index walk, not a sort of every account of the tier.
        qs = qs.filter(tier_rank=TIER_RANK[tier]) if tier in TIER_RANK else qs.filter(tier=tier)
    if filters.get("platform"):
        qs = qs.filter(platform__slug=filters["platform"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("brand"):
        qs = qs.filter(brand__slug=filters["brand"])
    if filters.get("region"):
        qs = qs.filter(dealer__region=filters["region"])
    if filters.get("dealer"):
        qs = qs.filter(dealer_id=filters["dealer"])
    if filters.get("department"):
        qs = qs.filter(department_id=filters["department"])
    if filters.get("owner"):
        qs = qs.filter(owner_id=filters["owner"])
    if filters.get("q"):
        term = filters["q"].strip()
        qs = qs.filter(
            Q(handle__icontains=term)
            | Q(display_name__icontains=term)
            | Q(owner__first_name__icontains=term)
            | Q(owner__last_name__icontains=term)
            | Q(owner__username__icontains=term)
            | Q(dealer__name__icontains=term)
        )
    # In matrix order (1 + X + N + K, the stored `tier_rank`), by columns of the account table only,
    # matching an index, so a deep page is an index walk rather than a sort of the whole joined matrix.
    return qs.order_by("tier_rank", "platform_id", "handle", "id")


def account_page(*, user, filters, number, per_page=50):
    """One page of `account_list` in three constant queries: the count, the page's ids (an index
    walk on the account table alone) and those rows with their relations. Sorting the whole joined
    matrix to cut one page out of it is what made deep pages slow."""
    page = Paginator(account_list(user=user, filters=filters).values_list("id", flat=True), per_page).get_page(number)
    ids = list(page.object_list)
    rows = SocialAccount.objects.select_related("brand", "platform", "owner", "dealer", "department").in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids]
    return page


def my_account_list(*, user):
    """The accounts `user` owns or operates, in matrix order, then by platform as the grid shows them."""
    operated = SocialAccount.operators.through.objects.filter(user_id=user.pk).values("socialaccount_id")
    return (
        SocialAccount.objects.filter(Q(owner=user) | Q(pk__in=operated))
        .select_related("brand", "platform", "dealer")
        .order_by("tier_rank", "platform__position", "handle", "id")
    )
