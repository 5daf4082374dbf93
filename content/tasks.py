"""Thin Celery tasks of the content app: load by id, call one function, own the retry policy."""

from collections import Counter

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from .models import Notification


@shared_task(acks_late=True, ignore_result=True)
def notifications_email(notification_ids):
    """Email each notification not yet emailed, in its recipient's language. Claiming each row with a
    conditional update means a redelivered task never sends the same email twice. A send that fails
    rolls its claim back and is tried again by `notifications_email_due` (no Celery countdowns: the
    broker would redeliver long ones after its visibility timeout)."""
    for notification in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related(
        "user", "post"
    ):
        if not notification.user.email:
            continue
        with transaction.atomic():
            claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            )
            if not claimed:
                continue
            with translation.override(notification.user.language or settings.LANGUAGE_CODE):
                subject = f"[Social Matrix] {notification.get_kind_display()}"
                link = ""
                if notification.post_id:
                    link = f"\n\n{settings.SITE_URL.rstrip('/')}/posts/{notification.post_id}/"
                send_mail(subject, notification.message + link, None, [notification.user.email])


@shared_task(acks_late=True)
def pauses_expire():
    """Record the automatic end of each pause whose `until` passed (once each, however many runs)."""
    from .services import pauses_expire as record

    return record()


# --- publishing (content/dispatch.py holds the logic; these only load and call it) ---------------


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def publish_batch(claims):
    """Send a batch of claimed posts [[post_id, lease_token], …]. Redelivered after a lost worker,
    it finds each post's lease moved on or its send already claimed, and does nothing for it."""
    from .dispatch import publish_many

    outcomes = publish_many(claims)
    return dict(Counter(outcomes.values()))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def publish_post(post_id, lease_token):
    """Send one claimed post (tasks enqueued before `publish_batch` existed; the same code)."""
    from .dispatch import publish

    return publish(post_id, lease_token)


@shared_task(acks_late=True, ignore_result=True)
def dispatch_due():
    """Claim the posts that are due and enqueue their publish tasks."""
    from .dispatch import dispatch_due as dispatch

    report = dispatch()
    return {"claimed": len(report.claimed), "missed": len(report.missed)}


@shared_task(acks_late=True, ignore_result=True)
def sweep_leases():
    """Re-drive posts whose lease expired."""
    from .dispatch import sweep

    redriven, needs_review = sweep()
    return {"redriven": len(redriven), "needs_review": len(needs_review)}


@shared_task(acks_late=True, ignore_result=True)
def assisted_remind_due():
    """Remind people who still have to post an assisted post by hand; fail the overdue ones."""
    from .publishers.assisted import assisted_remind_due as remind

    remind()


# Notifications are emailed after commit; one whose email failed (or whose task was lost) is sent by
# this periodic task. Only recent ones: a mail server down for a day does not flood people later.
EMAIL_RETRY_AFTER_SECONDS = 60
EMAIL_GIVE_UP_AFTER_HOURS = 24


@shared_task(acks_late=True, ignore_result=True)
def notifications_email_due():
    from datetime import timedelta

    now = timezone.now()
    ids = list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__lt=now - timedelta(seconds=EMAIL_RETRY_AFTER_SECONDS),
            created_at__gt=now - timedelta(hours=EMAIL_GIVE_UP_AFTER_HOURS),
        ).exclude(user__email="").values_list("pk", flat=True)[:500]
    )
    for start in range(0, len(ids), 50):
        try:
            notifications_email(ids[start:start + 50])
        except OSError:
            break  # the mail server is down: the next run tries again
    return len(ids)
