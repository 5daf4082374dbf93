"""Reads of the calendars: events in a range, blocked days, what holds a time, and ICS feeds.

Times are stored in UTC; a calendar shows them in the viewer's zone (`timezone`), and beside it the
account's own wall-clock time. A blocked day is a date in its owner's zone, so the same BlockedDay
covers different UTC hours for an owner in New York and one in Shanghai; every check here converts
the instant into the owner's zone before comparing dates, never the other way round.

The calendar API reads rows with `values_list` over explicit joins and builds plain dicts: one query
for the page (and one to count it when it does not fit on one page), whatever the number of events.
On PostgreSQL the same query writes the events as JSON text instead (`calendar_page_json`), which the
view passes on unparsed; the tests compare the two field by field. Measured on a 10,000-account
matrix with 50,000 posts in a month: see `bench/calendar_month.py`.

The writes (reschedule, block a day, rotate a feed) are in `content.services`.
"""

import base64
import binascii
import json
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, DateField, Exists, F, Func, OuterRef, Q, Value, When
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from accounts.models import Role
from matrix.models import Dealer, Platform, SocialAccount
from matrix.policies import accounts_visible_to
from matrix.timezones import all_timezones

from .models import BlockedDay, CalendarFeed, Campaign, Post, PostStatus
from .pauses import active_pauses, with_labels
from .policies import accounts_writable_by, posts_visible_to

RANGE_MAX_DAYS = 62
PAGE_SIZE_DEFAULT = 1000
PAGE_SIZE_MAX = 60000  # a month of a 10,000-account matrix (about 50,000 posts) in one answer
TITLE_LENGTH = 80
# A post can be moved on the calendar while it can still be edited: before it starts publishing.
RESCHEDULABLE = frozenset({PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED, PostStatus.BLOCKED,
                           PostStatus.IN_REVIEW, PostStatus.SCHEDULED})
# Posts a blocked day conflicts with: those still to go out.
NOT_GOING_OUT = (PostStatus.CANCELLED, PostStatus.PUBLISHED, PostStatus.FAILED)
# The ICS feed: a month back, a year ahead, nothing withdrawn or never submitted.
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=365)
FEED_EVENT_LENGTH = timedelta(minutes=15)
FEED_EXCLUDED = (PostStatus.CANCELLED, PostStatus.DRAFT)
FEED_CONFIRMED = (PostStatus.SCHEDULED, PostStatus.PUBLISHED)


# --- time zones ------------------------------------------------------------------------------


def zone(name):
    """The ZoneInfo for an IANA name, or the site's zone for an empty or unknown one (a user or
    account saved before validation existed must not break a calendar)."""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def user_zone_name(user):
    return getattr(user, "timezone", "") or settings.TIME_ZONE


def day_start(day, tz):
    """The instant `day` begins in `tz`. Where a zone springs forward at midnight (Santiago, Beirut),
    00:00 does not exist and the day begins at the first instant after the jump."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).astimezone(tz)


def _around(instant):
    """The dates an instant may fall on in some zone (UTC-12 to UTC+14): one day either side of UTC's."""
    utc_day = instant.astimezone(UTC).date()
    return [utc_day - timedelta(days=1), utc_day, utc_day + timedelta(days=1)]


def repeated_hour(instant, tz):
    """Whether `instant` falls in the hour a DST change shows twice in `tz` (it is unambiguous as an
    instant, but whoever reads the account's clock cannot tell which of the two it means)."""
    local = instant.astimezone(tz).replace(tzinfo=None)
    return local.replace(tzinfo=tz, fold=0).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset()


# --- the calendar API ------------------------------------------------------------------------


@dataclass
class CalendarFilters:
    accounts: list | None = None
    tier: str = ""
    platform: str = ""
    brand: str = ""
    region: str = ""
    owner: int | None = None
    campaign: int | None = None
    statuses: list | None = None


