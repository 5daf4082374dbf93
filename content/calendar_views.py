"""The calendar pages: the marketing calendar of the whole matrix (or a slice) and "My calendar" of
a person's own accounts, with the post panel My calendar opens in place.

The pages are shells around one FullCalendar (static/js/calendar.js): the events, the reschedules,
the blocked days and the ICS feed come from the API (`/api/v1/calendar/`, `…/reschedule/`,
`/api/v1/blocked-days/`, `/api/v1/calendar/feed/`), which asks the same policies and services.
What is decided here: who sees which page, and which filter choices the viewer may see (only
what is in their slice of the matrix, so a select never names another brand's dealers or people).
"""

import datetime
import zoneinfo

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User
from approvals import workflow
from approvals.models import StepKind, StepStatus
from matrix.models import Dealer, Platform, Tier
from matrix.policies import accounts_visible_to, brands_visible_to

from . import selectors
from .models import Post, PostStatus
from .policies import accounts_writable_by, campaigns_visible_to

# Who plans the matrix; executives and employees have their own calendar, dealer operators neither.
MARKETING_ROLES = (Role.ADMIN, Role.MARKETER, Role.REVIEWER)
PERSONAL_ROLES = (Role.EXECUTIVE, Role.EMPLOYEE)
VIEWS = ("dayGridMonth", "timeGridWeek", "listMonth")


def _is_marketing(user):
    return user.is_admin or user.role in MARKETING_ROLES


def _filter_choices(user):
    """The choices of the filter bar: only what the viewer's accounts use (a handful of DISTINCT
    queries over the visible accounts, whatever the size of the matrix)."""
    visible = accounts_visible_to(user)
    tiers = set(visible.values_list("tier", flat=True).distinct())
    platform_ids = visible.values("platform_id")
    owners = (
        User.objects.filter(pk__in=visible.filter(owner__isnull=False).values("owner_id"))
        .exclude(pk=user.pk)
        .order_by("first_name", "last_name", "username")
    )
    regions = (
        Dealer.objects.filter(pk__in=visible.values("dealer_id"))
        .exclude(region="")
        .values_list("region", flat=True)
        .distinct()
        .order_by("region")
    )
    return {
        "tiers": [(value, label) for value, label in Tier.choices if value in tiers],
        "platforms": list(Platform.objects.filter(pk__in=platform_ids).order_by("position", "name")),
        "brands": list(brands_visible_to(user).order_by("name")),
        "regions": list(regions),
        "owners": list(owners),
        "campaigns": list(campaigns_visible_to(user).order_by("-created_at").only("id", "name")[:200]),
    }


def _selected_filters(request, choices):
    """The filters in the query string that name one of the viewer's choices (anything else is
    dropped, not passed on to the API)."""
    get = request.GET
    allowed = {
        "tier": {value for value, _label in choices["tiers"]},
        "platform": {p.slug for p in choices["platforms"]},
        "brand": {str(b.pk) for b in choices["brands"]},
        "region": set(choices["regions"]),
        "owner": {"me"} | {str(u.pk) for u in choices["owners"]},
        "campaign": {str(c.pk) for c in choices["campaigns"]},
    }
    selected = {name: get.get(name, "") for name in allowed if get.get(name, "") in allowed[name]}
    account = get.get("account", "")
    if account.isdigit() and accounts_visible_to(request.user).filter(pk=account).exists():
        selected["account"] = account
    return selected


def _initial_date(request):
    try:
        return datetime.date.fromisoformat(request.GET.get("date", "")).isoformat()
    except ValueError:
        return None


def _calendar_strings():
    """The words calendar.js shows, translated here ({name} is filled in by the script)."""
    return {
        "today": _("Today"),
        "month": _("Month"),
        "week": _("Week"),
        "list": _("List"),
        "statuses": {value: str(label) for value, label in PostStatus.choices},
        "loading": _("Loading posts…"),
        "load_failed": _("The posts could not be loaded. Try again in a moment."),
        "too_many": _("Showing the first {shown} of {total} posts in this period: choose a tier, platform, "
                      "region or owner above to see the rest."),
        "moving": _("Moving the post…"),
        "moved": _("Moved: {account} now goes out at {time} ({zone})."),
        "refused": _("Not moved: {message}"),
        "move_failed": _("The post could not be moved. Try again."),
        "decision_failed": _("The decision could not be saved. Try again."),
        "block_failed": _("The day could not be blocked. Try again."),
        "unblock_failed": _("The day could not be unblocked. Try again."),
        "failed": _("Something went wrong. Try again."),
        "account_time": _("{time} in {zone}, the account's time"),
        "blocked": _("Blocked: {owner}"),
        "blocked_with_note": _("Blocked: {owner} — {note}"),
        "no_blocked_days": _("No blocked days ahead."),
        "blocked_added": _("{date} is blocked."),
        # {count} is 1 in the first and more in the second (the page has no plural rules of its own).
        "blocked_conflict": ngettext("{date} is blocked, but {count} post is planned that day: it will not go out "
                                     "unless it is moved.",
                                     "{date} is blocked, but {count} posts are planned that day: they will not go "
                                     "out unless they are moved.", 1),
        "blocked_conflicts": ngettext("{date} is blocked, but {count} post is planned that day: it will not go out "
                                      "unless it is moved.",
                                      "{date} is blocked, but {count} posts are planned that day: they will not go "
                                      "out unless they are moved.", 2),
        "blocked_removed": _("{date} is no longer blocked."),
        "unblock": _("Unblock"),
        "unblock_label": _("Unblock {date}"),
        "request_failed": _("That did not work: {message}"),
        "approved": _("Approved."),
        "changes_requested": _("Changes requested; the author is told."),
        "comment_required": _("Say what needs to change."),
        "panel_failed": _("The post could not be loaded."),
        "feed_copied": _("Link copied."),
        "feed_copy_failed": _("Select the link and copy it."),
        "feed_rotated": _("A new link is ready; the old one no longer works."),
        "feed_off": _("The subscription link is turned off."),
        "feed_rotate_confirm": _("Make a new link? Calendars subscribed with the old link stop updating."),
        "feed_off_confirm": _("Turn the link off? Calendars subscribed with it stop updating."),
    }


