"""Thin Celery tasks of the content app: load by id, call one function, own the retry policy."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from .models import Notification


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notifications_email(notification_ids):
    """Email each notification not yet emailed, in its recipient's language. Claiming each row with a
    conditional update means a redelivered task never sends the same email twice."""
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
            with translation.override(getattr(notification.user, "language", None) or settings.LANGUAGE_CODE):
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
