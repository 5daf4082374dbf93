"""Reads of posts and campaigns, shaped for the pages. Query counts do not grow with the data.

The post list pages by keyset (the last row's `created_at`, `id`) rather than by OFFSET, and
never counts the visible posts: on a million rows an OFFSET deep into the list and a COUNT on every
page are what make a list slow (even a count capped at a thousand rows reads the whole table when
a filter matches fewer). It shows "newer / older", and a total only when everything fits on one
page. Measured on 1,000,000 posts: any page, filtered or not, in 10–40 ms; a text search through
the trigram index of migration 0002 in 20–160 ms.
"""

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.models import AuditEvent, Review, ReviewStep
from approvals.workflow import template_fields
from matrix.models import AccountStatus

from .models import Campaign, PostMedia, PostStatus, Revision
from .policies import accounts_writable_by, campaigns_visible_to, posts_visible_to

POSTS_PER_PAGE = 50
EXCERPT_LENGTH = 140
AUDIT_TRAIL_LENGTH = 200
CAMPAIGN_PREVIEW_ACCOUNTS = 50
CAMPAIGN_POSTS_SHOWN = 100
CAMPAIGNS_PER_PAGE = 25

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- compose ---------------------------------------------------------------------------------


def compose_accounts(*, user):
    """The accounts `user` may write for that are not archived, in matrix order, with what the
    compose page shows and filters on (platform limit, dealer region, department, zone)."""
    return (
        accounts_writable_by(user)
        .exclude(status=AccountStatus.ARCHIVED)
        .select_related("platform", "brand", "dealer", "department", "owner")
        .order_by("brand__name", "tier_rank", "platform__position", "handle", "id")
    )


def template_parts(template):
    """The campaign template cut into pieces for display: `(text, field_name or None)`."""
    parts, position = [], 0
    for match in re.finditer(r"\{([a-z_][a-z0-9_]*)\}", template or ""):
        if match.start() > position:
            parts.append((template[position:match.start()], None))
        parts.append((match.group(0), match.group(1)))
        position = match.end()
    if position < len(template or ""):
        parts.append((template[position:], None))
    return parts


def template_values(template, body):
    """The value each field of `template` holds in `body` (the first occurrence), or None when the
    body no longer has the template's shape."""
    names = []
    pattern, position = [], 0
    for match in re.finditer(r"\{([a-z_][a-z0-9_]*)\}", template or ""):
        pattern.append(re.escape(template[position:match.start()]))
        pattern.append(r"([^\n{}]{1,120}?)")
        names.append(match.group(1))
        position = match.end()
    pattern.append(re.escape((template or "")[position:]))
    found = re.fullmatch("".join(pattern), body or "", flags=re.DOTALL)
    if found is None:
        return None
    values = {}
    for name, value in zip(names, found.groups(), strict=True):
        values.setdefault(name, value)
    return values


# --- text differences ------------------------------------------------------------------------

# Latin words and numbers stay whole; every other character (CJK, punctuation, space) is a token.
_TOKEN = re.compile(r"[A-Za-z0-9_]+|\s+|.", re.DOTALL)
_DIFF_MAX_TOKENS = 20_000