def calendar_posts(*, user, start, end, filters=None):
    """The posts `user` may see scheduled from `start` (included) to `end` (excluded), filtered."""
    queryset = posts_visible_to(user).filter(scheduled_at__gte=start, scheduled_at__lt=end)
    filters = filters or CalendarFilters()
    if filters.accounts:
        queryset = queryset.filter(account_id__in=filters.accounts)
    if filters.tier:
        queryset = queryset.filter(account__tier=filters.tier)
    if filters.platform:
        queryset = queryset.filter(account__platform__slug=filters.platform)
    if filters.brand:
        condition = Q(account__brand__slug=filters.brand)
        if filters.brand.isdigit():
            condition |= Q(account__brand_id=int(filters.brand))
        queryset = queryset.filter(condition)
    if filters.region:
        queryset = queryset.filter(account__dealer__region=filters.region)
    if filters.owner is not None:
        queryset = queryset.filter(account__owner_id=filters.owner)
    if filters.campaign is not None:
        queryset = queryset.filter(campaign_id=filters.campaign)
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    return queryset


def _editable(user):
    """An SQL condition: `user` may reschedule the post now. The same rule as
    `post_user_can(user, "change", post)` plus a status that can still move, evaluated only for the
    rows of the page (a correlated EXISTS on the account, through the policy's own queryset)."""
    reschedulable = Q(status__in=RESCHEDULABLE)
    if not user.is_authenticated or not user.is_active or user.offboarded_at:
        return Value(False)
    if user.is_admin:
        return Case(When(reschedulable, then=Value(True)), default=Value(False))
    mine = Q(author_id=user.pk)
    if user.role != Role.REVIEWER:
        mine |= Exists(accounts_writable_by(user, SocialAccount.objects.filter(pk=OuterRef("account_id"))))
    return Case(When(reschedulable & mine, then=Value(True)), default=Value(False))


_COLUMNS = ("id", "scheduled_at", "status", "account_id", "account__handle", "account__display_name", "account__tier",
            "account__brand_id", "account__owner_id", "account__timezone", "account__platform__slug",
            "account__platform__name", "account__platform__name_zh", "account__dealer__region", "campaign_id",
            "campaign__name", "excerpt", "editable")


def encode_cursor(scheduled_at, pk, count):
    """The opaque `cursor` of the next page: where the last row was, and the range's count (counted
    once, on the first page, rather than again on every page of a walk)."""
    raw = f"{scheduled_at.astimezone(UTC).isoformat()}|{pk}|{count}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    """(scheduled_at, id, count) from a cursor, or None when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk, count = raw.split("|")
        when = datetime.fromisoformat(when)
        if timezone.is_naive(when):
            return None
        return when, int(pk), int(count)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None


@dataclass
class CalendarPage:
    events: list
    count: int
    next_cursor: str | None


_SPACES = re.compile(r"\s+")


def _title(label, excerpt):
    text = _SPACES.sub(" ", f"{label} {excerpt or ''}").strip()
    return text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH - 1] + "…"


def calendar_page(*, user, queryset, tz, after=None, page_size=PAGE_SIZE_DEFAULT):
    """One page of calendar events from `calendar_posts(...)`, in (scheduled_at, id) order, from
    just after `after` (a decoded cursor). One query for the rows, and on the first page one for the
    count unless the whole range fits on it; later pages carry the count in their cursor."""
    page = queryset
    count = None
    if after is not None:
        when, pk, count = after
        # `>=` on its own lets the (scheduled_at, id) index start at the cursor; the OR only
        # skips the rows of that same instant already given.
        page = page.filter(scheduled_at__gte=when).filter(Q(scheduled_at__gt=when) | Q(id__gt=pk))
    rows = list(
        page.annotate(excerpt=Substr("body", 1, TITLE_LENGTH), editable=_editable(user))
        .order_by("scheduled_at", "id")
        .values_list(*_COLUMNS)[:page_size + 1]
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    if count is None:
        count = len(rows) if not more else queryset.count()
    chinese = (get_language() or "").lower().startswith("zh")
    detail = reverse("content:post_detail", args=[0]).replace("/0/", "/%d/")
    zones = {}
    events = []
    for (pk, at, status, account_id, handle, display_name, tier, brand_id, owner_id, account_zone, slug, name,
         name_zh, region, campaign_id, campaign_name, excerpt, editable) in rows:
        local = at.astimezone(tz)
        account_tz = zones.get(account_zone)
        if account_tz is None:
            account_tz = zones[account_zone] = zone(account_zone)
        account_local = at.astimezone(account_tz)
        label = f"@{handle}" if handle else display_name
        events.append({
            "id": pk,
            "title": _title(label, excerpt),
            "start": local.isoformat(),
            "status": status,
            "account": account_id,
            "account_label": label,
            "tier": tier,
            "platform": slug,
            "platform_name": name_zh if chinese and name_zh else name,
            "brand": brand_id,
            "region": region or "",
            "owner": owner_id,
            "campaign": campaign_id,
            "campaign_name": campaign_name or "",
            "account_timezone": account_zone,
            "start_account_local": account_local.isoformat(),
            # The account's clock shows another time than the viewer's: the page names both.
            "zone_differs": account_local.utcoffset() != local.utcoffset(),
            "editable": editable,
            "url": detail % pk,
        })
    next_cursor = encode_cursor(rows[-1][1], rows[-1][0], count) if more else None
    return CalendarPage(events=events, count=count, next_cursor=next_cursor)


# --- the same page, serialised by PostgreSQL ---------------------------------------------------
#
# A month of a large matrix is tens of thousands of events: building a dict per row in Python and
# rendering it again as JSON costs about 30 µs an event. On PostgreSQL the page's query returns each
# event as its JSON text instead, written by the expression below with the same rules as
# `calendar_page` (the tests compare the two field by field); the view splices them into its answer
# without parsing them. Per-account parts (label, platform, region, owner, zone) are computed once
# an account through memoized lateral joins; what depends on the post (title, times) once a row.

@lru_cache(maxsize=1)
def _pg_spaces():
    """Python's `\\s` (what `_SPACES` collapses) as a PostgreSQL bracket expression; every such
    character is in the Basic Multilingual Plane."""
    return "[" + "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if _SPACES.fullmatch(c)) + "]+"