def _status_legend():
    shown = (PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, PostStatus.BLOCKED,
             PostStatus.SCHEDULED, PostStatus.PUBLISHING, PostStatus.PUBLISHED, PostStatus.FAILED,
             PostStatus.NEEDS_REVIEW, PostStatus.CANCELLED)
    return [(status.value, status.label) for status in shown]


def _calendar_config(request, *, mine, filters):
    user = request.user
    language = translation.get_language() or ""
    view = request.GET.get("view", "")
    can_compose = accounts_writable_by(user).exists()
    return {
        "mine": mine,
        "timezone": user.timezone,
        "locale": "zh-cn" if language.lower().startswith("zh") else "en",
        "initialDate": _initial_date(request),
        "initialView": view if view in VIEWS else ("listMonth" if mine else "dayGridMonth"),
        "filters": filters,
        "eventsUrl": "/api/v1/calendar/",
        "blockedDaysUrl": "/api/v1/blocked-days/",
        "feedUrl": "/api/v1/calendar/feed/",
        "postApiUrl": "/api/v1/posts/{id}/",
        "panelUrl": reverse("content:calendar_post_panel", args=[0]).replace("/0/", "/{id}/"),
        "composeUrl": reverse("content:post_create") if can_compose else "",
        "maxEvents": settings.CALENDAR_MAX_EVENTS,
    }


def _render(request, template, *, mine, choices=None, filters=None):
    filters = filters or {}
    return render(request, template, {
        "mine": mine,
        "choices": choices,
        "filters": filters,
        "viewer_zone": request.user.timezone,
        "legend": _status_legend(),
        "calendar_config": _calendar_config(request, mine=mine, filters=filters),
        "calendar_strings": _calendar_strings(),
    })


@login_required
def calendar_marketing(request):
    """The whole matrix the viewer sees, or a slice of it, to plan and to move posts around."""
    user = request.user
    if not _is_marketing(user):
        if user.role in PERSONAL_ROLES:
            return redirect("content:calendar_mine")
        raise PermissionDenied
    choices = _filter_choices(user)
    return _render(request, "content/calendar.html", mine=False, choices=choices,
                   filters=_selected_filters(request, choices))


@login_required
def calendar_mine(request):
    """The posts planned on the viewer's own personal accounts (the executive's landing page)."""
    user = request.user
    if user.role not in PERSONAL_ROLES:
        if _is_marketing(user):
            return redirect("content:calendar")
        raise PermissionDenied
    return _render(request, "content/calendar_mine.html", mine=True, filters={"owner": "me"})


def _open_owner_step(post, user):
    """The review step waiting for `user` as the account's owner, with its review; else (None, None)."""
    if post.status != PostStatus.IN_REVIEW:
        return None, None
    review = next((r for r in post.reviews.all() if r.status == "in_progress"), None)
    if review is None:
        return None, None
    step = next((s for s in review.steps.all() if s.status == StepStatus.IN_PROGRESS), None)
    if step is None or step.kind != StepKind.OWNER or not workflow.user_may_decide(user, step, post):
        return None, None
    return step, review


@login_required
def calendar_post_panel(request, pk):
    """One post as My calendar shows it in place (a fragment): text with its screening hits,
    media, times, and the owner's Approve / Request changes when the open step is theirs."""
    try:
        post = selectors.post_detail(user=request.user, pk=pk)
    except Post.DoesNotExist as exc:
        raise Http404 from exc
    step, review = _open_owner_step(post, request.user)
    revision = post.revision
    account = post.account
    return render(request, "content/includes/calendar_post_panel.html", {
        "post": post,
        "account": account,
        "account_zone": account.timezone,
        "viewer_zone": request.user.timezone,
        "zone_differs": _zones_differ(post, account.timezone, request.user.timezone),
        "revision": revision,
        "hits": (revision.screening or {}).get("hits", []) if revision else [],
        "attachments": list(post.attachments.all()),
        "owner_step": step,
        "review_revision": review.revision if review else None,
    })


def _zones_differ(post, account_zone, viewer_zone):
    if post.scheduled_at is None or account_zone == viewer_zone:
        return False
    try:
        a = post.scheduled_at.astimezone(zoneinfo.ZoneInfo(account_zone))
        b = post.scheduled_at.astimezone(zoneinfo.ZoneInfo(viewer_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return True
    return a.replace(tzinfo=None) != b.replace(tzinfo=None)

