"""Reads about screening (lexicon lists and pages, histories, what a term would have caught), the
review queue, notifications and the audit log."""

import operator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, Value

from .models import AuditEvent, ReviewStep, Screening, StepKind, StepStatus
from .policies import lexicons_visible_to, screenings_visible_to
from .screening import Policy

TERMS_PER_PAGE = 50
HISTORY_LENGTH = 50
# "Would have caught" looks at this many of the latest screenings.
RECENT_SCREENINGS = 2000
CAUGHT_SHOWN = 50


def lexicon_list(*, user):
    """The lexicons `user` can see, with their term counts, in a constant number of queries."""
    return (
        lexicons_visible_to(user)
        .select_related("brand")
        .annotate(
            term_count=Count("terms", filter=Q(terms__allow=False)),
            allow_count=Count("terms", filter=Q(terms__allow=True)),
        )
        .order_by("brand__name", "name", "pk")
    )


def lexicon_terms_page(*, lexicon, number=1, query="", per_page=TERMS_PER_PAGE):
    terms = lexicon.terms.select_related("created_by").order_by("allow", "term", "pk")
    if query:
        terms = terms.filter(term__icontains=query)
    return Paginator(terms, per_page).get_page(number)


def lexicon_history(*, lexicon, limit=HISTORY_LENGTH):
    """The latest audit events of a lexicon and its terms (term events name their lexicon)."""
    return list(
        AuditEvent.objects.filter(object_type="approvals.lexicon", object_id=str(lexicon.pk)).order_by("-id")[:limit]
    )


@dataclass
class CaughtText:
    screening: Screening
    hits: list


@dataclass
class WouldHaveCaught:
    term: str
    scanned: int = 0  # screenings looked at
    texts: int = 0  # of which the term matches
    occurrences: int = 0
    by_decision: dict = field(default_factory=dict)  # the decision each caught text had then
    examples: list = field(default_factory=list)  # up to CAUGHT_SHOWN, latest first