def _offset_text(offset):
    """SQL: an offset (interval) as `datetime.isoformat()` writes it: ±HH:MM, or ±HH:MM:SS for the odd
    historical offset."""
    size = f"(CASE WHEN {offset} < interval '0' THEN -{offset} ELSE {offset} END)"
    return (f"CASE WHEN {offset} < interval '0' THEN '-' ELSE '+' END || to_char({size}, 'HH24:MI')"
            f" || CASE WHEN date_trunc('minute', {size}) = {size} THEN '' ELSE to_char({size}, ':SS') END")


def _events_sql(inner, *, chinese):
    """The query (SQL with `%s` placeholders: inner's, then `_events_params`') that returns the page's
    events as JSON text, one row each in (scheduled_at, id) order, from `inner`: the page's rows (id,
    scheduled_at, status, account_id, campaign_id, excerpt, editable), filtered, ordered and limited
    as `calendar_page` reads them. Each event has the keys of `calendar_page`'s, in the same order."""
    platform_name = "coalesce(nullif(pl.name_zh, ''), pl.name)" if chinese else "pl.name"
    title = (f"CASE WHEN char_length(w.title) <= {TITLE_LENGTH} THEN w.title "
             f"ELSE left(w.title, {TITLE_LENGTH - 1}) || '…' END")
    stamp = "'YYYY-MM-DD\"T\"HH24:MI:SS'"
    # In the same statement string (one round trip; the settings last until the transaction ends):
    # no JIT, whose compilation of this long expression costs 60-190 ms on a month and saves nothing;
    # room to sort a month's rows (about 10 MB) in memory rather than on disk.
    return f"""
        SET LOCAL jit = off; SET LOCAL work_mem = '64MB';
        SELECT '{{"id":' || t.id || ',"title":' || to_json({title})::text
               || ',"start":"' || to_char(w.local, {stamp}) || w.fraction || vo.text
               || '","status":' || to_json(t.status::text)::text
               || ',"account":' || t.account_id || a.account_part
               || ',"campaign":' || coalesce(t.campaign_id::text, 'null')
               || ',"campaign_name":' || coalesce(c.name_json, '""')
               || ',"account_timezone":' || a.zone_json
               || ',"start_account_local":"' || to_char(w.account_local, {stamp}) || w.fraction || ao.text
               || '","zone_differs":' || (w.offset <> w.account_offset)::text
               || ',"editable":' || t.editable::text
               || ',"url":' || %s || t.id || %s || '}}'
        FROM ({inner}) t
        JOIN LATERAL (
            SELECT ',"account_label":' || to_json(l.label)::text
                   || ',"tier":' || to_json(sa.tier::text)::text
                   || ',"platform":' || to_json(pl.slug::text)::text
                   || ',"platform_name":' || to_json(({platform_name})::text)::text
                   || ',"brand":' || coalesce(sa.brand_id::text, 'null')
                   || ',"region":' || to_json(coalesce(d.region, '')::text)::text
                   || ',"owner":' || coalesce(sa.owner_id::text, 'null') AS account_part,
                   l.label,
                   to_json(sa.timezone::text)::text AS zone_json,
                   CASE WHEN sa.timezone = ANY(%s) THEN sa.timezone::text ELSE %s END AS zone
            FROM {SocialAccount._meta.db_table} sa
            JOIN {Platform._meta.db_table} pl ON pl.id = sa.platform_id
            LEFT JOIN {Dealer._meta.db_table} d ON d.id = sa.dealer_id
            CROSS JOIN LATERAL (SELECT CASE WHEN sa.handle <> '' THEN '@' || sa.handle
                                            ELSE sa.display_name END::text AS label) l
            WHERE sa.id = t.account_id
            OFFSET 0
        ) a ON true
        LEFT JOIN LATERAL (
            SELECT to_json(cp.name::text)::text AS name_json FROM {Campaign._meta.db_table} cp
            WHERE cp.id = t.campaign_id OFFSET 0
        ) c ON true
        CROSS JOIN LATERAL (
            SELECT u.local, u.account_local, u.local - u.utc AS offset, u.account_local - u.utc AS account_offset,
                   CASE WHEN date_trunc('second', t.scheduled_at) = t.scheduled_at THEN ''
                        ELSE to_char(t.scheduled_at, '.US') END AS fraction,
                   btrim(regexp_replace(a.label || ' ' || coalesce(t.excerpt, ''), %s, ' ', 'g'), ' ') AS title
            FROM (SELECT t.scheduled_at AT TIME ZONE 'UTC' AS utc, t.scheduled_at AT TIME ZONE %s AS local,
                         t.scheduled_at AT TIME ZONE a.zone AS account_local OFFSET 0) u
            OFFSET 0
        ) w
        JOIN LATERAL (SELECT {_offset_text("w.offset")} AS text OFFSET 0) vo ON true
        JOIN LATERAL (SELECT {_offset_text("w.account_offset")} AS text OFFSET 0) ao ON true
        ORDER BY t.scheduled_at, t.id
    """


