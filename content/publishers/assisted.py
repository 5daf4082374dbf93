"""The `assisted` publisher: for platforms and personal accounts without an open API, a person posts
the approved text themselves and confirms it with the live URL.

`send()` hands the post over: the account's owner (or, without one, its operators) is notified in
the app and by email with exactly the approved text, the media links and the confirm page. The
dispatcher then leaves the post in `publishing` until someone confirms it
(`content.services.post_confirm_published`). `assisted_remind_due()`, run periodically, reminds
them every ASSISTED_REMIND_AFTER seconds after the post's time, and once ASSISTED_OVERDUE_AFTER
seconds have passed without a confirmation marks the post failed ("overdue: not confirmed").
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from matrix.models import Publisher as PublisherKind

from . import Outcome, Publisher, PublishResult

OVERDUE_REASON = "overdue: not confirmed"


def assisted_recipients(account):
    """Who posts by hand for `account`: its owner, or its operators when it has no (active) owner."""
    owner = account.owner if account.owner_id else None
    if owner is not None and owner.is_active and owner.offboarded_at is None:
        return [owner]
    return list(account.operators.filter(is_active=True, offboarded_at__isnull=True).order_by("pk"))


def confirm_url(post):
    return settings.SITE_URL.rstrip("/") + reverse("content:post_confirm", args=[post.pk])


def _hand_over_message(post, revision, account, media_urls):
    parts = [
        _("%(account)s: please post this yourself, exactly as approved, then confirm it with the live URL "
          "at %(confirm)s") % {"account": account, "confirm": confirm_url(post)},
        _("Text:") + "\n" + revision.body,
    ]
    if media_urls:
        parts.append(_("Media:") + "\n" + "\n".join(media_urls))
    return "\n\n".join(parts)


class AssistedPublisher(Publisher):
    name = PublisherKind.ASSISTED.value
    # A repeated hand-over is a second message, not a second post: but nothing de-duplicates it,
    # and this publisher never answers "ambiguous" anyway.
    idempotent = False

    def send(self, *, post, revision, account, idempotency_key, media_urls):
        from content.models import Notification
        from content.services import notify

        people = assisted_recipients(account)
        if not people:
            return PublishResult(Outcome.FAILED, reason="nobody to post it by hand: the account has no owner "
                                                        "or operator")
        notify(people, kind=Notification.Kind.PUBLISH_BY_HAND, post=post,
               message=_hand_over_message(post, revision, account, media_urls))
        return PublishResult(Outcome.PENDING_CONFIRMATION, idempotent=self.idempotent)


# --- reminders and overdue -----------------------------------------------------------------


@dataclass
class AssistedReport:
    reminded: list = field(default_factory=list)  # post ids
    overdue: list = field(default_factory=list)




def assisted_remind_due(now=None):
    """Remind the people of every assisted post still waiting for its confirmation, and fail those
    waiting too long. Returns which posts this run reminded and failed.

    The clock starts at the post's scheduled time, the time it was approved to go out. A post is
    reminded when that time is more than ASSISTED_REMIND_AFTER ago and it has not been reminded in
    the last ASSISTED_REMIND_AFTER; past ASSISTED_OVERDUE_AFTER it is failed instead. Several runs
    may overlap (two beats, a redelivered task): each row is claimed with a conditional UPDATE and
    only the run that changed it notifies."""
    from content.models import Post, PostStatus

    now = now or timezone.now()
    remind_after = timedelta(seconds=settings.ASSISTED_REMIND_AFTER)
    overdue_after = timedelta(seconds=settings.ASSISTED_OVERDUE_AFTER)
    report = AssistedReport()
    waiting = Post.objects.filter(status=PostStatus.PUBLISHING, account__publisher=PublisherKind.ASSISTED)
    related = ("account__platform", "account__owner", "author")
    for post in waiting.filter(scheduled_at__lte=now - overdue_after).select_related(*related).order_by(
            "scheduled_at", "pk"):
        if _fail_overdue(post, now=now):
            report.overdue.append(post.pk)
    due = (
        waiting.filter(scheduled_at__lte=now - remind_after, scheduled_at__gt=now - overdue_after)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - remind_after))
        .select_related(*related)
        .order_by("scheduled_at", "pk")
    )
    for post in due:
        if _remind(post, now=now, remind_after=remind_after):
            report.reminded.append(post.pk)
    return report


@transaction.atomic
def _remind(post, *, now, remind_after):
    from approvals.audit import audit_record
    from content.models import Notification, Post, PostStatus
    from content.services import notify

    # 0 rows: another run reminded it first, or it was confirmed (or failed) meanwhile.
    claimed = (
        Post.objects.filter(pk=post.pk, status=PostStatus.PUBLISHING)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - remind_after))
        .update(reminded_at=now)
    )
    if not claimed:
        return False
    people = assisted_recipients(post.account)
    notify(people, kind=Notification.Kind.PUBLISH_REMINDER, post=post, message=_(
        "%(account)s: a post approved for %(time)s is still waiting for you to post it and confirm the live URL "
        "at %(confirm)s"
    ) % {"account": post.account, "time": _local(post.scheduled_at, post.account.timezone),
         "confirm": confirm_url(post)})
    audit_record(actor=None, action="content.post.remind_assisted", obj=post,
                 after={"scheduled_at": post.scheduled_at, "notified": sorted(u.pk for u in people)})
    return True


@transaction.atomic
def _fail_overdue(post, *, now):
    from approvals.audit import audit_record
    from content.models import Notification, Post, PostStatus
    from content.services import notify

    # Conditional on the status: a confirmation holding the row lock wins, and this run then
    # updates nothing (PostgreSQL re-checks the condition on the confirmed row).
    claimed = Post.objects.filter(pk=post.pk, status=PostStatus.PUBLISHING).update(
        status=PostStatus.FAILED, last_error=OVERDUE_REASON, updated_at=now,
    )
    if not claimed:
        return False
    people = assisted_recipients(post.account)
    if post.author.is_active and post.author not in people:
        people.append(post.author)
    notify(people, kind=Notification.Kind.PUBLISH_OVERDUE, post=post, message=_(
        "%(account)s: nobody confirmed that the post approved for %(time)s was posted; it is marked as failed. "
        "A marketer can retry it."
    ) % {"account": post.account, "time": _local(post.scheduled_at, post.account.timezone)})
    audit_record(actor=None, action="content.post.overdue", obj=post,
                 before={"status": PostStatus.PUBLISHING},
                 after={"status": PostStatus.FAILED, "last_error": OVERDUE_REASON,
                        "notified": sorted(u.pk for u in people)})
    return True


def _local(moment, tz_name):
    return moment.astimezone(zoneinfo.ZoneInfo(tz_name)).strftime("%Y-%m-%d %H:%M %Z")