def text_diff(old, new):
    """The change from `old` to `new` as pieces `(kind, text)`, kind one of equal, insert, delete.
    Compared word by word for Latin text and character by character for Chinese; very long texts
    line by line, so a 100,000-character post never stalls the page."""
    old, new = old or "", new or ""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    if len(a) + len(b) > _DIFF_MAX_TOKENS:
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(("equal", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            pieces.append(("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            pieces.append(("insert", "".join(b[j1:j2])))
    return pieces


# --- the post list ---------------------------------------------------------------------------


def encode_cursor(post):
    micros = (post.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{post.pk}"


def decode_cursor(value):
    """(created_at, id) of a cursor, or None for anything that is not one."""
    micros, _, pk = (value or "").partition(".")
    if not (micros.lstrip("-").isdigit() and pk.isdigit()):
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        return None


def _day_start(day):
    """Midnight of `day` in the viewer's zone, as an aware datetime (a zone whose clocks skip
    midnight gives the first minute that exists)."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min).replace(tzinfo=zone)
    return start.astimezone(UTC).astimezone(zone)


def post_list(*, user, filters):
    """The posts `user` may see, filtered; ordered newest first (`-created_at`, `-id`)."""
    qs = posts_visible_to(user)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("tier"):
        qs = qs.filter(account__tier=filters["tier"])
    if filters.get("platform"):
        qs = qs.filter(account__platform_id=filters["platform"])
    if filters.get("brand"):
        qs = qs.filter(account__brand_id=filters["brand"])
    if filters.get("campaign"):
        qs = qs.filter(campaign_id=filters["campaign"])
    if filters.get("author"):
        qs = qs.filter(author_id=filters["author"])
    if filters.get("scheduled_from"):
        qs = qs.filter(scheduled_at__gte=_day_start(filters["scheduled_from"]))
    if filters.get("scheduled_to"):
        qs = qs.filter(scheduled_at__lt=_day_start(filters["scheduled_to"] + timedelta(days=1)))
    if filters.get("q"):
        qs = qs.filter(body__icontains=filters["q"])
    return qs


@dataclass
class PostPage:
    posts: list
    has_next: bool
    has_previous: bool
    next_cursor: str
    previous_cursor: str

    @property
    def count(self):
        """The number of posts when they all fit on this one page, else None (not counted)."""
        return None if self.has_next or self.has_previous else len(self.posts)


def post_page(*, user, filters, after=None, before=None, per_page=POSTS_PER_PAGE):
    """One page of `post_list` in one query, whatever the number of posts: an index walk from the
    cursor (`created_at`, then `id` for rows created in the same microsecond), joined with the
    page's accounts, platforms, brands, authors and campaigns. One row more than the page tells
    whether there is a next one."""
    rows = (
        post_list(user=user, filters=filters)
        .select_related("account__platform", "account__brand", "account__dealer", "author", "campaign")
        .defer("body", "template_body", "last_error")
        .annotate(excerpt=Substr("body", 1, EXCERPT_LENGTH))
    )
    after = decode_cursor(after)
    before = decode_cursor(before) if after is None else None
    if before is not None:
        # Going back: the rows just newer than the cursor, read upwards, then put back in order.
        created_at, pk = before
        rows = rows.filter(created_at__gte=created_at).filter(Q(created_at__gt=created_at) | Q(pk__gt=pk))
        posts = list(rows.order_by("created_at", "id")[:per_page + 1])
        has_previous = len(posts) > per_page
        posts = posts[:per_page][::-1]
        has_next = True
    else:
        if after is not None:
            # `created_at <=` bounds the index walk; the OR only settles ties on the same instant.
            created_at, pk = after
            rows = rows.filter(created_at__lte=created_at).filter(Q(created_at__lt=created_at) | Q(pk__lt=pk))
        posts = list(rows.order_by("-created_at", "-id")[:per_page + 1])
        has_next = len(posts) > per_page
        posts = posts[:per_page]
        has_previous = after is not None
    return PostPage(
        posts=posts, has_next=has_next and bool(posts), has_previous=has_previous and bool(posts),
        next_cursor=encode_cursor(posts[-1]) if posts else "",
        previous_cursor=encode_cursor(posts[0]) if posts else "",
    )


def post_filter_campaigns(*, user, limit=100):
    """The latest campaigns for the list's campaign filter."""
    return list(campaigns_visible_to(user).order_by("-created_at", "-id").only("id", "name")[:limit])


# --- one post --------------------------------------------------------------------------------


def post_detail(*, user, pk):
    """A post `user` may see with everything its page shows, in a fixed number of queries;
    raises Post.DoesNotExist otherwise."""
    steps = ReviewStep.objects.select_related("decided_by", "group", "backup_group").order_by("position")
    return (
        posts_visible_to(user)
        .select_related(
            "account__platform", "account__brand", "account__dealer", "account__owner", "author", "campaign",
            "revision",
        )
        .prefetch_related(
            Prefetch("attachments", queryset=PostMedia.objects.select_related("media").order_by("position")),
            Prefetch("revisions", queryset=Revision.objects.select_related("created_by").order_by("number")),
            Prefetch(
                "reviews",
                queryset=Review.objects.select_related("revision", "workflow").order_by("-started_at", "-id")
                .prefetch_related(Prefetch("steps", queryset=steps)),
            ),
        )
        .get(pk=pk)
    )


def post_revisions(post):
    """The post's revisions, newest first, each with `diff`: its change from the one before."""
    revisions = list(post.revisions.all())
    previous = None
    for revision in revisions:
        revision.diff = text_diff(previous.body, revision.body) if previous is not None else None
        revision.media_changed = previous is not None and previous.media != revision.media
        previous = revision
    return revisions[::-1]


def post_audit_trail(post, *, step_ids):
    """The audit events of the post and of its review steps, oldest first."""
    condition = Q(object_type="content.post", object_id=str(post.pk))
    if step_ids:
        condition |= Q(object_type="approvals.reviewstep", object_id__in=[str(pk) for pk in step_ids])
    events = list(AuditEvent.objects.filter(condition).order_by("id")[:AUDIT_TRAIL_LENGTH])
    labels = dict(PostStatus.choices)
    for event in events:
        # Statuses in the reader's language (the log keeps the slugs).
        event.status_before = labels.get((event.before or {}).get("status"), "")
        event.status_after = labels.get((event.after or {}).get("status"), "")
    return events


# --- campaigns -------------------------------------------------------------------------------


def campaign_page(*, user, number, per_page=CAMPAIGNS_PER_PAGE):
    """A page of the campaigns `user` may see, newest first, each with its number of posts (not
    cancelled). Posts are counted for the page's campaigns only, never across the whole table."""
    ids = campaigns_visible_to(user).order_by("-created_at", "-id").values_list("id", flat=True)
    page = Paginator(ids, per_page).get_page(number)
    rows = (
        Campaign.objects.filter(pk__in=list(page.object_list)).select_related("brand", "created_by")
        .annotate(post_count=Count("posts", filter=~Q(posts__status="cancelled")))
        .in_bulk()
    )
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    return page


def campaign_detail(*, user, pk):
    return (
        campaigns_visible_to(user).select_related("brand", "created_by")
        .prefetch_related(Prefetch("media", queryset=_campaign_media_order()))
        .get(pk=pk)
    )


def _campaign_media_order():
    from .models import Media

    # The order campaign_push attaches them in.
    return Media.objects.order_by("id")


def campaign_target_labels(campaign):
    """The campaign's target slice in words: [(what, [values])], tiers and platforms by name."""
    from matrix.models import Department, Platform, Tier

    target = campaign.target or {}
    labels = []
    if target.get("tiers"):
        names = dict(Tier.choices)
        labels.append((_("Tiers"), [str(names.get(t, t)) for t in target["tiers"]]))
    if target.get("platforms"):
        names = dict(Platform.objects.filter(slug__in=target["platforms"]).values_list("slug", "name"))
        labels.append((_("Platforms"), [names.get(s, s) for s in target["platforms"]]))
    if target.get("regions"):
        labels.append((_("Dealer regions"), list(target["regions"])))
    if target.get("departments"):
        names = dict(Department.objects.filter(pk__in=target["departments"]).values_list("pk", "name"))
        labels.append((_("Departments"), [names.get(pk, str(pk)) for pk in target["departments"]]))
    if target.get("accounts"):
        labels.append((_("Accounts"), [str(len(target["accounts"]))]))
    return labels


def campaign_target_preview(campaign, *, limit=CAMPAIGN_PREVIEW_ACCOUNTS):
    """(number of target accounts, the first `limit` of them) of a campaign, saved or not."""
    from .services import campaign_target_accounts

    accounts = campaign_target_accounts(campaign)
    return accounts.count(), list(accounts.order_by("tier_rank", "platform__position", "handle", "id")[:limit])


def campaign_posts(*, user, campaign, limit=CAMPAIGN_POSTS_SHOWN):
    """(count by status, the latest `limit` posts) of the campaign that `user` may see."""
    posts = posts_visible_to(user).filter(campaign=campaign)
    counts = dict(posts.order_by().values_list("status").annotate(n=Count("id")))
    rows = list(
        posts.select_related("account__platform", "account__dealer", "author")
        .defer("body", "template_body", "last_error").order_by("-created_at", "-id")[:limit]
    )
    return counts, rows


def campaign_fields(template):
    return template_fields(template)