def _events_params(inner_params, *, tz, detail):
    url_start, url_end = detail.split("%d")
    return [
        json.dumps(url_start, ensure_ascii=False)[:-1], json.dumps(url_end, ensure_ascii=False)[1:],
        *inner_params,
        list(all_timezones()), settings.TIME_ZONE,
        _pg_spaces(), tz.key,
    ]


@dataclass
class CalendarJsonPage:
    events: bytes  # the `results` array, as JSON
    count: int
    next_cursor: str | None


def calendar_page_json(*, user, queryset, tz, after=None, page_size=PAGE_SIZE_DEFAULT):
    """`calendar_page`, its events written as JSON by PostgreSQL (`events` is the array's bytes).
    The same queries: one for the page, and on a first page that does not hold the whole range one
    for the count."""
    page = queryset
    count = None
    if after is not None:
        when, pk, count = after
        page = page.filter(scheduled_at__gte=when).filter(Q(scheduled_at__gt=when) | Q(id__gt=pk))
    page = (
        page.annotate(excerpt=Substr("body", 1, TITLE_LENGTH), editable=_editable(user))
        .order_by("scheduled_at", "id")
        .values_list("id", "scheduled_at", "status", "account_id", "campaign_id", "excerpt", "editable")[:page_size + 1]
    )
    try:
        inner, inner_params = page.query.get_compiler(using=page.db).as_sql()
    except EmptyResultSet:
        return CalendarJsonPage(events=b"[]", count=0, next_cursor=None)
    chinese = (get_language() or "").lower().startswith("zh")
    detail = reverse("content:post_detail", args=[0]).replace("/0/", "/%d/")
    sql = _events_sql(inner, chinese=chinese)
    params = _events_params(inner_params, tz=tz, detail=detail)
    import psycopg2.extensions  # this path runs on PostgreSQL only

    with connections[page.db].cursor() as cursor:
        # The events as the bytes PostgreSQL sends: not decoded to str only to be encoded back.
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
        cursor.execute(sql, params)
        rows = [row[0] for row in cursor.fetchall()]
    more = len(rows) > page_size
    rows = rows[:page_size]
    if rows and isinstance(rows[0], str):
        rows = [row.encode() for row in rows]
    if count is None:
        count = len(rows) if not more else queryset.count()
    next_cursor = None
    if more:
        last = json.loads(rows[-1])
        next_cursor = encode_cursor(datetime.fromisoformat(last["start"]), last["id"], count)
    return CalendarJsonPage(events=b"[" + b",".join(rows) + b"]", count=count, next_cursor=next_cursor)