def would_have_caught(*, user, term, category="confidential", severity="block", limit=RECENT_SCREENINGS):
    """Which of the latest screenings `user` may read contain `term`, folded exactly as screening
    folds it (spaced, full-width or traditional spellings count)."""
    policy = Policy.from_terms([(term, category, severity)])
    report = WouldHaveCaught(term=term)
    recent = (
        screenings_visible_to(user)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[:limit]
    )
    # Texts are read in chunks, latest first; the caught ones are loaded again as objects.
    caught = {}
    ids = list(recent)
    report.scanned = len(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = Screening.objects.filter(pk__in=chunk).values_list("pk", "text", "decision")
        for pk, text, decision in rows:
            hits = policy.screen(text).hits
            if hits:
                caught[pk] = ([hit.to_dict() for hit in hits], decision)
    report.texts = len(caught)
    for hits, decision in caught.values():
        report.occurrences += len(hits)
        report.by_decision[decision] = report.by_decision.get(decision, 0) + 1
    shown = [pk for pk in ids if pk in caught][:CAUGHT_SHOWN]
    objects = Screening.objects.select_related("actor", "account__platform").in_bulk(shown)
    report.examples = [CaughtText(screening=objects[pk], hits=caught[pk][0]) for pk in shown if pk in objects]
    return report



# --- the review queue ------------------------------------------------------------------------
#
# "What waits for me": the in-progress steps a person may decide, oldest first. The conditions
# mirror `workflow.user_may_decide` (which the services check again, under lock, when deciding):
# role steps of the person's role and brand, steps of their groups, owner steps of their own
# accounts, escalated steps of a backup group they are in; never their own posts, and never a
# second step of a review they already approved a step of.
#
# With a million posts, tens of thousands of steps may be in progress at once. One WHERE with the
# four conditions OR-ed together makes PostgreSQL read every in-progress step and sort them; so a
# page is cut from each way separately, each walking its own index in (started_at, id) order
# (role steps: reviewstep_queue_idx), and the few rows per way are merged by a UNION.

QUEUE_PAGE_SIZE = 25
QUEUE_COUNT_LIMIT = 200
# Built-in screening categories, for the queue's filter (lexicons add their own).
BUILT_IN_CATEGORIES = ("ad_law", "finance", "pii", "profanity", "workplace", "platform", "confidential", "competitor")
# A row shows the revision its review is about (for a step in progress, the post's current one).
QUEUE_RELATIONS = ("post__account__platform", "post__author", "post__campaign", "review__revision", "brand", "group")


def _user_group_ids(user):
    return list(user.groups.values_list("id", flat=True)) if user.is_authenticated else []


def _decision_ways(user, group_ids):
    """One Q per way an in-progress step can be `user`'s to decide (see `workflow.user_may_decide`)."""
    if not user.is_authenticated or not user.is_active or user.offboarded_at:
        return []
    ways = [Q(kind=StepKind.OWNER, post__account__owner_id=user.pk)]
    if user.role and user.brand_id:
        ways.append(Q(brand_id=user.brand_id, role=user.role, kind=StepKind.ROLE))
    if group_ids:
        ways.append(Q(kind=StepKind.GROUP, group_id__in=group_ids))
        ways.append(Q(escalated_at__isnull=False, backup_group_id__in=group_ids))
    return ways


def _four_eyes(user):
    """Steps `user` may not decide whatever the way: of their own posts (not even as the account
    owner: the owner step of a post its owner wrote is skipped when the review starts), and of a
    review they already approved a step of."""
    decided_earlier = ReviewStep.objects.filter(
        review_id=OuterRef("review_id"), decided_by_id=user.pk, status=StepStatus.APPROVED
    )
    return ~Q(post__author_id=user.pk) & ~Exists(decided_earlier)


def _mine(user, group_ids):
    ways = _decision_ways(user, group_ids)
    if not ways:
        return Q(pk__in=[])
    return reduce(operator.or_, ways) & _four_eyes(user)


def _sees_everything(user, filters):
    return filters.get("scope") == "all" and user.is_authenticated and user.is_admin


def _queue_filtered(filters):
    """The in-progress steps that pass the queue's filters, whoever decides them."""
    steps = ReviewStep.objects.filter(status=StepStatus.IN_PROGRESS)
    if filters.get("brand"):
        steps = steps.filter(brand_id=getattr(filters["brand"], "pk", filters["brand"]))
    if filters.get("tier"):
        steps = steps.filter(post__account__tier=filters["tier"])
    if filters.get("campaign"):
        steps = steps.filter(post__campaign_id=getattr(filters["campaign"], "pk", filters["campaign"]))
    if filters.get("category"):
        # Worked out once per request: the count and the page both filter by it.
        if filters.get("_category_filter_for") != filters["category"]:
            filters["_category_q"] = _has_hit_in(filters["category"])
            filters["_category_filter_for"] = filters["category"]
        steps = steps.filter(filters["_category_q"])
    return steps


CATEGORY_PREFETCH_LIMIT = 5000


def _has_hit_in(category):
    if connection.vendor == "postgresql":
        # The posts in review with such a hit, found first through the GIN index on the hits (one
        # small query), then matched by id: PostgreSQL would otherwise walk every waiting step of the
        # queue and test its revision's hits one by one. When the category is common the walk finds
        # a page of matches quickly anyway, so past a few thousand posts the plain test is used.
        import json

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.id FROM content_post p JOIN content_revision r ON r.id = p.revision_id"
                " WHERE p.status = 'in_review' AND (r.screening -> 'hits') @> %s::jsonb LIMIT %s",
                [json.dumps([{"category": category}]), CATEGORY_PREFETCH_LIMIT + 1],
            )
            post_ids = [row[0] for row in cursor.fetchall()]
        if len(post_ids) <= CATEGORY_PREFETCH_LIMIT:
            return Q(post_id__in=post_ids)
        return Q(review__revision__screening__hits__contains=[{"category": category}])
    # Other databases (development on SQLite): a text match on the stored JSON.
    return Q(review__revision__screening__icontains=f'"category": "{category}"')


def _with_mine(steps, user, group_ids, filters):
    if _sees_everything(user, filters):
        return steps.annotate(mine=ExpressionWrapper(_mine(user, group_ids), output_field=BooleanField()))
    return steps.annotate(mine=Value(True, output_field=BooleanField()))


