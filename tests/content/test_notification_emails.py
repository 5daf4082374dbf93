"""Notification emails: sent once, in order, and sent later when the mail server was down."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from content import tasks
from content.models import Notification

pytestmark = pytest.mark.django_db


def test_an_email_is_sent_once_however_often_the_task_runs(employee):
    note = Notification.objects.create(user=employee, kind="approved", message="Your post is approved.")
    tasks.notifications_email([note.pk])
    tasks.notifications_email([note.pk])  # a redelivered task
    assert len(mail.outbox) == 1 and "Your post is approved." in mail.outbox[0].body
    note.refresh_from_db()
    assert note.emailed_at is not None


def test_an_email_that_failed_is_sent_by_the_periodic_task(employee, monkeypatch):
    note = Notification.objects.create(user=employee, kind="approved", message="Your post is approved.")

    def down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(tasks, "send_mail", down)
    with pytest.raises(OSError):
        tasks.notifications_email([note.pk])
    note.refresh_from_db()
    assert note.emailed_at is None  # the claim rolled back with the failed send
    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert tasks.notifications_email_due() == 1
    assert len(mail.outbox) == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert tasks.notifications_email_due() == 0


def test_the_periodic_task_gives_up_on_day_old_notifications(employee):
    Notification.objects.create(user=employee, kind="approved", message="old")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert tasks.notifications_email_due() == 0
    assert mail.outbox == []