# --- blocked days ----------------------------------------------------------------------------


def blocked_days_visible_to(user, queryset=None):
    """Admins see every blocked day; anyone else their own and those of the owners of accounts they
    see (marketers and reviewers their brand's people, a communications team its executive's)."""
    queryset = BlockedDay.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.is_admin:
        return queryset
    owners = accounts_visible_to(user).filter(owner__isnull=False).values("owner_id")
    return queryset.filter(Q(owner_id=user.pk) | Q(owner_id__in=owners))


def blocked_day_user_can(user, action, day=None, *, owner=None):
    """`action`: create (for `owner`), delete. People block their own days; admins anyone's."""
    if not user.is_authenticated or not user.is_active or user.offboarded_at:
        return False
    owner_id = day.owner_id if day is not None else getattr(owner, "pk", owner)
    if action in ("create", "delete"):
        return user.is_admin or owner_id == user.pk
    return False


def blocked_day_for(account, instant):
    """The BlockedDay of `account`'s owner on the date `instant` falls on in the owner's zone, or
    None. One query (none for an account without an owner)."""
    if instant is None or account.owner_id is None:
        return None
    days = BlockedDay.objects.filter(owner_id=account.owner_id, date__in=_around(instant)).select_related("owner")
    for day in days:
        if instant.astimezone(zone(day.owner.timezone)).date() == day.date:
            return day
    return None


def accounts_blocked_at(account_ids, instant):
    """`{account_id: BlockedDay}` for the accounts whose owner blocked the day `instant` falls on (in
    that owner's zone). One query, for a dispatcher's whole batch."""
    account_ids = list(account_ids)
    if not account_ids or instant is None:
        return {}
    days = (
        BlockedDay.objects.filter(owner__owned_accounts__in=account_ids, date__in=_around(instant))
        .annotate(account_id=F("owner__owned_accounts__id"))  # the same join as the filter's
        .select_related("owner")
    )
    blocked = {}
    for day in days:
        if instant.astimezone(zone(day.owner.timezone)).date() == day.date:
            blocked[day.account_id] = day
    return blocked


class _LocalDate(Func):
    """`(instant AT TIME ZONE zone)::date`: the date an instant falls on in a zone named by a column."""

    arg_joiner = " AT TIME ZONE "
    template = "((%(expressions)s))::date"
    output_field = DateField()


def posts_on_blocked_days_q(*, account_path="account"):
    """A condition on Post: its owner blocked the day it is scheduled on (in the owner's zone). One
    correlated EXISTS, for filtering in bulk: `Post.objects.exclude(posts_on_blocked_days_q())`."""
    path = f"{account_path}__" if account_path else ""
    return Exists(BlockedDay.objects.filter(
        owner_id=OuterRef(f"{path}owner_id"),
        date=_LocalDate(OuterRef("scheduled_at"), OuterRef(f"{path}owner__timezone")),
    ))


def blocked_day_conflicts(day):
    """Ids of the posts still to go out on the owner's accounts on that day (in the owner's zone)."""
    tz = zone(day.owner.timezone)
    start = day_start(day.date, tz)
    end = day_start(day.date + timedelta(days=1), tz)
    return list(
        Post.objects.filter(account__owner_id=day.owner_id, scheduled_at__gte=start, scheduled_at__lt=end)
        .exclude(status__in=NOT_GOING_OUT).order_by("scheduled_at", "id").values_list("pk", flat=True)
    )


def blocked_days_in(*, user, start=None, end=None, owner=None):
    """The blocked days `user` may see, from `start` (included) to `end` (excluded), of one owner."""
    queryset = blocked_days_visible_to(user).select_related("owner")
    if start is not None:
        queryset = queryset.filter(date__gte=start)
    if end is not None:
        queryset = queryset.filter(date__lt=end)
    if owner is not None:
        queryset = queryset.filter(owner_id=owner)
    return queryset.order_by("date", "owner_id", "id")