def review_queue(*, user, filters=None, group_ids=None):
    """The in-progress review steps waiting for `user`, oldest first (`started_at`, `id`), each with
    what a queue row shows joined in and `mine` annotated.

    `filters`: `tier`, `category` (a screening hit category of the revision under review), `brand`
    and `campaign` (ids or objects), and `scope`: "all" lets an admin see every waiting step, `mine`
    then saying whether they may decide it. This is the definition; pages are cut with
    `review_queue_page`, which reads the same rows faster."""
    filters = filters or {}
    if group_ids is None:
        group_ids = _user_group_ids(user)
    steps = _queue_filtered(filters)
    if not _sees_everything(user, filters):
        steps = steps.filter(_mine(user, group_ids))
    return _with_mine(steps, user, group_ids, filters).select_related(*QUEUE_RELATIONS).order_by("started_at", "id")


def _queue_positions(user, filters, group_ids, *, after=None, before=None, limit):
    """The (started_at, id) of up to `limit` queue steps after `after` (or before `before`, nearest
    first), one indexed walk per way of deciding, merged."""
    steps = _queue_filtered(filters)
    order = ("-started_at", "-id") if before is not None else ("started_at", "id")
    if after is not None:
        steps = steps.filter(_after(after))
    if before is not None:
        steps = steps.filter(_before(before))
    if _sees_everything(user, filters):
        return list(steps.order_by(*order).values_list("started_at", "id")[:limit])
    ways = _decision_ways(user, group_ids)
    if not ways:
        return []
    steps = steps.filter(_four_eyes(user))
    if not connection.features.supports_slicing_ordering_in_compound:
        # SQLite (development) cannot limit each part of a UNION: one query with the ways OR-ed.
        return list(steps.filter(reduce(operator.or_, ways)).order_by(*order).values_list("started_at", "id")[:limit])
    parts = [steps.filter(way).order_by(*order).values_list("started_at", "id")[:limit] for way in ways]
    merged = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    # A step can be someone's two ways (an escalated role step whose backup group they are in): the
    # UNION removes the repeat.
    return sorted(set(merged), reverse=before is not None)[:limit]


def _queue_count(user, filters, group_ids, limit):
    """How many steps wait, counted up to `limit` (a queue of thousands says "200+": counting
    every one of them would cost more than the page)."""
    steps = _queue_filtered(filters)
    if _sees_everything(user, filters):
        return steps.order_by().values("id")[:limit].count()
    ways = _decision_ways(user, group_ids)
    if not ways:
        return 0
    steps = steps.filter(_four_eyes(user))
    if not connection.features.supports_slicing_ordering_in_compound:
        return steps.filter(reduce(operator.or_, ways)).values("id")[:limit].count()
    parts = [steps.filter(way).order_by("started_at", "id").values_list("id")[:limit] for way in ways]
    return (parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0])[:limit].count()


def _queue_rows(user, filters, group_ids, positions):
    """The steps at `positions`, in that order, with their relations: one query by primary key."""
    ids = [pk for _, pk in positions]
    if not ids:
        return []
    rows = _with_mine(ReviewStep.objects.filter(pk__in=ids), user, group_ids, filters).select_related(*QUEUE_RELATIONS)
    found = {step.pk: step for step in rows}
    return [found[pk] for pk in ids if pk in found]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def queue_cursor(step):
    """The keyset position of `step` in the queue, as a string for a URL."""
    started = step.started_at or _EPOCH
    return f"{(started - _EPOCH) // timedelta(microseconds=1)}.{step.pk}"


def parse_queue_cursor(value):
    """(started_at, id) of a cursor made by `queue_cursor`, or None when it is not one."""
    try:
        micros, pk = (int(part) for part in (value or "").split("."))
        return _EPOCH + timedelta(microseconds=micros), pk
    except (TypeError, ValueError, OverflowError):
        return None


def _after(position):
    started_at, pk = position
    return Q(started_at__gt=started_at) | Q(started_at=started_at, pk__gt=pk)


def _before(position):
    started_at, pk = position
    return Q(started_at__lt=started_at) | Q(started_at=started_at, pk__lt=pk)


@dataclass
class QueuePage:
    rows: list
    total: int  # counted up to QUEUE_COUNT_LIMIT
    next_cursor: str | None = None
    previous_cursor: str | None = None


