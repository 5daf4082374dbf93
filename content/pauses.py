"""Reads of pauses (crisis mode): which are active, which one holds an account, which a person sees.

The rule, in SQL here and in Python in `Pause.covers`: a pause of a brand covers that brand's
accounts that its scope selects — all of them (`brand`), those of a tier, of a platform (by slug),
of dealers in a region, or one account (its id as text). It is active while not lifted, once
`starts_at` has come and until `until` passes. An expired pause needs no writer to end it: every read
here compares `until` with the time it is asked for.

The dispatcher asks `pause_covering(account)` at claim time and again at send time, and skips held
posts in bulk with `.exclude(accounts_paused_q(now, account_path="account"))`.
"""

from django.db.models import Case, CharField, Exists, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from matrix.models import Dealer, Platform, SocialAccount

from .models import Pause, PauseScope
from .policies import pauses_visible_to


def active_q(now=None, prefix=""):
    """The condition "active at `now`" on Pause (or, with `prefix`, on a relation to one)."""
    now = now or timezone.now()
    return (Q(**{f"{prefix}lifted_at__isnull": True, f"{prefix}starts_at__lte": now})
            & (Q(**{f"{prefix}until__isnull": True}) | Q(**{f"{prefix}until__gt": now})))


def active_pauses(brand_id=None, now=None):
    """The pauses active at `now` (default: now), of one brand or of all, earliest first."""
    queryset = Pause.objects.filter(active_q(now))
    if brand_id is not None:
        queryset = queryset.filter(brand_id=brand_id)
    return queryset.order_by("starts_at", "id")


def _related_value(account, relation, model, field):
    """The account's platform slug or dealer region: from memory when the relation is loaded, else
    as a subquery, so that `pause_covering` stays one query either way."""
    if relation in account._state.fields_cache:
        related = account._state.fields_cache[relation]
        return getattr(related, field) if related is not None else None
    related_id = getattr(account, f"{relation}_id")
    if related_id is None:
        return None
    return Subquery(model.objects.filter(pk=related_id).values(field)[:1])


def pause_covering(account, now=None):
    """The active pause that holds `account`'s posts at `now`, or None. One query.

    Asked at claim time and again at send time: a pause created between the two still stops the
    post."""
    condition = Q(scope=PauseScope.BRAND) | Q(scope=PauseScope.TIER, value=account.tier)
    condition |= Q(scope=PauseScope.ACCOUNT, value=str(account.pk))
    platform_slug = _related_value(account, "platform", Platform, "slug")
    if platform_slug is not None:
        condition |= Q(scope=PauseScope.PLATFORM, value=platform_slug)
    region = _related_value(account, "dealer", Dealer, "region")
    if region is not None:
        condition |= Q(scope=PauseScope.REGION, value=region)
    return active_pauses(account.brand_id, now).filter(condition).first()


def accounts_paused_q(now=None, *, account_path=""):
    """A condition true for the accounts an active pause covers at `now`, for filtering in bulk.

    On SocialAccount: `SocialAccount.objects.filter(accounts_paused_q(now))`; on Post (or anything
    with a relation to an account) name the relation: `posts.exclude(accounts_paused_q(now,
    account_path="account"))`. One EXISTS subquery, evaluated inside the caller's query."""
    path = f"{account_path}__" if account_path else ""

    def outer(field):
        return OuterRef(f"{path}{field}")

    covering = Pause.objects.filter(active_q(now), brand_id=outer("brand_id")).filter(
        Q(scope=PauseScope.BRAND)
        | Q(scope=PauseScope.TIER, value=outer("tier"))
        | Q(scope=PauseScope.PLATFORM, value=outer("platform__slug"))
        | Q(scope=PauseScope.REGION, value=outer("dealer__region"))
        | Q(scope=PauseScope.ACCOUNT, value=Cast(outer("id"), CharField()))
    )
    return Exists(covering)


def pauses_covering_q(accounts):
    """A condition on Pause: it covers at least one account of the queryset `accounts`."""
    accounts = accounts.order_by()
    same_brand = accounts.filter(brand_id=OuterRef("brand_id"))
    # Correlated EXISTS only: evaluated for the few active pauses, never a scan of every account the
    # user sees (an `IN (SELECT brand_id …)` was computed in full, 40 ms for a 10,000-account brand).
    return (
        Q(Exists(same_brand), scope=PauseScope.BRAND)
        | Q(Exists(same_brand.filter(tier=OuterRef("value"))), scope=PauseScope.TIER)
        | Q(Exists(same_brand.filter(platform__slug=OuterRef("value"))), scope=PauseScope.PLATFORM)
        | Q(Exists(same_brand.filter(dealer__region=OuterRef("value"))), scope=PauseScope.REGION)
        | Q(Exists(same_brand.annotate(id_text=Cast("pk", CharField())).filter(id_text=OuterRef("value"))),
            scope=PauseScope.ACCOUNT)
    )


def with_labels(queryset):
    """Pauses with what the pages show of them, in the same query: brand, who paused and lifted,
    and the names of the platform or account the value stands for."""
    return queryset.select_related("brand", "created_by", "lifted_by").annotate(
        platform_name=Subquery(Platform.objects.filter(slug=OuterRef("value")).values("name")[:1]),
        platform_name_zh=Subquery(Platform.objects.filter(slug=OuterRef("value")).values("name_zh")[:1]),
        account_handle=Subquery(
            SocialAccount.objects.annotate(id_text=Cast("pk", CharField()))
            .filter(id_text=OuterRef("value"), brand_id=OuterRef("brand_id"))
            .values("handle")[:1]
        ),
    )


def pauses_relevant_to(user, now=None):
    """The pauses active at `now` that cover an account `user` can see (for the banner), labelled.

    Made once per request by the banner's context processor, on every page, so the common case is
    one small query: the active pauses (a handful, through their partial index). Only when some of
    them are not obviously the user's (another brand's, or any for a role that sees only its own
    accounts) does a second query ask which of those cover an account the user sees."""
    from .policies import PAUSE_ROLES

    if not user.is_authenticated or not user.is_active:
        return []
    active = list(with_labels(active_pauses(now=now)))
    if not active or user.is_admin:
        return active
    own_brand = user.role in PAUSE_ROLES and user.brand_id
    mine = [p for p in active if own_brand and p.brand_id == user.brand_id]
    others = [p.pk for p in active if p not in mine]
    if others:
        covering = set(pauses_visible_to(user, Pause.objects.filter(pk__in=others)).values_list("pk", flat=True))
        mine += [p for p in active if p.pk in covering]
    return sorted(mine, key=lambda p: active.index(p))


def pause_history(user):
    """Every pause `user` may see, active ones first, then the rest newest first (the pauses page)."""
    now = timezone.now()
    return with_labels(pauses_visible_to(user)).annotate(
        active_now=Case(When(active_q(now), then=Value(1)), default=Value(0), output_field=IntegerField()),
    ).order_by("-active_now", "-starts_at", "-id")