# --- what holds a time -----------------------------------------------------------------------


def pause_holding(account, instant, now=None):
    """The pause, active now, that would still hold `account` at `instant` (it has no end, or ends
    after it), labelled; or None. A pause that will have ended by then does not refuse the time: the
    post goes out once it lifts."""
    now = now or timezone.now()
    pauses = with_labels(active_pauses(account.brand_id, now).filter(Q(until__isnull=True) | Q(until__gt=instant)))
    for pause in pauses:
        if pause.covers(account):
            return pause
    return None


# --- ICS feeds -------------------------------------------------------------------------------


def feed_url(feed):
    return f"{settings.SITE_URL}{reverse('calendar_feed', args=[feed.token])}"


def live_feed(token):
    """The feed a token opens, with its user, or None when it is unknown, revoked or its user left."""
    feed = CalendarFeed.objects.select_related("user").filter(token=token, revoked_at__isnull=True).first()
    if feed is None or not feed.user.is_active or feed.user.offboarded_at:
        return None
    return feed


def own_accounts(user):
    """The accounts `user` owns or operates: never anyone else's, whatever their role."""
    operated = SocialAccount.operators.through.objects.filter(user_id=user.pk).values("socialaccount_id")
    return SocialAccount.objects.filter(Q(owner_id=user.pk) | Q(pk__in=operated))


def feed_rows(user, now=None):
    now = now or timezone.now()
    return list(
        Post.objects.filter(account__in=own_accounts(user).values("pk"), scheduled_at__gte=now - FEED_PAST,
                            scheduled_at__lt=now + FEED_FUTURE)
        .exclude(status__in=FEED_EXCLUDED)
        .annotate(account_label=F("account__handle"), account_zone=F("account__timezone"),
                  platform_name=F("account__platform__name"))
        .order_by("scheduled_at", "id")
        .values_list("id", "scheduled_at", "status", "body", "account_label", "account_zone", "platform_name",
                     "updated_at")
    )


def feed_calendar(feed, now=None):
    """The iCalendar document (bytes) of a feed: one VEVENT per post on the user's own accounts, in
    UTC, each naming the account's zone (X-SOCIAL-MATRIX-TIMEZONE and in the description). Written
    in the feed's language, whatever the calendar program's request negotiates."""
    with override(feed.language or settings.LANGUAGE_CODE):
        return _feed_document(feed, now)


def _feed_document(feed, now):
    from urllib.parse import urlparse

    import icalendar

    now = now or timezone.now()
    user = feed.user
    host = urlparse(settings.SITE_URL).hostname or "social-matrix"
    statuses = dict(PostStatus.choices)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Social Matrix//Calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("Social Matrix: %(name)s") % {"name": user.get_full_name() or user.username})
    cal.add("x-wr-timezone", user_zone_name(user))
    cal.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    for pk, at, status, body, handle, account_zone, platform_name, updated_at in feed_rows(user, now):
        local = at.astimezone(zone(account_zone))
        link = f"{settings.SITE_URL}{reverse('content:post_detail', args=[pk])}"
        label = f"{platform_name} @{handle}"
        event = icalendar.Event()
        event.add("uid", f"post-{pk}@{host}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("last-modified", updated_at.astimezone(UTC))
        event.add("dtstart", at.astimezone(UTC))
        event.add("dtend", (at + FEED_EVENT_LENGTH).astimezone(UTC))
        event.add("summary", _title(label, body[:TITLE_LENGTH]))
        event.add("description", "\n".join([
            body,
            "",
            _("Status: %(status)s") % {"status": statuses.get(status, status)},
            _("Account time: %(time)s (%(zone)s)") % {"time": local.strftime("%Y-%m-%d %H:%M"), "zone": account_zone},
            link,
        ]))
        event.add("status", "CONFIRMED" if status in FEED_CONFIRMED else "TENTATIVE")
        event.add("url", link)
        event.add("location", label)
        event.add("x-social-matrix-timezone", account_zone)
        event.add("x-social-matrix-status", status)
        cal.add_component(event)
    return cal.to_ical()


def parse_day(value):
    """A `date` from `2026-03-01`, or None."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