def review_queue_page(*, user, filters=None, after=None, before=None, per_page=QUEUE_PAGE_SIZE):
    """One page of `review_queue` in four queries whatever the size of the queue (the person's
    groups, the count, the page's positions, its rows): pages are cut by keyset on
    (`started_at`, `id`), never by OFFSET, so a deep page costs what the first one does.
    `after`/`before` are cursors from `queue_cursor`; `total` stops at QUEUE_COUNT_LIMIT + 1."""
    filters = filters or {}
    group_ids = _user_group_ids(user)
    total = _queue_count(user, filters, group_ids, QUEUE_COUNT_LIMIT + 1)
    after, before = parse_queue_cursor(after), parse_queue_cursor(before)
    if before is not None:
        positions = _queue_positions(user, filters, group_ids, before=before, limit=per_page + 1)
        more = len(positions) > per_page
        rows = _queue_rows(user, filters, group_ids, positions[:per_page][::-1])
        return QueuePage(
            rows=rows, total=total,
            previous_cursor=queue_cursor(rows[0]) if more and rows else None,
            next_cursor=queue_cursor(rows[-1]) if rows else None,
        )
    positions = _queue_positions(user, filters, group_ids, after=after, limit=per_page + 1)
    more = len(positions) > per_page
    rows = _queue_rows(user, filters, group_ids, positions[:per_page])
    return QueuePage(
        rows=rows, total=total,
        next_cursor=queue_cursor(rows[-1]) if more and rows else None,
        previous_cursor=queue_cursor(rows[0]) if after is not None and rows else None,
    )


def _queue_step_at(user, filters, group_ids, **where):
    positions = _queue_positions(user, filters, group_ids, limit=1, **where)
    rows = _queue_rows(user, filters, group_ids, positions)
    return rows[0] if rows else None


def review_queue_neighbours(*, user, filters=None, step):
    """The steps just before and just after `step` in `user`'s queue (either may be None)."""
    filters = filters or {}
    group_ids = _user_group_ids(user)
    if step.started_at is None:
        return None, _queue_step_at(user, filters, group_ids)
    position = (step.started_at, step.pk)
    return (
        _queue_step_at(user, filters, group_ids, before=position),
        _queue_step_at(user, filters, group_ids, after=position),
    )


def review_queue_next(*, user, filters=None, after_step=None):
    """The item to open after deciding `after_step`: the next one in the queue, else the oldest."""
    filters = filters or {}
    group_ids = _user_group_ids(user)
    if after_step is not None and after_step.started_at is not None:
        following = _queue_step_at(user, filters, group_ids, after=(after_step.started_at, after_step.pk))
        if following is not None:
            return following
    return _queue_step_at(user, filters, group_ids)


def review_step_detail(*, pk):
    """A review step with everything its review page shows joined in, or None."""
    return (
        # Only what the page shows: every join more costs planning time on each view.
        ReviewStep.objects.select_related(
            "review__revision", "post__account__platform", "post__account__brand", "post__account__owner",
            "post__account__dealer", "post__author", "post__campaign",
        )
        .filter(pk=pk)
        .first()
    )


def post_current_step(*, post):
    """The step to show for `post`: the one in progress, else the latest one."""
    steps = ReviewStep.objects.filter(post=post)
    return steps.filter(status=StepStatus.IN_PROGRESS).first() or steps.order_by(
        "-review__started_at", "-review_id", "-position"
    ).first()


def review_history(*, post):
    """Every step of every review of `post`, oldest review first, with who decided on which
    revision."""
    return list(
        ReviewStep.objects.filter(review__post=post)
        .select_related("review__revision", "decided_by", "group")
        .order_by("review__started_at", "review_id", "position")
    )


def revision_before(revision):
    """The revision of the same post submitted before `revision`, or None."""
    from content.models import Revision

    return Revision.objects.filter(post_id=revision.post_id, number__lt=revision.number).order_by("-number").first()


def revision_media(revision):
    """The media files of a revision, in its order (files deleted since are left out)."""
    from content.models import Media

    ids = [item.get("id") for item in revision.media or () if item.get("id")]
    found = Media.objects.in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def queue_categories(*, user):
    """Screening categories to filter the queue by: the built-in ones and those of the lexicons
    `user` may read."""
    custom = set(lexicons_visible_to(user).order_by().values_list("category", flat=True).distinct())
    return list(BUILT_IN_CATEGORIES) + sorted(custom - set(BUILT_IN_CATEGORIES))


# --- notifications ---------------------------------------------------------------------------

NOTIFICATIONS_PER_PAGE = 30


def notification_inbox(*, user):
    """`user`'s notifications, unread first, then newest first."""
    from content.models import Notification

    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return (
        Notification.objects.filter(user_id=user.pk).order_by(unread.desc(), "-created_at", "-id")
    )


def notification_inbox_page(*, user, number=1, per_page=NOTIFICATIONS_PER_PAGE):
    return Paginator(notification_inbox(user=user), per_page).get_page(number)


def notifications_unread_count(*, user):
    """How many notifications `user` has not read (an index-only count on notification_inbox_idx)."""
    from content.models import Notification

    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user_id=user.pk, read_at__isnull=True).count()


# --- the audit log ---------------------------------------------------------------------------
#
# Who reads which events is the API's rule (`approvals.audit_api.audit_events_visible_to`), so the
# page, its export and GET /api/v1/audit-events/ never disagree: admins read every event, reviewers
# the events of the posts they can see (their brand's) and of those posts' review steps; nobody else
# reads the log.

AUDIT_PAGE_SIZE = 50
AUDIT_EXPORT_CHUNK = 2000


def audit_user_can(user, action="view"):
    """`action`: view (the log page and its export), verify (walk the whole chain: admins)."""
    from .audit_api import audit_user_can_read

    if not audit_user_can_read(user) or user.offboarded_at:
        return False
    return action == "view" or user.is_admin


def audit_events(*, user, filters=None):
    """The events `user` may read, filtered by `object_type`/`object_id`, `actor` (a username, or
    "system"), `action` (a prefix such as "content.post") and `since` (an aware datetime); newest
    first."""
    from .audit_api import audit_events_visible_to

    filters = filters or {}
    if not audit_user_can(user):
        return AuditEvent.objects.none()
    events = audit_events_visible_to(user)
    if filters.get("object_type"):
        events = events.filter(object_type=filters["object_type"])
        if filters.get("object_id"):
            events = events.filter(object_id=str(filters["object_id"]))
    actor = (filters.get("actor") or "").strip()
    if actor:
        events = events.filter(actor__isnull=True) if actor == "system" else events.filter(actor_label=actor)
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("since"):
        events = events.filter(created_at__gte=filters["since"])
    return events.order_by("-id")


@dataclass
class AuditPage:
    events: list
    older: int | None = None  # the id to continue from, towards older events
    newer: int | None = None  # the id to go back from, towards newer events


def audit_page(*, user, filters=None, before=None, after=None, per_page=AUDIT_PAGE_SIZE):
    """One page of `audit_events`, cut by keyset on the id (newest first): `before` continues
    towards older events, `after` goes back towards newer ones. One query, at any depth."""
    events = audit_events(user=user, filters=filters).select_related("actor")
    if after is not None:
        rows = list(events.filter(pk__gt=after).order_by("id")[:per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return AuditPage(events=rows, older=rows[-1].pk if rows else None, newer=rows[0].pk if more else None)
    if before is not None:
        events = events.filter(pk__lt=before)
    rows = list(events[:per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    return AuditPage(
        events=rows, older=rows[-1].pk if more else None, newer=rows[0].pk if before is not None and rows else None,
    )


def audit_export_rows(*, user, filters=None, up_to_id=None, chunk=AUDIT_EXPORT_CHUNK):
    """Every event of `audit_events` (ids up to `up_to_id`), newest first, read in chunks by keyset
    so an export of millions of events holds one chunk in memory and needs no server-side cursor."""
    events = audit_events(user=user, filters=filters).select_related("actor")
    if up_to_id is not None:
        events = events.filter(pk__lte=up_to_id)
    last = None
    while True:
        page = events if last is None else events.filter(pk__lt=last)
        rows = list(page[:chunk])
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1].pk
